// Access checks shared by both Region backings. The fast path is one comparison per access; the
// slow path (building the error) only runs when the check fails.
import { ArgumentError, RegionError } from '../errors.js';
import { codeError } from '../error-lookup.js';
import type { PollOptions } from './region.js';
import { DEFAULT_POLL_INTERVAL_US, DEFAULT_POLL_TIMEOUT_MS } from './region.js';

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** Throws the RegionError that explains why `offset` is not a valid `width`-byte access. */
export function accessError(name: string, size: number, closed: boolean, offset: number, width: number): RegionError {
  if (closed) return codeError('EREGION_CLOSED', { region: name, offset });
  if (!Number.isInteger(offset) || offset < 0) return codeError('EREGION_OFFSET', { region: name, offset });
  if (offset % width !== 0) return codeError('EREGION_ALIGN', { region: name, offset, width });
  return codeError('EREGION_BOUNDS', { region: name, offset, width, size });
}

/** Throws unless `offset .. offset+length` lies inside the region and is aligned to `width` bytes. */
export function checkSpan(name: string, size: number, closed: boolean, offset: number, length: number, width: number): void {
  if (closed || !Number.isInteger(offset) || offset < 0 || offset % width !== 0) throw accessError(name, size, closed, offset, width);
  if (!Number.isInteger(length) || length < 0 || length % width !== 0) {
    throw new RegionError('EREGION_LENGTH', `${name}: length ${String(length)} is not a multiple of ${width} bytes`, { region: name, length, width });
  }
  if (offset + length > size) {
    throw codeError('EREGION_BOUNDS', { region: name, offset, length, size });
  }
}

/** Bytes in one write512 (OPAE fpgaWriteMMIO512: 512 bits at a 64-byte aligned offset). */
export const MMIO512_BYTES = 64;

/**
 * Checks a write512: the offset is a 64-byte aligned span inside the region (else the RegionError
 * of accessError, EREGION_ALIGN for a misaligned one) and the data is 8 words or 64 bytes (else
 * EARG_DATA512). Returns the 64 bytes as a Uint8Array over the caller's memory (no copy).
 */
export function check512(name: string, size: number, closed: boolean, offset: number, data: unknown): Uint8Array {
  if (closed || offset !== (offset >>> 0) || (offset & (MMIO512_BYTES - 1)) !== 0 || offset + MMIO512_BYTES > size) {
    throw accessError(name, size, closed, offset, MMIO512_BYTES);
  }
  if (data instanceof BigUint64Array && data.length === 8) return new Uint8Array(data.buffer, data.byteOffset, MMIO512_BYTES);
  if (data instanceof Uint8Array && data.length === MMIO512_BYTES) return data;
  const got = ArrayBuffer.isView(data) ? `a ${data.constructor.name} of ${(data as unknown as { length: number }).length} elements` : typeof data;
  throw new ArgumentError('EARG_DATA512', `${name}: write512 at ${hex(offset)} needs 64 bytes, a BigUint64Array of 8 words or a Uint8Array of 64 bytes; got ${got}`, { region: name, offset });
}

export function value32Error(name: string, offset: number, value: unknown): RegionError {
  return new RegionError(
    'EREGION_VALUE',
    `${name}: value ${String(value)} for the 32-bit register at ${hex(offset)} is not an integer in 0..0xffffffff`,
    { region: name, offset, value: String(value), limit: 0xffffffff },
  );
}

export function value64Error(name: string, offset: number, value: unknown): RegionError {
  return new RegionError(
    'EREGION_VALUE',
    `${name}: value ${String(value)} for the 64-bit register at ${hex(offset)} is not a bigint in 0..2^64-1`,
    { region: name, offset, value: String(value), limit: '0xffffffffffffffff' },
  );
}

export function checkWidth(name: string, width: number): 4 | 8 {
  if (width === 32) return 4;
  if (width === 64) return 8;
  throw codeError('EREGION_WIDTH', { region: name, width });
}

/** Validated poll timing (both Region kinds and credit-stream.ts). NaN or negative would never end. */
export function pollTiming(name: string, options: PollOptions): { timeoutMs: number; intervalUs: number } {
  const timeoutMs = options.timeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  const intervalUs = options.intervalUs ?? DEFAULT_POLL_INTERVAL_US;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new ArgumentError('EARG_TIMEOUT', `${name}: poll timeoutMs ${String(timeoutMs)} must be a finite number >= 0`, { region: name, timeoutMs });
  }
  if (!Number.isFinite(intervalUs) || intervalUs < 0) {
    throw new ArgumentError('EARG_INTERVAL', `${name}: poll intervalUs ${String(intervalUs)} must be a finite number >= 0`, { region: name, intervalUs });
  }
  return { timeoutMs, intervalUs };
}


/** The buffer a readBlock fills: `into` when it holds `length` bytes, a new one when omitted. */
export function blockDestination(name: string, length: number, into: Uint8Array | undefined): Uint8Array {
  const out = into ?? new Uint8Array(length);
  if (out.length < length) {
    throw new RegionError('EREGION_LENGTH', `${name}: readBlock destination holds ${out.length} bytes, less than the ${length} requested`, { region: name, length, limit: out.length });
  }
  return out;
}
