// Partial reconfiguration: load a GBS into one port's PR region through the FME PR feature, as
// the kernel's dfl-fme-pr.c fme_pr and fpga-region.c fpga_region_program_fpga do around the
// manager (reference/pr.md), run from userspace on the FME's BAR:
//
//   0. validate (fme_pr): the GBS interface UUID equals the manager's compat ID PR_INTFC_ID_H:L
//      (unless force), the port index is below FME_CAP's port count; pad the bitstream to a
//      multiple of 4 bytes. Nothing is written to the card before these checks pass.
//   Take the reservation; clear the port's errors and disable the port (the bridge: hold it in
//   soft reset, dfl-fme-br.c).
//   1-3. load (fpga_mgr_load): the manager's write-init / write / write-complete, fpga-manager.ts
//      over the FME ops of fme-mgr.ts, with cancel between chunks and progress after each.
//   Enable the port again - also on every failure path - and release the reservation.
import type { VfiokitErrorCode } from '../../error-codes.js';
import { EventEmitter } from 'node:events';
import { ArgumentError, VfiokitError } from '../../errors.js';
import { hex } from '../../util/bytes.js';
import { logger } from '../../util/log.js';
import type { Gbs } from './gbs.js';
import { PR_DATA_WORD_BYTES, PR_POLL_INTERVAL_US, PR_WAIT_TIMEOUT_MS } from './registers.js';
import { Subtype, contentTypeKeys } from '../../dfl/regs/signed-image-layout.js';
import { FpgaManager, type FpgaManagerStatus } from './fpga-manager.js';
import { fmeMgrOps, type PrFeatureRef } from './fme-mgr.js';

export type { PrFeatureRef } from './fme-mgr.js';

const log = logger('pr');

/** A failed partial reconfiguration. `details.step` names the step, `register`/`bits` what showed it. */
export class PrError extends VfiokitError {}

/** The port operations PR needs (a Port of the card model). May be sync or async. */
export interface PrPort {
  clearErrors(): unknown;
  disable(): unknown;
  enable(): unknown;
}

/**
 * What the flow runs against: the FME's PR manager (`manager`, or the FME's ops run on the PR
 * feature's registers `pr`), its port count and its ports.
 */
export interface PrTarget {
  pr?: PrFeatureRef;
  manager?: FpgaManager;
  /** FME_CAP[19:17] number of ports. */
  portCount: number;
  /** The port with FME port index `index`, or undefined when the card has none there. */
  port(index: number): PrPort | undefined;
}

/** Optional hook for the card reservation (lock) layer: held for the whole operation. */
export interface PrReservation {
  begin(info: { operation: 'pr'; port: number }): unknown;
  end(info: { operation: 'pr'; port: number; ok: boolean }): unknown;
}

/**
 * Steps of a PR, in order. Around the manager: validate .. disable-port and enable-port, done;
 * the manager's write-init: pr-reset .. set-region; write: start, stream; write-complete:
 * complete .. check-errors (fpga-manager.ts FpgaManagerState names the phase).
 */
export type PrStep =
  | 'validate'
  | 'reserve'
  | 'clear-port-errors'
  | 'disable-port'
  | 'pr-reset'
  | 'wait-idle'
  | 'clear-errors'
  | 'set-region'
  | 'start'
  | 'stream'
  | 'complete'
  | 'wait-done'
  | 'check-errors'
  | 'enable-port'
  | 'done';

export interface PrProgress {
  step: PrStep;
  /** Bitstream bytes written to PR_DATA so far (padding included). */
  written: number;
  /** Bytes to write (the bitstream padded to a multiple of 4). */
  total: number;
}

export interface PrTimeouts {
  /** PR reset ACK wait (kernel 8 s). */
  resetAckMs: number;
  /** PR_STS[16] idle wait (kernel 8 s). */
  idleMs: number;
  /** Longest wait for a credit (kernel 8 s). */
  creditMs: number;
  /** PR start clear after PR complete (kernel 8 s). */
  completeMs: number;
  /** Poll interval of every wait (kernel 1 us). */
  intervalUs: number;
}

