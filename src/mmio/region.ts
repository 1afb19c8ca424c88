// Region: one window of device registers or memory (a BAR, a DMA buffer, a model's register
// file). Two backings share this interface: MappedRegion (an mmap, accessed through typed
// arrays, see mapped-region.ts) and TrappedRegion (read/write callbacks, see trapped-region.ts).
// Rules (DESIGN.md, reference/js-mmio.md): reads are full width (Atomics.load), writes are plain
// typed-array stores, every access is bounds- and alignment-checked, a closed region throws.
import type { Clock } from '../util/clock.js';
import type { AccessBatchRunner } from './access-batch.js';

export interface PollOptions {
  /** Give up after this many milliseconds (default 1000). */
  timeoutMs?: number;
  /** Re-read every this many microseconds (default 1; 0 = as fast as possible). */
  intervalUs?: number;
}

export interface PollResult<T> {
  /** The last value read. */
  value: T;
  /** True when the deadline passed before (value & mask) === expected. */
  timedOut: boolean;
}

export interface Region extends Disposable {
  /** Human-readable name used in errors, e.g. "sim:n3000 BAR0". */
  readonly name: string;
  /** Size in bytes. 0 once closed. */
  readonly size: number;
  readonly closed: boolean;
  /** 'mapped' or 'trapped'. */
  readonly kind: 'mapped' | 'trapped';
  /** The clock polls run on (the device's clock). */
  readonly clock: Clock;

  read32(offset: number): number;
  read64(offset: number): bigint;
  write32(offset: number, value: number): void;
  write64(offset: number, value: bigint): void;

  /** Poll a register until (value & mask) === expected or the timeout passes. Never throws on timeout. */
  poll32(offset: number, mask: number, expected: number, options?: PollOptions): PollResult<number>;
  poll64(offset: number, mask: bigint, expected: bigint, options?: PollOptions): PollResult<bigint>;

  /**
   * Write 64 bytes (a BigUint64Array of 8 words or a Uint8Array of 64 bytes) at a 64-byte aligned
   * offset, as OPAE's fpgaWriteMMIO512: on a mapped region one 512-bit store where the CPU has
   * AVX-512F (C shim), else eight 64-bit writes in address order (trapped regions: eight 64-bit
   * writes to the device). A misaligned offset is EREGION_ALIGN; other data is EARG_DATA512.
   */
  write512(offset: number, data: BigUint64Array | Uint8Array): void;

  /** Write each 64-bit word of `words` to the same register offset, in order. */
  writeStream64(offset: number, words: BigUint64Array): void;

  /** Copy `length` bytes out of the region into `into` (a fresh buffer when omitted), with accesses of `width` bits. */
  readBlock(offset: number, length: number, width?: 32 | 64, into?: Uint8Array): Uint8Array;
  /** Copy `data` into the region at `offset`, with accesses of `width` bits. */
  writeBlock(offset: number, data: Uint8Array, width?: 32 | 64): void;

  /**
   * Present when the region runs whole access batches at once (a trapped region whose transport
   * offers it, e.g. vfio-user with the vfiokit_region_batch capability); drivers batch only then.
   */
  readonly accessBatch?: AccessBatchRunner;

  /** The region's memory as a SharedArrayBuffer (mapped regions with the shim built), else undefined. */
  readonly sharedBuffer: SharedArrayBuffer | undefined;

  close(): void;
}

export const DEFAULT_POLL_TIMEOUT_MS = 1000;
export const DEFAULT_POLL_INTERVAL_US = 1;
