import { describe, expect, it } from 'vitest';
import { IovaAllocator } from '../../src/dma/iova-allocator.js';
import { DmaError, IovaExhaustedError } from '../../src/dma/errors.js';
import { ArgumentError } from '../../src/errors.js';

const MiB = 1n << 20n;

describe('IovaAllocator', () => {
  it('keeps the zero page out and allocates first fit, page aligned', () => {
    const a = new IovaAllocator([{ start: 0n, end: (1n << 32n) - 1n }]);
    expect(a.allocate(1)).toBe(0x1000n);
    expect(a.allocate(4097)).toBe(0x2000n);
    expect(a.sizeOf(0x2000n)).toBe(0x2000n);
    expect(a.allocate(4096)).toBe(0x4000n);
    expect(a.allocations).toBe(3);
  });

  it('can use IOVA 0 when asked', () => {
    const a = new IovaAllocator([{ start: 0n, end: 0xffffn }], { reserveZeroPage: false });
    expect(a.allocate(4096)).toBe(0n);
  });

  it('honours several ranges with inclusive ends and skips a hole (the x86 MSI window)', () => {
    // type1 on x86 reports [0, 0xfedfffff] and [0xfef00000, 2^48-1] around the MSI doorbells.
    const a = new IovaAllocator([
      { start: 0xfef00000n, end: (1n << 48n) - 1n },
      { start: 0n, end: 0xfedfffffn },
    ]);
    expect(a.ranges).toEqual([
      { start: 0x1000n, end: 0xfedfffffn },
      { start: 0xfef00000n, end: (1n << 48n) - 1n },
    ]);
    const big = a.allocate(0xfed00000n);
    expect(big).toBe(0x1000n);
    // The rest of the low range is too small for 2 MiB; the next fit is above the hole.
    expect(a.allocate(2n * MiB)).toBe(0xfef00000n);
  });

  it('shrinks ranges to whole pages and merges overlapping ones', () => {
    const a = new IovaAllocator([{ start: 0x1800n, end: 0x5fffn }, { start: 0x5000n, end: 0x80ffn }], { reserveZeroPage: false });
    expect(a.ranges).toEqual([{ start: 0x2000n, end: 0x7fffn }]);
  });

  it('aligns to the requested power of two and respects the limit', () => {
    const a = new IovaAllocator([{ start: 0n, end: (1n << 40n) - 1n }]);
    expect(a.allocate(4096, { alignment: 2n * MiB })).toBe(2n * MiB);
    expect(a.allocate(4096)).toBe(0x1000n);
    expect(a.allocate(1n << 30n, { alignment: 1n << 30n })).toBe(1n << 30n);
    expect(() => a.allocate(1n << 30n, { limit: (1n << 30n) - 1n })).toThrow(IovaExhaustedError);
    const low = a.allocate(8192, { limit: 0xffffn });
    expect(low + 8191n).toBeLessThanOrEqual(0xffffn);
  });

  it('coalesces freed blocks back into one', () => {
    const a = new IovaAllocator([{ start: 0n, end: 0xfffffn }]);
    const before = a.freeBlocks;
    const xs = [a.allocate(4096), a.allocate(8192), a.allocate(4096), a.allocate(16384)];
    a.free(xs[1]!);
    a.free(xs[3]!);
    expect(a.freeBlocks.length).toBe(2); // xs[3] merged into the tail
    a.free(xs[2]!); // joins xs[1] and the tail
    expect(a.freeBlocks.length).toBe(1);
    a.free(xs[0]!);
    expect(a.freeBlocks).toEqual(before);
    expect(a.allocations).toBe(0);
  });

  it('reuses a freed block first (first fit)', () => {
    const a = new IovaAllocator([{ start: 0n, end: 0xfffffn }]);
    const x = a.allocate(8192);
    a.allocate(4096);
    a.free(x);
    expect(a.allocate(4096)).toBe(x);
  });

  it('enforces the mapping budget with a typed error', () => {
    const a = new IovaAllocator([{ start: 0n, end: 0xfffffn }], { mappingBudget: 2 });
    const x = a.allocate(4096);
    a.allocate(4096);
    const err = (() => { try { a.allocate(4096); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(IovaExhaustedError);
    expect((err as IovaExhaustedError).code).toBe('EDMA_MAPPINGS');
    expect((err as Error).message).toMatch(/budget/);
    a.free(x);
    expect(a.allocate(4096)).toBe(x);
  });

  it('reports exhaustion with the free space it has', () => {
    const a = new IovaAllocator([{ start: 0n, end: 0x3fffn }]);
    a.allocate(0x2000);
    try {
      a.allocate(0x2000);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(IovaExhaustedError);
      expect((e as IovaExhaustedError).code).toBe('EDMA_IOVA_SPACE');
      expect((e as Error).message).toContain('free 0x1000 bytes');
    }
  });

  it('reserves fixed placements and refuses overlaps or outside addresses', () => {
    const a = new IovaAllocator([{ start: 0n, end: 0xfffffn }]);
    expect(a.reserve(0x10000n, 0x3000)).toBe(0x10000n);
    expect(() => a.reserve(0x12000n, 0x1000)).toThrow(/overlaps/);
    expect(() => a.reserve(0x200000n, 0x1000)).toThrow(/outside the usable IOVA ranges/);
    expect(() => a.reserve(0x20001n, 0x1000)).toThrow(ArgumentError);
    expect(() => a.reserve(0n, 0x1000)).toThrow(/outside/); // zero page reserved
    a.free(0x10000n);
    expect(a.freeBlocks).toEqual([{ start: 0x1000n, end: 0xfffffn }]);
  });

  it('rejects double free and addresses inside a buffer', () => {
    const a = new IovaAllocator([{ start: 0n, end: 0xfffffn }]);
    const x = a.allocate(8192);
    expect(() => a.free(x + 0x1000n)).toThrow(DmaError);
    a.free(x);
    expect(() => a.free(x)).toThrow(/not the start of a live allocation/);
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => new IovaAllocator([{ start: 0n, end: 10n }], { pageSize: 3000 })).toThrow(ArgumentError);
    expect(() => new IovaAllocator([{ start: 10n, end: 0n }])).toThrow(/invalid/);
    const a = new IovaAllocator([{ start: 0n, end: 0xfffffn }]);
    expect(() => a.allocate(0)).toThrow(ArgumentError);
    expect(() => a.allocate(1.5)).toThrow(ArgumentError);
    expect(() => a.allocate(4096, { alignment: 3000 })).toThrow(/power of two/);
    // Addresses and alignments of the wrong JS type: typed errors, not TypeError/RangeError/SyntaxError.
    expect(() => a.allocate(4096, { alignment: 1.5 })).toThrow(/alignment 1.5 must be a power of two/);
    expect(() => a.allocate(4096, { alignment: 'x' as unknown as number })).toThrow(ArgumentError);
    expect(() => a.allocate(4096, { limit: 0x8000 as unknown as bigint })).toThrow(/IOVA limit 32768 \(number\) is not a bigint.*0x100000n/);
    expect(() => a.reserve(0x1000 as unknown as bigint, 4096)).toThrow(ArgumentError);
    expect(() => a.reserve(-0x1000n, 4096)).toThrow(/IOVA iova -0x1000 is not a bigint in 0..2\^64-1/);
    expect(() => a.free(0x1000 as unknown as bigint)).toThrow(ArgumentError);
    expect(a.allocations).toBe(0);
    expect(a.freeBytes).toBe(0xff000n);
  });

  it('an empty range list allocates nothing', () => {
    const a = new IovaAllocator([]);
    expect(() => a.allocate(4096)).toThrow(IovaExhaustedError);
  });

  it('matches a page bitmap model under random allocate/free (no overlap, all freed space coalesces)', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pages = 512;
    const a = new IovaAllocator([{ start: 0n, end: BigInt(pages * 4096 - 1) }, { start: BigInt(600 * 4096), end: BigInt(700 * 4096 - 1) }]);
    const owned = new Map<bigint, number>();
    const bitmap = new Uint8Array(700);
    for (let step = 0; step < 4000; step++) {
      if (owned.size > 0 && rnd(3) === 0) {
        const keys = [...owned.keys()];
        const k = keys[rnd(keys.length)]!;
        const n = owned.get(k)!;
        a.free(k);
        owned.delete(k);
        for (let p = 0; p < n; p++) bitmap[Number(k / 4096n) + p] = 0;
      } else {
        const n = 1 + rnd(16);
        const align = 1 << rnd(4);
        try {
          const iova = a.allocate(n * 4096, { alignment: align * 4096 });
          const first = Number(iova / 4096n);
          expect(first % align).toBe(0);
          for (let p = 0; p < n; p++) {
            expect(bitmap[first + p]).toBe(0);
            expect(first + p === 0 || (first + p >= pages && first + p < 600)).toBe(false);
            bitmap[first + p] = 1;
          }
          owned.set(iova, n);
        } catch (e) {
          expect(e).toBeInstanceOf(IovaExhaustedError);
        }
      }
    }
    for (const k of owned.keys()) a.free(k);
    expect(a.freeBlocks).toEqual(a.ranges);
  });
});
