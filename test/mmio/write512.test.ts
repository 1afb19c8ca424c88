// Region.write512 (OPAE fpgaWriteMMIO512; opae-sdk libraries/plugins/vfio/opae_vfio.c
// vfio_fpgaWriteMMIO512: offset % 64 or FPGA_INVALID_PARAM, then copy512's one vmovdqu64): the
// 64 bytes land at the offset on every path (AVX-512 store in the shim, eight 64-bit stores in the
// shim, eight typed-array stores without it, eight trapped writes), neighbours untouched, and bad
// offsets or data are typed errors.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { memfdRegion, type MemfdRegion } from './helpers.js';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { shim } from '../../src/sys/shim.js';
import { VfiokitError } from '../../src/errors.js';
import type { MapFdOptions } from '../../src/mmio/mapped-region.js';

const cpuHasAvx512 = /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

const live: MemfdRegion[] = [];
function make(options: MapFdOptions = {}): MemfdRegion {
  const m = memfdRegion('w512 BAR', 4096, options);
  live.push(m);
  return m;
}
afterEach(() => {
  while (live.length) live.pop()!.dispose();
});

const words = BigUint64Array.from({ length: 8 }, (_, i) => 0x0101_0101_0101_0101n * BigInt(i + 1) + 0x8000_0000_0000_0000n);
const bytes = new Uint8Array(words.buffer.slice(0));

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VfiokitError);
    return (e as VfiokitError).code;
  }
  return undefined;
}

describe('MappedRegion.write512 on every store path', () => {
  const paths: [string, MapFdOptions, string][] = [
    ['default (AVX-512 where the CPU has it)', {}, cpuHasAvx512 ? 'avx512' : 'shim-8x64'],
    ['avx512: false (the fallback forced)', { avx512: false }, 'shim-8x64'],
    ['no shim (JS typed-array stores)', { useShim: false, shared: false }, 'js-8x64'],
  ];
  for (const [label, options, path] of paths) {
    it(`${label}: 64 bytes land at the offset, neighbours untouched`, () => {
      const m = make(options);
      expect(m.region.write512Path).toBe(shim() || path === 'js-8x64' ? path : 'js-8x64');
      m.fsWrite(0xc0, new Uint8Array(0xc0).fill(0xee));
      m.region.write512(0x100, words);
      expect(Buffer.compare(m.fsRead(0x100, 64), Buffer.from(bytes))).toBe(0);
      expect(m.fsRead(0xc0, 0x40).every((b) => b === 0xee)).toBe(true);
      expect(m.fsRead(0x140, 0x40).every((b) => b === 0xee)).toBe(true);
      // A Uint8Array at an odd byte offset of its buffer (the shim loads it unaligned).
      const odd = new Uint8Array(65).subarray(1);
      odd.set(bytes.slice().reverse());
      m.region.write512(0xfc0, odd);
      expect(Buffer.compare(m.fsRead(0xfc0, 64), Buffer.from(odd))).toBe(0);
    });
  }

  it('VFIOKIT_NO_AVX512=1 forces the eight-store fallback for regions made after it is set', () => {
    const saved = process.env.VFIOKIT_NO_AVX512;
    process.env.VFIOKIT_NO_AVX512 = '1';
    try {
      const m = make();
      expect(m.region.write512Path).toBe(shim() ? 'shim-8x64' : 'js-8x64');
      m.region.write512(0, words);
      expect(m.fsRead(0, 8).readBigUInt64LE(0)).toBe(words[0]);
    } finally {
      if (saved === undefined) delete process.env.VFIOKIT_NO_AVX512;
      else process.env.VFIOKIT_NO_AVX512 = saved;
    }
  });

  it('the shim reports which store it used: 512 with AVX-512F allowed, 64 otherwise', () => {
    const s = shim();
    if (!s) return expect(process.env.VFIOKIT_NO_SHIM).toBe('1');
    expect(s.hasAvx512()).toBe(cpuHasAvx512 ? 1 : 0);
    const m = make();
    expect(s.write512(m.region.address, 0x40, words, 1)).toBe(cpuHasAvx512 ? 512 : 64);
    expect(s.write512(m.region.address, 0x80, words, 0)).toBe(64);
    expect(Buffer.compare(m.fsRead(0x40, 64), m.fsRead(0x80, 64))).toBe(0);
  });

  it('bad offsets and data are typed errors, and nothing is written', () => {
    const m = make();
    expect(codeOf(() => m.region.write512(0x20, words))).toBe('EREGION_ALIGN');
    expect(codeOf(() => m.region.write512(0x1000, words))).toBe('EREGION_BOUNDS');
    expect(codeOf(() => m.region.write512(-64, words))).toBe('EREGION_OFFSET');
    expect(codeOf(() => m.region.write512(0, new BigUint64Array(7)))).toBe('EARG_DATA512');
    expect(codeOf(() => m.region.write512(0, new Uint8Array(63)))).toBe('EARG_DATA512');
    expect(codeOf(() => m.region.write512(0, [1, 2, 3] as unknown as Uint8Array))).toBe('EARG_DATA512');
    expect(m.fsRead(0, 4096).every((b) => b === 0)).toBe(true);
    m.region.close();
    expect(codeOf(() => m.region.write512(0, words))).toBe('EREGION_CLOSED');
  });
});

describe('TrappedRegion.write512', () => {
  it('is eight 64-bit writes in ascending address order (what a trapped device sees)', () => {
    const log: [number, bigint][] = [];
    const region = new TrappedRegion('trap BAR', 4096, {
      read32: () => 0,
      read64: () => 0n,
      write32: () => {},
      write64: (o, v) => void log.push([o, v]),
    });
    region.write512(0x200, bytes);
    expect(log).toEqual([...words].map((w, i) => [0x200 + i * 8, w]));
    expect(codeOf(() => region.write512(0x208, words))).toBe('EREGION_ALIGN');
    expect(log.length).toBe(8);
  });
});
