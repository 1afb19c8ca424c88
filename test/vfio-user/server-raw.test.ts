// The server against raw messages written by hand from the spec (libvfio-user's test style: send
// bytes, assert the reply and its errno). In-process: a ServerConnection over a socketpair.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerConnection } from '../../src/vfio-user/server-connection.js';
import { MessageSocket } from '../../src/vfio-user/unix-socket.js';
import { closeQuietly, createEventfd, createMemfd, dup, eventfdRead, unixSocketPair } from '../../src/sys/libc.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';
import { Errno, FLAG_ERROR, type Message } from '../../src/vfio-user/protocol.js';
import { MemoryDevice } from './fixtures/memory-device.js';
import { openFds, settle } from './helpers/spawn.js';

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le64 = (v: number): number[] => [...le32(v), ...le32(Math.floor(v / 2 ** 32))];
/** A command: header (id, command, size, flags 0, error 0) + payload. */
const cmd = (id: number, command: number, payload: number[]): Uint8Array =>
  Uint8Array.from([...le16(id), ...le16(command), ...le32(16 + payload.length), ...le32(0), ...le32(0), ...payload]);
const versionJson = (json: string): number[] => [...le16(0), ...le16(1), ...Buffer.from(json), 0];

describe('vfio-user server, raw messages', () => {
  let device: MemoryDevice;
  let conn: ServerConnection;
  let peer: MessageSocket;

  function exchange(bytes: Uint8Array, fds: number[] = []): Message {
    const copies = fds.map((fd) => dup(fd));
    peer.send(bytes, copies);
    for (const fd of copies) closeQuietly(fd);
    conn.service();
    const r = peer.receive();
    if (r.kind !== 'message') throw new Error(`no reply (${r.kind})`);
    return r.message;
  }
  const errnoOf = (m: Message): number => ((m.header.flags & FLAG_ERROR) !== 0 ? m.header.error : 0);
  const negotiate = (json = '{"capabilities":{"max_msg_fds":8}}'): Message => exchange(cmd(1, 1, versionJson(json)));

  beforeEach(() => {
    device = new MemoryDevice();
    const [a, b] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
    conn = new ServerConnection(a, device, { maxMsgFds: 8, maxDataXferSize: 4096, pgsizes: 4096, maxDmaMaps: 4, twinSocket: true }, { name: 'raw' });
    peer = new MessageSocket(b, { name: 'peer', maxPayload: 1 << 20, maxFds: 8 });
  });
  afterEach(() => {
    peer.close();
    conn.close();
    device.close();
  });

  it('answers VERSION with its capabilities, minor = min(client, server)', () => {
    const r = exchange(cmd(7, 1, [...le16(0), ...le16(9), ...Buffer.from('{}'), 0]));
    expect(r.header).toMatchObject({ id: 7, command: 1, flags: 1, error: 0 });
    expect([...r.payload.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    const json = JSON.parse(Buffer.from(r.payload.subarray(4, -1)).toString());
    expect(json.capabilities).toMatchObject({ max_msg_fds: 8, max_data_xfer_size: 4096, pgsizes: 4096, max_dma_maps: 4 });
  });

  it('refuses another major version, commands before VERSION, and VERSION twice', () => {
    expect(errnoOf(exchange(cmd(1, 4, [...le32(16), ...le32(0), ...le32(0), ...le32(0)])))).toBe(Errno.EINVAL);
    expect(errnoOf(exchange(cmd(2, 1, [...le16(1), ...le16(0)])))).toBe(Errno.ENOTSUP);
    expect(errnoOf(negotiate())).toBe(0);
    expect(errnoOf(negotiate())).toBe(Errno.EINVAL);
  });

  it('sets up the twin socket when the client supports it: fd_index names the passed fd', () => {
    const r = negotiate('{"capabilities":{"twin_socket":{"supported":true}}}');
    const json = JSON.parse(Buffer.from(r.payload.subarray(4, -1)).toString());
    expect(json.capabilities.twin_socket).toEqual({ supported: true, fd_index: 0 });
    expect(r.fds).toHaveLength(1);
    expect(conn.twinSocket).toBe(true);
    for (const fd of r.fds) closeQuietly(fd);
  });

  it('answers DEVICE_GET_INFO and GET_IRQ_INFO (16-byte structs)', () => {
    negotiate();
    const info = exchange(cmd(2, 4, [...le32(16), ...le32(0), ...le32(0), ...le32(0)]));
    expect([...info.payload]).toEqual([...le32(16), ...le32(3), ...le32(9), ...le32(5)]);
    const irq = exchange(cmd(3, 7, [...le32(16), ...le32(0), ...le32(2), ...le32(0)]));
    expect([...irq.payload]).toEqual([...le32(16), ...le32(1 | 2 | 8), ...le32(2), ...le32(4)]);
    expect(errnoOf(exchange(cmd(4, 7, [...le32(16), ...le32(0), ...le32(9), ...le32(0)])))).toBe(Errno.EINVAL);
  });

  it('answers GET_REGION_INFO for BAR0 and config space; a too-small argsz is EINVAL', () => {
    negotiate();
    const r = exchange(cmd(2, 5, [...le32(32), ...le32(0), ...le32(0), ...le32(0), ...le64(0), ...le64(0)]));
    expect([...r.payload.subarray(0, 24)]).toEqual([...le32(32), ...le32(3), ...le32(0), ...le32(0), ...le64(0x10000)]);
    const cfg = exchange(cmd(3, 5, [...le32(32), ...le32(0), ...le32(7), ...le32(0), ...le64(0), ...le64(0)]));
    expect(cfg.payload[16]).toBe(0); // size 256 -> 0x100
    expect(cfg.payload[17]).toBe(1);
    expect(errnoOf(exchange(cmd(4, 5, [...le32(16), ...le32(0), ...le32(0), ...le32(0), ...le64(0), ...le64(0)])))).toBe(Errno.EINVAL);
  });

  it('reads and writes registers; refuses a count over max_data_xfer_size (E2BIG) and accesses past the region', () => {
    negotiate();
    const w = exchange(cmd(2, 10, [...le64(0x8), ...le32(0), ...le32(4), 0x78, 0x56, 0x34, 0x12]));
    expect([...w.payload]).toEqual([...le64(0x8), ...le32(0), ...le32(4)]);
    const r = exchange(cmd(3, 9, [...le64(0x8), ...le32(0), ...le32(4)]));
    expect([...r.payload]).toEqual([...le64(0x8), ...le32(0), ...le32(4), 0x78, 0x56, 0x34, 0x12]);
    expect(errnoOf(exchange(cmd(4, 9, [...le64(0), ...le32(0), ...le32(8192)])))).toBe(Errno.E2BIG);
    expect(errnoOf(exchange(cmd(5, 9, [...le64(0xfffc), ...le32(0), ...le32(8)])))).toBe(Errno.EINVAL);
    expect(errnoOf(exchange(cmd(6, 9, [...le64(0), ...le32(12), ...le32(4)])))).toBe(Errno.EINVAL);
  });

  it('refuses an oversized message with E2BIG and stays in sync for the next one', () => {
    negotiate();
    const big = new Uint8Array(16 + 64 * 1024);
    big.set(cmd(9, 10, []).subarray(0, 16));
    big.set(le32(big.length), 4);
    peer.send(big);
    conn.service();
    const first = peer.receive();
    expect(first.kind === 'message' && first.message.header.error).toBe(Errno.E2BIG);
    const after = exchange(cmd(10, 9, [...le64(0), ...le32(0), ...le32(4)]));
    expect(after.header.id).toBe(10);
    expect(errnoOf(after)).toBe(0);
  });

  it('maps client memory passed as a memfd and refuses overlap, misalignment, past-EOF and split unmaps; an unmap of nothing succeeds (type1)', () => {
    negotiate();
    const memfd = createMemfd('raw', 0x4000);
    try {
      const map = (id: number, iova: number, size: number, offset = 0): number => errnoOf(exchange(cmd(id, 2, [...le32(32), ...le32(3), ...le64(offset), ...le64(iova), ...le64(size)]), [memfd]));
      expect(map(2, 0x10000, 0x4000)).toBe(0);
      expect(device.mappings).toBe(1);
      expect(map(3, 0x12000, 0x1000)).toBe(Errno.EEXIST);
      expect(map(4, 0x20800, 0x1000)).toBe(Errno.EINVAL);
      expect(map(5, 0x30000, 0x4000, 0x1000)).toBe(Errno.EINVAL);
      const unmap = (id: number, iova: number, size: number, flags = 0): Message => exchange(cmd(id, 3, [...le32(24), ...le32(flags), ...le64(iova), ...le64(size)]));
      // type1 semantics (drivers/vfio/vfio_iommu_type1.c vfio_dma_do_unmap): splitting a mapping is
      // EINVAL; a range with no mapping in it unmaps nothing and succeeds (QEMU's vIOMMU unmaps
      // IOVA ranges it never mapped, hw/vfio/listener.c vfio_iommu_map_notify).
      expect(errnoOf(unmap(6, 0x10000, 0x1000))).toBe(Errno.EINVAL);
      expect(errnoOf(unmap(60, 0x12000, 0x10000))).toBe(Errno.EINVAL);
      expect(errnoOf(unmap(61, 0x100000, 0x1000_0000))).toBe(0);
      expect(device.mappings).toBe(1);
      const ok = unmap(7, 0x10000, 0x4000);
      expect([...ok.payload]).toEqual([...le32(24), ...le32(0), ...le64(0x10000), ...le64(0x4000)]);
      expect(device.mappings).toBe(0);
      expect(map(8, 0x10000, 0x4000)).toBe(0);
      expect(errnoOf(unmap(9, 0, 0, 2))).toBe(0); // ALL
      expect(device.mappings).toBe(0);
    } finally {
      closeQuietly(memfd);
    }
  });

  it('signals the client eventfd for a device interrupt, honours mask/unmask, closes fds of refused SET_IRQS', async () => {
    negotiate();
    const efd = createEventfd();
    try {
      const set = (id: number, flags: number, start: number, count: number, fds: number[] = [], data: number[] = []): number =>
        errnoOf(exchange(cmd(id, 8, [...le32(20 + data.length), ...le32(flags), ...le32(2), ...le32(start), ...le32(count), ...data]), fds));
      expect(set(2, 0x24, 1, 1, [efd])).toBe(0); // EVENTFD | TRIGGER on MSI-X 1
      device.raise(1);
      // Delivery is asynchronous (the model's eventfd is watched, then the client's is written).
      let delivered = 0;
      for (const end = Date.now() + 2000; delivered === 0 && Date.now() < end; await settle(5)) delivered = eventfdRead(efd);
      expect(delivered).toBe(1);
      expect(set(3, 0x09, 1, 1)).toBe(0); // NONE | MASK
      device.raise(1);
      await settle(30);
      expect(eventfdRead(efd)).toBe(0);
      expect(set(4, 0x11, 1, 1)).toBe(0); // NONE | UNMASK: the pending one is delivered
      expect(eventfdRead(efd)).toBe(1);
      expect(set(5, 0x22, 1, 1, [], [1])).toBe(0); // BOOL | TRIGGER: the client triggers it
      expect(eventfdRead(efd)).toBe(1);
      const before = openFds();
      expect(set(6, 0x24, 0, 2, [efd])).toBe(Errno.EINVAL); // 2 vectors, 1 fd
      expect(set(7, 0x24, 3, 2, [efd, efd])).toBe(Errno.EINVAL); // past the 4 vectors
      expect(openFds()).toBe(before);
      expect(set(8, 0x21, 0, 0)).toBe(0); // NONE | TRIGGER, count 0: disable all
    } finally {
      closeQuietly(efd);
    }
  });

  it('refuses DMA_READ sent to the server, unknown commands, DEVICE_FEATURE and migration', () => {
    negotiate();
    expect(errnoOf(exchange(cmd(2, 11, [...le64(0), ...le64(4)])))).toBe(Errno.EINVAL);
    expect(errnoOf(exchange(cmd(3, 99, [])))).toBe(Errno.EINVAL);
    expect(errnoOf(exchange(cmd(4, 16, [...le32(16), ...le32(0x10001)])))).toBe(Errno.ENOTTY);
    expect(errnoOf(exchange(cmd(5, 17, new Array(16).fill(0))))).toBe(Errno.ENOTSUP);
    const reset = exchange(cmd(6, 13, []));
    expect(errnoOf(reset)).toBe(0);
    expect(device.resets).toBe(1);
  });

  it('sends nothing for a command with the no-reply flag', () => {
    negotiate();
    const m = cmd(2, 10, [...le64(0x10), ...le32(0), ...le32(4), 1, 0, 0, 0]);
    m[8] = 0x10;
    peer.send(m);
    conn.service();
    expect(peer.receive().kind).toBe('again');
    expect(device.regs[2]).toBe(1n);
  });
});
