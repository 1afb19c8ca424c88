// FpgaManager: the framework side of loading an image (drivers/fpga/fpga-mgr.c), apart from the
// device side (FpgaManagerOps, the kernel's struct fpga_manager_ops: dfl-fme-mgr.c fme_mgr_ops is
// fme-mgr.ts). load() steps the ops through write_init, write and write_complete as
// fpga_mgr_buf_load_sg does, moving `state` through the kernel's enum fpga_mgr_states, and owns
// what the ops know nothing of: the image in chunks (one write call each, as the kernel calls
// write per scatterlist chunk), cancel between chunks and progress after each.
// Reservation and the bridge (the port held in reset) belong to the caller
// (partial-reconfiguration.ts, as fpga-region.c fpga_region_program_fpga wraps fpga_mgr_load).
import type { Clock } from '../../util/clock.js';
import type { PrError, PrStep, PrTimeouts } from './partial-reconfiguration.js';
import type { decodePrSts } from './registers.js';

/** enum fpga_mgr_states (include/linux/fpga/fpga-mgr.h) for the states a load passes through. */
export type FpgaManagerState =
  | 'unknown'
  | 'write-init'
  | 'write-init-error'
  | 'write'
  | 'write-error'
  | 'write-complete'
  | 'write-complete-error'
  | 'operating';

/** PR_STS decoded: the manager's status (fpga_manager_ops.status). */
export type FpgaManagerStatus = ReturnType<typeof decodePrSts>;

/** struct fpga_image_info, the part the FME manager reads: partial reconfiguration of one region. */
export interface FpgaImageInfo {
  /** info->region_id: the PR region, which is the FME port index. */
  regionId: number;
}

/** What the ops report to and fail through, supplied by the caller of load(). */
export interface FpgaOpContext {
  readonly timeouts: PrTimeouts;
  /** Bytes written before the chunk being written, and in all. */
  readonly written: number;
  readonly total: number;
  /** Enter a step of the sequence (progress; failures name it). */
  step(step: PrStep): void;
  /** A PrError naming the step and region. */
  fail(code: string, message: string, details?: Record<string, unknown>): PrError;
}

/** struct fpga_manager_ops as the FME PR feature implements them (dfl-fme-mgr.c fme_mgr_ops). */
export interface FpgaManagerOps {
  /** info.name of fme_mgr_probe ("DFL FME FPGA Manager"). */
  readonly name: string;
  /** The clock every wait runs on (the device's). */
  readonly clock: Clock;
  /** compat_id as a UUID: the interface an image must be built for (fme_mgr_get_compat_id). */
  compatId(): string;
  /** Where compatId() is read, for messages ('PR_INTFC_ID_H:PR_INTFC_ID_L at BAR0+0x10b0/0x10a8'). */
  readonly compatIdRegister: string;
  /** fpga_manager_ops.status. */
  status(): FpgaManagerStatus;
  /** Get the device ready for the image (fme_mgr_write_init). Returns the errors it cleared. */
  writeInit(info: FpgaImageInfo, ctx: FpgaOpContext): Promise<{ staleErrors: string[] }>;
  /** Write one chunk of the image (fme_mgr_write); throws when the device stops taking data. */
  write(words: Uint32Array, ctx: FpgaOpContext): void;
  /** Finish and check the load (fme_mgr_write_complete). */
  writeComplete(info: FpgaImageInfo, ctx: FpgaOpContext): Promise<{ status: FpgaManagerStatus }>;
}

export interface FpgaLoadOptions {
  timeouts: PrTimeouts;
  /** Words per write call (default 16384 = 64 KiB). */
  chunkWords?: number;
  /** Checked before every chunk. */
  signal?: AbortSignal;
  step(step: PrStep): void;
  fail(code: string, message: string, details?: Record<string, unknown>): PrError;
  /** After every chunk, with the bytes written so far. */
  onWritten(bytes: number): void;
}

export interface FpgaLoadResult {
  staleErrors: string[];
  status: FpgaManagerStatus;
  /** Bytes written (whole words). */
  written: number;
}

const DEFAULT_CHUNK_WORDS = 16384;

export class FpgaManager {
  readonly ops: FpgaManagerOps;
  /** mgr->state: where the last load got to. */
  state: FpgaManagerState = 'unknown';

  constructor(ops: FpgaManagerOps) {
    this.ops = ops;
  }

  /** fpga_mgr_buf_load: write_init, write chunk by chunk, write_complete. */
  async load(words: Uint32Array, info: FpgaImageInfo, options: FpgaLoadOptions): Promise<FpgaLoadResult> {
    const total = words.length * 4;
    const ctx = { timeouts: options.timeouts, written: 0, total, step: options.step, fail: options.fail };
    this.state = 'write-init';
    let staleErrors: string[];
    try {
      ({ staleErrors } = await this.ops.writeInit(info, ctx));
    } catch (err) {
      this.state = 'write-init-error';
      throw err;
    }
    this.state = 'write';
    try {
      const chunkWords = Math.max(1, Math.floor(options.chunkWords ?? DEFAULT_CHUNK_WORDS));
      for (let at = 0; at < words.length; ) {
        if (options.signal?.aborted) {
          throw options.fail('ECANCELED', `cancelled after ${ctx.written} of ${total} bytes; the region holds a partial bitstream: run PR again before using the port`, { written: ctx.written, total });
        }
        const chunk = words.subarray(at, Math.min(words.length, at + chunkWords));
        this.ops.write(chunk, ctx);
        at += chunk.length;
        ctx.written = at * 4;
        options.onWritten(ctx.written);
        if (at < words.length) await yieldToEventLoop();
      }
    } catch (err) {
      this.state = 'write-error';
      throw err;
    }
    this.state = 'write-complete';
    try {
      const { status } = await this.ops.writeComplete(info, ctx);
      this.state = 'operating';
      return { staleErrors, status, written: ctx.written };
    } catch (err) {
      this.state = 'write-complete-error';
      throw err;
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
