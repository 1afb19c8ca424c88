// SysError: a failed system call, with the errno name as its code ('ENOENT', 'EBUSY', ...), the
// errno number, the call, and the path or fd it was about; the message says what to do next.
import { constants } from 'node:os';
import { VfiokitError } from '../errors.js';
import type { ErrnoName } from '../error-codes.js';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // Aliases share numbers (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK): keep the first, canonical name.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** 'ENOENT' for 2, ...; 'E<number>' for a number Node does not name. */
export function errnoName(errno: number): ErrnoName {
  // An errno this Node does not name keeps its number (a code outside ErrnoName: rare, and still
  // reported as it is).
  return (errnoNames.get(errno) ?? `E${errno}`) as ErrnoName;
}

/** The errno number for a name ('EBUSY' -> 16), or undefined. */
export function errnoNumber(name: string): number | undefined {
  return (constants.errno as Record<string, number>)[name];
}

const HINTS: Record<string, string> = {
  ENOENT: 'check that the path exists (is the device bound to vfio-pci? is the module loaded?)',
  EACCES: 'check the ownership and permissions of the node (root, or a udev rule / group for /dev/vfio)',
  EPERM: 'the operation needs privileges (root or CAP_SYS_ADMIN / CAP_IPC_LOCK) or is not allowed by policy',
  EBUSY: 'the resource is in use by another process or driver; close it there or wait',
  EBADF: 'the file descriptor is not open (closed twice, or never opened); this is a bug in the caller',
  ENOTTY: 'the ioctl is not supported by this file (wrong fd, or wrong kind of device node)',
  EINVAL: 'an argument is invalid for this call (flags, sizes, alignment or a struct field)',
  ENOMEM: 'out of memory or address space (for locked memory raise RLIMIT_MEMLOCK: ulimit -l)',
  ENODEV: 'the device does not support this operation (e.g. mmap of a file that cannot be mapped)',
  ENXIO: 'no such device or address: the device went away or the offset is not backed',
  EAGAIN: 'the call would block (non-blocking fd) or a resource is temporarily unavailable: retry later',
  EINTR: 'interrupted by a signal: retry the call',
  EEXIST: 'the object already exists: remove it or pick another name',
  EADDRINUSE: 'the socket address is in use: remove the stale socket file or pick another path',
  ECONNREFUSED: 'nothing is listening on that socket path: start the server first',
  ENAMETOOLONG: 'the path is too long (UNIX socket paths are limited to 107 bytes)',
  EMFILE: 'the process has too many open files: close unused fds or raise RLIMIT_NOFILE (ulimit -n)',
  ENFILE: 'the system has too many open files',
  EFAULT: 'a pointer argument is invalid: this is a bug in the binding',
  EIO: 'an I/O error from the device or driver: check dmesg',
  EPIPE: 'the peer closed the connection',
  ECONNRESET: 'the peer reset the connection',
  ENOSPC: 'no space left (or no huge pages free: check /proc/meminfo HugePages_Free)',
  EOPNOTSUPP: 'the operation is not supported here',
  ENOSYS: 'the kernel does not implement this call',
  EWOULDBLOCK: 'the lock is held by another process',
};

export interface SysErrorContext {
  /** The path the call was about. */
  path?: string;
  /** The fd the call was about. */
  fd?: number;
  /** What the caller was doing, e.g. 'VFIO_GROUP_GET_STATUS'. */
  what?: string;
}

export class SysError extends VfiokitError {
  readonly errno: number;
  readonly call: string;
  readonly path: string | undefined;
  readonly fd: number | undefined;

  constructor(call: string, errno: number, context: SysErrorContext = {}) {
    const code = errnoName(errno);
    const target = context.path !== undefined ? ` ${context.path}` : context.fd !== undefined ? ` on fd ${context.fd}` : '';
    const what = context.what ? ` (${context.what})` : '';
    const hint = HINTS[code] ?? 'see the man page of the call for this errno';
    super(code, `${call}${target}${what} failed: ${code} (errno ${errno}): ${hint}`, {
      call,
      errno,
      ...(context.path !== undefined ? { path: context.path } : {}),
      ...(context.fd !== undefined ? { fd: context.fd } : {}),
      ...(context.what ? { what: context.what } : {}),
    });
    this.errno = errno;
    this.call = call;
    this.path = context.path;
    this.fd = context.fd;
  }
}

/** True when `e` is a SysError with the given errno name. */
export function isSysError(e: unknown, code?: string): e is SysError {
  return e instanceof SysError && (code === undefined || e.code === code);
}
