// MMIO access paths side by side, in one run, against a memory-backed stand-in for a BAR (a
// MAP_SHARED mapping of a /dev/shm file), as in reference/js-mmio.md. Software overhead only: a
// real MMIO read costs ~0.5-1 us on the bus.
//
// read32/write32/read64/write64, ns per access, through:
//   region       MappedRegion.read32 ... (checked; Atomics.load reads, plain stores)  } measured by
//   c-loop       a volatile loop in the C shim (one call for all accesses)           } src/bench/mmio.ts,
//   ffi-call     one koffi call into the shim per access                             } as vfiokit bench mmio
//   typed-array  a bare Int32Array/BigUint64Array element (no checks; plain load/store)
//   python       python3 mmap + struct on the same file (what opae.io does), timed by itself
// stream64 (1 MiB of 64-bit words into one offset), ns per word, through:
//   region-shim  MappedRegion.writeStream64 with the shim
//   region-js    MappedRegion.writeStream64 with the JS loop
//   c-loop       the shim's stream function called directly
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { MappedRegion } from '../src/mmio/mapped-region.js';
import { ftruncate, viewOf } from '../src/sys/libc.js';
import { shim } from '../src/sys/shim.js';
import { benchMmio } from '../src/bench/mmio.js';
import type { BenchReport, BenchRow } from './lib.js';
import { median } from './lib.js';

const SIZE = 2 * 1024 * 1024;
const OFF = 0x40;
const STREAM_WORDS = (1024 * 1024) / 8;
const V64A = 0x0123_4567_89ab_cdefn;
const V64B = 0xfedc_ba98_7654_3210n;

const PYTHON = `
import mmap, struct, sys, time, json
path, off, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
f = open(path, 'r+b')
m = mmap.mmap(f.fileno(), 0)
def r32():
    for _ in range(n): struct.unpack_from('<I', m, off)[0]
def w32():
    for i in range(n): struct.pack_into('<I', m, off, i & 0xffffffff)
def r64():
    for _ in range(n): struct.unpack_from('<Q', m, off)[0]
def w64():
    for i in range(n): struct.pack_into('<Q', m, off, i)
out = {}
for name, fn in (('read32', r32), ('write32', w32), ('read64', r64), ('write64', w64)):
    fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter_ns(); fn(); samples.append((time.perf_counter_ns() - t0) / n)
    samples.sort()
    out[name] = samples[len(samples) // 2]
print(json.dumps(out))
`;

