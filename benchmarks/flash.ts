// Staging the image into the sim BMC over SPI-AVMM, the way the kernel's regmap-spi-avmm does it
// (ONE word per write transaction, MAX_WRITE_CNT 1; reads up to 256 words per transaction), through
// the N3000's Nios window (FME feature 0xD, dfl-n3000-nios.c). Two clocks side by side in one run:
//   host:   wall-clock throughput of this library (packetising, escaping, every indirect register
//           access of the Nios bus), with the shim's codec and with the JS codec;
//   device: the card's time, which the sim charges per SPI word at the board's SPI clock
//           (m10_n3000_info.max_speed_hz 12.5 MHz: 2.56 us per 32-bit word). On a real card the
//           flash cannot stage faster than this, whatever the host does.
// Ratios are against the device row: > 1 means the host keeps ahead of the wire.
import type { BenchReport, BenchRow } from './lib.js';
import { median } from './lib.js';
import { DOORBELL, STAGING_BASE } from '../src/afu/bmc/registers.js';
import { avalonCodec, jsCodec, nativeCodec, setAvalonCodec } from '../src/afu/bmc/avalon-codec.js';
import { patternPayload } from '../src/afu/image/image-writer.js';
import { bmcRig } from '../test/bmc/helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './vfio-user.js';
import { openDevice } from '../src/device/registry.js';
import type { Device } from '../src/device/device.js';
import { VfioUserDevice } from '../src/vfio-user/client.js';
import { openBmc } from '../src/afu/bmc/bmc.js';
import { RsuProgress, rsuProgress } from '../src/afu/bmc/registers.js';

/** Host bytes/s of staging `bytes` into a card's BMC (after the RSU request opens staging), and messages per BMC word when served. */
async function staging(device: Device, bytes: number): Promise<{ bytesPerSec: number; messagesPerWord?: number }> {
  using bmc = await openBmc(device);
  const t = bmc.transport;
  t.write32(DOORBELL, 1);
  while (rsuProgress(t.read32(DOORBELL)) !== RsuProgress.READY) await new Promise((r) => setTimeout(r, 20));
  const data = patternPayload(bytes, 2);
  const served = device instanceof VfioUserDevice ? device : undefined;
  const m0 = served?.commandsSent ?? 0;
  const t0 = process.hrtime.bigint();
  t.writeBlock(STAGING_BASE, data);
  const bytesPerSec = bytes / (Number(process.hrtime.bigint() - t0) / 1e9);
  return served ? { bytesPerSec, messagesPerWord: (served.commandsSent - m0) / (bytes / 4) } : { bytesPerSec };
}

/**
 * The same card in this process on the real clock, and served by `vfiokit serve` in another
 * process (issue 14 item 11): with REGION_BATCH (the default) and without (one message per
 * trapped Nios register access, as against a server that does not offer it).
 */
