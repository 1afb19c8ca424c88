// vfio-user wire protocol: the 16-byte message header, limits and the typed errors of the
// codec. The header, command numbers and flags are the wire table src/sys/uapi/vfio-user.ts
// (libvfio-user include/vfio-user.h struct vfio_user_header, enum vfio_user_command; QEMU
// docs/interop/vfio-user.rst "Header" and "Commands"); see reference/vfio-user.md.
// All fields are little endian (the spec says host endianness; every supported host is LE).
import { constants } from 'node:os';
import { DeviceError, FormatError } from '../errors.js';
import type { Decoded } from '../sys/uapi/struct.js';
import { Command, HeaderFlags, VendorCommand, vfio_user_header } from '../sys/uapi/vfio-user.js';
import type { VfiokitErrorCode } from '../error-codes.js';

/** Protocol version this implementation speaks (libvfio-user LIB_VFIO_USER_MAJOR/MINOR). */
export const VFIO_USER_MAJOR = 0;
export const VFIO_USER_MINOR = 1;

export { Command };
/** vfiokit's vendor command (REGION_BATCH), from the one wire table (sys/uapi/vfio-user.ts). */
export { VendorCommand };
export type CommandName = keyof typeof Command;

const commandNames = new Map<number, string>([...Object.entries(Command), ...Object.entries(VendorCommand)].map(([k, v]) => [v, k]));
/** 'REGION_READ' for 9; 'command N' for an unknown number. */
export function commandName(command: number): string {
  return commandNames.get(command) ?? `command ${command}`;
}

/** Header size in bytes (vfio-user.rst "Header"). */
export const HEADER_SIZE = vfio_user_header.size;
/**
 * Header flags: [3:0] message type (TYPE_COMMAND, TYPE_REPLY); FLAG_NO_REPLY, the sender wants
 * no reply (commands only); FLAG_ERROR, the reply reports an error and the Error field holds an
 * errno (may be 0).
 */
export const { TYPE: FLAG_TYPE_MASK, REQUEST: TYPE_COMMAND, REPLY: TYPE_REPLY, NO_REPLY: FLAG_NO_REPLY, ERROR: FLAG_ERROR } = HeaderFlags;

/** Capability defaults when the peer does not state them (vfio-user.rst "Version"). */
export const DEFAULT_MAX_MSG_FDS = 1;
export const DEFAULT_MAX_DATA_XFER_SIZE = 1024 * 1024;
export const DEFAULT_PGSIZES = 4096;
export const DEFAULT_MAX_DMA_MAPS = 65535;
/** Largest data transfer we accept in one message (QEMU VFIO_USER_MAX_MAX_XFER). */
export const MAX_MAX_DATA_XFER_SIZE = 64 * 1024 * 1024;
/** Most entries per REGION_BATCH either side takes (16384 entries are at most 512 KiB). */
export const REGION_BATCH_MAX_ENTRIES = 16384;
/** Largest fd count we accept per message (QEMU VFIO_USER_MAX_MAX_FDS). */
export const MAX_MAX_MSG_FDS = 16;

/** errno numbers used on the wire (Linux values, from Node's table). */
export const Errno = {
  EPERM: constants.errno.EPERM,
  ENOENT: constants.errno.ENOENT,
  EIO: constants.errno.EIO,
  EBADF: constants.errno.EBADF,
  EMFILE: constants.errno.EMFILE,
  ENOMEM: constants.errno.ENOMEM,
  EFAULT: constants.errno.EFAULT,
  EBUSY: constants.errno.EBUSY,
  EEXIST: constants.errno.EEXIST,
  EINVAL: constants.errno.EINVAL,
  ENOSPC: constants.errno.ENOSPC,
  E2BIG: constants.errno.E2BIG,
  ENOTTY: constants.errno.ENOTTY,
  ENOTSUP: constants.errno.ENOTSUP,
  ENOTCONN: constants.errno.ENOTCONN,
  EPROTO: constants.errno.EPROTO,
  ENOMSG: constants.errno.ENOMSG,
  ERANGE: constants.errno.ERANGE,
} as const;

/** 'EINVAL' for 22; 'E<n>' for a number without a name (the one table: src/sys/sys-error.ts). */
export { errnoName } from '../sys/sys-error.js';
import { errnoName } from '../sys/sys-error.js';

/**
 * Bytes from the peer that break the protocol: truncated, oversized or malformed. `errno` is what
 * a server answers in its error reply (EINVAL, E2BIG, ENOTSUP...).
 */