export const KERNEL_PR_TIMEOUTS: Readonly<PrTimeouts> = {
  resetAckMs: PR_WAIT_TIMEOUT_MS,
  idleMs: PR_WAIT_TIMEOUT_MS,
  creditMs: PR_WAIT_TIMEOUT_MS,
  completeMs: PR_WAIT_TIMEOUT_MS,
  intervalUs: PR_POLL_INTERVAL_US,
};

export interface PrOptions {
  /** FME port index = PR region ID (default 0). */
  port?: number;
  /** Skip the interface UUID check (the engine may still refuse the bitstream). */
  force?: boolean;
  /** Validate only: check the GBS, the interface ID and the port; write nothing. */
  dryRun?: boolean;
  /** Called on every step change and after every streamed chunk. */
  onProgress?: (progress: PrProgress) => void;
  /** Abort between chunks of the stream (the port is enabled again; the region must be reloaded). */
  signal?: AbortSignal;
  reservation?: PrReservation;
  /** Override the kernel's timeouts (tests of slow models); defaults are KERNEL_PR_TIMEOUTS. */
  timeouts?: Partial<PrTimeouts>;
  /** Words per creditStream call between progress reports (default 16384 = 64 KiB). */
  chunkWords?: number;
}

export interface PrResult {
  port: number;
  dryRun: boolean;
  interfaceUuid: string;
  /** The FME's PR interface ID read from PR_INTFC_ID_H:L. */
  fmeInterfaceUuid: string;
  acceleratorUuid: string | undefined;
  /** Bitstream bytes in the GBS. */
  bitstreamBytes: number;
  /** The GBS is PACSign-signed (its signature blocks were sent with the bitstream). */
  signed: boolean;
  /** Bytes written to PR_DATA (padded to a multiple of 4; 0 for a dry run). */
  bytesWritten: number;
  /** Errors that were latched in PR_ERR before this operation and cleared in step 1. */
  staleErrors: string[];
  /** PR_STS after completion. */
  status: FpgaManagerStatus | undefined;
  /** Elapsed time on the device's clock, and the rate it gives. */
  durationMs: number;
  bytesPerSec: number;
}

type Detail = Record<string, unknown>;

/** Events: 'progress' (PrProgress), 'step' (PrStep). Iterate it for progress; await `done`. */
export class PrJob extends EventEmitter implements AsyncIterable<PrProgress> {
  readonly done: Promise<PrResult>;
  #queue: PrProgress[] = [];
  #wake: (() => void) | undefined;
  #finished = false;

