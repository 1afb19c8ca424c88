// Reading a file named on the command line (a GBS, a signed image): a typed error that names the
// path and the system's reason instead of a raw ENOENT/EACCES stack.
import { readFile } from 'node:fs/promises';
import { DeviceError } from '../errors.js';

/** The bytes of `path`; DeviceError(errno code, "cannot read PATH: reason") when it cannot be read. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DeviceError(e.code ?? 'EIO', `cannot read ${path}: ${e.message}`, { path });
  }
}
