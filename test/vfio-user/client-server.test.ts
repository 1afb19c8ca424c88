// Client and server over a real UNIX socket, the server in a separate process (a small device
// model, fixtures/memory-device.ts): negotiation, region access, DMA through a passed memfd,
// interrupts through passed eventfds, reset, error replies, server death.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { VfioUserConnectionError, VfioUserRemoteError } from '../../src/vfio-user/protocol.js';
import { allocateDma } from '../../src/dma/dma-buffer.js';
import { IrqIndex } from '../../src/device/device.js';
import { spawnServer, spawnExecutable, openFds, settle, type SpawnedServer } from './helpers/spawn.js';
import { REG_FIFO, REG_FIFO_COUNT, REG_FIFO_SUM, REG_DST, REG_GO, REG_LEN, REG_MSG_GO, REG_MSG_LATER, REG_SCRATCH, REG_SRC, REG_STATUS } from './fixtures/memory-device.js';
import type { DmaMemory } from '../../src/dma/mapper.js';
import { addressOf } from '../../src/sys/libc.js';
import { cliAdvice } from '../../src/cli/advice.js';
import type { VfiokitError } from '../../src/errors.js';

/** Client memory with no fd: the server reaches it only with DMA_READ / DMA_WRITE messages. */
function plainMemory(size: number): DmaMemory {
  const bytes = new Uint8Array(size);
  return { address: addressOf(bytes), size, fd: -1, fdOffset: 0, bytes };
}

