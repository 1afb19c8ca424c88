// Reading a file named on the command line (a GBS, a signed image): a typed error that names the
// path and the system's reason instead of a raw ENOENT/EACCES stack.
import { readFile } from 'node:fs/promises';
import { DeviceError } from '../errors.js';
import { parseSignedImage, ImageError, type SignedImage } from '../afu/image/signed-image.js';

/** The bytes of `path`; DeviceError(errno code, "cannot read PATH: reason") when it cannot be read. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DeviceError(e.code ?? 'EIO', `cannot read ${path}: ${e.message}`, { path });
  }
}

/**
 * A signed image named on the command line: unreadable -> DeviceError (exit 4, like any input
 * file), readable but malformed -> ImageError naming the path (exit 3).
 */
export async function readSignedImageFile(path: string): Promise<SignedImage> {
  const bytes = await readInputFile(path);
  try {
    return parseSignedImage(bytes);
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(err.code, `${path}: ${err.message}`, { path, ...err.details });
    throw err;
  }
}
