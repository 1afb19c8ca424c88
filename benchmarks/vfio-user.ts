// vfio-user cost, side by side in one run: the simulated card in-process vs the same card served
// by a separate process (`vfiokit serve sim:n3000`) over a UNIX socket.
// - read32 / write32: one trapped 32-bit AFU register access (in-process: a call into the model;
//   vfio-user: a REGION_READ/WRITE round trip: sendmsg, poll, recvmsg on both sides).
// - stream64: 4096 64-bit writes to one register (vfio-user: REGION_WRITE_MULTI, 200 per message).
// - bulk-read: 64 KiB of BAR0 (vfio-user: one REGION_READ, data through the socket).
// - dma-copy: the AFU DMA engine copying 16 MiB between two DMA buffers. Over vfio-user the
//   buffers are memfds the server mmapped (no data crosses the socket); the served sim runs on the
//   real clock, so its modelled rate (4096 B/us + 2 us) bounds the figure; in-process the model
//   runs on virtual time, so the figure is the host memcpy.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchReport, BenchRow } from './lib.js';
import { median } from './lib.js';
import type { Device } from '../src/device/device.js';
import { createSimCard } from '../src/sim/sim-device.js';
import { VfioUserDevice } from '../src/vfio-user/client.js';
import { allocateDma, type DmaBuffer } from '../src/dma/dma-buffer.js';
import type { Region } from '../src/mmio/region.js';
import { SimAfuReg, DmaCtrl, DmaStatus } from '../src/sim/afu-regs.js';
import { SIM_AFU_OFFSET } from '../src/sim/sim-card.js';

const root = resolve(import.meta.dirname, '..');
const SCRATCH = SIM_AFU_OFFSET + SimAfuReg.SCRATCH0;
const DMA_BYTES = 16 * 1024 * 1024;
const BULK = 64 * 1024;

/** Microseconds per call of `fn(n)` / n, one sample. */
function sampleUs(fn: (n: number) => void, n: number): number {
  const t0 = process.hrtime.bigint();
  fn(n);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

/**
 * Measure every path of one operation with interleaved repetitions (path A, B, C, A, B, C...), so
 * a change in machine load hits all paths alike; the median of each path's samples is reported.
 */
function interleaved(paths: { name: string; fn: (n: number) => void }[], n: number, reps: number): Map<string, number> {
  for (const p of paths) p.fn(Math.max(1, Math.min(n, 50)));
  const samples = new Map<string, number[]>(paths.map((p) => [p.name, []]));
  for (let r = 0; r < reps; r++) for (const p of paths) samples.get(p.name)!.push(sampleUs(p.fn, n));
  return new Map([...samples].map(([k, v]) => [k, median(v)]));
}

function dmaCopy(device: Device, src: bigint, dst: bigint, length: number): void {
  const bar0 = device.region(0);
  const reg = (r: number): number => SIM_AFU_OFFSET + r;
  bar0.write64(reg(SimAfuReg.DMA_CTRL), DmaCtrl.CLEAR);
  bar0.write64(reg(SimAfuReg.DMA_SRC), src);
  bar0.write64(reg(SimAfuReg.DMA_DST), dst);
  bar0.write64(reg(SimAfuReg.DMA_LEN), BigInt(length));
  bar0.write64(reg(SimAfuReg.DMA_CTRL), DmaCtrl.START);
  const r = bar0.poll64(reg(SimAfuReg.DMA_STATUS), DmaStatus.DONE | DmaStatus.FAULT, DmaStatus.DONE, { timeoutMs: 10_000, intervalUs: 20 });
  if (r.timedOut) throw new Error(`DMA did not finish: status 0x${r.value.toString(16)}`);
}

interface Target {
  path: string;
  device: Device;
  src: DmaBuffer;
  dst: DmaBuffer;
}

function measureAll(targets: Target[], rows: BenchRow[], quick: boolean): void {
  const reps = quick ? 5 : 15;
  const n = quick ? 300 : 2000;
  const bar = (t: Target): Region => t.device.region(0);
  const per = (op: string, build: (t: Target) => (k: number) => void, count: number, toRow: (us: number) => Partial<BenchRow>): void => {
    const result = interleaved(targets.map((t) => ({ name: t.path, fn: build(t) })), count, reps);
    for (const t of targets) rows.push({ path: t.path, op, ...toRow(result.get(t.path)!) });
  };
  per('read32', (t) => { const r = bar(t); return (k) => { for (let i = 0; i < k; i++) r.read32(SCRATCH); }; }, n, (us) => ({ usPerOp: us }));
  per('write32', (t) => { const r = bar(t); return (k) => { for (let i = 0; i < k; i++) r.write32(SCRATCH, i); }; }, n, (us) => ({ usPerOp: us }));
  const words = new BigUint64Array(4096);
  per('stream64', (t) => { const r = bar(t); return (k) => { for (let i = 0; i < k; i++) r.writeStream64(SCRATCH, words); }; }, 1, (us) => ({ bytesPerSec: words.byteLength / (us / 1e6) }));
  const into = new Uint8Array(BULK);
  per('bulk-read', (t) => {
    const d = t.device;
    const r = bar(t);
    return d instanceof VfioUserDevice
      ? (k) => { for (let i = 0; i < k; i++) d.readRegion(0, SIM_AFU_OFFSET, BULK); }
      : (k) => { for (let i = 0; i < k; i++) r.readBlock(SIM_AFU_OFFSET, BULK, 64, into); };
  }, 2, (us) => ({ bytesPerSec: BULK / (us / 1e6) }));
  per('dma-copy', (t) => () => dmaCopy(t.device, t.src.iova, t.dst.iova, DMA_BYTES), 1, (us) => ({ bytesPerSec: DMA_BYTES / (us / 1e6) }));
  for (const t of targets) if (t.dst.memory.bytes[DMA_BYTES - 1] !== 0x5a) throw new Error(`${t.path}: DMA copy did not reach the destination buffer`);
}

/** Serve `url` (default sim:n3000) from a child `vfiokit serve`; resolves with a stop function. */
export async function startServer(socket: string, spinUs: number, url = 'sim:n3000'): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', url, '--socket', socket, '--spin-us', String(spinUs)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('serving ')) ok();
    });
    child.once('exit', (code) => fail(new Error(`vfiokit serve exited (${code}) before listening`)));
  });
  return async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
}

