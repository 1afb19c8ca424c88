// Every bad-input case, against both Region backings: the error is typed, has a stable code, and
// its message names the region, the offset or value, and the limit.
import { afterEach, describe, expect, it } from 'vitest';
import { memfdRegion, type MemfdRegion } from './helpers.js';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import type { Region } from '../../src/mmio/region.js';
import { RegionError, ArgumentError } from '../../src/errors.js';
import { MappedRegion } from '../../src/mmio/mapped-region.js';
import { SysError } from '../../src/sys/sys-error.js';
import { close, createMemfd, open, pipe, unixSocketPair } from '../../src/sys/libc.js';
import { O_RDONLY, O_RDWR } from '../../src/sys/constants.js';
import { readFileSync } from 'node:fs';

const live: MemfdRegion[] = [];
afterEach(() => {
  while (live.length) live.pop()!.dispose();
});

function trapped(): Region {
  const mem = new Map<number, bigint>();
  return new TrappedRegion('trap BAR', 4096, {
    read32: (o) => Number(mem.get(o) ?? 0n),
    read64: (o) => mem.get(o) ?? 0n,
    write32: (o, v) => void mem.set(o, BigInt(v)),
    write64: (o, v) => void mem.set(o, v),
  });
}

function mapped(): Region {
  const m = memfdRegion('mapped BAR', 4096);
  live.push(m);
  return m.region;
}

function expectRegionError(fn: () => unknown, code: string, ...parts: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(RegionError);
  const err = caught as RegionError;
  expect(err.code).toBe(code);
  for (const p of parts) expect(err.message).toMatch(p);
}

