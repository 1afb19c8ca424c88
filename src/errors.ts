// Typed errors. Every failure vfiokit reports is a VfiokitError with a stable `code` (one of the
// codes in src/error-codes.ts, the one list: class, errno, advice, message templates), a message
// that says what was wrong and what to do, and structured fields for programs.
import type { VfiokitErrorCode } from './error-codes.js';

export class VfiokitError extends Error {
  /** Stable machine-readable code, e.g. 'EREGION_BOUNDS', 'ENOENT', 'EDFL_CYCLE'. */
  readonly code: VfiokitErrorCode;
  /** Structured details (register, offset, limit, path...) for programs and --json output. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: VfiokitErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.details };
  }
}

/** A register access outside a region, misaligned, with a bad value, or on a closed region. */
export class RegionError extends VfiokitError {}

/** A poll that did not see the expected value before its deadline. */
export class TimeoutError extends VfiokitError {}

/** Bad arguments from the caller (not from the device or the kernel). */
export class ArgumentError extends VfiokitError {}

/** Something about a device: missing, busy, not supported, wrong identity. */
export class DeviceError extends VfiokitError {}

/** Malformed outside bytes (DFL, GBS, signed images, protocol messages). */
export class FormatError extends VfiokitError {}
