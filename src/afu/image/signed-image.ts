// Signed image parser (PACSign block0/block1 + payload). Reads outside bytes: every malformed
// input becomes an ImageError that names the field, the offset and the value it found, never an
// exception of another kind (fuzzed in test/fuzz/images.fuzz.ts).
// Layout: reference/secure-update.md "Signed image (PACSign) layout"; image info as DPDK's
// opae_get_image_info reports it (ifpga_opae_api.c).
import type { VfiokitErrorCode } from '../../error-codes.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FormatError } from '../../errors.js';
import { getLe32, hex } from '../../util/bytes.js';
import {
  B0_CONTENT_TYPE, B0_MAGIC, B0_PAYLOAD_LENGTH, B0_SHA256, B0_SHA384, B0_SLOT, B0_SUBTYPE, B0_VERSION,
  B1_BLOCK0_ENTRY, B1_BLOCK0_ENTRY_CANCEL, B1_CSK_ENTRY, B1_ROOT_ENTRY, BLOCK0_ENTRY_MAGIC, BLOCK0_MAGIC,
  BLOCK1_MAGIC, BLOCK1_OFFSET, CSK_ENTRY_MAGIC, MIN_IMAGE_SIZE, PAYLOAD_OFFSET, ROOT_ENTRY_MAGIC,
  SHA256_BYTES, SHA384_BYTES, Subtype, VERSION_BYTES, contentTypeNames, imageTypeNames, subtypeNames,
} from '../../dfl/regs/signed-image-layout.js';

/** A signed image that could not be parsed or verified. `code` says which check failed. */
export class ImageError extends FormatError {}

export interface Block1Entry {
  /** Offset of the entry in the file. */
  offset: number;
  magic: number;
}

export interface SignedImage {
  /** The whole file. */
  bytes: Uint8Array;
  contentType: number;
  contentTypeName: string;
  subtype: number;
  subtypeName: string;
  slot: number;
  payloadOffset: number;
  payloadLength: number;
  /** Bytes after the payload (PACSign writes none). */
  trailingBytes: number;
  sha256: string;
  sha384: string;
  version: string;
  /** Absent in root-key-hash images: PACSign's block1 holds only its magic there (reader.py RHP_reader). */
  rootEntry: Block1Entry | undefined;
  /** Absent in cancellation certificates and root-key-hash images. */
  cskEntry: Block1Entry | undefined;
  /** Absent in root-key-hash images. */
  block0Entry: Block1Entry | undefined;
  /** Root-key-hash programming and key cancellation cannot be undone. */
  irreversible: boolean;
}

/** Image info as the management API reports it. */
export interface ImageInfo {
  /** 0 FPGA, 1 BMC, 2 GBS, 3 PR (the block0 content type byte). */
  type: number;
  typeName: string;
  /** 0 update, 1 cancellation, 2 root key hash 256, 3 root key hash 384. */
  subtype: number;
  subtypeName: string;
  totalLength: number;
  payloadOffset: number;
  payloadLength: number;
  slot: number;
  version: string;
  sha256: string;
  sha384: string;
  /** True when SHA-256 and SHA-384 of the payload match block0. */
  hashesMatch: boolean;
}

function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function magicAt(bytes: Uint8Array, offset: number, expected: number, what: string, code: VfiokitErrorCode): Block1Entry {
  const magic = getLe32(bytes, offset);
  if (magic !== expected) {
    throw new ImageError(code, `signed image: ${what} magic at offset ${hex(offset)} is ${hex(magic, 8)}, expected ${hex(expected, 8)}; the file is not a PACSign-signed image or is corrupt`, { offset, magic, expected });
  }
  return { offset, magic };
}