for (const mode of ['twin', 'no-twin'] as const) {
  describe(`vfio-user client against a served device (${mode})`, () => {
    let server: SpawnedServer;
    beforeAll(async () => {
      server = await spawnServer('test/vfio-user/fixtures/serve-memory.ts', ['{socket}', mode]);
    });
    afterAll(async () => {
      await server.kill();
    });

    it('negotiates, reads identity, regions and IRQ info', () => {
      using dev = new VfioUserDevice(server.socket, { twinSocket: mode === 'twin' });
      expect(dev.identity).toEqual({ vendor: 0x8086, device: 0x0b30, subsystemVendor: 0x8086, subsystemDevice: 0x12ab, classCode: 0x120000, revision: 2 });
      expect(dev.regionCount).toBe(9);
      expect(dev.regionInfo(0)).toMatchObject({ size: 0x10000, readable: true, writable: true, mappable: false });
      expect(dev.irqInfo(IrqIndex.MSIX).count).toBe(4);
      expect(dev.server.maxDataXferSize).toBe(1 << 20);
      expect(dev.minor).toBe(1);
    });

    it('reads and writes registers (32/64-bit) and config space', () => {
      using dev = new VfioUserDevice(server.socket);
      const bar0 = dev.region(0);
      bar0.write64(REG_SCRATCH, 0x0123_4567_89ab_cdefn);
      expect(bar0.read64(REG_SCRATCH)).toBe(0x0123_4567_89ab_cdefn);
      bar0.write32(8, 0xdeadbeef);
      expect(bar0.read32(8)).toBe(0xdeadbeef);
      expect(bar0.read32(REG_SCRATCH + 4)).toBe(0x0123_4567);
      expect(dev.configRead(0, 2)).toBe(0x8086);
      dev.configWrite(4, 2, 0x0006);
      expect(dev.configRead(4, 4)).toBe(0x0006);
      const big = dev.readRegion(0, 0, 0x10000);
      expect(big.length).toBe(0x10000);
    });

    it('coalesces block writes and 64-bit streams into REGION_WRITE_MULTI, in order, at the asked width', () => {
      using dev = new VfioUserDevice(server.socket);
      expect(dev.server.writeMultiple).toBe(true);
      const bar0 = dev.region(0);
      const words = BigUint64Array.from({ length: 1000 }, (_, i) => BigInt(i) * 3n + 1n);
      bar0.writeStream64(REG_FIFO, words);
      expect(bar0.read64(REG_FIFO_COUNT)).toBe(1000n);
      expect(bar0.read64(REG_FIFO_SUM)).toBe(words.reduce((a, b) => a + b, 0n));
      expect(bar0.read64(REG_FIFO)).toBe(words[999]);
      const block = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);
      bar0.writeBlock(0x1000, block, 32);
      expect(Buffer.compare(dev.readRegion(0, 0x1000, 4096), block)).toBe(0);
      bar0.writeBlock(0x3000, block, 64);
      expect(Buffer.compare(bar0.readBlock(0x3000, 4096, 64), block)).toBe(0);
    });

    it('passes DMA memory as a memfd: the device copies between two client buffers and interrupts', async () => {
      using dev = new VfioUserDevice(server.socket);
      const [irq] = dev.enableInterrupts(IrqIndex.MSIX, 0, 1);
      using src = allocateDma(dev, 8192);
      using dst = allocateDma(dev, 8192);
      for (let i = 0; i < 8192; i++) src.memory.bytes[i] = (i * 7) & 0xff;
      const bar0 = dev.region(0);
      bar0.write64(REG_SRC, src.iova);
      bar0.write64(REG_DST, dst.iova);
      bar0.write64(REG_LEN, 8192n);
      const fired = irq!.wait({ timeoutMs: 5000 });
      bar0.write64(REG_GO, 1n);
      expect(bar0.read64(REG_STATUS)).toBe(1n);
      expect(Buffer.compare(dst.memory.bytes, src.memory.bytes)).toBe(0);
      expect(await fired).toBe(1);
      dev.disableInterrupts(IrqIndex.MSIX);
    });

    it('answers the server\'s DMA_READ/DMA_WRITE for memory without an fd, while waiting and while idle', async () => {
      using dev = new VfioUserDevice(server.socket);
      const [irq] = dev.enableInterrupts(IrqIndex.MSIX, 0, 1);
      const src = plainMemory(3 * 4096);
      const dst = plainMemory(3 * 4096);
      for (let i = 0; i < src.size; i++) src.bytes[i] = (i * 13) & 0xff;
      dev.dma.map(src, 0x100000n, { read: true, write: false });
      dev.dma.map(dst, 0x200000n, { read: false, write: true });
      const bar0 = dev.region(0);
      bar0.write64(REG_SRC, 0x100000n);
      bar0.write64(REG_DST, 0x200000n);
      bar0.write64(REG_LEN, BigInt(src.size));
      // Now: the server sends DMA_READ/DMA_WRITE while our REGION_WRITE waits for its reply.
      bar0.write64(REG_MSG_GO, 1n);
      expect(bar0.read64(REG_STATUS)).toBe(1n);
      expect(Buffer.compare(src.bytes, dst.bytes)).toBe(0);
      expect(await irq!.wait({ timeoutMs: 10_000 })).toBe(1);
      // Later: the client is idle (awaiting the interrupt) when the messages come.
      dst.bytes.fill(0);
      bar0.write64(REG_STATUS, 0n);
      const later = irq!.wait({ timeoutMs: 10_000 });
      bar0.write64(REG_MSG_LATER, 1n);
      expect(await later).toBe(1);
      expect(bar0.read64(REG_STATUS)).toBe(1n);
      expect(Buffer.compare(src.bytes, dst.bytes)).toBe(0);
      // The device may not write memory mapped read-only: the client refuses (EFAULT), the copy faults.
      bar0.write64(REG_DST, 0x100000n);
      bar0.write64(REG_MSG_GO, 1n);
      expect(bar0.read64(REG_STATUS)).toBe(2n);
      dev.dma.unmap(0x100000n, src.size);
      dev.dma.unmap(0x200000n, dst.size);
      dev.disableInterrupts(IrqIndex.MSIX);
    });

    it('mmaps regions the server passes an fd for: whole (BAR3) and sparse (BAR2, the hole trapped)', () => {
      using dev = new VfioUserDevice(server.socket);
      expect(dev.regionInfo(3)).toMatchObject({ size: 0x4000, mappable: true });
      expect(dev.regionInfo(2).mmapAreas).toEqual([{ offset: 0, size: 0x1000 }, { offset: 0x3000, size: 0xd000 }]);
      const bar3 = dev.region(3);
      expect(bar3.kind).toBe('mapped');
      bar3.write64(0x3ff8, 0xfeedn);
      const bar2 = dev.region(2);
      expect(bar2.constructor.name).toBe('SparseRegion');
      bar2.write32(0x10, 0x11111111); // mapped area 0
      bar2.write32(0x2000, 0x22222222); // the hole: REGION_WRITE
      bar2.write64(0x3008, 0x3333333344444444n); // mapped area 1
      // Every byte is the same memory whichever path reaches it: read it all back through the socket.
      const all = dev.readRegion(2, 0, 0x10000);
      expect(Buffer.from(all).readUInt32LE(0x10)).toBe(0x11111111);
      expect(Buffer.from(all).readUInt32LE(0x2000)).toBe(0x22222222);
      expect(Buffer.from(all).readBigUInt64LE(0x3008)).toBe(0x3333333344444444n);
      expect(bar2.read32(0x2000)).toBe(0x22222222);
      expect(dev.readRegion(3, 0x3ff8, 8)[0]).toBe(0xed);
    });

    it('turns error replies into typed errors with the errno name', () => {
      using dev = new VfioUserDevice(server.socket);
      const bar0 = dev.region(0);
      expect(() => bar0.read32(0x10000 - 2)).toThrow(/outside|align/);
      let err: unknown;
      try {
        dev.enableInterrupts(IrqIndex.INTX, 0, 1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VfioUserRemoteError);
      expect((err as VfioUserRemoteError).code).toBe('EINVAL');
      dev.reset();
      expect(bar0.read64(REG_SCRATCH)).toBe(0n);
    });

    it('drops every DMA mapping when the client goes and serves the next client; no fd leaks', async () => {
      await settle();
      const before = openFds();
      for (let round = 0; round < 3; round++) {
        const dev = new VfioUserDevice(server.socket);
        const buf = allocateDma(dev, 4096);
        dev.enableInterrupts(IrqIndex.MSIX, 0, 4);
        dev.close(); // without unmapping: the server must clean up
        buf.memory.close();
        await server.waitFor(new RegExp(`^disconnect mappings=0$`));
        server.lines.length = 0;
      }
      await settle();
      expect(openFds()).toBe(before);
    });
  });
}

