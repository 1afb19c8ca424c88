// creditStream: the credit-gated feed of the FME PR engine (reference/pr.md step 2; kernel
// drivers/fpga/dfl-fme-mgr.c fme_mgr_write). Read the credit field (status & creditMask, shifted
// down) of the status register; before each 32-bit word, while credits <= 1 re-read the status
// every intervalUs, giving up when one wait lasts longer than timeoutMs; write the word as a
// 64-bit store (word in [31:0]) to the data register; decrement the local credit count.
//
// On a mapped region with the shim and a real clock the loop runs in C, one call per chunk, with
// progress reported between chunks. Otherwise (trapped regions, virtual clock, no shim) it runs in
// JS on region.clock, writing each batch the credits allow with one writeStream64.
// Timeout: in the kernel (fme_mgr_write) the `delay` counter against PR_WAIT_TIMEOUT (8 s of 1 us
// steps) is set to 0 once and never reset, so it is one budget for the whole bitstream; DPDK's
// ifpga (fme_pr_write) resets it for every word. Here, as in DPDK, timeoutMs bounds each wait for
// credits: never stricter than the kernel, and a slow but progressing engine is not cut off.
import { ArgumentError } from '../errors.js';
import type { Region } from './region.js';
import { accessError } from './checks.js';
import { MappedRegion } from './mapped-region.js';
import { pollTiming } from './checks.js';

export interface CreditStreamOptions {
  /** Offset of the data register (PR_DATA, 0x18 from the PR feature). */
  dataOffset: number;
  /** Offset of the status register holding the credit field (PR_STS, 0x10). */
  statusOffset: number;
  /** Mask of the credit field in the status register (PR_STS[8:0] = 0x1ff). */
  creditMask: number;
  /** The bitstream as 32-bit words (pad to a multiple of 4 bytes first). */
  words: Uint32Array;
  /** Longest wait for credits, in ms (kernel: 8 s). */
  timeoutMs: number;
  /** Re-read the status every this many microseconds while waiting (kernel: 1 us). */
  intervalUs: number;
  /** Called after each chunk, and once on a timeout, with the words written so far. */
  onProgress?(written: number): void;
  /** Words per chunk (per shim call / per progress report). Default 65536 (256 KiB). */
  chunkWords?: number;
}

export interface CreditStreamResult {
  /** Words written to the data register. */
  written: number;
  /** True when a wait for credits outlasted timeoutMs (written < words.length). */
  timedOut: boolean;
  /** The last status register value read. */
  lastStatus: bigint;
}

export const DEFAULT_CREDIT_CHUNK_WORDS = 65536;

function checkOptions(region: Region, o: CreditStreamOptions): { mask: bigint; shift: bigint; chunk: number } {
  for (const offset of [o.dataOffset, o.statusOffset]) {
    if (region.closed || offset !== (offset >>> 0) || (offset & 7) !== 0 || offset + 8 > region.size) {
      throw accessError(region.name, region.size, region.closed, offset, 8);
    }
  }
  if (!Number.isInteger(o.creditMask) || o.creditMask <= 0 || o.creditMask > 0xffff_ffff) {
    throw new ArgumentError('EARG_MASK', `${region.name}: creditMask ${String(o.creditMask)} must be a non-zero 32-bit mask (PR_STS credits: 0x1ff)`, { region: region.name, creditMask: o.creditMask });
  }
  if (!(o.words instanceof Uint32Array)) {
    throw new ArgumentError('EARG_WORDS', `${region.name}: creditStream needs the bitstream as a Uint32Array of words`, { region: region.name });
  }
  const chunk = o.chunkWords ?? DEFAULT_CREDIT_CHUNK_WORDS;
  if (!Number.isSafeInteger(chunk) || chunk <= 0) {
    throw new ArgumentError('EARG_CHUNK', `${region.name}: chunkWords ${String(chunk)} must be a positive integer`, { region: region.name, chunkWords: chunk });
  }
  pollTiming(region.name, { timeoutMs: o.timeoutMs, intervalUs: o.intervalUs });
  const mask = BigInt(o.creditMask);
  let shift = 0n;
  while (((mask >> shift) & 1n) === 0n) shift++;
  return { mask, shift, chunk };
}

/** Feed `words` through a credit-gated data register. Never throws on timeout: see `timedOut`. */
export function creditStream(region: Region, o: CreditStreamOptions): CreditStreamResult {
  const { mask, shift, chunk } = checkOptions(region, o);
  const s = region instanceof MappedRegion ? region.shimForPolls : undefined;
  if (s && region instanceof MappedRegion) {
    const out = new BigUint64Array(2);
    const timeoutNs = Math.round(o.timeoutMs * 1e6);
    const intervalNs = Math.round(o.intervalUs * 1e3);
    const total = o.words.length;
    let written = 0;
    let lastStatus = total === 0 ? region.read64(o.statusOffset) : 0n;
    while (written < total) {
      const count = Math.min(chunk, total - written);
      const n = Number(s.creditStream(region.address, o.dataOffset, o.statusOffset, mask, o.words.subarray(written, written + count), count, timeoutNs, intervalNs, out));
      written += n;
      lastStatus = out[0]!;
      o.onProgress?.(written);
      if (out[1] !== 0n) return { written, timedOut: true, lastStatus };
    }
    return { written, timedOut: false, lastStatus };
  }
  return creditStreamJs(region, o, mask, shift, chunk);
}

function creditStreamJs(region: Region, o: CreditStreamOptions, mask: bigint, shift: bigint, chunk: number): CreditStreamResult {
  const { words, dataOffset, statusOffset } = o;
  const clock = region.clock;
  const intervalMs = o.intervalUs / 1000;
  const total = words.length;
  // Batches go out as 64-bit words with the 32-bit word in [31:0]: fill the low halves through a
  // Uint32Array view (no BigInt per word).
  const scratch = new BigUint64Array(Math.min(chunk, Math.max(total, 1)));
  const scratch32 = new Uint32Array(scratch.buffer);
  let status = region.read64(statusOffset);
  let credits = Number((status & mask) >> shift);
  let written = 0;
  let nextReport = Math.min(chunk, total);
  while (written < total) {
    if (credits <= 1) {
      const deadline = clock.now() + o.timeoutMs;
      while (credits <= 1) {
        if (clock.now() >= deadline) {
          o.onProgress?.(written);
          return { written, timedOut: true, lastStatus: status };
        }
        clock.spin(intervalMs);
        status = region.read64(statusOffset);
        credits = Number((status & mask) >> shift);
      }
    }
    // With `credits` free slots, credits - 1 words go out before the next check (kernel: > 1).
    const batch = Math.min(credits - 1, total - written, scratch.length, nextReport - written);
    for (let k = 0; k < batch; k++) {
      scratch32[2 * k] = words[written + k]!;
      scratch32[2 * k + 1] = 0;
    }
    region.writeStream64(dataOffset, batch === scratch.length ? scratch : scratch.subarray(0, batch));
    written += batch;
    credits -= batch;
    if (written === nextReport) {
      o.onProgress?.(written);
      nextReport = Math.min(nextReport + chunk, total);
    }
  }
  return { written, timedOut: false, lastStatus: status };
}
