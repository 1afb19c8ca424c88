import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { memfdRegion, type MemfdRegion } from './helpers.js';
import { MappedRegion } from '../../src/mmio/mapped-region.js';
import { VirtualClock } from '../../src/util/clock.js';
import { shim } from '../../src/sys/shim.js';
import { close, createMemfd, mmapFd, viewOf } from '../../src/sys/libc.js';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const live: MemfdRegion[] = [];
function make(size = 4096, options = {}): MemfdRegion {
  const m = memfdRegion('test BAR', size, options);
  live.push(m);
  return m;
}
afterEach(() => {
  while (live.length) live.pop()!.dispose();
});

describe('MappedRegion over a memfd, cross-checked through the file system', () => {
  it('32/64-bit writes land in the file at the right offsets, little endian', () => {
    const m = make();
    const r = m.region;
    expect(r.kind).toBe('mapped');
    expect(r.size).toBe(4096);
    r.write32(0x10, 0xdeadbeef);
    r.write32(0xffc, 0x80000001);
    r.write64(0x18, 0x0123456789abcdefn);
    r.write64(0xff0, 0xffff_ffff_ffff_ffffn);
    expect(m.fsRead(0x10, 4).readUInt32LE(0)).toBe(0xdeadbeef);
    expect(m.fsRead(0xffc, 4).readUInt32LE(0)).toBe(0x80000001);
    expect(m.fsRead(0x18, 8).readBigUInt64LE(0)).toBe(0x0123456789abcdefn);
    expect(m.fsRead(0xff0, 8).readBigUInt64LE(0)).toBe(0xffff_ffff_ffff_ffffn);
    // neighbours untouched
    expect(m.fsRead(0x0c, 4).readUInt32LE(0)).toBe(0);
    expect(m.fsRead(0x14, 4).readUInt32LE(0)).toBe(0);
  });

  it('reads see what the file system wrote; read32 is unsigned, read64 full 64 bits', () => {
    const m = make();
    const b = Buffer.alloc(16);
    b.writeUInt32LE(0xfedcba98, 0);
    b.writeBigUInt64LE(0x8000_0000_0000_0001n, 8);
    m.fsWrite(0x100, b);
    expect(m.region.read32(0x100)).toBe(0xfedcba98);
    expect(m.region.read32(0x108)).toBe(1);
    expect(m.region.read32(0x10c)).toBe(0x80000000);
    expect(m.region.read64(0x108)).toBe(0x8000_0000_0000_0001n);
    expect(m.region.read64(0x100)).toBe(0x0000_0000_fedc_ba98n);
  });

  it('readBlock/writeBlock with 32- and 64-bit accesses, aligned and unaligned buffers', () => {
    const m = make();
    const data = new Uint8Array(256);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    for (const width of [32, 64] as const) {
      m.region.writeBlock(0x200, data, width);
      expect(Buffer.compare(m.fsRead(0x200, 256), Buffer.from(data))).toBe(0);
      expect(Buffer.from(m.region.readBlock(0x200, 256, width)).equals(Buffer.from(data))).toBe(true);
      // unaligned source/destination buffers (byteOffset 1)
      const backing = new Uint8Array(257);
      const odd = backing.subarray(1);
      odd.set(data.map((x) => x ^ 0x5a));
      m.region.writeBlock(0x400, odd, width);
      expect(Buffer.from(m.fsRead(0x400, 256)).equals(Buffer.from(odd))).toBe(true);
      const into = new Uint8Array(300).subarray(3, 259);
      const got = m.region.readBlock(0x400, 256, width, into);
      expect(got).toBe(into);
      expect(Buffer.from(got).equals(Buffer.from(odd))).toBe(true);
      m.fsWrite(0x400, new Uint8Array(256));
    }
    expect(m.region.readBlock(0, 0)).toHaveLength(0);
  });

  it('writeStream64 writes every word to one offset (the last one remains)', () => {
    const m = make();
    const words = new BigUint64Array(1000);
    for (let i = 0; i < words.length; i++) words[i] = BigInt(i) * 0x1_0000_0001n;
    m.region.writeStream64(0x80, words);
    expect(m.fsRead(0x80, 8).readBigUInt64LE(0)).toBe(999n * 0x1_0000_0001n);
    expect(m.fsRead(0x88, 8).readBigUInt64LE(0)).toBe(0n);
    m.region.writeStream64(0x80, new BigUint64Array(0));
  });

  it('read-only mapping can be read', () => {
    const m = make(4096, { writable: false });
    m.fsWrite(0, Buffer.from([1, 0, 0, 0]));
    expect(m.region.read32(0)).toBe(1);
  });

  it('uses the shim SharedArrayBuffer when built; a worker sees and writes the same memory', async () => {
    const m = make();
    const sab = m.region.sharedBuffer;
    if (!shim()) {
      expect(sab).toBeUndefined();
      return;
    }
    expect(sab).toBeInstanceOf(SharedArrayBuffer);
    m.region.write32(0, 41);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const i32 = new Int32Array(workerData);
       const seen = Atomics.load(i32, 0);
       i32[1] = seen + 1;
       parentPort.postMessage(seen);`,
      { eval: true, workerData: sab },
    );
    const seen = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(seen).toBe(41);
    expect(m.region.read32(4)).toBe(42);
    expect(m.fsRead(4, 4).readUInt32LE(0)).toBe(42);
  });

  it('a worker thread rebuilds the region from the SharedArrayBuffer and address and drives it', async () => {
    const m = make();
    const sab = m.region.sharedBuffer;
    if (!sab) return; // no SharedArrayBuffer without the shim: workers map the fd themselves then
    m.region.write64(0x28, 0x1234_5678_9abc_def0n);
    // The worker loads the TypeScript fixture through tsx's loader API.
    const fixture = new URL('./fixtures/region-worker.ts', import.meta.url).href;
    const worker = new Worker(
      `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(fixture)}, ${JSON.stringify(import.meta.url)}))`,
      { eval: true, workerData: { sab, address: m.region.address, size: m.region.size } },
    );
    const reply = new Promise<{ seen: bigint; poll: { value: number; timedOut: boolean } }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // The worker polls for bit 0 of 0x30: set it once it has written 0x20.
    const wrote = m.region.poll32(0x20, 0xffffffff, 0xc0ffee, { timeoutMs: 10_000, intervalUs: 100 });
    expect(wrote.timedOut).toBe(false);
    m.region.write32(0x30, 1);
    const r = await reply;
    await worker.terminate();
    expect(r.seen).toBe(0x1234_5678_9abc_def0n);
    expect(r.poll).toEqual({ value: 1, timedOut: false });
    expect(m.fsRead(0x38, 8).readBigUInt64LE(0)).toBe(0xabcdn);
    expect(m.fsRead(0x20, 4).readUInt32LE(0)).toBe(0xc0ffee);
  }, 30_000);

  it('a region constructed over an existing mapping: onClose runs once, after which access throws', () => {
    const fd = createMemfd('raw', 4096);
    const map = mmapFd(fd, 4096);
    let closes = 0;
    const r = new MappedRegion('raw BAR', map.address, 4096, { onClose: () => { closes++; map.unmap(); } });
    r.write32(8, 7);
    expect(new Uint32Array(viewOf(map.address, 16))[2]).toBe(7);
    r.close();
    r.close();
    expect(closes).toBe(1);
    expect(map.unmapped).toBe(true);
    expect(() => r.read32(8)).toThrow(expect.objectContaining({ code: 'EREGION_CLOSED' }) as Error);
    close(fd);
  });
});

describe('MappedRegion mapping lifetime', () => {
  const mapped = (address: bigint): boolean => readFileSync('/proc/self/maps', 'utf8').split('\n').some((l) => l.startsWith(`${address.toString(16)}-`));

  it('close() unmaps at once when the buffer was never handed out', () => {
    const fd = createMemfd('lifetime', 1 << 16);
    try {
      const r = MappedRegion.mapFd('lifetime BAR', fd, 1 << 16);
      expect(mapped(r.address)).toBe(true);
      r.close();
      expect(mapped(r.address)).toBe(false);
    } finally {
      close(fd);
    }
  });

  it('once handed out, the mapping lives as long as the SharedArrayBuffer, then the GC unmaps it', () => {
    if (!shim()) return; // no SharedArrayBuffer without the shim: close() always munmaps
    const fixture = fileURLToPath(new URL('./fixtures/gc-unmap.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))!;
    expect(JSON.parse(line.slice(7))).toEqual({ afterClose: true, stillReadable: 77, afterGc: false });
  });
});

describe('MappedRegion polls', () => {
  it('poll32/poll64 return at once on a match, with the value', () => {
    const m = make();
    m.region.write32(0x10, 0x1234_5678);
    m.region.write64(0x20, 0xabcd_0000_0000_0010n);
    expect(m.region.poll32(0x10, 0xff, 0x78)).toEqual({ value: 0x1234_5678, timedOut: false });
    expect(m.region.poll32(0x10, 0xffffffff, 0x1234_5678)).toEqual({ value: 0x1234_5678, timedOut: false });
    expect(m.region.poll64(0x20, 0xffff_0000_0000_0000n, 0xabcd_0000_0000_0000n)).toEqual({ value: 0xabcd_0000_0000_0010n, timedOut: false });
  });

  it('real clock: times out after timeoutMs and reports the last value', () => {
    const m = make();
    m.region.write32(0x10, 5);
    const t0 = performance.now();
    const r = m.region.poll32(0x10, 1 << 4, 1 << 4, { timeoutMs: 15, intervalUs: 50 });
    const elapsed = performance.now() - t0;
    expect(r).toEqual({ value: 5, timedOut: true });
    expect(elapsed).toBeGreaterThanOrEqual(14.5);
    const r64 = m.region.poll64(0x10, 0xffn, 0x6n, { timeoutMs: 2, intervalUs: 0 });
    expect(r64).toEqual({ value: 5n, timedOut: true });
    // Long intervals sleep instead of spinning; the deadline still holds.
    const t1 = performance.now();
    expect(m.region.poll32(0x10, 0xff, 0x6, { timeoutMs: 10, intervalUs: 2000 })).toEqual({ value: 5, timedOut: true });
    expect(performance.now() - t1).toBeGreaterThanOrEqual(9.5);
  });

  it('real clock: sees a change made by another thread', async () => {
    const m = make();
    const sab = m.region.sharedBuffer;
    if (!sab) return; // without the shim there is no SharedArrayBuffer to hand a worker
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const i32 = new Int32Array(workerData);
       setTimeout(() => { i32[4] = 0x10; }, 20);`,
      { eval: true, workerData: sab },
    );
    await new Promise<void>((resolve) => worker.once('online', () => resolve()));
    const r = m.region.poll32(0x10, 0x10, 0x10, { timeoutMs: 5000, intervalUs: 10 });
    await worker.terminate();
    expect(r).toEqual({ value: 0x10, timedOut: false });
  });

  it('virtual clock: polls run in JS on the clock; a scheduled device change is seen at its time', () => {
    const clock = new VirtualClock();
    const m = make(4096, { clock });
    expect(m.region.usesShim).toBe(shim() !== undefined);
    clock.at(250, () => m.fsWrite(0x40, Buffer.from([1, 0, 0, 0])));
    const r = m.region.poll32(0x40, 1, 1, { timeoutMs: 1000, intervalUs: 1000 });
    expect(r).toEqual({ value: 1, timedOut: false });
    expect(clock.now()).toBeGreaterThanOrEqual(250);
    expect(clock.now()).toBeLessThan(260);
    const t = m.region.poll64(0x48, 1n, 1n, { timeoutMs: 60_000, intervalUs: 1_000_000 });
    expect(t).toEqual({ value: 0n, timedOut: true });
    expect(clock.now()).toBeGreaterThanOrEqual(60_250);
  });
});
