// Fuzz the parsers of kernel-filled VFIO info buffers (region info with SPARSE_MMAP / TYPE /
// MSIX_MAPPABLE capability chains, type1 IOMMU info with IOVA_RANGE / DMA_AVAIL): mutated valid
// buffers and random bytes. Invariants: never an untyped exception; mmap areas inside the
// region; IOVA ranges well-formed; bounded time.
import { parseRegionInfo, parseType1Info } from '../../src/vfio/info-parse.js';
import { putLe32, putLe64 } from '../../src/util/bytes.js';
import { FuzzFinding, mutate, newStats, Rng, runCase, type FuzzStats, type FuzzTarget } from './lib.js';

function regionSeed(rng: Rng): Uint8Array {
  const n = rng.int(4);
  const b = new Uint8Array(32 + 16 + 16 * n + 16 + 8);
  putLe32(b, 0, b.length);
  putLe32(b, 4, 0xf); // READ WRITE MMAP CAPS
  putLe32(b, 8, rng.int(9));
  putLe32(b, 12, 32);
  putLe64(b, 16, 0x100000n);
  putLe64(b, 24, BigInt(rng.int(9)) << 40n);
  putLe32(b, 32, 1 | (1 << 16));
  putLe32(b, 36, 48 + 16 * n);
  putLe32(b, 40, n);
  for (let i = 0; i < n; i++) {
    putLe64(b, 48 + 16 * i, BigInt(i) * 0x4000n);
    putLe64(b, 56 + 16 * i, 0x2000n);
  }
  const t = 48 + 16 * n;
  putLe32(b, t, 2 | (1 << 16));
  putLe32(b, t + 4, t + 16);
  putLe32(b, t + 8, 0x8086);
  putLe32(b, t + 12, 1);
  putLe32(b, t + 16, 3 | (1 << 16));
  return b;
}

function type1Seed(rng: Rng): Uint8Array {
  const n = 1 + rng.int(3);
  const b = new Uint8Array(24 + 16 + 16 * n + 12);
  putLe32(b, 0, b.length);
  putLe32(b, 4, 3);
  putLe64(b, 8, 0x40201000n);
  putLe32(b, 16, 24);
  putLe32(b, 24, 1 | (1 << 16));
  putLe32(b, 28, 40 + 16 * n);
  putLe32(b, 32, n);
  for (let i = 0; i < n; i++) {
    putLe64(b, 40 + 16 * i, BigInt(i) << 32n);
    putLe64(b, 48 + 16 * i, (BigInt(i) << 32n) + 0xfedfffffn);
  }
  putLe32(b, 40 + 16 * n, 3 | (1 << 16));
  putLe32(b, 48 + 16 * n, 65535);
  return b;
}

function check(input: Uint8Array): void {
  if (input.length >= 32) {
    const r = parseRegionInfo(input, 0);
    for (const a of r.mmapAreas ?? []) {
      if (a.offset < 0 || a.size <= 0 || a.offset + a.size > r.size) throw new FuzzFinding(`area ${JSON.stringify(a)} outside region of ${r.size}`);
    }
  }
  if (input.length >= 24) {
    const t = parseType1Info(input);
    if (t.iovaRanges.some((x) => x.end < x.start)) throw new FuzzFinding('inverted IOVA range');
    if (t.iovaPgsizes === 0n) throw new FuzzFinding('zero page-size bitmap');
  }
}

export function fuzzVfioInfo(cases: number, seed: number): FuzzStats {
  const rng = new Rng(seed);
  const stats = newStats('vfio-info');
  const t0 = performance.now();
  for (let i = 0; i < cases; i++) {
    const kind = rng.int(3);
    const input = kind === 0 ? mutate(rng, regionSeed(rng)) : kind === 1 ? mutate(rng, type1Seed(rng)) : rng.bytes(rng.int(160));
    runCase(stats, input, () => check(input), 500);
  }
  stats.ms = performance.now() - t0;
  return stats;
}

export const target: FuzzTarget = {
  name: 'vfio-info',
  fuzz: ({ cases, seed }) => fuzzVfioInfo(cases, seed),
};
