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
import { VfioUserDevice } from '../src/vfio-user/client.js';
import { openBmc } from '../src/afu/bmc/bmc.js';
import { RsuProgress, rsuProgress } from '../src/afu/bmc/registers.js';

/**
 * Staging writes to the same card served by another process over vfio-user (issue 14 item 11):
 * every trapped access of the Nios indirect bus is a message. Returns host bytes/s.
 */
async function servedStaging(bytes: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vfu-flash-bench-'));
  const socket = join(dir, 'card.sock');
  const { stop } = await startServer(socket, [], 'sim:n3000?bmcTiming=fast');
  try {
    using device = new VfioUserDevice(socket, { spinUs: 20 });
    using bmc = await openBmc(device);
    const t = bmc.transport;
    t.write32(DOORBELL, 1);
    while (rsuProgress(t.read32(DOORBELL)) !== RsuProgress.READY) await new Promise((r) => setTimeout(r, 20));
    const data = patternPayload(bytes, 2);
    const t0 = process.hrtime.bigint();
    t.writeBlock(STAGING_BASE, data);
    return bytes / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
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
    const served = Math.min(bytes, 2048);
    try {
      rows.push({ path: 'host/vfio-user', op: 'staging-write', bytesPerSec: await servedStaging(served), bytes: served });
    } catch (err) {
      rows.push({ path: 'host/vfio-user', op: 'staging-write', skipped: (err as Error).message });
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
      'host/vfio-user: the same card served by `vfiokit serve` in another process (real clock), every trapped Nios register access a message; 2 KiB, one rep (--no-vfio-user skips it)',
      'writes: one word per Avalon-MM transaction (regmap-spi-avmm MAX_WRITE_CNT 1, no DPDK 1 us sleep); reads: 256 words per transaction (MAX_READ_CNT)',
    ],
  };
}
