// The simulated FME partial reconfiguration engine (FME private feature 0x5): the DEVICE side of
// the protocol the kernel's dfl-fme-mgr.c speaks (reference/pr.md). Offsets relative to the DFH.
//
// PR_CTRL 0x08: [0] PR reset (host), [4] PR reset ACK (engine), [9:7] region (port) ID,
//               [12] PR start (host sets, engine clears when done), [13] PR complete (host),
//               [63:32] config data (stored, read back).
// PR_STS  0x10: [8:0] credits = free FIFO slots, [16] PR status (1 = busy / failed, 0 = idle),
//               [22:20] controller status, [27:24] host status, [63:32] security block status.
// PR_DATA 0x18: [31:0] one bitstream word per 64-bit store.
// PR_ERR  0x20: [0] operation, [1] CRC, [2] incompatible bitstream, [3] IP protocol, [4] FIFO
//               overflow, [5] timeout, [6] secure load. Write 1 to clear (the host writes back
//               the value it read).
// PR_INTFC_ID_L/H 0xA8/0xB0: the PR interface ID (compat ID) GBS files must match.
//
// Behaviour, all on the card's clock and evaluated lazily at each register access (so a
// VirtualClock runs an 8-second timeout instantly and a real clock runs in real time):
// - Setting PR reset empties the FIFO and aborts an operation; the ACK rises resetAckDelayUs later.
//   Clearing PR reset drops the ACK; PR_STS[16] stays 1 for initDelayUs, then reads idle.
// - PR start (with PR_STS[16] idle and reset released) begins an operation on the region ID in
//   PR_CTRL[9:7]. The target port must be held in reset (the host disables it first, dfl.md),
//   otherwise the operation ends with the operation error bit.
// - Each PR_DATA store takes a FIFO slot; the FIFO drains at drainWordsPerUs. A store with no free
//   slot is lost and latches FIFO overflow. A store outside an operation latches protocol error.
// - PR complete: once the FIFO has drained and programDelayUs passed, the engine checks the image
//   (sim image header, see pr-engine-image.ts: interface ID, payload length, CRC), clears PR start,
//   and on success replaces the port's AFU (ctx.loadAfu) by the one the image names. A stream
//   that starts with PACSign's block0 (a signed GBS) is checked first (checkSignedStream) and the
//   image read after its 1,024 bytes of blocks; a failed check latches secure load error. On failure
//   the error bits latch and PR_STS[16] stays 1 until the next PR reset (dfl-fme-mgr.c reads
//   PR_ERR only while PR_STS[16] is set, so kernel-style hosts see the error too).
// Latched PR_ERR bits survive PR reset until written back (pr.md step 1 clears them).
import type { FeatureModel, FeatureModelFactory, SimContext } from './feature-model.js';
import type { Clock } from '../util/clock.js';
import {
  PR_CTRL, PR_STS, PR_DATA, PR_ERR, PR_INTFC_ID_L, PR_INTFC_ID_H,
  PR_CTRL_PR_RST, PR_CTRL_PR_RSTACK, PR_CTRL_RGN_ID, PR_CTRL_PR_START, PR_CTRL_PR_COMPLETE, PR_CTRL_CONFIG_DATA,
  PR_STS_PR_CREDIT, PR_STS_PR_STS, PR_STS_HOST_STS, PR_ERR_KNOWN_MASK,
  PR_ERR_OPERATION, PR_ERR_CRC, PR_ERR_INCOMPATIBLE, PR_ERR_PROTOCOL, PR_ERR_FIFO_OVERFLOW, PR_ERR_TIMEOUT, PR_ERR_SECURE_LOAD,
} from '../dfl/regs/pr.js';
import { decodeSimImageHeader, crc32, SIM_IMAGE_HEADER_LENGTH, uuidHalves, uuidString } from './pr-engine-image.js';
import { getLe32 } from '../util/bytes.js';
import { fieldGet, fieldPrep } from '../util/bitfield.js';
// The signed-image layout is a file format, not a register map: its constants live with the
// parser (pure data, no code), read here as the card's secure PR block would read the stream.
import { B0_MAGIC, B0_PAYLOAD_LENGTH, B0_SHA256, B0_SHA384, BLOCK0_MAGIC, BLOCK1_MAGIC, BLOCK1_OFFSET, PAYLOAD_OFFSET } from '../dfl/regs/signed-image-layout.js';
import { createHash } from 'node:crypto';

