// The C shim and the JS fallbacks give identical results on the same data: two regions over the
// same memfd, one running its loops in C, one in JS (useShim: false).
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { memfdRegion, type MemfdRegion } from '../mmio/helpers.js';
import { shim } from '../../src/sys/shim.js';
import { creditStream, type CreditStreamOptions } from '../../src/mmio/credit-stream.js';
import { MappedRegion } from '../../src/mmio/mapped-region.js';

const live: { dispose(): void }[] = [];
afterEach(() => {
  while (live.length) live.pop()!.dispose();
});

/** One memfd, mapped twice: `c` runs loops in the shim, `js` in JS. */
function pair(size = 64 * 1024): { m: MemfdRegion; c: MappedRegion; js: MappedRegion } {
  const m = memfdRegion('shim BAR', size);
  live.push(m);
  const js = MappedRegion.mapFd('js BAR', m.fd, size, 0, { useShim: false });
  live.push({ dispose: () => js.close() });
  return { m, c: m.region, js };
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

const STATUS = 0x10;
const DATA = 0x18;
const CREDITS = 0x1ff; // PR_STS[8:0] (reference/pr.md)
const BUSY = 1n << 16n;

describe.skipIf(!shim())('shim vs JS fallback', () => {
  it('the shim is in use on one region and not on the other', () => {
    const { c, js } = pair();
    expect(c.usesShim).toBe(true);
    expect(c.shimForPolls).toBeDefined();
    expect(js.usesShim).toBe(false);
  });

  it('poll32/poll64: same value and timedOut, matching and timing out', () => {
    const { c, js } = pair();
    c.write32(0x40, 0xa5a5_0f0f);
    c.write64(0x48, 0x8000_0000_dead_beefn);
    const cases32: [number, number][] = [[0xff, 0x0f], [0xffff_0000, 0xa5a5_0000], [0x1, 0x0], [0xffff_ffff, 0xa5a5_0f0f], [-1, 0xa5a5_0f0f]];
    for (const [mask, want] of cases32) {
      expect(c.poll32(0x40, mask, want, { timeoutMs: 3, intervalUs: 0 })).toEqual(js.poll32(0x40, mask, want, { timeoutMs: 3, intervalUs: 0 }));
    }
    const cases64: [bigint, bigint][] = [[1n << 63n, 1n << 63n], [0xffffn, 0xbeefn], [0xffffn, 0n], [-1n, 0x8000_0000_dead_beefn]];
    for (const [mask, want] of cases64) {
      expect(c.poll64(0x48, mask, want, { timeoutMs: 3, intervalUs: 10 })).toEqual(js.poll64(0x48, mask, want, { timeoutMs: 3, intervalUs: 10 }));
    }
    expect(c.poll32(0x40, 1, 0, { timeoutMs: 1 }).timedOut).toBe(true);
  });

  it('writeStream64: same final memory', () => {
    const { m, c, js } = pair();
    const next = rng(7);
    const words = BigUint64Array.from({ length: 4097 }, () => (BigInt(next()) << 32n) | BigInt(next()));
    c.writeStream64(0x100, words);
    js.writeStream64(0x108, words);
    expect(m.fsRead(0x100, 8).readBigUInt64LE(0)).toBe(words[words.length - 1]);
    expect(m.fsRead(0x108, 8).equals(m.fsRead(0x100, 8))).toBe(true);
  });

  it('readBlock/writeBlock, 32 and 64 bit, random offsets, lengths and buffer alignments', () => {
    const { m, c, js } = pair();
    const next = rng(42);
    const fill = new Uint8Array(64 * 1024).map(() => next() & 0xff);
    m.fsWrite(0, fill);
    for (let i = 0; i < 200; i++) {
      const width = next() & 1 ? 64 : 32;
      const w = width / 8;
      const offset = (next() % (60 * 1024 / w)) * w;
      const length = (next() % (512 / w)) * w;
      const shift = next() % 8;
      const a = c.readBlock(offset, length, width, new Uint8Array(length + 8).subarray(shift, shift + length));
      const b = js.readBlock(offset, length, width);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(a).equals(Buffer.from(fill.subarray(offset, offset + length)))).toBe(true);
      const data = new Uint8Array(length + 8).subarray(shift, shift + length).map(() => next() & 0xff);
      c.writeBlock(offset, data, width);
      const viaC = m.fsRead(offset, length);
      m.fsWrite(offset, fill.subarray(offset, offset + length));
      js.writeBlock(offset, data, width);
      const viaJs = m.fsRead(offset, length);
      expect(viaC.equals(viaJs)).toBe(true);
      expect(viaC.equals(Buffer.from(data))).toBe(true);
      fill.set(data, offset);
    }
  });

  function both(o: Omit<CreditStreamOptions, 'dataOffset' | 'statusOffset' | 'creditMask'>, status: bigint) {
    const { m, c, js } = pair();
    const results = [];
    for (const r of [c, js]) {
      r.write64(STATUS, status);
      r.write64(DATA, 0n);
      const progress: number[] = [];
      const res = creditStream(r, { ...o, dataOffset: DATA, statusOffset: STATUS, creditMask: CREDITS, onProgress: (n) => progress.push(n) });
      results.push({ ...res, progress, data: m.fsRead(DATA, 8).readBigUInt64LE(0) });
    }
    return results;
  }

  it('credit stream, plenty of credits: every word, same progress, last word as a 64-bit store', () => {
    const words = Uint32Array.from({ length: 10_000 }, (_, i) => (0xf000_0000 | i) >>> 0);
    const [c, js] = both({ words, timeoutMs: 50, intervalUs: 1, chunkWords: 3000 }, (0xabcdn << 32n) | BUSY | 0x1ffn);
    expect(c).toEqual(js);
    expect(c!.written).toBe(10_000);
    expect(c!.timedOut).toBe(false);
    expect(c!.progress).toEqual([3000, 6000, 9000, 10_000]);
    expect(c!.data).toBe(0xf000_0000n + 9999n); // upper half zero
  });

  it('credit stream, starvation: credits stuck at 1 -> nothing written; a steady 5 -> 4 words per status read', () => {
    const words = Uint32Array.from({ length: 100 }, (_, i) => i + 1);
    const [c1, j1] = both({ words, timeoutMs: 5, intervalUs: 50 }, BUSY | 1n);
    expect(c1).toEqual(j1);
    expect(c1).toMatchObject({ written: 0, timedOut: true, lastStatus: BUSY | 1n, progress: [0] });
    const [c5, j5] = both({ words, timeoutMs: 5, intervalUs: 50 }, 5n);
    expect(c5).toEqual(j5);
    expect(c5).toMatchObject({ written: 100, timedOut: false, data: 100n, lastStatus: 5n });
    const [c0, j0] = both({ words: new Uint32Array(0), timeoutMs: 5, intervalUs: 1 }, 0x1ffn);
    expect(c0).toEqual(j0);
    expect(c0).toMatchObject({ written: 0, timedOut: false, lastStatus: 0x1ffn, progress: [] });
  });

  it('credit stream with a worker thread that refills the credit field: same outcome in C and JS', async () => {
    const { m } = pair();
    const sab = m.region.sharedBuffer!;
    const words = Uint32Array.from({ length: 20_000 }, (_, i) => i + 1);
    for (const useShim of [true, false]) {
      const r = MappedRegion.mapFd(useShim ? 'refill C' : 'refill JS', m.fd, 64 * 1024, 0, { useShim });
      live.push({ dispose: () => r.close() });
      r.write64(STATUS, 0n);
      r.write64(DATA, 0n);
      const stopBuffer = new SharedArrayBuffer(4);
      // The "FIFO": every ~20 us set the credit field to 2..33 free slots, and sample the data
      // register (it must only ever move forward).
      const worker = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
         const i32 = new Int32Array(workerData.sab);
         const S = workerData.status / 4, D = workerData.data / 4;
         let x = 12345, refills = 0, last = 0, backwards = 0;
         const stop = new Int32Array(workerData.stop);
         while (Atomics.load(stop, 0) === 0) {
           const d = Atomics.load(i32, D);
           if (d < last) backwards++;
           last = d;
           x = (x * 1103515245 + 12345) & 0x7fffffff;
           const t = process.hrtime.bigint(); while (process.hrtime.bigint() - t < 20000n) {}
           i32[S] = 2 + (x % 32);
           refills++;
         }
         const final = Atomics.load(i32, D);
         if (final < last) backwards++;
         parentPort.postMessage({ refills, backwards, last: final });`,
        { eval: true, workerData: { sab, status: STATUS, data: DATA, stop: stopBuffer } },
      );
      const report = new Promise<{ refills: number; backwards: number; last: number }>((res) => worker.once('message', res));
      await new Promise<void>((res) => worker.once('online', () => res()));
      const res = creditStream(r, { dataOffset: DATA, statusOffset: STATUS, creditMask: CREDITS, words, timeoutMs: 2000, intervalUs: 5, chunkWords: 4096 });
      Atomics.store(new Int32Array(stopBuffer), 0, 1);
      const seen = await report;
      await worker.terminate();
      expect(seen.refills).toBeGreaterThan(0);
      expect(seen.backwards).toBe(0);
      expect(seen.last).toBe(20_000);
      expect(res.written).toBe(words.length);
      expect(res.timedOut).toBe(false);
      expect(r.read64(DATA)).toBe(20_000n);
    }
  }, 60_000);
});

describe('credit stream semantics against a FIFO model (JS path on a virtual clock)', () => {
  it('never writes into a full FIFO, delivers every word in order, reports progress per chunk', async () => {
    const { VirtualClock } = await import('../../src/util/clock.js');
    const { TrappedRegion } = await import('../../src/mmio/trapped-region.js');
    const clock = new VirtualClock();
    const FIFO = 16;
    let free = FIFO;
    let overflow = 0;
    const received: number[] = [];
    let lastDrain = 0;
    const drain = (): void => {
      // The engine consumes one word per microsecond of virtual time.
      const elapsedUs = Math.floor((clock.now() - lastDrain) * 1000);
      if (elapsedUs > 0) {
        free = Math.min(FIFO, free + elapsedUs);
        lastDrain = clock.now();
      }
    };
    const region = new TrappedRegion('PR model', 0x100, {
      read32: () => 0,
      read64: (o) => (o === STATUS ? (drain(), BUSY | BigInt(free)) : 0n),
      write32: () => undefined,
      write64: (o, v) => {
        if (o !== DATA) return;
        if (free === 0) overflow++;
        else free--;
        if (v >> 32n !== 0n) throw new Error('upper half must be zero');
        received.push(Number(v));
      },
    }, { clock });
    const words = Uint32Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 0);
    const progress: number[] = [];
    const res = creditStream(region, { dataOffset: DATA, statusOffset: STATUS, creditMask: CREDITS, words, timeoutMs: 8000, intervalUs: 1, chunkWords: 2000, onProgress: (n) => progress.push(n) });
    expect(res).toMatchObject({ written: 5000, timedOut: false });
    expect(overflow).toBe(0);
    expect(received).toEqual(Array.from(words));
    expect(progress).toEqual([2000, 4000, 5000]);
    // The engine never sees the FIFO completely full-then-written: one slot always stays free (credits > 1 rule).
    expect(free).toBeGreaterThanOrEqual(0);
  });

  it('a stalled engine times out after timeoutMs of virtual time, with the last status', async () => {
    const { VirtualClock } = await import('../../src/util/clock.js');
    const { TrappedRegion } = await import('../../src/mmio/trapped-region.js');
    const clock = new VirtualClock();
    let writes = 0;
    const region = new TrappedRegion('stalled PR', 0x100, {
      read32: () => 0,
      read64: (o) => (o === STATUS ? (writes >= 10 ? 1n : 11n) : 0n),
      write32: () => undefined,
      write64: () => void writes++,
    }, { clock });
    const res = creditStream(region, { dataOffset: DATA, statusOffset: STATUS, creditMask: CREDITS, words: new Uint32Array(100), timeoutMs: 8000, intervalUs: 1000 });
    expect(res).toEqual({ written: 10, timedOut: true, lastStatus: 1n });
    expect(clock.now()).toBeGreaterThanOrEqual(8000);
  });

  it('bad options are typed errors naming the region', () => {
    const fd = memfdRegion('opts BAR', 4096);
    live.push(fd);
    const base = { dataOffset: DATA, statusOffset: STATUS, creditMask: CREDITS, words: new Uint32Array(4), timeoutMs: 10, intervalUs: 1 };
    expect(() => creditStream(fd.region, { ...base, dataOffset: 0x1c })).toThrow(/opts BAR: offset 0x1c is not 8-byte aligned/);
    expect(() => creditStream(fd.region, { ...base, statusOffset: 4096 })).toThrow(/outside the region/);
    expect(() => creditStream(fd.region, { ...base, creditMask: 0 })).toThrow(/creditMask 0 must be a non-zero 32-bit mask/);
    expect(() => creditStream(fd.region, { ...base, words: [1, 2] as unknown as Uint32Array })).toThrow(/Uint32Array/);
    expect(() => creditStream(fd.region, { ...base, chunkWords: 0 })).toThrow(/chunkWords 0/);
    expect(() => creditStream(fd.region, { ...base, timeoutMs: Number.NaN })).toThrow(/timeoutMs NaN/);
    fd.region.close();
    expect(() => creditStream(fd.region, base)).toThrow(expect.objectContaining({ code: 'EREGION_CLOSED' }) as Error);
  });
});

