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
import { allocateDma } from '../src/dma/dma-buffer.js';
import { SimAfuReg, DmaCtrl, DmaStatus } from '../src/sim/afu-regs.js';
import { SIM_AFU_OFFSET } from '../src/sim/sim-card.js';

const root = resolve(import.meta.dirname, '..');
const SCRATCH = SIM_AFU_OFFSET + SimAfuReg.SCRATCH0;
const DMA_BYTES = 16 * 1024 * 1024;
const BULK = 64 * 1024;

function usPer(fn: (n: number) => void, n: number, reps = 7): number {
  fn(Math.min(n, 200));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn(n);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  return median(samples);
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

function measure(path: string, device: Device, rows: BenchRow[], quick: boolean): void {
  const bar0 = device.region(0);
  const n = quick ? 500 : 5000;
  rows.push({ path, op: 'read32', usPerOp: usPer((k) => { for (let i = 0; i < k; i++) bar0.read32(SCRATCH); }, n) });
  rows.push({ path, op: 'write32', usPerOp: usPer((k) => { for (let i = 0; i < k; i++) bar0.write32(SCRATCH, i); }, n) });
  const words = new BigUint64Array(4096);
  const streamUs = usPer((k) => { for (let i = 0; i < k; i++) bar0.writeStream64(SCRATCH, words); }, quick ? 3 : 10);
  rows.push({ path, op: 'stream64', bytesPerSec: words.byteLength / (streamUs / 1e6) });
  const into = new Uint8Array(BULK);
  const bulk = device instanceof VfioUserDevice
    ? () => device.readRegion(0, SIM_AFU_OFFSET, BULK)
    : () => bar0.readBlock(SIM_AFU_OFFSET, BULK, 64, into);
  const bulkUs = usPer((k) => { for (let i = 0; i < k; i++) bulk(); }, quick ? 10 : 50);
  rows.push({ path, op: 'bulk-read', bytesPerSec: BULK / (bulkUs / 1e6) });
  using src = allocateDma(device, DMA_BYTES, { access: 'read' });
  using dst = allocateDma(device, DMA_BYTES, { access: 'write' });
  src.memory.bytes.fill(0x5a);
  const copyUs = usPer(() => dmaCopy(device, src.iova, dst.iova, DMA_BYTES), 1, quick ? 3 : 7);
  if (dst.memory.bytes[DMA_BYTES - 1] !== 0x5a) throw new Error('DMA copy did not reach the destination buffer');
  rows.push({ path, op: 'dma-copy', bytesPerSec: DMA_BYTES / (copyUs / 1e6) });
}

async function startServer(socket: string, spinUs: number): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', 'sim:n3000', '--socket', socket, '--spin-us', String(spinUs)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
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
  {
    using sim = createSimCard('n3000');
    measure('sim', sim, rows, quick);
  }
  for (const spinUs of [0, 50]) {
    const dir = mkdtempSync(join(tmpdir(), 'vfu-bench-'));
    const socket = join(dir, 'card.sock');
    const stop = await startServer(socket, spinUs);
    try {
      using remote = new VfioUserDevice(socket);
      measure(`vfio-user spin${spinUs}`, remote, rows, quick);
    } finally {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Show rows grouped by op.
  const order = ['read32', 'write32', 'stream64', 'bulk-read', 'dma-copy'];
  rows.sort((a, b) => order.indexOf(a.op) - order.indexOf(b.op));
  return {
    benchmark: 'vfio-user',
    baseline: 'sim',
    rows,
    notes: [
      'sim = in-process model (virtual clock); vfio-user = the same model served by another process over a UNIX socket',
      'dma-copy over vfio-user moves no data through the socket (memfd shared with the server); it is bounded by the model\'s real-time DMA rate',
    ],
  };
}