/** Why a signed PR stream fails the sim's secure check, or undefined when block0/block1 and the hashes hold. */
function checkSignedStream(bytes: Uint8Array): string | undefined {
  if (bytes.length < PAYLOAD_OFFSET + 4) return `the stream is ${bytes.length} bytes, shorter than the 1,024-byte signature blocks`;
  if (getLe32(bytes, BLOCK1_OFFSET) !== BLOCK1_MAGIC) return 'block1 magic missing';
  const length = getLe32(bytes, B0_PAYLOAD_LENGTH);
  if (length === 0 || PAYLOAD_OFFSET + length > bytes.length) return `block0 payload length ${length} does not fit the ${bytes.length - PAYLOAD_OFFSET} bytes received`;
  const payload = bytes.subarray(PAYLOAD_OFFSET, PAYLOAD_OFFSET + length);
  const same = (alg: string, at: number, n: number): boolean => Buffer.from(createHash(alg).update(payload).digest()).equals(bytes.subarray(at, at + n));
  if (!same('sha256', B0_SHA256, 32) || !same('sha384', B0_SHA384, 48)) return 'payload hashes do not match block0';
  return undefined;
}

// The register map is shared with the host (src/dfl/regs/pr.ts); the offsets are re-exported for
// tests that drive the model register by register.
export { PR_CTRL, PR_STS, PR_DATA, PR_ERR, PR_INTFC_ID_L, PR_INTFC_ID_H } from '../dfl/regs/pr.js';
export {
  PR_ERR_OPERATION, PR_ERR_CRC, PR_ERR_INCOMPATIBLE, PR_ERR_PROTOCOL, PR_ERR_FIFO_OVERFLOW, PR_ERR_TIMEOUT, PR_ERR_SECURE_LOAD,
} from '../dfl/regs/pr.js';

/** PR_STS[8:0] as a number: the FIFO depth can be at most this. */
const STS_CREDIT_MASK = Number(PR_STS_PR_CREDIT);
/** PR_ERR bits the model latches and clears, as a number. */
const PR_ERR_ALL = Number(PR_ERR_KNOWN_MASK);

/**
 * Host status field PR_STS[27:24] as this model reports it. The kernel names only 0 (idle,
 * PR_HOST_STATUS_IDLE); the other values are the sim's own, for diagnostics.
 */
export const SimHostStatus = { IDLE: 0, RECEIVING: 1, PROGRAMMING: 2, FAILED: 3 } as const;
/** PR_STS[27:24] for each SimHostStatus, prepared once (PR_STS is read on every credit poll). */
const HOST_STS_FIELD = Object.values(SimHostStatus).map((h) => fieldPrep(PR_STS_HOST_STS, h));

/** Faults the model can inject. */
export type PrFault =
  /** Latch PR_ERR[1] CRC error at completion. */
  | 'crc'
  /** Latch PR_ERR[2] incompatible bitstream at completion. */
  | 'incompatible'
  /** Latch PR_ERR[3] IP protocol error at completion. */
  | 'protocol'
  /** Latch PR_ERR[4] FIFO overflow at completion. */
  | 'fifo-overflow'
  /** Latch PR_ERR[5] timeout at completion. */
  | 'timeout'
  /** Latch PR_ERR[6] secure load error at completion. */
  | 'secure-load'
  /** Latch PR_ERR[0] operation error at completion. */
  | 'operation'
  /** PR reset is never acknowledged (PR_CTRL[4] stays 0). */
  | 'reset-ack-never'
  /** PR_STS[16] never returns to idle after PR reset. */
  | 'busy-stuck'
  /** The FIFO never drains: credits run out and never come back. */
  | 'credit-starvation'
  /** PR start never clears after PR complete. */
  | 'complete-hang';

export const PR_FAULTS: readonly PrFault[] = ['crc', 'incompatible', 'protocol', 'fifo-overflow', 'timeout', 'secure-load', 'operation', 'reset-ack-never', 'busy-stuck', 'credit-starvation', 'complete-hang'];