export class VfioUserFormatError extends FormatError {
  readonly errno: number;
  constructor(code: VfiokitErrorCode, errno: number, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { errno: errnoName(errno), ...details });
    this.errno = errno;
  }
}

/** The peer answered a command with an error reply; `code` is the errno name ('EINVAL'). */
export class VfioUserRemoteError extends DeviceError {
  readonly errno: number;
  readonly command: number;
  constructor(command: number, errno: number, context: string) {
    const name = errnoName(errno);
    super(name, `vfio-user ${commandName(command)}${context ? ` (${context})` : ''} was refused by the server: ${name} (errno ${errno}); check the arguments against the device's region/IRQ info, or the server's log`, {
      command: commandName(command),
      errno,
    });
    this.errno = errno;
    this.command = command;
  }
}

/** The connection is gone (peer closed, reset, or a reply never came). */
export class VfioUserConnectionError extends DeviceError {}

export function truncated(what: string, need: number, have: number): VfioUserFormatError {
  return new VfioUserFormatError('EVFIO_USER_TRUNCATED', Errno.EINVAL, `vfio-user ${what}: ${have} bytes, at least ${need} needed; the message is truncated (the peer does not speak this protocol version, or the stream lost sync)`, { need, have });
}

export function malformed(what: string, problem: string, details: Record<string, unknown> = {}): VfioUserFormatError {
  return new VfioUserFormatError('EVFIO_USER_MALFORMED', Errno.EINVAL, `vfio-user ${what}: ${problem}`, details);
}

export function oversized(what: string, size: number, limit: number): VfioUserFormatError {
  return new VfioUserFormatError('EVFIO_USER_OVERSIZED', Errno.E2BIG, `vfio-user ${what}: ${size} bytes is over the limit of ${limit}; split the transfer (max_data_xfer_size) or raise the limit`, { size, limit });
}

/** id (a reply echoes the command's), command, size (header included), flags, error (errno of an error reply). */
export type Header = Decoded<typeof vfio_user_header>;

/** Write a header at `at` (default 0). */
export function encodeHeader(out: Uint8Array, h: Header, at = 0): void {
  vfio_user_header.write(out, at, h);
}

/** Read and check a header: at least 16 bytes, a known message type, size >= 16. */
export function decodeHeader(bytes: Uint8Array, at = 0): Header {
  if (bytes.length - at < HEADER_SIZE) throw truncated('header', HEADER_SIZE, bytes.length - at);
  const h: Header = vfio_user_header.decode(bytes, at);
  if (h.size < HEADER_SIZE) {
    throw malformed('header', `message size ${h.size} is smaller than the 16-byte header`, { id: h.id, command: h.command, size: h.size });
  }
  const type = h.flags & FLAG_TYPE_MASK;
  if (type !== TYPE_COMMAND && type !== TYPE_REPLY) {
    throw malformed('header', `message type ${type} in flags 0x${h.flags.toString(16)} is neither command (0) nor reply (1)`, { id: h.id, command: h.command, flags: h.flags });
  }
  return h;
}

export function isReply(h: Header): boolean {
  return (h.flags & FLAG_TYPE_MASK) === TYPE_REPLY;
}

/** A whole message: header, payload (bytes after the header) and the fds that came with it. */
export interface Message {
  header: Header;
  payload: Uint8Array;
  fds: number[];
}

/** Build a command message (header + payload) as one buffer. */
export function buildCommand(id: number, command: number, payload: Uint8Array, noReply = false): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  encodeHeader(out, { id, command, size: out.length, flags: TYPE_COMMAND | (noReply ? FLAG_NO_REPLY : 0), error: 0 });
  out.set(payload, HEADER_SIZE);
  return out;
}

/** Build a reply to `request` carrying `payload` (and `room` more bytes after it, zeroed, for the caller to fill). */
export function buildReply(request: Pick<Header, 'id' | 'command'>, payload: Uint8Array, room = 0): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length + room);
  encodeHeader(out, { id: request.id, command: request.command, size: out.length, flags: TYPE_REPLY, error: 0 });
  out.set(payload, HEADER_SIZE);
  return out;
}

/** Build an error reply (header only, as the spec requires) with `errno`. */
export function buildErrorReply(request: Pick<Header, 'id' | 'command'>, errno: number): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  encodeHeader(out, { id: request.id, command: request.command, size: HEADER_SIZE, flags: TYPE_REPLY | FLAG_ERROR, error: errno >>> 0 });
  return out;
}