describe.each([
  ['mapped', mapped, 'mapped BAR'],
  ['trapped', trapped, 'trap BAR'],
] as const)('%s region bad input', (_kind, make, name) => {
  it('offsets outside the region name the offset and the size', () => {
    const r = make();
    expectRegionError(() => r.read32(4096), 'EREGION_BOUNDS', name, '0x1000', 'size 0x1000', '32-bit');
    expectRegionError(() => r.read64(4092), 'EREGION_ALIGN', name, '0xffc', '8-byte aligned');
    expectRegionError(() => r.read64(4096), 'EREGION_BOUNDS', name, '64-bit', 'size 0x1000');
    expectRegionError(() => r.write32(8192, 1), 'EREGION_BOUNDS', name, '0x2000');
    expectRegionError(() => r.write64(2 ** 32, 1n), 'EREGION_BOUNDS', name, '0x100000000');
    expectRegionError(() => r.read32(2 ** 53 + 8), 'EREGION_BOUNDS', name);
  });

  it('misaligned, negative, fractional, NaN and non-number offsets', () => {
    const r = make();
    expectRegionError(() => r.read32(2), 'EREGION_ALIGN', name, '0x2', '4-byte aligned');
    expectRegionError(() => r.write32(6, 1), 'EREGION_ALIGN', name, '0x6');
    expectRegionError(() => r.write64(4, 1n), 'EREGION_ALIGN', name, '0x4', '8-byte');
    expectRegionError(() => r.read32(-4), 'EREGION_OFFSET', name, '-4', 'non-negative integer');
    expectRegionError(() => r.read32(4.5), 'EREGION_OFFSET', name, '4.5');
    expectRegionError(() => r.read64(Number.NaN), 'EREGION_OFFSET', name, 'NaN');
    expectRegionError(() => r.read32('8' as unknown as number), 'EREGION_OFFSET', name);
    expectRegionError(() => r.poll32(3, 1, 1), 'EREGION_ALIGN', name);
    expectRegionError(() => r.poll64(4096, 1n, 1n), 'EREGION_BOUNDS', name);
    expectRegionError(() => r.writeStream64(12, new BigUint64Array(1)), 'EREGION_ALIGN', name);
  });

  it('32-bit values: negative, fractional, too wide, NaN, bigint', () => {
    const r = make();
    expectRegionError(() => r.write32(0, -1), 'EREGION_VALUE', name, '-1', '0xffffffff', 'at 0x0');
    expectRegionError(() => r.write32(4, 1.5), 'EREGION_VALUE', name, '1.5');
    expectRegionError(() => r.write32(4, 2 ** 32), 'EREGION_VALUE', name, '4294967296', '0xffffffff');
    expectRegionError(() => r.write32(4, Number.NaN), 'EREGION_VALUE', name, 'NaN');
    expect(r.read32(0)).toBe(0); // nothing was written
    expect(r.read32(4)).toBe(0);
  });

  it('64-bit values: negative, too wide, numbers instead of bigint', () => {
    const r = make();
    expectRegionError(() => r.write64(8, -1n), 'EREGION_VALUE', name, '-1', '2^64-1', 'at 0x8');
    expectRegionError(() => r.write64(8, 1n << 64n), 'EREGION_VALUE', name, '18446744073709551616');
    expectRegionError(() => r.write64(8, 5 as unknown as bigint), 'EREGION_VALUE', name, 'not a bigint');
    expect(r.read64(8)).toBe(0n);
  });

  it('block copies: bad width, length not a multiple of the width, past the end', () => {
    const r = make();
    expectRegionError(() => r.readBlock(0, 16, 16 as 32), 'EREGION_WIDTH', name, 'width 16');
    expectRegionError(() => r.writeBlock(0, new Uint8Array(6), 32), 'EREGION_LENGTH', name, 'length 6', 'multiple of 4');
    expectRegionError(() => r.readBlock(0, 12, 64), 'EREGION_LENGTH', name, 'multiple of 8');
    expectRegionError(() => r.readBlock(4088, 16), 'EREGION_BOUNDS', name, '16 bytes at 0xff8', 'size 0x1000');
    expectRegionError(() => r.writeBlock(4, new Uint8Array(8), 64), 'EREGION_ALIGN', name);
    expectRegionError(() => r.readBlock(-8, 8), 'EREGION_OFFSET', name);
  });

  it('readBlock into a destination that is too small is EREGION_LENGTH, not a silently short read', () => {
    const r = make();
    expectRegionError(() => r.readBlock(0, 16, 32, new Uint8Array(8)), 'EREGION_LENGTH', name, 'holds 8 bytes', '16');
    expectRegionError(() => r.readBlock(0, 16, 64, new Uint8Array(15)), 'EREGION_LENGTH', name, 'holds 15 bytes');
  });

  it('writeStream64 of anything but a BigUint64Array is an ArgumentError, and nothing is written', () => {
    const r = make();
    r.write64(0, 0x55n);
    expect(() => r.writeStream64(0, [1, 2] as unknown as BigUint64Array)).toThrow(ArgumentError);
    expect(() => r.writeStream64(0, 7 as unknown as BigUint64Array)).toThrow(/needs a BigUint64Array/);
    expect(r.read64(0)).toBe(0x55n);
  });

  it('a closed region throws EREGION_CLOSED on every access and close is idempotent', () => {
    const r = make();
    r.write32(0, 7);
    r.close();
    r.close();
    expect(r.closed).toBe(true);
    expect(r.size).toBe(0);
    expect(r.sharedBuffer).toBeUndefined();
    for (const fn of [
      () => r.read32(0), () => r.read64(0), () => r.write32(0, 1), () => r.write64(0, 1n),
      () => r.poll32(0, 1, 1), () => r.poll64(0, 1n, 1n), () => r.writeStream64(0, new BigUint64Array(1)),
      () => r.readBlock(0, 8), () => r.writeBlock(0, new Uint8Array(8)),
    ]) {
      expectRegionError(fn, 'EREGION_CLOSED', name, 'closed');
    }
  });
});