async function realClockRows(bytes: number, unbatchedBytes: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const url = 'sim:n3000?bmcTiming=fast';
  {
    using device = await openDevice(`${url}&clock=real`);
    rows.push({ path: 'in-process/real-clock', op: 'staging-write', baseline: 'in-process/real-clock', ...(await staging(device, bytes)), bytes });
  }
  const dir = mkdtempSync(join(tmpdir(), 'vfu-flash-bench-'));
  const socket = join(dir, 'card.sock');
  const { stop } = await startServer(socket, [], url);
  try {
    for (const batched of [true, false]) {
      const n = batched ? bytes : unbatchedBytes;
      using device = new VfioUserDevice(socket, { spinUs: 20, regionBatch: batched });
      rows.push({ path: batched ? 'vfio-user/batched' : 'vfio-user/per-access', op: 'staging-write', baseline: 'in-process/real-clock', ...(await staging(device, n)), bytes: n });
    }
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function rig() {
  const r = bmcRig({ indirectLatency: 0 });
  r.host.write32(DOORBELL, 1); // RSU request: the sim erases staging and opens it for writes
  r.clock.advance(60_000);
  return r;
}

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  const sizeArg = args.find((a) => a.startsWith('--bytes='));
  const bytes = sizeArg ? Number(sizeArg.slice(8)) : 64 * 1024;
  const reps = 5;
  const data = patternPayload(bytes, 1);
  const rows: BenchRow[] = [];
  let device: { write: number; read: number; wordsPerKiBWrite: number; wordsPerKiBRead: number } | undefined;
  for (const [codecName, codec] of [['shim', nativeCodec()], ['js', jsCodec]] as const) {
    if (!codec) {
      rows.push({ path: `host/${codecName}`, op: 'staging-write', skipped: 'shim not built' });
      continue;
    }
    setAvalonCodec(codec);
    const { host, clock, bmc } = rig();
    host.writeBlock(STAGING_BASE, data.subarray(0, 4096)); // warm-up
    /** Median wall and device seconds of `fn` over the reps, and SPI words per rep. */
    const timed = (fn: () => void): { wall: number; dev: number; words: number } => {
      const wall: number[] = [];
      const dev: number[] = [];
      const w0 = bmc.core.words;
      for (let r = 0; r < reps; r++) {
        const v0 = clock.now();
        const t0 = process.hrtime.bigint();
        fn();
        wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
        dev.push((clock.now() - v0) / 1000);
      }
      return { wall: median(wall), dev: median(dev), words: (bmc.core.words - w0) / reps };
    };
    const w = timed(() => host.writeBlock(STAGING_BASE, data));
    rows.push({ path: `host/${codecName}`, op: 'staging-write', bytesPerSec: bytes / w.wall, transactionsPerKiB: 256, bytes });
    const r = timed(() => host.readBlock(STAGING_BASE, bytes));
    rows.push({ path: `host/${codecName}`, op: 'staging-read', bytesPerSec: bytes / r.wall, transactionsPerKiB: 1, bytes });
    device ??= { write: bytes / w.dev, read: bytes / r.dev, wordsPerKiBWrite: Math.round(w.words / (bytes / 1024)), wordsPerKiBRead: Math.round(r.words / (bytes / 1024)) };
  }
  setAvalonCodec(undefined);
  if (!args.includes('--no-vfio-user')) {
    try {
      const real = await realClockRows(bytes, Math.min(bytes, 2048));
      rows.push(...real);
      // The goal of issue 14 item 11: served within 3x of in-process (the host rows above, and the same card on the real clock).
      const inProcess = rows.find((r) => r.path === 'host/shim' && r.bytesPerSec) ?? rows.find((r) => r.path === 'host/js');
      for (const r of real) {
        if (r.path.startsWith('vfio-user') && r.bytesPerSec && inProcess?.bytesPerSec) r.slowerThanInProcess = Number((inProcess.bytesPerSec / r.bytesPerSec).toFixed(2));
      }
    } catch (err) {
      rows.push({ path: 'vfio-user/batched', op: 'staging-write', skipped: (err as Error).message });
    }
  }
  if (device) {
    const full = 56 * 1024 * 1024;
    rows.unshift(
      { path: 'device', op: 'staging-write', bytesPerSec: device.write, spiWordsPerKiB: device.wordsPerKiBWrite, secondsFor1MiB: 1024 * 1024 / device.write, secondsForFullStaging: full / device.write },
      { path: 'device', op: 'staging-read', bytesPerSec: device.read, spiWordsPerKiB: device.wordsPerKiBRead },
    );
  }
  return {
    benchmark: 'flash',
    baseline: 'device',
    rows,
    notes: [
      `${bytes} bytes per rep, median of ${reps}; trapped (sim) regions decode with the ${avalonCodec().native ? 'shim' : 'JS'} codec by default`,
      'device = the sim card\'s own time: every SPI word costs 32 bits / 12.5 MHz = 2.56 us (m10_n3000_info.max_speed_hz); Nios indirect accesses themselves cost no device time in the model',
      'in-process/real-clock: sim:n3000?bmcTiming=fast&clock=real in this process (the SPI word time passes for real); vfio-user/*: the same card served by `vfiokit serve` in another process, ratios against in-process/real-clock; slowerThanInProcess: host-row rate / served rate (issue 14 item 11 asks <= 3)',
      'vfio-user/batched: the SPI-AVMM accesses go as REGION_BATCH messages (many BMC words each); vfio-user/per-access: one message per trapped register access (a server without REGION_BATCH), 2 KiB; messagesPerWord: commands sent per 32-bit BMC word (--no-vfio-user skips these rows)',
      'writes: one word per Avalon-MM transaction (regmap-spi-avmm MAX_WRITE_CNT 1, no DPDK 1 us sleep); reads: 256 words per transaction (MAX_READ_CNT)',
    ],
  };
}
