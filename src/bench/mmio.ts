// MMIO latency and throughput on any Region (a vfio BAR, a vfio-user region, the sim's registers),
// through three paths side by side in one run:
//   region    the Region API (region.read32 ...): what driver code calls
//   c-loop    a loop in the C shim over the mapping (one call for a batch of accesses)
//   ffi-call  one koffi call into the shim per access
// c-loop and ffi-call need a mapping (a MappedRegion with the shim built); on a trapped region
// (callbacks: the sim model, vfio-user messages) they are reported as skipped with the reason.
// Each sample times a batch of accesses sized so the batch lasts >= 1 us (timer cost << batch);
// latencies are per access (batch time / batch size), percentiles over the samples.
// Writes store the value read from the register first, so a benchmark leaves it as it was.
import type { Region } from '../mmio/region.js';
import { MappedRegion } from '../mmio/mapped-region.js';
import { shim } from '../sys/shim.js';
import { ArgumentError } from '../errors.js';

export type MmioOp = 'read32' | 'read64' | 'write32' | 'write64';
export type MmioPath = 'region' | 'c-loop' | 'ffi-call';
export const MMIO_PATHS: readonly MmioPath[] = ['region', 'c-loop', 'ffi-call'];

export interface LatencyStats {
  /** Per-access nanoseconds. */
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  min: number;
  max: number;
  samples: number;
  /** Accesses per sample. */
  batch: number;
  /** log2 buckets: count of samples with per-access ns in [lowNs, 2*lowNs). */
  histogram: { lowNs: number; count: number }[];
}

export interface MmioBenchRow {
  path: MmioPath;
  op: MmioOp;
  latency?: LatencyStats;
  /** Accesses per second over the whole measurement (wall time). */
  opsPerSec?: number;
  bytesPerSec?: number;
  skipped?: string;
}

export interface MmioBenchOptions {
  /** Byte offset in the region (default 0); aligned to 8 for 64-bit ops. */
  offset?: number;
  /** Also measure writes (default false: a read-only benchmark is safe on any register). */
  writes?: boolean;
  /** Wall time per (path, op) in ms (default 200). */
  durationMs?: number;
  /** Paths to run (default all). */
  paths?: readonly MmioPath[];
}

