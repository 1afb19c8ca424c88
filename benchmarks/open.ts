// Open a simulated card and walk its feature lists: microseconds per open+walk+close, per walk
// alone, and per Card.discover (walk + card model), for each sim variant side by side. Repetitions
// are interleaved across variants and operations (after a warm-up of all of them), so JIT
// warm-up and machine noise do not favour whichever runs first.
// The sim's BAR accesses are trapped calls: this measures the walker and the device model, not
// MMIO latency (see the mmio benchmark for that).
import { createSimCard, type SimDevice } from '../src/sim/sim-device.js';
import { backend } from '../src/sim/backend.js';
import { walkDfl } from '../src/dfl/walk.js';
import { Card } from '../src/afu/card.js';
import { SIM_VARIANTS, type SimVariant } from '../src/sim/identity.js';
import { median, type BenchReport, type BenchRow } from './lib.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full GC before each sample, so one operation's garbage is not collected on another's clock.
setFlagsFromString('--expose_gc');
const collect = runInNewContext('gc') as () => void;

interface Op {
  op: string;
  iterations: number;
  fn: (variant: SimVariant, dev: SimDevice) => void;
}

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  const quick = args.includes('--quick');
  const reps = quick ? 3 : 9;
  const openIterations = quick ? 30 : 200;
  const walkIterations = openIterations * 5;
  const ops: Op[] = [
    { op: 'open+walk', iterations: openIterations, fn: (v) => { const d = createSimCard(v); walkDfl(d); d.close(); } },
    { op: 'open-bare', iterations: openIterations, fn: (v) => { const d = createSimCard(v, { noDefaultModels: true }); walkDfl(d); d.close(); } },
    { op: 'backend', iterations: openIterations, fn: (v) => { const d = backend.open(`sim:${v}`) as SimDevice; walkDfl(d); d.close(); } },
    { op: 'walk', iterations: walkIterations, fn: (_v, dev) => void walkDfl(dev) },
    { op: 'discover', iterations: walkIterations, fn: (_v, dev) => void Card.discover(dev) },
  ];
  const devices = new Map(SIM_VARIANTS.map((v) => [v, createSimCard(v)]));
  const samples = new Map<string, number[]>();
  const sample = (variant: SimVariant, op: Op, n: number): number => {
    const dev = devices.get(variant)!;
    collect();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) op.fn(variant, dev);
    return Number(process.hrtime.bigint() - t0) / n;
  };
  for (const v of SIM_VARIANTS) for (const op of ops) sample(v, op, Math.ceil(op.iterations / 4));
  for (let r = 0; r < reps; r++) {
    for (const v of SIM_VARIANTS) {
      for (const op of ops) {
        const key = `${v}/${op.op}`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key)!.push(sample(v, op, op.iterations));
      }
    }
  }
  const rows: BenchRow[] = [];
  for (const v of SIM_VARIANTS) {
    const features = walkDfl(devices.get(v)!).count;
    for (const op of ops) rows.push({ path: v, op: op.op, usPerOp: median(samples.get(`${v}/${op.op}`)!) / 1000, features });
  }
  for (const d of devices.values()) d.close();
  return {
    benchmark: 'open',
    baseline: 'n3000',
    rows,
    notes: [
      'open+walk: createSimCard + walkDfl + close, with the default PR/BMC feature models; open-bare: without them',
      'backend: open+walk through the sim backend (URL parsing, default models)',
      'walk: walkDfl on an open card; discover: Card.discover (walk + FME/Port/AFU model)',
      'a full GC runs before each sample; the time includes the GC work the operation itself causes',
      `median of ${reps} interleaved repetitions of ${openIterations} opens / ${walkIterations} walks`,
    ],
  };
}