describe('mapped-only bad input', () => {
  it('poll with NaN/negative timeout or interval is an ArgumentError instead of a hang', () => {
    const r = mapped();
    expect(() => r.poll32(0, 1, 1, { timeoutMs: Number.NaN })).toThrow(ArgumentError);
    expect(() => r.poll32(0, 1, 1, { timeoutMs: -1 })).toThrow(/timeoutMs -1 must be a finite number >= 0/);
    expect(() => r.poll64(0, 1n, 1n, { intervalUs: Number.POSITIVE_INFINITY })).toThrow(/intervalUs Infinity/);
  });

  it('readBlock into a destination that is too small', () => {
    const r = mapped();
    expectRegionError(() => r.readBlock(0, 16, 32, new Uint8Array(8)), 'EREGION_LENGTH', 'mapped BAR', 'holds 8 bytes', '16');
  });

  it('a bigint for a 32-bit register is a RegionError, not a TypeError', () => {
    const r = mapped();
    expectRegionError(() => r.write32(4, 1n as unknown as number), 'EREGION_VALUE', 'mapped BAR', 'value 1');
  });

  it('writeStream64 needs a BigUint64Array', () => {
    const r = mapped();
    expect(() => r.writeStream64(0, [1n, 2n] as unknown as BigUint64Array)).toThrow(/needs a BigUint64Array/);
  });

  it('mmap of an fd that cannot be mapped (socket, pipe, /dev/null, /proc file) names the region', () => {
    const [a, b] = unixSocketPair();
    try {
      let err: unknown;
      try {
        MappedRegion.mapFd('pipe BAR', a, 4096);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SysError);
      expect((err as SysError).code).toBe('ENODEV');
      expect((err as SysError).message).toMatch(/pipe BAR: 4096 bytes at offset 0x0/);
    } finally {
      close(a);
      close(b);
    }
    const [rd, wr] = pipe();
    try {
      expect(() => MappedRegion.mapFd('fifo BAR', rd, 4096, 0, { writable: false })).toThrow(expect.objectContaining({ code: 'ENODEV' }) as Error);
    } finally {
      close(rd);
      close(wr);
    }
    const devNull = open('/dev/null', O_RDWR);
    try {
      expect(() => MappedRegion.mapFd('null BAR', devNull, 4096)).toThrow(/mmap on fd \d+ \(mapping null BAR: 4096 bytes at offset 0x0\) failed: ENODEV/);
    } finally {
      close(devNull);
    }
    const fd = open('/proc/self/status', O_RDONLY);
    try {
      expect(() => MappedRegion.mapFd('proc BAR', fd, 4096, 0, { writable: false })).toThrow(/mmap on fd \d+ \(mapping proc BAR/);
    } finally {
      close(fd);
    }
    expect(() => MappedRegion.mapFd('bad fd BAR', 999_999, 4096)).toThrow(expect.objectContaining({ code: 'EBADF' }) as Error);
    const memfd = createMemfd('rw', 4096);
    try {
      expect(() => MappedRegion.mapFd('offset BAR', memfd, 4096, 100)).toThrow(/multiple of the page size/);
      expect(() => MappedRegion.mapFd('size BAR', memfd, 0)).toThrow(/length 0 must be a positive integer/);
      // mmap succeeds, the region refuses the size: the mapping is released, not leaked.
      const mappingsOfMemfd = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('/memfd:vfiokit-odd-size ')).length;
      const odd = createMemfd('vfiokit-odd-size', 4096);
      try {
        expect(() => MappedRegion.mapFd('odd BAR', odd, 4094)).toThrow(/positive multiple of 4 bytes/);
        expect(mappingsOfMemfd()).toBe(0);
        const ok = MappedRegion.mapFd('even BAR', odd, 4096);
        expect(mappingsOfMemfd()).toBe(1);
        ok.close();
        expect(mappingsOfMemfd()).toBe(0);
      } finally {
        close(odd);
      }
    } finally {
      close(memfd);
    }
  });

  it('constructor rejects bad sizes and a too-small SharedArrayBuffer', () => {
    expect(() => new MappedRegion('x', 0x1000n, 6)).toThrow(/positive multiple of 4 bytes/);
    expect(() => new MappedRegion('x', 0x1000n, 64, { sharedBuffer: new SharedArrayBuffer(32) })).toThrow(/32 bytes, less than the region size 64/);
  });
});