const FAULT_ERROR_BITS: Partial<Record<PrFault, number>> = {
  crc: PR_ERR_CRC,
  incompatible: PR_ERR_INCOMPATIBLE,
  protocol: PR_ERR_PROTOCOL,
  'fifo-overflow': PR_ERR_FIFO_OVERFLOW,
  timeout: PR_ERR_TIMEOUT,
  'secure-load': PR_ERR_SECURE_LOAD,
  operation: PR_ERR_OPERATION,
};

export interface PrEngineOptions {
  /** PR interface ID (UUID string) served at PR_INTFC_ID_H:L; default: the card's (ctx.prInterfaceId). */
  interfaceId?: string;
  /** FIFO depth in 32-bit words = credits when empty (2..511; PR_STS[8:0] is 9 bits). Default 256. */
  fifoDepth?: number;
  /** FIFO drain rate in words per microsecond of the card's clock. Default 64 (256 MB/s). */
  drainWordsPerUs?: number;
  /** Delay from PR reset set to PR reset ACK. Default 2 us. */
  resetAckDelayUs?: number;
  /** Time PR_STS[16] stays busy after PR reset is released. Default 10 us. */
  initDelayUs?: number;
  /** Time from the FIFO draining after PR complete to PR start clearing. Default 100 us. */
  programDelayUs?: number;
  /** Faults active from the start. */
  faults?: Iterable<PrFault>;
}

export const DEFAULT_PR_INTERFACE_ID = '9346116d-a52d-5ca8-b06a-a9a389ef7c8d';

/** One finished (or aborted) PR operation, for tests and diagnostics. */
export interface PrOperationRecord {
  port: number;
  /** Words accepted into the FIFO. */
  words: number;
  /** PR_ERR bits this operation latched (0 = success). */
  errors: number;
  /** The AFU GUID loaded on success. */
  afuGuid: string | undefined;
  startedAtMs: number;
  finishedAtMs: number;
  aborted: boolean;
}

type Phase = 'idle' | 'receiving' | 'programming';

export class PrEngine implements FeatureModel {
  readonly size = 0x1000;
  readonly interfaceId: string;
  readonly fifoDepth: number;
  drainWordsPerUs: number;
  readonly resetAckDelayUs: number;
  readonly initDelayUs: number;
  readonly programDelayUs: number;
  /** Operations in order. */
  readonly operations: PrOperationRecord[] = [];
  /** Stores to PR_DATA since creation, accepted or not (a test proves "nothing was written"). */
  dataWrites = 0;
  /** Stores to PR_CTRL since creation. */
  ctrlWrites = 0;

  readonly #ctx: SimContext;
  readonly #clock: Clock;
  readonly #ifcLow: bigint;
  readonly #ifcHigh: bigint;
  readonly #faults = new Set<PrFault>();

  // PR_CTRL state written by the host.
  #resetHeld = false;
  /** PR_CTRL[9:7] as written (kept in place: PR_CTRL is read on every poll). */
  #regionField = 0n;
  #configData = 0n;
  #start = false;
  #complete = false;
  #resetAt = 0;
  #busyUntil = 0;
  #failed = false;
  #errors = 0;
  /** Errors of the running operation (reported at completion). */
  #opErrors = 0;

  #phase: Phase = 'idle';
  #port = 0;
  #startedAt = 0;
  #doneAt = Infinity;
  #fifoLevel = 0;
  #lastDrain = 0;
  #words = new Uint32Array(1024);
  #count = 0;

  constructor(ctx: SimContext, options: PrEngineOptions = {}) {
    this.#ctx = ctx;
    this.#clock = ctx.clock;
    this.interfaceId = (options.interfaceId ?? ctx.prInterfaceId ?? DEFAULT_PR_INTERFACE_ID).toLowerCase();
    const ifc = uuidHalves(this.interfaceId);
    this.#ifcLow = ifc.low;
    this.#ifcHigh = ifc.high;
    const depth = options.fifoDepth ?? 256;
    if (!Number.isInteger(depth) || depth < 2 || depth > STS_CREDIT_MASK) throw new RangeError(`PR engine fifoDepth ${depth} must be an integer in 2..511 (PR_STS[8:0])`);
    this.fifoDepth = depth;
    this.drainWordsPerUs = options.drainWordsPerUs ?? 64;
    this.resetAckDelayUs = options.resetAckDelayUs ?? 2;
    this.initDelayUs = options.initDelayUs ?? 10;
    this.programDelayUs = options.programDelayUs ?? 100;
    for (const f of options.faults ?? []) this.inject(f);
    this.#lastDrain = this.#clock.now();
  }

