// AccessBatch: a sequence of register accesses on one Region, run in order by whoever owns the
// registers, with the polls and stop conditions a driver's loop would apply between them. A
// trapped region behind a message transport (vfio-user) runs a whole batch in one round trip
// (ServerRegions.batch, src/vfio-user/server-regions.ts) instead of one per access; the device still sees every access,
// in order, exactly as the driver's loop would have made them.
// The DataViews below read and write the encoded entries (message bytes), never device memory:
// every register access goes through the BatchTarget (a Region: full-width reads, plain stores).
// Entries (little endian; this is also the body of vfio-user's vendor REGION_BATCH, messages.ts):
//   WRITE (24 bytes) {u8 op 1, u8 width 4|8, u16 0, u32 0, u64 offset, u64 value}
//   POLL  (32 bytes) {u8 op 2, u8 width, u16 0, u32 maxReads, u64 offset, u64 mask, u64 expected}
//         read up to maxReads times until (value & mask) == expected (mask 0: one plain read);
//         the last value read is the poll's result; no match stops the batch (POLL_TIMEOUT)
//   CHECK (32 bytes) {u8 op 3, u8 0, u16 0, u32 maxRetries, u32 retryFrom, u32 0, u64 mask, u64 value}
//         on the previous POLL's result: on (result & mask) != value, run again from entry
//         retryFrom (a loop, at most maxRetries times; its count restarts once the check passes),
//         then stop (CHECK_FAILED). A driver's "read STATUS until RRDY, N times" is POLL + CHECK.
import { ArgumentError } from '../errors.js';

export const BatchOp = { WRITE: 1, POLL: 2, CHECK: 3 } as const;
export const BATCH_WRITE_SIZE = 24;
export const BATCH_POLL_SIZE = 32;
export const BATCH_CHECK_SIZE = 32;
/** Largest maxReads of a POLL and maxRetries of a CHECK (a driver's own bounds are 10000). */
export const BATCH_MAX_COUNT = 1 << 20;

/** Why a batch stopped. */
export const BatchStop = {
  /** Every entry ran. */
  DONE: 0,
  /** A POLL read maxReads times without a match: the driver's timeout. */
  POLL_TIMEOUT: 1,
  /** A CHECK failed with its retries used up (or none allowed). */
  CHECK_FAILED: 2,
  /** The runner's access budget ran out (a device that keeps every poll busy); nothing is lost, the caller decides. */
  BUDGET: 3,
} as const;
export type BatchStopCode = (typeof BatchStop)[keyof typeof BatchStop];

export interface AccessBatchResult {
  /** Entries completed before the stop (all of them on DONE); the stop entry is `completed`. */
  completed: number;
  stop: BatchStopCode;
  /** Register reads and writes made. */
  accesses: number;
  /** Last value of each POLL (by the slot poll() returned) that ran, in slot order. */
  values: BigUint64Array;
}

/** A Region that can run batches: how big one may be and how to run it. */
export interface AccessBatchRunner {
  /** Most entries per batch. */
  readonly maxEntries: number;
  /** Most encoded bytes per batch. */
  readonly maxBytes: number;
  run(batch: AccessBatch): AccessBatchResult;
}

/** Builder of a batch, encoded as it grows (entries are what goes on the wire). */
export class AccessBatch {
  #bytes = new Uint8Array(4096);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;
  #entries = 0;
  #polls = 0;
  #lastPoll = -1;
  /** Per entry, what the caller attached to it (errors name the register a stop happened at). */
  readonly tags: unknown[] = [];

  get entries(): number {
    return this.#entries;
  }

  get polls(): number {
    return this.#polls;
  }

  get byteLength(): number {
    return this.#length;
  }

