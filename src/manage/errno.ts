// The management API's return convention: 0 for success, a negative errno for failure (as the
// DPDK ifpga "opae" module returns them). Typed errors map to the errno that says the same thing:
// the registry's (src/error-codes.ts), or by class for a code it does not list.
import { constants } from 'node:os';
import { VfiokitError, ArgumentError, FormatError, TimeoutError, DeviceError } from '../errors.js';
import { codeSpec } from '../error-lookup.js';

const errno = constants.errno as Record<string, number>;

/** The positive errno number for an error (EIO when nothing more specific applies). */
export function errnoOf(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  // The registry's errno for the code (src/error-codes.ts; an errno name is its own).
  const spec = typeof code === 'string' ? codeSpec(code) : undefined;
  if (spec && errno[spec.errno] !== undefined) return errno[spec.errno]!;
  if (err instanceof TimeoutError) return errno.ETIMEDOUT!;
  if (err instanceof FormatError || err instanceof ArgumentError) return errno.EINVAL!;
  if (err instanceof DeviceError) return errno.ENODEV!;
  if (err instanceof VfiokitError) return errno.EIO!;
  const sys = (err as NodeJS.ErrnoException)?.errno;
  if (typeof sys === 'number' && sys !== 0) return Math.abs(sys);
  return errno.EIO!;
}

/** The negative errno the numeric API returns for `err`. */
export function negativeErrno(err: unknown): number {
  return -errnoOf(err);
}