  // ---- test/diagnostic API (not visible to the host) ----

  inject(...faults: PrFault[]): void {
    for (const f of faults) {
      if (!PR_FAULTS.includes(f)) throw new RangeError(`unknown PR fault "${String(f)}"; known: ${PR_FAULTS.join(', ')}`);
      this.#faults.add(f);
    }
  }

  clearFaults(...faults: PrFault[]): void {
    if (faults.length === 0) this.#faults.clear();
    for (const f of faults) this.#faults.delete(f);
  }

  get faults(): PrFault[] {
    return [...this.#faults];
  }

  /** Words received in the current (or last) operation. */
  get wordsReceived(): number {
    return this.#count;
  }

  /** Bytes received in the current (or last) operation (a copy), padding included. */
  receivedBytes(): Uint8Array {
    return new Uint8Array(this.#words.buffer.slice(0, this.#count * 4));
  }

  // ---- FeatureModel ----

  read64(offset: number): bigint {
    this.#tick();
    switch (offset) {
      case PR_CTRL: return this.#readCtrl();
      case PR_STS: return this.#readStatus();
      case PR_ERR: return BigInt(this.#errors);
      case PR_INTFC_ID_L: return this.#ifcLow;
      case PR_INTFC_ID_H: return this.#ifcHigh;
      default: return 0n; // PR_DATA is write-only; the rest is reserved
    }
  }

  write64(offset: number, value: bigint): void {
    if (offset === PR_DATA) {
      this.#writeData(value);
      return;
    }
    this.#tick();
    if (offset === PR_CTRL) {
      this.ctrlWrites++;
      this.#writeCtrl(value);
    }
    else if (offset === PR_ERR) this.#errors &= ~Number(value & BigInt(PR_ERR_ALL));
  }

  reset(): void {
    if (this.#phase !== 'idle') this.#record(true);
    this.#resetHeld = false;
    this.#regionField = 0n;
    this.#configData = 0n;
    this.#start = false;
    this.#complete = false;
    this.#busyUntil = 0;
    this.#failed = false;
    this.#errors = 0;
    this.#phase = 'idle';
    this.#fifoLevel = 0;
    this.#doneAt = Infinity;
    this.#lastDrain = this.#clock.now();
  }

  // ---- internals ----

  #readCtrl(): bigint {
    let v = this.#configData | this.#regionField;
    if (this.#resetHeld) {
      v |= PR_CTRL_PR_RST;
      if (!this.#faults.has('reset-ack-never') && this.#clock.now() >= this.#resetAt + this.resetAckDelayUs / 1000) v |= PR_CTRL_PR_RSTACK;
    }
    if (this.#start) v |= PR_CTRL_PR_START;
    if (this.#complete) v |= PR_CTRL_PR_COMPLETE;
    return v;
  }

  #readStatus(): bigint {
    const credits = Math.max(0, this.fifoDepth - Math.ceil(this.#fifoLevel)) & STS_CREDIT_MASK;
    let host: number = SimHostStatus.IDLE;
    let busy = this.#failed || this.#resetHeld || this.#clock.now() < this.#busyUntil;
    if (this.#phase === 'receiving') { host = SimHostStatus.RECEIVING; busy = true; }
    else if (this.#phase === 'programming') { host = SimHostStatus.PROGRAMMING; busy = true; }
    else if (this.#failed) host = SimHostStatus.FAILED;
    return fieldPrep(PR_STS_PR_CREDIT, credits) | (busy ? PR_STS_PR_STS : 0n) | HOST_STS_FIELD[host]!;
  }

  #writeCtrl(value: bigint): void {
    const now = this.#clock.now();
    const reset = (value & PR_CTRL_PR_RST) !== 0n;
    this.#regionField = value & PR_CTRL_RGN_ID;
    this.#configData = value & PR_CTRL_CONFIG_DATA;
    if (reset && !this.#resetHeld) {
      // PR reset: abort whatever runs, empty the FIFO. Latched PR_ERR bits stay.
      if (this.#phase !== 'idle') this.#record(true);
      this.#resetHeld = true;
      this.#resetAt = now;
      this.#phase = 'idle';
      this.#start = false;
      this.#complete = false;
      this.#failed = false;
      this.#fifoLevel = 0;
      this.#doneAt = Infinity;
      return;
    }
    if (!reset && this.#resetHeld) {
      this.#resetHeld = false;
      this.#busyUntil = this.#faults.has('busy-stuck') ? Infinity : now + this.initDelayUs / 1000;
    }
    if (this.#resetHeld) return; // start/complete are ignored while the engine is held in reset
    const start = (value & PR_CTRL_PR_START) !== 0n;
    const complete = (value & PR_CTRL_PR_COMPLETE) !== 0n;
    if (start && !this.#start) this.#beginOperation(now);
    if (complete && !this.#complete) this.#beginProgramming(now);
  }

  #beginOperation(now: number): void {
    if (this.#failed || now < this.#busyUntil || this.#phase !== 'idle') {
      // Start while the engine is not idle violates the push protocol.
      this.#errors |= PR_ERR_PROTOCOL;
      return;
    }
    this.#start = true;
    this.#phase = 'receiving';
    this.#port = Number(fieldGet(PR_CTRL_RGN_ID, this.#regionField));
    this.#startedAt = now;
    this.#count = 0;
    this.#fifoLevel = 0;
    this.#lastDrain = now;
    this.#opErrors = 0;
    let held: boolean;
    try {
      held = this.#ctx.portInReset(this.#port);
    } catch (err) {
      // A region ID with no port behind it: the engine cannot program it.
      this.#ctx.log('PR started on region %d, which has no port: %s', this.#port, (err as Error).message);
      held = false;
    }
    if (!held) {
      // The port behind the region must be held in soft reset (disabled) during PR, dfl.md.
      this.#ctx.log('PR started on port %d while the port is not in reset', this.#port);
      this.#opErrors |= PR_ERR_OPERATION;
    }
  }

  #beginProgramming(now: number): void {
    if (this.#phase !== 'receiving') {
      this.#errors |= PR_ERR_PROTOCOL; // complete without start
      return;
    }
    this.#complete = true;
    this.#phase = 'programming';
    if (this.#faults.has('complete-hang')) {
      this.#doneAt = Infinity;
      return;
    }
    const drainMs = this.#fifoLevel > 0 ? (this.drainWordsPerUs > 0 && !this.#faults.has('credit-starvation') ? this.#fifoLevel / this.drainWordsPerUs / 1000 : Infinity) : 0;
    this.#doneAt = now + drainMs + this.programDelayUs / 1000;
  }

  #writeData(value: bigint): void {
    this.dataWrites++;
    this.#tick();
    if (this.#phase !== 'receiving') {
      this.#errors |= PR_ERR_PROTOCOL; // data outside start..complete
      return;
    }
    if (this.#fifoLevel + 1 > this.fifoDepth) {
      this.#errors |= PR_ERR_FIFO_OVERFLOW; // the word is lost
      this.#opErrors |= PR_ERR_FIFO_OVERFLOW;
      return;
    }
    this.#fifoLevel += 1;
    if (this.#count === this.#words.length) {
      const grown = new Uint32Array(this.#words.length * 2);
      grown.set(this.#words);
      this.#words = grown;
    }
    this.#words[this.#count++] = Number(value & 0xffff_ffffn);
  }

  #tick(): void {
    const now = this.#clock.now();
    if (this.#fifoLevel > 0 && this.drainWordsPerUs > 0 && !this.#faults.has('credit-starvation')) {
      this.#fifoLevel = Math.max(0, this.#fifoLevel - (now - this.#lastDrain) * 1000 * this.drainWordsPerUs);
    }
    this.#lastDrain = now;
    if (this.#phase === 'programming' && now >= this.#doneAt) this.#finish();
  }

  #finish(): void {
    let errors = this.#opErrors;
    let afuGuid: string | undefined;
    let bytes = new Uint8Array(this.#words.buffer, 0, this.#count * 4);
    // A PACSign-signed bitstream arrives with its block0 + block1 first (fpgaconf and the kernel
    // send them along, see src/afu/pr/gbs.ts). The sim has no keys: it checks what it can (block0
    // and block1 magics, the payload's SHA-256 and SHA-384 against block0) and latches PR_ERR[6]
    // secure load error when that fails; the image itself follows the 1,024 bytes of blocks.
    if (bytes.length >= 4 && getLe32(bytes, B0_MAGIC) === BLOCK0_MAGIC) {
      const secure = checkSignedStream(bytes);
      if (secure !== undefined) {
        this.#ctx.log('PR secure load refused: %s', secure);
        errors |= PR_ERR_SECURE_LOAD;
      }
      bytes = bytes.subarray(Math.min(bytes.length, PAYLOAD_OFFSET));
    }
    const refused = (errors & PR_ERR_SECURE_LOAD) !== 0;
    const header = refused ? undefined : decodeSimImageHeader(bytes);
    if (refused) {
      // nothing is loaded from a stream that failed the secure check
    } else if (!header) {
      this.#ctx.log('PR image has no sim image header: incompatible bitstream');
      errors |= PR_ERR_INCOMPATIBLE;
    } else if (header.interfaceIdLow !== this.#ifcLow || header.interfaceIdHigh !== this.#ifcHigh) {
      this.#ctx.log('PR image built for interface %s, engine is %s', uuidString(header.interfaceIdHigh, header.interfaceIdLow), this.interfaceId);
      errors |= PR_ERR_INCOMPATIBLE;
    } else if (SIM_IMAGE_HEADER_LENGTH + header.payloadLength > bytes.length) {
      this.#ctx.log('PR complete after %d of %d image bytes', bytes.length, SIM_IMAGE_HEADER_LENGTH + header.payloadLength);
      errors |= PR_ERR_PROTOCOL;
    } else if (crc32(bytes.subarray(SIM_IMAGE_HEADER_LENGTH, SIM_IMAGE_HEADER_LENGTH + header.payloadLength)) !== header.payloadCrc) {
      errors |= PR_ERR_CRC;
    } else {
      afuGuid = uuidString(header.afuGuidHigh, header.afuGuidLow);
    }
    for (const f of this.#faults) errors |= FAULT_ERROR_BITS[f] ?? 0;
    if (errors === 0 && afuGuid) {
      try {
        this.#ctx.loadAfu(this.#port, afuGuid);
      } catch (err) {
        this.#ctx.log('loadAfu(port %d) failed: %s', this.#port, (err as Error).message);
        errors |= PR_ERR_OPERATION;
      }
    }
    this.#errors |= errors;
    this.#failed = errors !== 0;
    this.#start = false;
    this.#complete = false;
    this.#phase = 'idle';
    this.#doneAt = Infinity;
    this.operations.push({ port: this.#port, words: this.#count, errors, afuGuid: errors ? undefined : afuGuid, startedAtMs: this.#startedAt, finishedAtMs: this.#clock.now(), aborted: false });
  }

  #record(aborted: boolean): void {
    this.operations.push({ port: this.#port, words: this.#count, errors: this.#opErrors, afuGuid: undefined, startedAtMs: this.#startedAt, finishedAtMs: this.#clock.now(), aborted });
  }
}

const engines = new WeakMap<SimContext, PrEngine>();

/** A factory for cards with a PR engine built with `options`. */
export function createPrEngineFactory(options: PrEngineOptions = {}): FeatureModelFactory {
  return (ctx) => {
    const engine = new PrEngine(ctx, options);
    engines.set(ctx, engine);
    return engine;
  };
}

/** The default PR engine factory (registered as 'fme:0x5' in src/sim/defaults.ts). */
export const prEngineFactory: FeatureModelFactory = createPrEngineFactory();

/** The PR engine a card built for `ctx`, if any (tests inject faults through it). */
export function prEngineOf(ctx: SimContext): PrEngine | undefined {
  return engines.get(ctx);
}