describe('server death', () => {
  it('gives the client a typed error, not a hang', async () => {
    const server = await spawnServer('test/vfio-user/fixtures/serve-memory.ts', ['{socket}']);
    const dev = new VfioUserDevice(server.socket, { replyTimeoutMs: 3000 });
    const bar0 = dev.region(0);
    bar0.write32(0, 1);
    const buf = allocateDma(dev, 4096);
    await server.kill('SIGKILL');
    expect(() => bar0.read32(0)).toThrow(VfioUserConnectionError);
    expect(() => bar0.read32(0)).toThrow(/region is closed/);
    // The server's mappings died with it: freeing the buffer still works.
    buf.close();
    dev.close();
  });
  it('times out with a typed error when the server stops answering (SIGSTOP)', async () => {
    const server = await spawnServer('test/vfio-user/fixtures/serve-memory.ts', ['{socket}']);
    try {
      const dev = new VfioUserDevice(server.socket, { replyTimeoutMs: 300 });
      const bar0 = dev.region(0);
      server.child.kill('SIGSTOP');
      const t0 = performance.now();
      let err: unknown;
      try {
        bar0.read32(0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VfioUserConnectionError);
      expect((err as VfioUserConnectionError).code).toBe('EVFIO_USER_TIMEOUT');
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(dev.regionInfo(0).size).toBe(0x10000); // info stays readable; accesses say closed
      expect(() => bar0.read32(0)).toThrow(/closed/);
      dev.close();
    } finally {
      server.child.kill('SIGCONT');
      await server.kill();
    }
  });

  it('says how to start a server when none listens (the CLI adds the vfiokit serve command)', () => {
    let err: unknown;
    try {
      new VfioUserDevice('/tmp/does-not-exist.sock');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ENOENT', message: expect.stringContaining('start a vfio-user server on that socket first (VfioUserServer)') });
    expect(cliAdvice(err as VfiokitError)).toBe('e.g. run: vfiokit serve sim:n3000 --socket /tmp/does-not-exist.sock');
  });
});

describe('an independent client in C (from the spec\'s structs) against the server', () => {
  it('negotiates, accesses registers, passes a memfd and an eventfd, gets errnos', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vfu-c-'));
    const exe = join(dir, 'c-client');
    try {
      execFileSync('cc', ['-O1', '-Wall', '-Werror', '-o', exe, join(import.meta.dirname, 'fixtures/c-client.c')]);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot build the C client (cc missing?): ${(err as Error).message}`);
    }
    const server = await spawnServer('test/vfio-user/fixtures/serve-memory.ts', ['{socket}', 'no-twin']);
    try {
      const out = execFileSync(exe, [server.socket], { encoding: 'utf8', timeout: 20_000 });
      expect(out.trim()).toBe('OK');
    } finally {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the client against an independent server in C (from the spec\'s structs)', () => {
  it('mmaps sparse areas, passes fds, answers DMA_READ/DMA_WRITE on the main socket, gets interrupts', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vfu-cs-'));
    const exe = join(dir, 'c-server');
    let server: SpawnedServer | undefined;
    try {
      execFileSync('cc', ['-O1', '-Wall', '-Werror', '-o', exe, join(import.meta.dirname, 'fixtures/c-server.c')]);
      server = await spawnExecutable(exe, ['{socket}']);
      using dev = new VfioUserDevice(server.socket);
      expect(dev.identity).toMatchObject({ vendor: 0x1af4, device: 0x1111, revision: 1, classCode: 0x120000 });
      expect(dev.server).toMatchObject({ maxMsgFds: 4, maxDataXferSize: 4096, maxDmaMaps: 8 });
      expect(dev.regionInfo(2)).toMatchObject({ size: 0x4000, mappable: true, mmapAreas: [{ offset: 0, size: 0x1000 }, { offset: 0x2000, size: 0x2000 }] });
      const bar2 = dev.region(2);
      const pattern = (i: number): number => (i * 7 + 1) & 0xff;
      expect(bar2.read32(0x10)).toBe(Buffer.from([pattern(0x10), pattern(0x11), pattern(0x12), pattern(0x13)]).readUInt32LE(0));
      expect(bar2.read32(0x1800)).toBe(Buffer.from([pattern(0x1800), pattern(0x1801), pattern(0x1802), pattern(0x1803)]).readUInt32LE(0)); // the hole: trapped
      bar2.write32(0x2004, 0xcafef00d); // mapped: the C server sees it in its own mapping
      expect(dev.readRegion(2, 0x2004, 4)).toEqual(Uint8Array.from([0x0d, 0xf0, 0xfe, 0xca]));
      expect(dev.readRegion(0, 0, 4096).length).toBe(4096); // exactly max_data_xfer_size
      // fd-backed DMA: the server writes our memfd through its own mmap.
      using buf = allocateDma(dev, 4096);
      dev.region(0).write64(0x28, buf.iova);
      expect(buf.memory.bytes[0]).toBe(0xab);
      // fd-less memory: DMA_READ + DMA_WRITE on the main socket while our REGION_WRITE waits.
      const mem = plainMemory(4096);
      for (let i = 0; i < 16; i++) mem.bytes[i] = i + 1;
      dev.dma.map(mem, 0x400000n, { read: true, write: true });
      dev.region(0).write64(0x18, 0x400000n);
      dev.region(0).write32(0x10, 1);
      expect(dev.region(0).read32(0x30)).toBe(1);
      expect([...mem.bytes.subarray(16, 32)]).toEqual([16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      dev.dma.unmap(0x400000n, 4096);
      // Interrupts through our eventfd.
      const [irq] = dev.enableInterrupts(IrqIndex.MSIX, 0, 2);
      const fired = irq!.wait({ timeoutMs: 5000 });
      dev.region(0).write32(0x20, 1);
      expect(await fired).toBe(1);
      dev.disableInterrupts(IrqIndex.MSIX);
      dev.reset();
    } finally {
      await server?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
