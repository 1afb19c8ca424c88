// Builds structurally valid PACSign-style signed images (block0 with real SHA-256/384 of the
// payload, block1 with the entry magics) for tests, benchmarks and the demo. The signature
// fields carry no real ECDSA signature: a card with real keys would reject them at
// authentication; the sim checks the payload hashes, as the BMC does before the signature.
import { createHash } from 'node:crypto';
import { ArgumentError } from '../../errors.js';
import { putLe32 } from '../../util/bytes.js';
import {
  B0_CONTENT_TYPE, B0_MAGIC, B0_PAYLOAD_LENGTH, B0_SHA256, B0_SHA384, B0_SLOT, B0_SUBTYPE, B0_VERSION,
  B1_BLOCK0_ENTRY, B1_BLOCK0_ENTRY_CANCEL, B1_CSK_ENTRY, B1_ROOT_ENTRY, BLOCK0_ENTRY_MAGIC, BLOCK0_MAGIC,
  BLOCK1_MAGIC, BLOCK1_OFFSET, CSK_ENTRY_MAGIC, PAYLOAD_MIN_SIZE, PAYLOAD_OFFSET, ROOT_ENTRY_MAGIC,
  Subtype, VERSION_BYTES,
} from './layout.js';

export interface SignedImageSpec {
  /** Block0 content type: 0 static region (FPGA), 1 BMC, 2 PR... */
  contentType: number;
  /** 0 update (default), 1 cancellation, 2/3 root key hash 256/384. */
  subtype?: number;
  slot?: number;
  /** Up to 32 ASCII characters. */
  version?: string;
  payload: Uint8Array;
}

/** Build a signed image. Payloads shorter than 128 bytes are zero-padded to 128 (hashed padded). */
export function buildSignedImage(spec: SignedImageSpec): Uint8Array {
  const subtype = spec.subtype ?? Subtype.UPDATE;
  const version = spec.version ?? '';
  if (!Number.isInteger(spec.contentType) || spec.contentType < 0 || spec.contentType > 0xff) {
    throw new ArgumentError('EIMAGE_SPEC', `content type ${String(spec.contentType)} is not a byte`, { contentType: spec.contentType });
  }
  if (!Number.isInteger(subtype) || subtype < 0 || subtype > 3) {
    throw new ArgumentError('EIMAGE_SPEC', `subtype ${String(subtype)} is not 0..3 (update, cancellation, root key hash 256/384)`, { subtype });
  }
  if (version.length > VERSION_BYTES || !/^[\x20-\x7e]*$/.test(version)) {
    throw new ArgumentError('EIMAGE_SPEC', `version "${version}" must be at most ${VERSION_BYTES} printable ASCII characters`, { version });
  }
  const payloadLength = Math.max(PAYLOAD_MIN_SIZE, spec.payload.length);
  const out = new Uint8Array(PAYLOAD_OFFSET + payloadLength);
  out.set(spec.payload, PAYLOAD_OFFSET);
  const payload = out.subarray(PAYLOAD_OFFSET);
  putLe32(out, B0_MAGIC, BLOCK0_MAGIC);
  putLe32(out, B0_PAYLOAD_LENGTH, payloadLength);
  out[B0_CONTENT_TYPE] = spec.contentType;
  out[B0_SUBTYPE] = subtype;
  out[B0_SLOT] = spec.slot ?? 0;
  out.set(createHash('sha256').update(payload).digest(), B0_SHA256);
  out.set(createHash('sha384').update(payload).digest(), B0_SHA384);
  for (let i = 0; i < version.length; i++) out[B0_VERSION + i] = version.charCodeAt(i);
  putLe32(out, BLOCK1_OFFSET, BLOCK1_MAGIC);
  putLe32(out, BLOCK1_OFFSET + B1_ROOT_ENTRY, ROOT_ENTRY_MAGIC);
  if (subtype === Subtype.CANCELLATION) {
    putLe32(out, BLOCK1_OFFSET + B1_BLOCK0_ENTRY_CANCEL, BLOCK0_ENTRY_MAGIC);
  } else {
    putLe32(out, BLOCK1_OFFSET + B1_CSK_ENTRY, CSK_ENTRY_MAGIC);
    putLe32(out, BLOCK1_OFFSET + B1_BLOCK0_ENTRY, BLOCK0_ENTRY_MAGIC);
  }
  return out;
}

/** A deterministic pseudo-random payload of `length` bytes (tests, benchmarks, the demo). */
export { patternPayload } from '../../util/pattern.js';
