// A vfio-user client that maps memory without an fd (QEMU's vfio-user-pci with private guest RAM,
// hw/vfio-user/container.c vfio_user_dma_map: no fd when memory_region_get_fd is -1): the served
// sim card's DMA engine reaches it with DMA_READ / DMA_WRITE, byte-exact as QEMU 11.1 answers them
// (data at payload offset 16; a DMA_WRITE reply that is a bare header, hw/vfio-user/pci.c
// vfio_user_dma_write), and commands the client sends while it waits are served during the round
// trip (QEMU's vCPU waits for its MMIO reply holding the BQL its DMA handler needs).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerConnection } from '../../src/vfio-user/server-connection.js';
import { MessageSocket } from '../../src/vfio-user/unix-socket.js';
import { unixSocketPair } from '../../src/sys/libc.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';
import { FLAG_ERROR, type Message } from '../../src/vfio-user/protocol.js';
import { createSimCard, type SimDevice } from '../../src/sim/sim-device.js';
import { SIM_AFU_OFFSET } from '../../src/sim/sim-card.js';
import { SimAfuReg, DmaCtrl, DmaStatus } from '../../src/sim/afu-regs.js';
import { allocateDma } from '../../src/dma/index.js';
import type { VirtualClock } from '../../src/util/clock.js';

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le64 = (v: number): number[] => [...le32(v), ...le32(Math.floor(v / 2 ** 32))];
const msg = (id: number, command: number, flags: number, payload: number[]): Uint8Array =>
  Uint8Array.from([...le16(id), ...le16(command), ...le32(16 + payload.length), ...le32(flags), ...le32(0), ...payload]);
/** The capabilities QEMU's client states (hw/vfio-user/proxy.c caps_json). */
const QEMU_CAPS = '{"capabilities":{"migration":{"pgsize":4096,"max_bitmap_size":268435456},"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":65535,"write_multiple":true}}';
const IOVA = 0x10_0000;

describe('vfio-user server: client memory without an fd (DMA_READ / DMA_WRITE)', () => {
  let device: SimDevice;
  let conn: ServerConnection;
  let peer: MessageSocket;
  const receive = (): Message => {
    const r = peer.receive();
    if (r.kind !== 'message') throw new Error(`nothing received (${r.kind})`);
    return r.message;
  };

  beforeEach(() => {
    device = createSimCard('n3000');
    const [a, b] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
    conn = new ServerConnection(a, device, { maxMsgFds: 8, maxDataXferSize: 1 << 20, pgsizes: 4096, maxDmaMaps: 64, twinSocket: true }, { name: 'qemu-like' });
    peer = new MessageSocket(b, { name: 'peer', maxPayload: 1 << 20, maxFds: 8 });
    peer.send(msg(1, 1, 0, [...le16(0), ...le16(0), ...Buffer.from(QEMU_CAPS), 0]));
    conn.service();
    expect(receive().header.error).toBe(0);
    // DMA_MAP of 8 KiB read/write at IOVA with no fd (QEMU's offset is 0 then).
    peer.send(msg(2, 2, 0, [...le32(32), ...le32(3), ...le64(0), ...le64(IOVA), ...le64(0x2000)]));
    conn.service();
    expect(receive().header.flags & FLAG_ERROR).toBe(0);
  });
  afterEach(() => {
    peer.close();
    conn.close();
    device.close();
  });

  it('maps the window into the card as remote memory; the AFU copies from it with DMA_READ, serving a REGION_READ that arrives meanwhile', () => {
    expect(device.dma.lookup(BigInt(IOVA))?.memory.remote).toBeDefined();
    using dst = allocateDma(device, 4096, { access: 'write' });
    const afu = device.region(0);
    const data = Array.from({ length: 64 }, (_, i) => (i * 11 + 1) & 0xff);
    // Queued before the copy starts, as a vCPU would have it in flight: a REGION_READ of the AFU's
    // DMA status (id 70), then QEMU's DMA_READ reply for the server's first request (id 2).
    peer.send(msg(70, 9, 0, [...le64(SIM_AFU_OFFSET + SimAfuReg.DMA_STATUS), ...le32(0), ...le32(8)]));
    peer.send(msg(2, 11, 1, [...le64(IOVA + 0x100), ...le64(64), ...data]));
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_SRC, BigInt(IOVA + 0x100));
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_DST, dst.iova);
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_LEN, 64n);
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_CTRL, DmaCtrl.START);
    (device.clock as VirtualClock).advance(1);
    const request = receive();
    expect(request.header).toMatchObject({ id: 2, command: 11, flags: 0 });
    expect([...request.payload]).toEqual([...le64(IOVA + 0x100), ...le64(64)]);
    const regionReply = receive();
    expect(regionReply.header).toMatchObject({ id: 70, command: 9, flags: 1 });
    expect(afu.read64(SIM_AFU_OFFSET + SimAfuReg.DMA_STATUS) & DmaStatus.DONE).toBe(DmaStatus.DONE);
    expect([...dst.bytes.subarray(0, 64)]).toEqual(data);
  });

  it('writes to it with DMA_WRITE (data at payload offset 16) and accepts QEMU\'s bare-header reply', () => {
    using src = allocateDma(device, 4096, { access: 'read' });
    src.bytes.fill(0x5c, 0, 32);
    peer.send(msg(2, 12, 1, [])); // QEMU: vfio_user_send_reply(proxy, &msg->hdr, sizeof(msg->hdr))
    const afu = device.region(0);
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_SRC, src.iova);
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_DST, BigInt(IOVA + 0x1000));
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_LEN, 32n);
    afu.write64(SIM_AFU_OFFSET + SimAfuReg.DMA_CTRL, DmaCtrl.START);
    (device.clock as VirtualClock).advance(1);
    const request = receive();
    expect(request.header).toMatchObject({ id: 2, command: 12, size: 16 + 16 + 32 });
    expect([...request.payload]).toEqual([...le64(IOVA + 0x1000), ...le64(32), ...new Array(32).fill(0x5c)]);
    expect(afu.read64(SIM_AFU_OFFSET + SimAfuReg.DMA_STATUS) & DmaStatus.DONE).toBe(DmaStatus.DONE);
  });

  it('DMA_UNMAP of the window removes it from the card (a later copy faults)', () => {
    peer.send(msg(3, 3, 0, [...le32(24), ...le32(0), ...le64(IOVA), ...le64(0x2000)]));
    conn.service();
    expect(receive().header.flags & FLAG_ERROR).toBe(0);
    expect(device.dma.lookup(BigInt(IOVA))).toBeUndefined();
  });
});