  /** The encoded entries (a view; valid until the next append). */
  get bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  #room(n: number): number {
    const at = this.#length;
    if (at + n > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, at + n));
      grown.set(this.#bytes.subarray(0, at));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length = at + n;
    return at;
  }

  write(width: 4 | 8, offset: number, value: bigint, tag?: unknown): void {
    const at = this.#room(BATCH_WRITE_SIZE);
    const v = this.#view;
    v.setUint32(at, BatchOp.WRITE | (width << 8), true);
    v.setUint32(at + 4, 0, true);
    putOffset(v, at + 8, offset);
    v.setBigUint64(at + 16, value, true);
    this.tags.push(tag);
    this.#entries++;
  }

  /** Returns the poll's slot in the result's values. */
  poll(width: 4 | 8, offset: number, mask: bigint, expected: bigint, maxReads: number, tag?: unknown): number {
    countArg('maxReads', maxReads, 1);
    const at = this.#room(BATCH_POLL_SIZE);
    const v = this.#view;
    v.setUint32(at, BatchOp.POLL | (width << 8), true);
    v.setUint32(at + 4, maxReads, true);
    putOffset(v, at + 8, offset);
    v.setBigUint64(at + 16, mask, true);
    v.setBigUint64(at + 24, expected, true);
    this.tags.push(tag);
    this.#lastPoll = this.#entries++;
    return this.#polls++;
  }

  /** A check of the previous poll's value; `retryFrom` (an entry index, default none) loops back on failure. */
  check(mask: bigint, value: bigint, options: { retryFrom?: number; maxRetries?: number } = {}, tag?: unknown): void {
    const retryFrom = options.retryFrom ?? this.#entries;
    const maxRetries = options.maxRetries ?? 0;
    countArg('maxRetries', maxRetries, 0);
    if (this.#lastPoll < 0 || !Number.isInteger(retryFrom) || retryFrom < 0 || retryFrom > this.#entries) {
      throw new ArgumentError('EARG_BATCH', `AccessBatch.check: needs a poll before it and retryFrom in 0..${this.#entries} (got ${String(retryFrom)})`, { retryFrom });
    }
    const at = this.#room(BATCH_CHECK_SIZE);
    const v = this.#view;
    v.setUint32(at, BatchOp.CHECK, true);
    v.setUint32(at + 4, maxRetries, true);
    v.setUint32(at + 8, retryFrom, true);
    v.setUint32(at + 12, 0, true);
    v.setBigUint64(at + 16, mask, true);
    v.setBigUint64(at + 24, value, true);
    this.tags.push(tag);
    this.#entries++;
  }

  /** Index the next entry will have (a loop's retryFrom). */
  mark(): number {
    return this.#entries;
  }
}

function putOffset(v: DataView, at: number, offset: number): void {
  v.setUint32(at, offset >>> 0, true);
  v.setUint32(at + 4, Math.floor(offset / 0x1_0000_0000), true);
}

/** A u64 offset as a number; past 2^53 it is reported as Infinity (outside any region). */
function getOffset(v: DataView, at: number): number {
  const hi = v.getUint32(at + 4, true);
  return hi >= 0x20_0000 ? Infinity : hi * 0x1_0000_0000 + v.getUint32(at, true);
}

function countArg(what: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min || n > BATCH_MAX_COUNT) {
    throw new ArgumentError('EARG_BATCH', `AccessBatch: ${what} ${String(n)} is outside ${min}..${BATCH_MAX_COUNT}`, { [what]: n });
  }
}

/** A batch checked against a region: where each entry starts and which poll slot it fills. */
export interface ParsedBatch {
  bytes: Uint8Array;
  /** Byte offset of each entry. */
  starts: Int32Array;
  polls: number;
}

/** Why a batch is refused before anything runs (the caller maps it to its error type). */
export class BatchFormatProblem {
  constructor(readonly problem: string, readonly oversized = false) {}
}

/**
 * Check every entry of `bytes` (`count` entries) before any runs: known ops, widths 4/8, aligned
 * offsets inside `regionSize`, counts in range, a CHECK after a POLL looping back to an earlier
 * entry, and no bytes left over. Returns the parsed batch or the problem.
 */