function runPython(path: string, reps: number): Record<string, number> | string {
  const r = spawnSync('python3', ['-c', PYTHON, path, String(OFF), '200000', String(reps)], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return `python3 not available (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) return `python3 failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`;
  return JSON.parse(r.stdout) as Record<string, number>;
}

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  const reps = Number(args.find((a) => a.startsWith('--reps='))?.slice(7) ?? 7);
  const n = Number(args.find((a) => a.startsWith('--n='))?.slice(4) ?? 2_000_000);
  const path = `/dev/shm/vfiokit-bench-mmio-${process.pid}`;
  const fd = openSync(path, 'w+');
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  try {
    ftruncate(fd, SIZE);
    const s = shim();
    const region = MappedRegion.mapFd('bench BAR', fd, SIZE, 0);
    const regionJs = MappedRegion.mapFd('bench BAR (JS loops)', fd, SIZE, 0, { useShim: false });
    // Bare, unchecked views of the same memory for the typed-array path.
    const buffer: ArrayBufferLike = region.sharedBuffer ?? viewOf(region.address, SIZE);
    const u32 = new Uint32Array(buffer);
    const u64 = new BigUint64Array(buffer);
    const i32 = OFF >>> 2;
    const i64 = OFF >>> 3;
    const addr = region.address;
    let sink = 0;
    let sinkBig = 0n;

    const skip = (path: string, op: string, why: string): void => {
      rows.push({ path, op, skipped: why });
    };

    // Every case runs once per repetition, round robin, so a load spike on this shared machine
    // hits all paths alike; each row is the median of its repetitions. Loops take the region as a
    // parameter (what driver code does: this.bar.write32(...)).
    interface Case { path: string; op: string; iterations: number; fn: (k: number) => void }
    const cases: Case[] = [];
    const c = (path: string, op: string, iterations: number, fn: (k: number) => void): void => {
      cases.push({ path, op, iterations, fn });
    };
    c('typed-array', 'read32', n, (k) => { let x = 0; for (let i = 0; i < k; i++) x ^= u32[i32]!; sink ^= x; });
    c('typed-array', 'write32', n, (k) => { for (let i = 0; i < k; i++) u32[i32] = i; });
    c('typed-array', 'read64', n, (k) => { let hits = 0; for (let i = 0; i < k; i++) if (u64[i64] === V64A) hits++; sink ^= hits; });
    c('typed-array', 'write64', n, (k) => { for (let i = 0; i < k; i++) u64[i64] = (i & 1) === 0 ? V64A : V64B; });

    region.write64(OFF, V64A);
    for (const cs of cases) for (let w = 0; w < 3; w++) cs.fn(Math.min(cs.iterations, 200_000));
    const samples = cases.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      cases.forEach((cs, i) => {
        const t0 = process.hrtime.bigint();
        cs.fn(cs.iterations);
        samples[i]!.push(Number(process.hrtime.bigint() - t0) / cs.iterations);
      });
    }
    // region, c-loop and ffi-call: the measuring core `vfiokit bench mmio` uses (src/bench/mmio.ts);
    // nsPerOp is its p50 per access.
    const core = benchMmio(region, { offset: OFF, writes: true, durationMs: Math.max(50, reps * 30) });
    for (const op of ['read32', 'write32', 'read64', 'write64']) {
      for (const path of ['region', 'typed-array', 'c-loop', 'ffi-call']) {
        const i = cases.findIndex((cs) => cs.op === op && cs.path === path);
        const measured = core.find((r) => r.op === op && r.path === path);
        if (i >= 0) rows.push({ path, op, nsPerOp: Number(median(samples[i]!).toFixed(3)) });
        else if (measured?.latency) rows.push({ path, op, nsPerOp: Number(measured.latency.p50.toFixed(3)), p99: Number(measured.latency.p99.toFixed(3)) });
        else skip(path, op, measured?.skipped ?? 'C shim not built');
      }
    }
    if (!s) notes.push('C shim not built (or VFIOKIT_NO_SHIM=1): c-loop, ffi-call and region-shim rows skipped; build it with node scripts/build-shim.mjs');

    // python (its own timing, same file, same offset)
    const py = runPython(path, Math.min(reps, 5));
    for (const op of ['read32', 'write32', 'read64', 'write64']) {
      if (typeof py === 'string') skip('python', op, py);
      else rows.push({ path: 'python', op, nsPerOp: Number(py[op]!.toFixed(3)) });
    }
    if (typeof py === 'string') notes.push(`python rows skipped: ${py}`);

    // stream64: 1 MiB of 64-bit words into one offset
    const words = new BigUint64Array(STREAM_WORDS);
    for (let i = 0; i < words.length; i++) words[i] = BigInt(i) * 0x9e37_79b9_7f4a_7c15n & 0xffff_ffff_ffff_ffffn;
    const streamCases: { path: string; fn: () => void }[] = [];
    if (s) streamCases.push({ path: 'region-shim', fn: () => region.writeStream64(OFF, words) });
    streamCases.push({ path: 'region-js', fn: () => regionJs.writeStream64(OFF, words) });
    if (s) streamCases.push({ path: 'c-loop', fn: () => s.stream64(addr, OFF, words, STREAM_WORDS) });
    for (const cs of streamCases) cs.fn();
    const streamSamples = streamCases.map(() => [] as number[]);
    for (let r = 0; r < Math.max(reps, 9); r++) {
      streamCases.forEach((cs, i) => {
        const t0 = process.hrtime.bigint();
        cs.fn();
        streamSamples[i]!.push(Number(process.hrtime.bigint() - t0) / STREAM_WORDS);
      });
    }
    for (const path of ['region-shim', 'region-js', 'c-loop']) {
      const i = streamCases.findIndex((cs) => cs.path === path);
      if (i >= 0) rows.push({ path, op: 'stream64', nsPerOp: Number(median(streamSamples[i]!).toFixed(3)) });
      else skip(path, 'stream64', 'C shim not built');
    }

    notes.push(...targets(rows));
    if (sink === 0x7fff_ffff && sinkBig === 1n) notes.push('(sink)');
    region.close();
    regionJs.close();
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return { benchmark: 'mmio', rows, baseline: 'c-loop', notes };
}

/** The issue's targets, checked on this run's medians. */
function targets(rows: BenchRow[]): string[] {
  const get = (path: string, op: string): number | undefined => rows.find((r) => r.path === path && r.op === op)?.nsPerOp;
  const out: string[] = [];
  const check = (label: string, ok: boolean | undefined, detail: string): void => {
    out.push(`target ${ok === undefined ? 'n/a ' : ok ? 'met ' : 'MISSED '} ${label}: ${detail}`);
  };
  const ratio = (a?: number, b?: number): number | undefined => (a !== undefined && b !== undefined && a > 0 ? b / a : undefined);
  const r32 = get('region', 'read32');
  const f = ratio(r32, get('ffi-call', 'read32'));
  check('region read32 >= 3x faster than ffi-call', f === undefined ? undefined : f >= 3, f === undefined ? 'no ffi-call row' : `${f.toFixed(1)}x`);
  const p = ratio(r32, get('python', 'read32'));
  check('region read32 >= 8x faster than python', p === undefined ? undefined : p >= 8, p === undefined ? 'no python row' : `${p.toFixed(1)}x`);
  const w = ratio(get('c-loop', 'write32'), get('region', 'write32'));
  check('region write32 within 3x of c-loop', w === undefined ? undefined : w <= 3, w === undefined ? 'no c-loop row' : `${w.toFixed(2)}x`);
  const sc = ratio(get('c-loop', 'stream64'), get('region-shim', 'stream64'));
  check('region-shim stream64 within 1.5x of c-loop', sc === undefined ? undefined : sc <= 1.5, sc === undefined ? 'no shim rows' : `${sc.toFixed(2)}x`);
  const sj = ratio(get('region-shim', 'stream64'), get('region-js', 'stream64'));
  check('region-shim stream64 >= 3x faster than region-js', sj === undefined ? undefined : sj >= 3, sj === undefined ? 'no shim rows' : `${sj.toFixed(1)}x`);
  return out;
}
