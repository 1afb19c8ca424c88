// Partial reconfiguration feed rates, side by side in one run (words per second; a word is one
// 32-bit bitstream word = one 64-bit store to PR_DATA).
//
// credit-feed: the credit-gated loop (pr.md step 2) on a MAPPED region (a memfd standing in for
// the FME BAR) whose PR_STS credit field holds a fixed 511: the loop re-reads PR_STS every 510
// words and never waits, so this is the software limit of each path:
//   shim        creditStream() on a MappedRegion with the C shim (vk_credit_stream, one call per chunk)
//   js          creditStream() on a MappedRegion without the shim (the JS fallback)
//   c-loop      the shim's vk_credit_stream called directly with the whole bitstream (baseline)
// pr-flow: the whole PR flow (partialReconfigure: validate, port disable, PR reset, stream,
// complete, PR_ERR check, port enable) on the simulated card (sim:n3000, virtual clock), timed on
// the wall clock: the cost of the sim's trapped register path plus the flow. Its device-time rate
// (the sim's FIFO drain rate) is reported as an extra field.
//
// npm run bench -- pr [--json] [--reps=N] [--words=N]
import { MappedRegion } from '../src/mmio/mapped-region.js';
import { creditStream } from '../src/mmio/credit-stream.js';
import { closeQuietly, createMemfd } from '../src/sys/libc.js';
import { shim } from '../src/sys/shim.js';
import { createSimCard } from '../src/sim/sim-device.js';
import { Card } from '../src/afu/card.js';
import { parseGbs } from '../src/afu/pr/gbs.js';
import { buildSimGbs } from '../src/sim-gbs.js';
import { reconfigureCard } from '../src/afu/pr/card-pr.js';
import { PR_DATA, PR_STS, PR_STS_PR_CREDIT, PR_WAIT_TIMEOUT_MS, PR_POLL_INTERVAL_US } from '../src/afu/pr/registers.js';
import type { BenchReport, BenchRow } from './lib.js';
import { median } from './lib.js';

const BAR_SIZE = 0x1000;
const FIXED_CREDITS = 0x1ffn;

function arg(args: string[], name: string, fallback: number): number {
  const v = args.find((a) => a.startsWith(`--${name}=`));
  const n = v ? Number(v.slice(name.length + 3)) : fallback;
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** Median seconds of `fn` over `reps` runs after one warm-up. */
async function seconds(fn: () => unknown, reps: number): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(samples);
}

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  const reps = arg(args, 'reps', 7);
  const count = arg(args, 'words', 4_000_000);
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const words = new Uint32Array(count);
  for (let i = 0; i < count; i++) words[i] = Math.imul(i, 0x9e3779b1) >>> 0;
  const row = (path: string, op: string, n: number, secs: number, extra: Record<string, unknown> = {}): void => {
    const wps = n / secs;
    rows.push({ path, op, opsPerSec: Math.round(wps), mbPerSec: Number(((wps * 4) / 1e6).toFixed(1)), words: n, ...extra });
  };
  const feedOptions = { dataOffset: PR_DATA, statusOffset: PR_STS, creditMask: Number(PR_STS_PR_CREDIT), words, timeoutMs: PR_WAIT_TIMEOUT_MS, intervalUs: PR_POLL_INTERVAL_US };

  const fd = createMemfd('vfiokit-bench-pr', BAR_SIZE);
  try {
    const s = shim();
    const withShim = MappedRegion.mapFd('bench FME BAR', fd, BAR_SIZE);
    const withoutShim = MappedRegion.mapFd('bench FME BAR (JS)', fd, BAR_SIZE, 0, { useShim: false });
    withShim.write64(PR_STS, FIXED_CREDITS);
    const check = (r: { written: number; timedOut: boolean }): void => {
      if (r.written !== count || r.timedOut) throw new Error(`credit feed wrote ${r.written} of ${count} words (timedOut ${r.timedOut})`);
    };
    if (s && withShim.shimForPolls) {
      row('shim', 'credit-feed', count, await seconds(() => check(creditStream(withShim, feedOptions)), reps));
    } else {
      rows.push({ path: 'shim', op: 'credit-feed', skipped: 'C shim not built (or VFIOKIT_NO_SHIM=1)' });
    }
    row('js', 'credit-feed', count, await seconds(() => check(creditStream(withoutShim, feedOptions)), reps));
    if (s) {
      const out = new BigUint64Array(2);
      const direct = (): void => {
        const n = Number(s.creditStream(withShim.address, PR_DATA, PR_STS, PR_STS_PR_CREDIT, words, count, PR_WAIT_TIMEOUT_MS * 1e6, PR_POLL_INTERVAL_US * 1e3, out));
        check({ written: n, timedOut: out[1] !== 0n });
      };
      row('c-loop', 'credit-feed', count, await seconds(direct, reps));
    } else {
      rows.push({ path: 'c-loop', op: 'credit-feed', skipped: 'C shim not built (or VFIOKIT_NO_SHIM=1)' });
      notes.push('C shim not built: shim and c-loop rows skipped; build it with node scripts/build-shim.mjs');
    }
    if (withShim.read64(PR_DATA) !== BigInt(words[count - 1]!)) throw new Error('the last word did not reach PR_DATA');
    withShim.close();
    withoutShim.close();
  } finally {
    closeQuietly(fd);
  }

  // The whole flow on the sim card (virtual clock): a fresh card per run.
  const flowWords = Math.min(count, 1_000_000);
  const payload = new Uint8Array(flowWords * 4 - 64);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  const gbs = parseGbs(buildSimGbs({ afuGuid: '6f4e5d3c-2b1a-4c9d-8e7f-0a1b2c3d4e5f', name: 'bench', payload }));
  let deviceMs = 0;
  const flow = async (): Promise<void> => {
    using device = createSimCard('n3000');
    const r = await reconfigureCard(Card.discover(device), gbs, { chunkWords: 65536 });
    deviceMs = r.durationMs;
  };
  const flowReps = Math.max(3, Math.min(reps, 5));
  const flowSecs = await seconds(flow, flowReps);
  row('sim', 'pr-flow', flowWords, flowSecs, { deviceWordsPerSec: Math.round(flowWords / (deviceMs / 1000)) });
  notes.push(`credit-feed: ${count} words per run, PR_STS credits fixed at ${FIXED_CREDITS} (software limit, no waiting); medians of ${reps} runs`);
  notes.push(`pr-flow: ${flowWords} words through the whole flow on sim:n3000 (wall clock; the sim's device-time rate is in deviceWordsPerSec); medians of ${flowReps} runs`);
  return { benchmark: 'pr', rows, baseline: 'c-loop', notes };
}
