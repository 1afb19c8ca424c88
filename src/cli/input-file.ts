// Reading a file named on the command line (a GBS, a signed image): bounded and typed
// (src/util/input-file.ts): a path that cannot be read, is not a regular file, or is larger than
// the format allows gets an error naming the path and the reason instead of a raw errno or an
// unbounded read.
import { ImageError, parseSignedImage, type SignedImage } from '../afu/image/signed-image.js';
import { readInputFile } from '../util/input-file.js';
import { GBS_INPUT, SIGNED_IMAGE_INPUT } from '../afu/input-limits.js';

/** The bytes of a GBS file named on the command line. */
export function readGbsFile(path: string): Uint8Array {
  return readInputFile(path, GBS_INPUT);
}

/**
 * A signed image named on the command line: unreadable or not a file -> DeviceError (exit 4, like
 * any input file), too big or malformed -> FormatError/ImageError naming the path (exit 3).
 */
export function readSignedImageFile(path: string): SignedImage {
  const bytes = readInputFile(path, SIGNED_IMAGE_INPUT);
  try {
    return parseSignedImage(bytes);
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(err.code, `${path}: ${err.message}`, { path, ...err.details });
    throw err;
  }
}
