// Reading a file named by the user (a GBS, a signed image) with a bound: only regular files, and
// none larger than the format allows, so `/dev/zero`, `/dev/urandom`, a FIFO or a huge file give
// a typed error instead of an unbounded read or a hang. The file is opened O_NONBLOCK (a FIFO
// with no writer would otherwise block open(2) forever) and judged by fstat(2) of that fd before
// a byte is read; the read itself stops one byte past the limit in case the file grows.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { DeviceError, FormatError } from '../errors.js';
import { errnoCode } from '../error-lookup.js';

export interface InputLimit {
  /** What the file should be ("GBS", "signed image"), for messages. */
  what: string;
  /** Largest valid file of the format, in bytes. */
  maxBytes: number;
  /** Where that maximum comes from, for the message ("the 56 MiB BMC staging area"). */
  why: string;
}

const FILE_TYPES: [number, string][] = [
  [constants.S_IFDIR, 'a directory'], [constants.S_IFCHR, 'a character device'], [constants.S_IFBLK, 'a block device'],
  [constants.S_IFIFO, 'a FIFO (named pipe)'], [constants.S_IFSOCK, 'a socket'],
];

function kindOf(mode: number): string {
  const type = mode & constants.S_IFMT;
  return FILE_TYPES.find(([t]) => t === type)?.[1] ?? 'not a regular file';
}

/**
 * The bytes of `path`. Cannot be opened or read -> DeviceError(errno code); not a regular file ->
 * DeviceError('EINPUT_NOT_FILE'); larger than `limit.maxBytes` -> FormatError('EINPUT_TOO_BIG').
 */
export function readInputFile(path: string, limit: InputLimit): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'ENOTDIR' ? 'a component of the path is not a directory' : e.code ?? e.message;
    throw new DeviceError(errnoCode(e.code), `cannot read ${limit.what} ${path}: ${reason} (${e.code})`, { path });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new DeviceError('EINPUT_NOT_FILE', `${path} is ${kindOf(st.mode)}, not a regular file; give a ${limit.what} file (copy it to a file first if it comes from a pipe or device)`, { path });
    }
    const tooBig = (size: number): FormatError => new FormatError('EINPUT_TOO_BIG', `${path} is ${size} bytes, larger than any ${limit.what} (at most ${limit.maxBytes} bytes: ${limit.why}); it is not a ${limit.what}`, { path, size, limit: limit.maxBytes });
    if (st.size > limit.maxBytes) throw tooBig(st.size);
    const out = new Uint8Array(st.size);
    let filled = 0;
    for (;;) {
      if (filled === out.length) {
        // At the size fstat reported: one more byte means the file grew while being read.
        const extra = readSync(fd, new Uint8Array(1), 0, 1, null);
        if (extra === 0) return out;
        throw new DeviceError('EINPUT_CHANGED', `${path} grew while being read; give a file that is not being written`, { path });
      }
      const n = readSync(fd, out, filled, out.length - filled, null);
      if (n === 0) return out.subarray(0, filled); // shrank meanwhile
      filled += n;
    }
  } catch (err) {
    if (err instanceof DeviceError || err instanceof FormatError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new DeviceError(errnoCode(e.code), `cannot read ${limit.what} ${path}: ${e.code ?? e.message}`, { path });
  } finally {
    closeSync(fd);
  }
}