/** The version string: ASCII up to the first NUL; other bytes are shown as \xNN. */
function versionString(bytes: Uint8Array): string {
  let out = '';
  for (let i = B0_VERSION; i < B0_VERSION + VERSION_BYTES; i++) {
    const c = bytes[i]!;
    if (c === 0) break;
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Parse a signed image. Throws ImageError naming the first check that failed. */
export function parseSignedImage(input: Uint8Array): SignedImage {
  if (!(input instanceof Uint8Array)) {
    throw new ImageError('EIMAGE_INPUT', 'signed image: expected the file contents as bytes (Uint8Array)', {});
  }
  const bytes = input;
  if (bytes.length < MIN_IMAGE_SIZE) {
    throw new ImageError('EIMAGE_SIZE', `signed image: ${bytes.length} bytes is shorter than the minimum ${MIN_IMAGE_SIZE} (1,024-byte header + 128-byte payload); the file is truncated or not a signed image`, { size: bytes.length, minimum: MIN_IMAGE_SIZE });
  }
  magicAt(bytes, B0_MAGIC, BLOCK0_MAGIC, 'block0', 'EIMAGE_BLOCK0_MAGIC');
  const payloadLength = getLe32(bytes, B0_PAYLOAD_LENGTH);
  const available = bytes.length - PAYLOAD_OFFSET;
  if (payloadLength === 0 || payloadLength > available) {
    throw new ImageError('EIMAGE_PAYLOAD_LENGTH', `signed image: block0 payload length (offset ${hex(B0_PAYLOAD_LENGTH)}) is ${payloadLength} but the file has ${available} bytes after the 1,024-byte header; the file is truncated or corrupt`, { payloadLength, available });
  }
  const contentType = bytes[B0_CONTENT_TYPE]!;
  const subtype = bytes[B0_SUBTYPE]!;
  if (subtype >= subtypeNames.length) {
    throw new ImageError('EIMAGE_SUBTYPE', `signed image: block0 subtype (offset ${hex(B0_SUBTYPE)}) is ${subtype}; known are 0 update, 1 cancellation, 2 root key hash 256, 3 root key hash 384`, { subtype });
  }
  magicAt(bytes, BLOCK1_OFFSET, BLOCK1_MAGIC, 'block1', 'EIMAGE_BLOCK1_MAGIC');
  // A root-key-hash image is not signed: PACSign's RHP_reader calls make_block1() with no entries,
  // so block1 is its magic and zeros; the payload (the hash) is what the BMC programs.
  const rootKeyHash = subtype === Subtype.ROOT_KEY_HASH_256 || subtype === Subtype.ROOT_KEY_HASH_384;
  let rootEntry: Block1Entry | undefined;
  let cskEntry: Block1Entry | undefined;
  let block0Entry: Block1Entry | undefined;
  if (!rootKeyHash) rootEntry = magicAt(bytes, BLOCK1_OFFSET + B1_ROOT_ENTRY, ROOT_ENTRY_MAGIC, 'block1 root entry', 'EIMAGE_ROOT_ENTRY');
  if (subtype === Subtype.CANCELLATION) {
    block0Entry = magicAt(bytes, BLOCK1_OFFSET + B1_BLOCK0_ENTRY_CANCEL, BLOCK0_ENTRY_MAGIC, 'block1 block0 entry (cancellation certificate)', 'EIMAGE_BLOCK0_ENTRY');
  } else if (subtype === Subtype.UPDATE) {
    cskEntry = magicAt(bytes, BLOCK1_OFFSET + B1_CSK_ENTRY, CSK_ENTRY_MAGIC, 'block1 code-signing key entry', 'EIMAGE_CSK_ENTRY');
    block0Entry = magicAt(bytes, BLOCK1_OFFSET + B1_BLOCK0_ENTRY, BLOCK0_ENTRY_MAGIC, 'block1 block0 entry', 'EIMAGE_BLOCK0_ENTRY');
  }
  return {
    bytes,
    contentType,
    contentTypeName: contentTypeNames[contentType] ?? `unknown (${contentType})`,
    subtype,
    subtypeName: subtypeNames[subtype]!,
    slot: bytes[B0_SLOT]!,
    payloadOffset: PAYLOAD_OFFSET,
    payloadLength,
    trailingBytes: available - payloadLength,
    sha256: toHex(bytes.subarray(B0_SHA256, B0_SHA256 + SHA256_BYTES)),
    sha384: toHex(bytes.subarray(B0_SHA384, B0_SHA384 + SHA384_BYTES)),
    version: versionString(bytes),
    rootEntry,
    cskEntry,
    block0Entry,
    irreversible: subtype !== Subtype.UPDATE,
  };
}

/** The payload bytes (a view into the image). */
export function payloadOf(image: SignedImage): Uint8Array {
  return image.bytes.subarray(image.payloadOffset, image.payloadOffset + image.payloadLength);
}

export interface HashCheck {
  sha256: string;
  sha384: string;
  sha256Match: boolean;
  sha384Match: boolean;
}

/** Compute SHA-256 and SHA-384 of the payload and compare them with block0. */
export function checkPayloadHashes(image: SignedImage): HashCheck {
  const payload = payloadOf(image);
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const sha384 = createHash('sha384').update(payload).digest('hex');
  return { sha256, sha384, sha256Match: sha256 === image.sha256, sha384Match: sha384 === image.sha384 };
}

/** Throws ImageError EIMAGE_HASH when a payload hash does not match block0. */
export function verifySignedImage(image: SignedImage): void {
  const check = checkPayloadHashes(image);
  if (!check.sha256Match || !check.sha384Match) {
    const which = [!check.sha256Match ? 'SHA-256' : '', !check.sha384Match ? 'SHA-384' : ''].filter(Boolean).join(' and ');
    throw new ImageError('EIMAGE_HASH', `signed image: ${which} of the ${image.payloadLength}-byte payload does not match block0 (offset ${hex(check.sha256Match ? B0_SHA384 : B0_SHA256)}); the payload was modified or the file is corrupt; get a fresh copy of the image`, { ...check, expectedSha256: image.sha256, expectedSha384: image.sha384 });
  }
}

/**
 * The root key hash a root-key-hash image programs, as hex (PACSign RHP_reader: the first 32 bytes
 * of the payload; the rest of the 48-byte field is zero, and a PR image adds a second hash), or
 * undefined for other subtypes.
 */
export function rootKeyHashOf(image: SignedImage): string | undefined {
  if (image.subtype !== Subtype.ROOT_KEY_HASH_256 && image.subtype !== Subtype.ROOT_KEY_HASH_384) return undefined;
  return toHex(image.bytes.subarray(image.payloadOffset, image.payloadOffset + SHA256_BYTES));
}

/** Image info for a parsed image. */
export function infoOf(image: SignedImage): ImageInfo {
  const check = checkPayloadHashes(image);
  return {
    type: image.contentType,
    typeName: imageTypeNames[image.contentType] ?? `unknown (${image.contentType})`,
    subtype: image.subtype,
    subtypeName: image.subtypeName,
    totalLength: image.bytes.length,
    payloadOffset: image.payloadOffset,
    payloadLength: image.payloadLength,
    slot: image.slot,
    version: image.version,
    sha256: image.sha256,
    sha384: image.sha384,
    hashesMatch: check.sha256Match && check.sha384Match,
  };
}

/** Image info, or undefined for an invalid file (the management API's "no info"). */
export function imageInfo(bytes: Uint8Array): ImageInfo | undefined {
  try {
    return infoOf(parseSignedImage(bytes));
  } catch (err) {
    if (err instanceof ImageError) return undefined;
    throw err;
  }
}

/** Read and parse a signed image file. File errors become ImageError EIMAGE_READ with the path. */
export function readSignedImage(path: string): SignedImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ImageError('EIMAGE_READ', `cannot read signed image "${path}": ${e.code ?? ''} ${e.message}; check the path and permissions`, { path, errno: e.code });
  }
  try {
    return parseSignedImage(bytes);
  } catch (err) {
    if (err instanceof ImageError) {
      throw new ImageError(err.code, `${path}: ${err.message}`, { path, ...err.details });
    }
    throw err;
  }
}
