// Faults across the process boundary: a client killed in the middle of a DMA copy (the server
// must drop its mappings, survive the in-flight copy, and serve the next client), and a second
// client retrying (EBUSY) while the first is connected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { Card } from '../../src/afu/card.js';
import { allocateDma } from '../../src/dma/dma-buffer.js';
import { SimAfuReg, DmaCtrl, DmaStatus, DmaFault } from '../../src/sim/afu-regs.js';
import { fieldGet } from '../../src/util/bitfield.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn.js';
import { createMemfd, ftruncate, mmapFd, viewOf, closeQuietly } from '../../src/sys/libc.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/sys/constants.js';
import type { DmaMemory } from '../../src/dma/mapper.js';

describe('vfio-user faults with the served sim', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer('src/cli/main.ts', ['serve', 'sim:n3000', '--socket', '{socket}'], /^serving /);
  });
  afterAll(async () => {
    await server.kill();
  });

  it('kills a client mid-DMA: the server unmaps its memory and serves the next client', async () => {
    const client = await spawnServer('test/vfio-user/fixtures/dma-client.ts', [server.socket, String(32 * 1024 * 1024)], /^started /);
    const [, , oldDst] = client.lines.find((l) => l.startsWith('started '))!.split(' ');
    await client.kill('SIGKILL');
    await server.waitFor(/^client disconnected/);
    expect(server.child.exitCode).toBeNull();
    using device = new VfioUserDevice(server.socket);
    const afu = Card.discover(device).afu(0)!;
    // Wait out the killed client's copy, then read from its destination IOVA (above anything
    // this client maps): it must be unmapped now.
    const deadline = performance.now() + 5000;
    while ((afu.read64(SimAfuReg.DMA_STATUS) & DmaStatus.BUSY) !== 0n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    using dst = allocateDma(device, 4096);
    afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.CLEAR);
    afu.write64(SimAfuReg.DMA_SRC, BigInt(oldDst!));
    afu.write64(SimAfuReg.DMA_DST, dst.iova);
    afu.write64(SimAfuReg.DMA_LEN, 4096n);
    afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.START);
    let status = 0n;
    while (performance.now() < deadline) {
      status = afu.read64(SimAfuReg.DMA_STATUS);
      if ((status & (DmaStatus.DONE | DmaStatus.FAULT)) !== 0n) break;
    }
    expect(status & DmaStatus.FAULT).toBe(DmaStatus.FAULT);
    expect(Number(fieldGet(DmaStatus.FAULT_CODE, status))).toBe(DmaFault.SRC_UNMAPPED);
  });

  it('survives a client that shrinks a mapped, unsealed memfd to 0 and starts a DMA from it', async () => {
    // QEMU passes guest RAM unsealed (memory-backend-file, memfd seal=off; backends/hostmem-memfd.c),
    // so the server accepts unsealed fds and must survive the file shrinking under its mapping.
    using device = new VfioUserDevice(server.socket);
    const afu = Card.discover(device).afu(0)!;
    const size = 64 * 1024;
    const fd = createMemfd('shrinking', size);
    const mapping = mmapFd(fd, size, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
    try {
      const memory: DmaMemory = { address: mapping.address, size, fd, fdOffset: 0, bytes: new Uint8Array(viewOf(mapping.address, size)) };
      const iova = 0x4000_0000n;
      device.dma.map(memory, iova, { read: true, write: true });
      using dst = allocateDma(device, size);
      ftruncate(fd, 0); // every page of the server's mapping is past the end of the file now
      afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.CLEAR);
      afu.write64(SimAfuReg.DMA_SRC, iova);
      afu.write64(SimAfuReg.DMA_DST, dst.iova);
      afu.write64(SimAfuReg.DMA_LEN, BigInt(size));
      afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.START);
      let status = 0n;
      const deadline = performance.now() + 5000;
      while (performance.now() < deadline) {
        status = afu.read64(SimAfuReg.DMA_STATUS);
        if ((status & (DmaStatus.DONE | DmaStatus.FAULT)) !== 0n) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(server.child.exitCode).toBeNull();
      expect(server.child.signalCode).toBeNull();
      expect(status & DmaStatus.FAULT).toBe(DmaStatus.FAULT);
      expect(Number(fieldGet(DmaStatus.FAULT_CODE, status))).toBe(DmaFault.SRC_UNMAPPED);
      device.dma.unmap(iova, size);
    } finally {
      mapping.unmap();
      closeQuietly(fd);
    }
    expect(server.child.exitCode).toBeNull();
  });

  it('makes a second client retry (answered EBUSY) until the first one leaves', async () => {
    // The first client (another process) holds the device for 400 ms, then exits.
    const first = await spawnServer('test/vfio-user/fixtures/dma-client.ts', [server.socket, '4096', '400'], /^started /);
    const t0 = performance.now();
    using second = new VfioUserDevice(server.socket);
    expect(performance.now() - t0).toBeGreaterThan(100);
    expect(second.identity.vendor).toBe(0x8086);
    await first.kill();
  });
});