export function parseAccessBatch(bytes: Uint8Array, count: number, regionSize: number, maxEntries: number): ParsedBatch | BatchFormatProblem {
  if (count === 0) return new BatchFormatProblem('the batch has no entries');
  if (count > maxEntries) return new BatchFormatProblem(`${count} entries is over the limit of ${maxEntries}`, true);
  const starts = new Int32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let polls = 0;
  let pollBefore = false;
  for (let i = 0; i < count; i++) {
    if (at + 1 > bytes.length) return new BatchFormatProblem(`entry ${i} starts at byte ${at}, past the ${bytes.length}-byte payload`);
    starts[i] = at;
    const op = bytes[at]!;
    const size = op === BatchOp.WRITE ? BATCH_WRITE_SIZE : op === BatchOp.POLL ? BATCH_POLL_SIZE : op === BatchOp.CHECK ? BATCH_CHECK_SIZE : 0;
    if (size === 0) return new BatchFormatProblem(`entry ${i} has unknown op ${op} (1 write, 2 poll, 3 check)`);
    if (at + size > bytes.length) return new BatchFormatProblem(`entry ${i} (op ${op}) needs ${size} bytes at ${at}, the payload has ${bytes.length}`);
    if (op === BatchOp.CHECK) {
      const maxRetries = view.getUint32(at + 4, true);
      const retryFrom = view.getUint32(at + 8, true);
      if (!pollBefore) return new BatchFormatProblem(`entry ${i}: a check must follow a poll`);
      if (maxRetries > BATCH_MAX_COUNT) return new BatchFormatProblem(`entry ${i}: maxRetries ${maxRetries} is over ${BATCH_MAX_COUNT}`, true);
      if (retryFrom > i) return new BatchFormatProblem(`entry ${i}: retryFrom ${retryFrom} is not an earlier entry`);
      if (maxRetries > 0 && retryFrom === i) return new BatchFormatProblem(`entry ${i}: retries need retryFrom before the check`);
    } else {
      const width = bytes[at + 1]!;
      const offset = getOffset(view, at + 8);
      if (width !== 4 && width !== 8) return new BatchFormatProblem(`entry ${i}: width ${width} (4 or 8 bytes)`);
      if (offset + width > regionSize || offset % width !== 0) {
        return new BatchFormatProblem(`entry ${i}: ${width}-byte access at 0x${view.getBigUint64(at + 8, true).toString(16)} is misaligned or past the region's 0x${regionSize.toString(16)} bytes`);
      }
      if (op === BatchOp.POLL) {
        const maxReads = view.getUint32(at + 4, true);
        if (maxReads === 0) return new BatchFormatProblem(`entry ${i}: maxReads 0 (at least one read)`);
        if (maxReads > BATCH_MAX_COUNT) return new BatchFormatProblem(`entry ${i}: maxReads ${maxReads} is over ${BATCH_MAX_COUNT}`, true);
        polls++;
        pollBefore = true;
      }
    }
    at += size;
  }
  if (at !== bytes.length) return new BatchFormatProblem(`${bytes.length - at} bytes follow the ${count} entries`);
  return { bytes, starts, polls };
}

/** The register accesses a batch runs on (a Region, or a device's region behind a server). */
export interface BatchTarget {
  read32(offset: number): number;
  read64(offset: number): bigint;
  write32(offset: number, value: number): void;
  write64(offset: number, value: bigint): void;
}

/**
 * Run a parsed batch in order on `target`, stopping as the entries say; at most `budget` accesses
 * (the runner must stay responsive: a batch of hung polls ends with BUDGET, not a stall).
 */
export function runAccessBatch(batch: ParsedBatch, target: BatchTarget, budget: number): AccessBatchResult {
  const { bytes, starts } = batch;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = starts.length;
  const values = new BigUint64Array(batch.polls);
  let retries: Uint32Array | undefined;
  let slot = -1;
  let accesses = 0;
  let reached = 0;
  // Poll slot of each entry, so a loop back re-fills the same slots.
  const slotOf = new Int32Array(count);
  for (let i = 0, s = 0; i < count; i++) slotOf[i] = bytes[starts[i]!] === BatchOp.POLL ? s++ : -1;
  let i = 0;
  const result = (stop: BatchStopCode): AccessBatchResult => ({ completed: i, stop, accesses, values: values.subarray(0, reached) });
  while (i < count) {
    const at = starts[i]!;
    const op = bytes[at]!;
    if (op === BatchOp.CHECK) {
      const value = values[slot]!;
      if ((value & view.getBigUint64(at + 16, true)) === view.getBigUint64(at + 24, true)) {
        if (retries) retries[i] = 0;
        i++;
        continue;
      }
      const maxRetries = view.getUint32(at + 4, true);
      retries ??= new Uint32Array(count);
      if (retries[i]! >= maxRetries) return result(BatchStop.CHECK_FAILED);
      retries[i]!++;
      i = view.getUint32(at + 8, true);
      continue;
    }
    if (accesses >= budget) return result(BatchStop.BUDGET);
    const width = bytes[at + 1]!;
    const offset = getOffset(view, at + 8);
    if (op === BatchOp.WRITE) {
      accesses++;
      if (width === 8) target.write64(offset, view.getBigUint64(at + 16, true));
      else target.write32(offset, view.getUint32(at + 16, true));
      i++;
      continue;
    }
    const maxReads = view.getUint32(at + 4, true);
    const mask = view.getBigUint64(at + 16, true);
    const expected = view.getBigUint64(at + 24, true);
    slot = slotOf[i]!;
    if (slot + 1 > reached) reached = slot + 1;
    let value = 0n;
    let matched = false;
    for (let n = 0; n < maxReads; n++) {
      if (accesses >= budget) {
        values[slot] = value;
        return result(BatchStop.BUDGET);
      }
      accesses++;
      value = width === 8 ? target.read64(offset) : BigInt(target.read32(offset) >>> 0);
      if ((value & mask) === expected) {
        matched = true;
        break;
      }
    }
    values[slot] = value;
    if (!matched) return result(BatchStop.POLL_TIMEOUT);
    i++;
  }
  return result(BatchStop.DONE);
}