const percentile = (sorted: Float64Array, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export function latencyStats(perAccessNs: Float64Array, batch: number): LatencyStats {
  const s = Float64Array.from(perAccessNs).sort();
  const buckets = new Map<number, number>();
  let sum = 0;
  for (const v of s) {
    sum += v;
    const low = v < 1 ? 0 : 2 ** Math.floor(Math.log2(v));
    buckets.set(low, (buckets.get(low) ?? 0) + 1);
  }
  return {
    p50: percentile(s, 0.5), p99: percentile(s, 0.99), p999: percentile(s, 0.999), mean: sum / s.length, min: s[0]!, max: s[s.length - 1]!,
    samples: s.length, batch, histogram: [...buckets].sort((a, b) => a[0] - b[0]).map(([lowNs, count]) => ({ lowNs, count })),
  };
}

/** Time `run(batch)` repeatedly for `durationMs`, with a batch lasting >= 1 us. */
function measure(run: (k: number) => void, durationMs: number): { stats: LatencyStats; opsPerSec: number } {
  for (let w = 0; w < 3; w++) run(256); // warm up (JIT, first touch)
  // The smallest power-of-two batch whose fastest of 5 runs lasts >= 1 us.
  let batch = 1;
  for (;;) {
    let fastest = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      run(batch);
      fastest = Math.min(fastest, Number(process.hrtime.bigint() - t0));
    }
    if (fastest >= 1000 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const out: number[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(durationMs * 1e6));
  let accesses = 0;
  let now = start;
  while (now < end && out.length < 1_000_000) {
    const t0 = process.hrtime.bigint();
    run(batch);
    now = process.hrtime.bigint();
    out.push(Number(now - t0) / batch);
    accesses += batch;
  }
  return { stats: latencyStats(Float64Array.from(out), batch), opsPerSec: accesses / (Number(now - start) / 1e9) };
}

/** Measure the MMIO paths on `region` at `options.offset`. */
export function benchMmio(region: Region, options: MmioBenchOptions = {}): MmioBenchRow[] {
  const offset = options.offset ?? 0;
  const durationMs = options.durationMs ?? 200;
  if (!Number.isInteger(offset) || offset < 0 || offset + 8 > region.size || offset % 8) {
    throw new ArgumentError('EBENCH_OFFSET', `${region.name}: offset 0x${offset.toString(16)} must be 8-byte aligned and inside the region (0x${region.size.toString(16)} bytes)`, { offset, size: region.size });
  }
  const s = shim();
  const mapped = region instanceof MappedRegion ? region : undefined;
  const noMapping = !mapped
    ? `${region.name} is ${region.kind === 'trapped' ? 'trapped (each access is a callback: a device model or a vfio-user message)' : 'not a single mapping'}; the shim paths need a mapped BAR`
    : !s ? 'the C shim is not built (or VFIOKIT_NO_SHIM=1); build it with node scripts/build-shim.mjs' : undefined;
  const ops: MmioOp[] = options.writes ? ['read32', 'read64', 'write32', 'write64'] : ['read32', 'read64'];
  const v32 = region.read32(offset);
  const v64 = region.read64(offset);
  let sink = 0;
  const loops: Record<MmioPath, Partial<Record<MmioOp, (k: number) => void>>> = {
    region: {
      read32: (k) => { let x = 0; for (let i = 0; i < k; i++) x ^= region.read32(offset); sink ^= x; },
      read64: (k) => { let h = 0; for (let i = 0; i < k; i++) if (region.read64(offset) === v64) h++; sink ^= h; },
      write32: (k) => { for (let i = 0; i < k; i++) region.write32(offset, v32); },
      write64: (k) => { for (let i = 0; i < k; i++) region.write64(offset, v64); },
    },
    'c-loop': {},
    'ffi-call': {},
  };
  if (mapped && s) {
    const a = mapped.address;
    loops['c-loop'] = {
      read32: (k) => { sink ^= Number(s.benchRead32(a, offset, k)) & 1; },
      read64: (k) => { sink ^= Number(s.benchRead64(a, offset, k)) & 1; },
      // The shim's write loops store the loop index: only on a register the caller let us write.
      write32: (k) => { s.benchWrite32(a, offset, k); },
      write64: (k) => { s.benchWrite64(a, offset, k); },
    };
    loops['ffi-call'] = {
      read32: (k) => { let x = 0; for (let i = 0; i < k; i++) x ^= s.read32(a, offset); sink ^= x; },
      read64: (k) => { let h = 0; for (let i = 0; i < k; i++) if (s.read64(a, offset) === v64) h++; sink ^= h; },
      write32: (k) => { for (let i = 0; i < k; i++) s.write32(a, offset, v32); },
      write64: (k) => { for (let i = 0; i < k; i++) s.write64(a, offset, v64); },
    };
  }
  const rows: MmioBenchRow[] = [];
  for (const op of ops) {
    for (const path of options.paths ?? MMIO_PATHS) {
      const loop = loops[path][op];
      if (!loop) {
        rows.push({ path, op, skipped: noMapping ?? 'not measured' });
        continue;
      }
      const { stats, opsPerSec } = measure(loop, durationMs);
      rows.push({ path, op, latency: stats, opsPerSec, bytesPerSec: opsPerSec * (op.endsWith('64') ? 8 : 4) });
    }
  }
  // Leave the register as found (the shim's write loops stored other values).
  if (options.writes) region.write64(offset, v64);
  if (sink === 0x7fffffff) rows.push({ path: 'region', op: 'read32', skipped: 'sink' });
  return rows;
}
