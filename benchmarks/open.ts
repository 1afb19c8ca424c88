// Open a simulated card and walk its feature lists: microseconds per open+walk+close, per walk
// alone, and per Card.discover (walk + card model), for each sim variant side by side.
// The sim's BAR accesses are trapped calls, so this measures the walker and the device model,
// not MMIO latency (see the mmio benchmark for that).
import { createSimCard } from '../src/sim/sim-device.js';
import { backend } from '../src/sim/backend.js';
import { walkDfl } from '../src/dfl/walk.js';
import { Card } from '../src/afu/card.js';
import { SIM_VARIANTS } from '../src/sim/identity.js';
import { measureNs, type BenchReport, type BenchRow } from './lib.js';

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  const quick = args.includes('--quick');
  const iterations = quick ? 50 : 400;
  const rows: BenchRow[] = [];
  for (const variant of SIM_VARIANTS) {
    const openWalk = measureNs((n) => {
      for (let i = 0; i < n; i++) {
        const dev = createSimCard(variant);
        walkDfl(dev);
        dev.close();
      }
    }, iterations);
    const bareOpenWalk = measureNs((n) => {
      for (let i = 0; i < n; i++) {
        const dev = createSimCard(variant, { noDefaultModels: true });
        walkDfl(dev);
        dev.close();
      }
    }, iterations);
    const backendOpenWalk = measureNs((n) => {
      for (let i = 0; i < n; i++) {
        const dev = backend.open(`sim:${variant}`) as ReturnType<typeof createSimCard>;
        walkDfl(dev);
        dev.close();
      }
    }, iterations);
    const dev = createSimCard(variant);
    const features = walkDfl(dev).count;
    const walk = measureNs((n) => {
      for (let i = 0; i < n; i++) walkDfl(dev);
    }, iterations * 5);
    const discover = measureNs((n) => {
      for (let i = 0; i < n; i++) Card.discover(dev);
    }, iterations * 5);
    dev.close();
    rows.push({ path: variant, op: 'open+walk', usPerOp: openWalk / 1000, features });
    rows.push({ path: variant, op: 'open-bare', usPerOp: bareOpenWalk / 1000, features });
    rows.push({ path: variant, op: 'backend', usPerOp: backendOpenWalk / 1000, features });
    rows.push({ path: variant, op: 'walk', usPerOp: walk / 1000, features });
    rows.push({ path: variant, op: 'discover', usPerOp: discover / 1000, features });
  }
  return {
    benchmark: 'open',
    baseline: 'n3000',
    rows,
    notes: [
      'open+walk: createSimCard + walkDfl + close (with the default PR/BMC feature models); open-bare: without them',
      'backend: open+walk through the sim backend (URL parsing)',
      'walk: walkDfl on an open card; discover: Card.discover (walk + FME/Port/AFU model)',
      `medians of 7 repetitions of ${iterations} (open) / ${iterations * 5} (walk) iterations`,
    ],
  };
}
