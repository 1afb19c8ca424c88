// Builds signed images laid out byte for byte as OPAE's PACSign writes them (opae-sdk
// python/pacsign/pacsign/reader.py: make_block0, make_root_entry, make_csk_entry,
// make_block0_entry, make_block1; UPDATE_reader / CANCEL_reader / RHP_reader run()), for tests,
// benchmarks and the demo. Signatures are left as PACSign leaves them when no key is given (R and
// S zero): a card with real keys rejects such an update at authentication; the sim checks the
// payload hashes, as the BMC does before the signature. Two vfiokit extras, off by default so the
// bytes equal PACSign's: a slot byte at 0x0A and a version tag at 0x60 (both reserved zeros there).
import { createHash } from 'node:crypto';
import { ArgumentError } from '../../errors.js';
import { putLe32 } from '../../util/bytes.js';
import {
  B0_CONTENT_TYPE, B0_MAGIC, B0_PAYLOAD_LENGTH, B0_SHA256, B0_SHA384, B0_SLOT, B0_SUBTYPE, B0_VERSION,
  B1_ROOT_ENTRY, BLOCK0_ENTRY_MAGIC, BLOCK0_ENTRY_SIG_MAGIC, BLOCK0_MAGIC, BLOCK1_MAGIC,
  BLOCK1_OFFSET, ContentType, CSK_ENTRY_MAGIC, CSK_ENTRY_SIG_MAGIC, CSK_ENTRY_SIZE,
  CURVE_MAGIC_SECP256R1, KEY_ENTRY_CURVE, KEY_ENTRY_ID, KEY_ENTRY_PERMISSION, KEY_ENTRY_X, KEY_ENTRY_Y,
  PAYLOAD_ALIGN, PAYLOAD_OFFSET, RK_HASH_FIELD, ROOT_ENTRY_MAGIC, ROOT_ENTRY_SIZE, ROOT_KEY_ID,
  ROOT_KEY_PERMISSION, SIG_MAGIC_SECP256R1, Subtype, VERSION_BYTES,
} from '../../dfl/regs/signed-image-layout.js';

/** An ECDSA P-256 public key as PACSign stores it: X and Y, 32 bytes each. */
export interface PublicKeyXY {
  x: Uint8Array;
  y: Uint8Array;
}

export interface SignedImageSpec {
  /** Block0 content type: 0 static region (FPGA), 1 BMC, 2 PR... (layout.ts ContentType). */
  contentType: number;
  /** 0 update (default), 1 cancellation, 2/3 root key hash 256/384. */
  subtype?: number;
  /** vfiokit extra (PACSign: reserved 0). */
  slot?: number;
  /** vfiokit extra, up to 32 ASCII characters (PACSign: reserved zeros). */
  version?: string;
  /** The payload; padded with zeros to a multiple of 128 bytes as PACSign pads it. */
  payload: Uint8Array;
  /** Root public key for the root entry (update, cancellation); zeros when absent, as PACSign without --root_key. */
  rootKey?: PublicKeyXY;
}

const ZERO_KEY: PublicKeyXY = { x: new Uint8Array(32), y: new Uint8Array(32) };

function checkKey(key: PublicKeyXY): void {
  if (key.x.length !== 32 || key.y.length !== 32) {
    throw new ArgumentError('EIMAGE_SPEC', `public key X and Y must be 32 bytes each (secp256r1), got ${key.x.length} and ${key.y.length}`, {});
  }
}

/** The 128-byte root entry body PACSign hashes (make_root_entry): curve magic, permission, ID, X at +0x0C, Y at +0x3C. */
export function rootEntryBody(key: PublicKeyXY = ZERO_KEY): Uint8Array {
  checkKey(key);
  const body = new Uint8Array(ROOT_ENTRY_SIZE - 4);
  putLe32(body, KEY_ENTRY_CURVE - 4, CURVE_MAGIC_SECP256R1);
  putLe32(body, KEY_ENTRY_PERMISSION - 4, ROOT_KEY_PERMISSION);
  putLe32(body, KEY_ENTRY_ID - 4, ROOT_KEY_ID);
  body.set(key.x, KEY_ENTRY_X - 4);
  body.set(key.y, KEY_ENTRY_Y - 4);
  return body;
}

/**
 * The payload of a root-key-hash image (RHP_reader.run): SHA-256 of the root entry body, zero
 * padded to 48 bytes; for PR (content type 2) followed by SHA-256 of X|Y (the "s10" hash); then
 * padded to 128 bytes.
 */
export function rootKeyHashPayload(contentType: number, key: PublicKeyXY): Uint8Array {
  const out = new Uint8Array(PAYLOAD_ALIGN);
  out.set(createHash('sha256').update(rootEntryBody(key)).digest(), 0);
  if (contentType === ContentType.PR) out.set(createHash('sha256').update(key.x).update(key.y).digest(), RK_HASH_FIELD);
  return out;
}

/** The payload of a key cancellation certificate (CANCEL_reader.run): the CSK ID as a u32, padded to 128 bytes. */
export function cancellationPayload(cskId: number): Uint8Array {
  const out = new Uint8Array(PAYLOAD_ALIGN);
  putLe32(out, 0, cskId >>> 0);
  return out;
}

/** Block1 as make_block1 builds it for `subtype`, written into `out` at BLOCK1_OFFSET. */
function writeBlock1(out: Uint8Array, subtype: number, rootKey: PublicKeyXY): void {
  putLe32(out, BLOCK1_OFFSET, BLOCK1_MAGIC);
  // Root-key-hash images (RHP_reader): make_block1() with no entries, only the magic.
  if (subtype === Subtype.ROOT_KEY_HASH_256 || subtype === Subtype.ROOT_KEY_HASH_384) return;
  let at = BLOCK1_OFFSET + B1_ROOT_ENTRY;
  putLe32(out, at, ROOT_ENTRY_MAGIC);
  out.set(rootEntryBody(rootKey), at + 4);
  at += ROOT_ENTRY_SIZE;
  if (subtype === Subtype.UPDATE) {
    // CSK entry without a CSK (UPDATE_reader defaults): permission 0xFFFFFFFF, ID 0, zero key, no signature.
    putLe32(out, at, CSK_ENTRY_MAGIC);
    putLe32(out, at + KEY_ENTRY_CURVE, CURVE_MAGIC_SECP256R1);
    putLe32(out, at + KEY_ENTRY_PERMISSION, 0xffffffff);
    putLe32(out, at + KEY_ENTRY_ID, 0);
    putLe32(out, at + CSK_ENTRY_SIG_MAGIC, SIG_MAGIC_SECP256R1);
    at += CSK_ENTRY_SIZE;
  }
  putLe32(out, at, BLOCK0_ENTRY_MAGIC);
  putLe32(out, at + BLOCK0_ENTRY_SIG_MAGIC, SIG_MAGIC_SECP256R1);
}

/** Build a signed image with PACSign's layout. */
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
  const payloadLength = Math.max(PAYLOAD_ALIGN, Math.ceil(spec.payload.length / PAYLOAD_ALIGN) * PAYLOAD_ALIGN);
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
  writeBlock1(out, subtype, spec.rootKey ?? ZERO_KEY);
  return out;
}

/** A deterministic pseudo-random payload of `length` bytes (tests, benchmarks, the demo). */
export { patternPayload } from '../../util/pattern.js';