export async function run(options: { json: boolean; args: string[] }): Promise<BenchReport> {
  const quick = options.args.includes('--quick');
  const rows: BenchRow[] = [];
  const cleanup: (() => Promise<void> | void)[] = [];
  const targets: Target[] = [];
  const add = (path: string, device: Device): void => {
    cleanup.push(() => device.close());
    const src = allocateDma(device, DMA_BYTES, { access: 'read' });
    const dst = allocateDma(device, DMA_BYTES, { access: 'write' });
    cleanup.push(() => { src.close(); dst.close(); });
    src.memory.bytes.fill(0x5a);
    targets.push({ path, device, src, dst });
  };
  try {
    add('sim', createSimCard('n3000'));
    // Two servers side by side: the defaults (server busy-reads 50 us after each message, client
    // 20 us before it sleeps in poll), and no busy-reading on either side.
    for (const spinUs of [50, 0]) {
      const dir = mkdtempSync(join(tmpdir(), 'vfu-bench-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const socket = join(dir, 'card.sock');
      cleanup.push(await startServer(socket, spinUs));
      add(spinUs ? 'vfio-user' : 'vfio-user nospin', new VfioUserDevice(socket, { spinUs: spinUs ? 20 : 0 }));
    }
    measureAll(targets, rows, quick);
  } finally {
    for (const c of cleanup.reverse()) await c();
  }
  // Show rows grouped by op.
  const order = ['read32', 'write32', 'stream64', 'bulk-read', 'dma-copy'];
  rows.sort((a, b) => order.indexOf(a.op) - order.indexOf(b.op));
  return {
    benchmark: 'vfio-user',
    baseline: 'sim',
    rows,
    notes: [
      'sim = in-process model (virtual clock); vfio-user = the same model served by another process over a UNIX socket (default busy-read windows); nospin = without them',
      'dma-copy over vfio-user moves no data through the socket (memfd shared with the server); it is bounded by the model\'s real-time DMA rate',
    ],
  };
}
