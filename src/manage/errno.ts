// The management API's return convention: 0 for success, a negative errno for failure (as the
// DPDK ifpga "opae" module returns them). Typed errors map to the errno that says the same thing.
import { constants } from 'node:os';
import { VfiokitError, ArgumentError, FormatError, TimeoutError, DeviceError } from '../errors.js';

const errno = constants.errno as Record<string, number>;

/** vfiokit error codes that are not errno names, and the errno each one means. */
const CODE_ERRNO: Record<string, string> = {
  ERESERVED: 'EBUSY',
  ESTALE: 'ESTALE',
  ENOTRESERVED: 'EPERM',
  ETRANSITION: 'EBUSY',
  ELOCK_TIMEOUT: 'EBUSY',
  EDEVICE_URL: 'EINVAL',
  EDEVICE_SCHEME: 'ENODEV',
  EDEVICE_BACKEND: 'ENODEV',
  EPCI_NO_DEVICE: 'ENODEV',
  ENOTPROBED: 'ENODEV',
  EINPUT_NOT_FILE: 'EINVAL',
  EFLASH_CANCEL_STATE: 'EBUSY',
  EINPUT_TOO_BIG: 'EFBIG',
  EINPUT_CHANGED: 'EAGAIN',
};

/** The positive errno number for an error (EIO when nothing more specific applies). */
export function errnoOf(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (errno[code] !== undefined) return errno[code]!;
    const mapped = CODE_ERRNO[code];
    if (mapped) return errno[mapped]!;
  }
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