  constructor(run: (emit: (p: PrProgress) => void) => Promise<PrResult>) {
    super();
    let lastStep: PrStep | undefined;
    const emit = (p: PrProgress): void => {
      this.#queue.push(p);
      this.#wake?.();
      if (p.step !== lastStep) {
        lastStep = p.step;
        this.emit('step', p.step);
      }
      this.emit('progress', p);
    };
    // Start on the next microtask, so listeners attached right after construction see every event.
    this.done = Promise.resolve().then(() => run(emit)).finally(() => {
      this.#finished = true;
      this.#wake?.();
    });
    // The caller observes failures through `done`; never leave an unhandled rejection behind.
    this.done.catch(() => {});
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PrProgress> {
    for (;;) {
      while (this.#queue.length) yield this.#queue.shift()!;
      if (this.#finished) break;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    await this.done; // rethrow the failure at the end of the iteration
  }
}

/** Start a PR; progress through events or `for await`, the result through `job.done`. */
export function startPartialReconfiguration(target: PrTarget, gbs: Gbs, options: PrOptions = {}): PrJob {
  return new PrJob((emit) => partialReconfigure(target, gbs, { ...options, onProgress: (p) => { emit(p); options.onProgress?.(p); } }));
}

/** Bitstream bytes as 32-bit words, padded with zeros to a multiple of 4 (no copy when aligned). */
export function bitstreamWords(bytes: Uint8Array): Uint32Array {
  const words = Math.ceil(bytes.length / PR_DATA_WORD_BYTES);
  if (bytes.length % 4 === 0 && bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN) return new Uint32Array(bytes.buffer, bytes.byteOffset, words);
  const out = new Uint32Array(words);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) out[i >> 2]! |= bytes[i]! << (8 * (i & 3));
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

async function call(fn: () => unknown): Promise<void> {
  await fn();
}

/** The manager a target names: as given, or the FME's ops over its PR registers. */
function managerOf(target: PrTarget): FpgaManager {
  if (target.manager) return target.manager;
  if (target.pr) return new FpgaManager(fmeMgrOps(target.pr));
  throw new ArgumentError('EARG_PR_TARGET', 'a PR target names its manager or its PR registers (manager or pr); it has neither', {});
}

/** Run a partial reconfiguration of `gbs` into port `options.port` (default 0). */
export async function partialReconfigure(target: PrTarget, gbs: Gbs, options: PrOptions = {}): Promise<PrResult> {
  const portIndex = options.port ?? 0;
  const timeouts = { ...KERNEL_PR_TIMEOUTS, ...options.timeouts };
  const mgr = managerOf(target);
  const clock = mgr.ops.clock;
  const total = Math.ceil(gbs.bitstreamLength / PR_DATA_WORD_BYTES) * PR_DATA_WORD_BYTES;
  let step: PrStep = 'validate';
  let written = 0;
  const progress = (s: PrStep): void => {
    step = s;
    log('port %d: %s', portIndex, s);
    options.onProgress?.({ step: s, written, total });
  };
  const failure = (code: VfiokitErrorCode, message: string, details: Detail = {}): PrError =>
    new PrError(code, `PR of port ${portIndex}, step ${step}: ${message}`, { step, port: portIndex, ...details });

  // ---- 0. validate: nothing is written before these checks pass ----
  progress('validate');
  if (!Number.isInteger(portIndex) || portIndex < 0) throw failure('EPR_PORT', `port index ${String(options.port)} is not a non-negative integer`);
  if (portIndex >= target.portCount) {
    const choose = target.portCount > 0 ? `choose a port 0..${target.portCount - 1}` : 'this FME has no port to reconfigure';
    throw failure('EPR_PORT', `port ${portIndex} does not exist: FME_CAP[19:17] reports ${target.portCount} port(s); ${choose}`, { portCount: target.portCount });
  }
  const port = target.port(portIndex);
  if (!port) throw failure('EPR_PORT', `port ${portIndex} is absent on this card (FME PORT_OFFSET[60], the implemented bit, is 0)`, { portCount: target.portCount });
  if (gbs.bitstreamLength === 0) throw failure('EPR_EMPTY', 'the GBS has no bitstream after its metadata; rebuild it with the packager');
  const fmeInterfaceUuid = mgr.ops.compatId();
  if (gbs.interfaceUuid !== fmeInterfaceUuid) {
    if (!options.force) {
      throw failure(
        'EPR_INTERFACE_MISMATCH',
        `the GBS was built for PR interface ${gbs.interfaceUuid} but the card's PR interface ID (${mgr.ops.compatIdRegister}) is ${fmeInterfaceUuid}; ` +
          'use a GBS built for this FIM (or --force to let the card judge, which may leave the region unusable)',
        { register: 'PR_INTFC_ID_H:PR_INTFC_ID_L', expected: fmeInterfaceUuid, found: gbs.interfaceUuid },
      );
    }
    log('interface UUID mismatch ignored (force): GBS %s, FME %s', gbs.interfaceUuid, fmeInterfaceUuid);
  }
  // A PACSign-signed GBS goes to PR_DATA whole, blocks and bitstream, as fpgaconf and the kernel
  // send it (gbs.ts); what the engine would refuse for sure is refused here, before the port is
  // touched: a payload that does not match block0, or content signed with a non-PR key.
  const sig = gbs.signature;
  if (sig && !options.force) {
    if (!sig.hashesMatch) throw failure('EPR_SIGNATURE', `the signed bitstream (${sig.payloadLength} bytes at ${hex(sig.payloadOffset)}) does not match the hashes in its block0: the file was modified after PACSign signed it; the PR engine would refuse it (PR_ERR secure load error)`, { offset: sig.payloadOffset });
    if (contentTypeKeys[sig.contentType] !== 'PR' || sig.subtype !== Subtype.UPDATE) {
      throw failure('EPR_SIGNATURE', `the GBS is signed as a ${sig.contentTypeName} ${sig.subtypeName}, not a PR-key update (PACSign PR, THERM_PR or PR_TEST); the PR engine would refuse it; sign it with PACSign PR (or --force)`, { contentType: sig.contentType, subtype: sig.subtype });
    }
  }
  const result: PrResult = {
    port: portIndex,
    dryRun: Boolean(options.dryRun),
    interfaceUuid: gbs.interfaceUuid,
    fmeInterfaceUuid,
    acceleratorUuid: gbs.acceleratorUuid,
    bitstreamBytes: gbs.bitstreamLength,
    signed: sig !== undefined,
    bytesWritten: 0,
    staleErrors: [],
    status: undefined,
    durationMs: 0,
    bytesPerSec: 0,
  };
  if (options.dryRun) {
    result.status = mgr.ops.status();
    progress('done');
    return result;
  }
  const words = bitstreamWords(gbs.bitstream);
  if (options.signal?.aborted) throw failure('ECANCELED', 'cancelled before anything was written to the card');

  // ---- reservation, port errors, port disable (the bridge) ----
  const info = { operation: 'pr' as const, port: portIndex };
  if (options.reservation) {
    progress('reserve');
    await call(() => options.reservation!.begin(info));
  }
  let ok = false;
  let portDisabled = false;
  const t0 = clock.now();
  try {
    progress('clear-port-errors');
    try {
      await call(() => port.clearErrors());
    } catch (err) {
      // OPAE's xfpga_fpgaReconfigureSlot (reconf.c) logs a failed port error clear and goes on;
      // the kernel refuses the clear only in AP6 (-EBUSY, dfl-afu-error.c), which PR survives.
      if (!(err instanceof VfiokitError) || err.code !== 'EBUSY') throw err;
      log('port %d: errors not cleared (%s); PR goes on as OPAE does', portIndex, err.message);
    }
    progress('disable-port');
    portDisabled = true; // from here on the port is enabled again on every path, even if disable fails half way
    await call(() => port.disable());

    // ---- 1-3. fpga_mgr_load: write-init, write, write-complete ----
    const loaded = await mgr.load(words, { regionId: portIndex }, {
      timeouts,
      ...(options.chunkWords !== undefined ? { chunkWords: options.chunkWords } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      step: progress,
      fail: failure,
      onWritten: (bytes) => {
        written = bytes;
        options.onProgress?.({ step, written, total });
      },
    });
    result.bytesWritten = loaded.written;
    result.staleErrors = loaded.staleErrors;
    result.status = loaded.status;
    ok = true;
  } catch (err) {
    if (err instanceof PrError || !(err instanceof VfiokitError)) throw err;
    // A typed failure from a layer below (port, region): say which PR step it broke.
    throw new PrError(err.code, `PR of port ${portIndex}, step ${step}: ${err.message}`, { ...err.details, step, port: portIndex }, { cause: err });
  } finally {
    const failing = !ok;
    if (portDisabled) {
      const failedStep: PrStep = step;
      progress('enable-port');
      try {
        await call(() => port.enable());
      } catch (enableErr) {
        log('port %d enable failed after %s: %s', portIndex, failedStep, (enableErr as Error).message);
        if (!failing) {
          throw new PrError('EPR_PORT_ENABLE', `PR of port ${portIndex} succeeded but enabling the port again failed: ${(enableErr as Error).message}; reset the port`, { step: 'enable-port', port: portIndex }, { cause: enableErr });
        }
      }
    }
    if (options.reservation) await call(() => options.reservation!.end({ ...info, ok }));
  }
  result.durationMs = clock.now() - t0;
  result.bytesPerSec = result.durationMs > 0 ? (result.bytesWritten * 1000) / result.durationMs : 0;
  progress('done');
  return result;
}
