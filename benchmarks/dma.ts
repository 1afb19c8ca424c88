// DMA buffers: allocate + map + unmap + free of 4 KiB, 2 MiB and 64 MiB buffers (normal pages,
// and 2 MiB huge pages when the pool has them), and copy bandwidth into a DMA buffer through its
// view (TypedArray.set: V8's memcpy), a JS word loop, and the C shim's block copy.
//   npm run bench -- dma [--json]            on the sim mapper (src/sim/sim-dma-mapper.ts)
//   npm run bench -- dma --kernel [--json]   also in the QEMU kernel lane (type1 on vfio-pci)
// Inside the guest (run by test/kernel/run.ts --bench): --kernel-guest.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport, BenchRow } from './lib.js';
import { median } from './lib.js';
import { allocateDma } from '../src/dma/dma-buffer.js';
import { hugePagePools } from '../src/dma/hugepages.js';
import type { DmaMapper } from '../src/dma/mapper.js';
import { SimDmaMapper } from '../src/sim/sim-dma-mapper.js';
import { shim } from '../src/sys/shim.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const BENCH_PREFIX = 'VFIOKIT-BENCH ';

function timeUs(fn: () => void, iterations: number, reps: number): number {
  fn();
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / iterations);
  }
  return median(samples);
}

function lifecycleRows(path: string, mapper: DmaMapper, scale: number): BenchRow[] {
  const rows: BenchRow[] = [];
  const sizes: [string, number, number, number][] = [['4K', 4 * KiB, 200, 5], ['2M', 2 * MiB, 20, 5], ['64M', 64 * MiB, 2, 3]];
  for (const [label, size, iterations, reps] of sizes) {
    const n = Math.max(1, Math.round(iterations * scale));
    rows.push({ path, op: `map ${label}`, usPerOp: timeUs(() => allocateDma(mapper, size).close(), n, reps), size });
  }
  const pool = hugePagePools().find((p) => p.size === '2M');
  if (pool && pool.usable >= 32) {
    rows.push({ path: `${path}+huge2M`, op: 'map 2M', usPerOp: timeUs(() => allocateDma(mapper, 2 * MiB, { hugePages: '2M' }).close(), Math.max(1, Math.round(20 * scale)), 5), size: 2 * MiB });
    rows.push({ path: `${path}+huge2M`, op: 'map 64M', usPerOp: timeUs(() => allocateDma(mapper, 64 * MiB, { hugePages: '2M' }).close(), Math.max(1, Math.round(2 * scale)), 3), size: 64 * MiB });
  } else {
    rows.push({ path: `${path}+huge2M`, op: 'map 2M', skipped: `fewer than 32 free 2 MiB huge pages (${pool ? pool.usable : 'no pool'}); echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages` });
  }
  return rows;
}

function copyRows(mapper: DmaMapper, scale: number): BenchRow[] {
  const size = 2 * MiB;
  const src = new Uint8Array(size);
  for (let i = 0; i < size; i++) src[i] = i & 0xff;
  using buf = allocateDma(mapper, size);
  const reps = 7;
  const iterations = Math.max(1, Math.round(20 * scale));
  const rows: BenchRow[] = [];
  const bw = (us: number) => size / (us / 1e6);
  rows.push({ path: 'view.set', op: 'copy 2M', bytesPerSec: bw(timeUs(() => buf.bytes.set(src), iterations, reps)) });
  const s32 = new Uint32Array(src.buffer);
  const d32 = new Uint32Array(buf.bytes.buffer, buf.bytes.byteOffset, size / 4);
  rows.push({ path: 'js-u32-loop', op: 'copy 2M', bytesPerSec: bw(timeUs(() => { for (let i = 0; i < s32.length; i++) d32[i] = s32[i]!; }, iterations, reps)) });
  const s = shim();
  if (s) {
    rows.push({ path: 'shim-block64', op: 'copy 2M', bytesPerSec: bw(timeUs(() => { s.writeBlock(buf.address, 0, src, size, 8); }, iterations, reps)) });
  } else {
    rows.push({ path: 'shim-block64', op: 'copy 2M', skipped: 'C shim not built (or VFIOKIT_NO_SHIM=1)' });
  }
  if (buf.bytes[size - 1] !== src[size - 1]) throw new Error('copy check failed');
  return rows;
}

async function guestRows(): Promise<BenchRow[]> {
  const { listPciDevices } = await import('../src/pci/enumerate.js');
  const { openDevice } = await import('../src/device/registry.js');
  const edu = listPciDevices({ vendor: 0x1234, device: 0x11e8 })[0];
  if (!edu) throw new Error('no edu device in the guest');
  const device = await openDevice(`vfio:${edu.bdf}`);
  try {
    const lane = process.env.VFIOKIT_LANE ?? 'vfio';
    // TCG is ~20x slower than the host: fewer iterations.
    const rows = [...lifecycleRows(`kernel-${lane}`, device.dma, 0.1), ...lifecycleRows('sim-in-guest', new SimDmaMapper('bench'), 0.1), ...copyRows(device.dma, 0.2).map((r) => ({ ...r, path: `${r.path} (guest)` }))];
    for (const r of rows) process.stdout.write(`${BENCH_PREFIX}${JSON.stringify(r)}\n`);
    return rows;
  } finally {
    device.close();
  }
}

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  if (args.includes('--kernel-guest')) {
    return { benchmark: 'dma', rows: await guestRows(), baseline: 'sim-in-guest' };
  }
  const rows: BenchRow[] = [...lifecycleRows('sim', new SimDmaMapper('bench'), 1), ...copyRows(new SimDmaMapper('bench'), 1)];
  const notes: string[] = [];
  if (args.includes('--kernel')) {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'test/kernel/run.ts'), '--lane', 'type1', '--bench'], { encoding: 'utf8', cwd: root });
    const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{"lane"'));
    if (lines.length === 0) notes.push(`kernel lane did not run: ${(r.stdout ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    for (const l of lines) {
      const { lane: _lane, ...row } = JSON.parse(l) as BenchRow & { lane: string };
      rows.push(row);
    }
    notes.push('kernel rows run in a QEMU TCG guest (software-emulated CPU): compare them with the sim-in-guest rows, not the host rows');
  }
  return { benchmark: 'dma', rows, baseline: 'sim', notes };
}
