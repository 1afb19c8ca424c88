// GBS ("green bitstream") files: the AFU bitstream container that partial reconfiguration loads.
// Layout (reference/pr.md "GBS file"; OPAE libopae metadata.c):
//   0x00 16 bytes  "XeonFPGA" 0xB7 "GBSv001" (the metadata GUID 58656f6e-4650-4741-b747-425376303031)
//   0x10  u32 LE   metadata length N
//   0x14  N bytes  JSON metadata (version 1; 640 and 650 are accepted aliases)
//   0x14+N         the raw bitstream fed to PR_DATA
// Legacy format (before BBS 6.4): u32 LE magic 0x1d1f8680, the 16-byte interface ID stored
// byte-reversed (so PR_INTFC_ID_L is the u64 LE at +4, PR_INTFC_ID_H the u64 LE at +12), and the
// bitstream from offset 20.
// PACSign-signed GBS (opae-sdk python/pacsign/pacsign/reader.py UPDATE_reader.run): the GBS header
// and JSON (re-serialised with a "signature" object added), then block0 (128 bytes) and block1
// (896 bytes) of a signed image, then the original bitstream padded to a multiple of 128 bytes.
// OPAE's fpgaconf (libraries/plugins/xfpga/reconf.c xfpga_fpgaReconfigureSlot) skips only the
// GBS header and JSON (get_bitstream_header_len) and hands the rest, signature blocks included, to
// the kernel's DFL_FPGA_FME_PORT_PR, which writes all of it to PR_DATA (dfl-fme-pr.c fme_pr): the
// PR engine authenticates it. So `bitstream` stays everything after the JSON, and `signature`
// says where the blocks and the signed payload are.
// The parser never copies the bitstream: `bitstream` is a subarray of the input.
import { FormatError } from '../../errors.js';
import { getLe32, getLe64, hex, putLe32, putLe64 } from '../../util/bytes.js';
import { parseBoundedJson } from '../../util/bounded-json.js';
import { halvesToUuid, isUuid, uuidToHalves, type UuidHalves } from './uuid.js';
import { BLOCK0_MAGIC, ContentType, PAYLOAD_OFFSET } from '../../dfl/regs/signed-image-layout.js';
import { buildSignedImage } from '../image/image-writer.js';
import { ImageError, checkPayloadHashes, parseSignedImage } from '../image/signed-image.js';
import type { VfiokitErrorCode } from '../../error-codes.js';

/** The 16 bytes every JSON-metadata GBS starts with: "XeonFPGA" 0xB7 "GBSv001". */
export const GBS_FILE_GUID = Uint8Array.of(0x58, 0x65, 0x6f, 0x6e, 0x46, 0x50, 0x47, 0x41, 0xb7, 0x47, 0x42, 0x53, 0x76, 0x30, 0x30, 0x31);
/** `afu-image.magic-no` (and the first u32 of a legacy GBS): FPGA_GBS_6_3_0_MAGIC in OPAE. */
export const GBS_MAGIC_NO = 0x1d1f8680; // 488605312
/** Metadata versions OPAE accepts: 1 (current), 640 and 650 (BBS 6.4.0 / 6.5.0 era). */
export const GBS_METADATA_VERSIONS: readonly number[] = [1, 640, 650];

const GUID_LENGTH = 16;
const METADATA_LENGTH_OFFSET = 0x10;
const METADATA_OFFSET = 0x14;
const LEGACY_INTERFACE_OFFSET = 4;
const LEGACY_BITSTREAM_OFFSET = 20;

/** A malformed GBS file. `code` says which rule failed; the message says what to do. */
export class GbsError extends FormatError {}

export interface AcceleratorCluster {
  name: string | undefined;
  totalContexts: number;
  /** Canonical lower-case UUID; the AFU GUID the card shows after PR. */
  acceleratorTypeUuid: string;
}

/** A clock frequency in MHz, or "auto" / "auto-<MHz>" as the OFS AFU JSON allows. */
export type ClockFrequency = number | string;

export interface GbsMetadata {
  version: number;
  platformName: string | undefined;
  magicNo: number;
  /** Canonical lower-case UUID that must equal the FME's PR interface ID. */
  interfaceUuid: string;
  clockFrequencyHigh: ClockFrequency | undefined;
  clockFrequencyLow: ClockFrequency | undefined;
  /** Watts. */
  power: number | undefined;
  acceleratorClusters: AcceleratorCluster[];
  /** The parsed JSON object as found (for fields vfiokit does not interpret). */
  json: Record<string, unknown>;
}

export interface Gbs {
  format: 'json' | 'legacy';
  /** Present for the JSON format; the legacy format carries only the interface ID. */
  metadata: GbsMetadata | undefined;
  interfaceUuid: string;
  /** The interface UUID as PR_INTFC_ID_H / PR_INTFC_ID_L values. */
  interfaceId: UuidHalves;
  /** The first cluster's accelerator-type-uuid (the AFU GUID after PR), if the file names one. */
  acceleratorUuid: string | undefined;
  /** Byte offset of the raw bitstream in the file. */
  bitstreamOffset: number;
  bitstreamLength: number;
  /** The raw bitstream: a view into the input, not a copy. */
  bitstream: Uint8Array;
  /** Length in bytes of the JSON metadata (0 for legacy). */
  metadataLength: number;
  /** Present when PACSign signed the file: block0 + block1 lead the bitstream. */
  signature: GbsSignature | undefined;
}

/** The PACSign signature blocks of a signed GBS (offsets in the file). */
export interface GbsSignature {
  /** Offset of block0 (= bitstreamOffset); block0 + block1 are 1,024 bytes. */
  offset: number;
  length: number;
  /** Block0 content type (2 = PR) and its name. */
  contentType: number;
  contentTypeName: string;
  subtype: number;
  subtypeName: string;
  /** The signed payload: the original bitstream, zero padded to a multiple of 128 bytes. */
  payloadOffset: number;
  payloadLength: number;
  /** SHA-256 / SHA-384 of the payload match block0. */
  hashesMatch: boolean;
  /** The metadata's "signature" object PACSign adds (root_key, CSK names, root_hash, keys), if any. */
  metadata: Record<string, unknown> | undefined;
}

const where = (source: string | undefined): string => (source ? `${source}: ` : '');

function fail(code: VfiokitErrorCode, source: string | undefined, message: string, details: Record<string, unknown> = {}): never {
  throw new GbsError(code, `${where(source)}${message}`, { ...(source ? { path: source } : {}), ...details });
}

function startsWithGuid(bytes: Uint8Array): boolean {
  if (bytes.length < GUID_LENGTH) return false;
  for (let i = 0; i < GUID_LENGTH; i++) if (bytes[i] !== GBS_FILE_GUID[i]) return false;
  return true;
}

/**
 * Parse a GBS file. Throws GbsError (code EGBS_*) naming what is wrong. `source` (a path) is used
 * in messages only.
 */
export function parseGbs(bytes: Uint8Array, source?: string): Gbs {
  if (!(bytes instanceof Uint8Array)) {
    fail('EGBS_INPUT', source, 'GBS input is not a byte array; pass the file contents as a Uint8Array/Buffer');
  }
  if (startsWithGuid(bytes)) return parseJsonGbs(bytes, source);
  if (bytes.length >= 4 && getLe32(bytes, 0) === GBS_MAGIC_NO) return parseLegacyGbs(bytes, source);
  if (bytes.length < METADATA_OFFSET) {
    fail('EGBS_TRUNCATED', source, `file is ${bytes.length} bytes, shorter than the 20-byte GBS header; this is not a GBS file (or it was cut short)`, { length: bytes.length });
  }
  const head = Buffer.from(bytes.subarray(0, GUID_LENGTH)).toString('hex');
  fail(
    'EGBS_MAGIC',
    source,
    `not a GBS file: the first 16 bytes are ${head}, expected "XeonFPGA\\xb7GBSv001" (JSON metadata format) or the legacy magic ${hex(GBS_MAGIC_NO)}; ` +
      'give the .gbs produced by the packager, not a raw .rbf/.sof',
    { offset: 0, found: head },
  );
}

function parseJsonGbs(bytes: Uint8Array, source: string | undefined): Gbs {
  if (bytes.length < METADATA_OFFSET) {
    fail('EGBS_TRUNCATED', source, `file is ${bytes.length} bytes: the metadata length field at 0x10 is cut off; the file is truncated, copy it again`, { length: bytes.length });
  }
  const metadataLength = getLe32(bytes, METADATA_LENGTH_OFFSET);
  if (metadataLength === 0) {
    fail('EGBS_NO_METADATA', source, 'metadata length at 0x10 is 0: the GBS has no JSON metadata, so its interface UUID cannot be checked; rebuild it with the packager', { offset: METADATA_LENGTH_OFFSET });
  }
  const end = METADATA_OFFSET + metadataLength;
  if (end > bytes.length) {
    fail(
      'EGBS_METADATA_LENGTH',
      source,
      `metadata length ${metadataLength} at 0x10 runs past the end of the file (${bytes.length} bytes, metadata would end at ${end}); the file is truncated or corrupt`,
      { offset: METADATA_LENGTH_OFFSET, metadataLength, length: bytes.length },
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(METADATA_OFFSET, end));
  } catch {
    fail('EGBS_METADATA_UTF8', source, `metadata at 0x14..${hex(end)} is not valid UTF-8 text; the file is corrupt`, { offset: METADATA_OFFSET, metadataLength });
  }
  // OPAE copies the metadata into a C string for json-c, so trailing NULs (and whitespace) are
  // tolerated there; tolerate them here too.
  const trimmed = text.replace(/[\0\s]+$/u, '');
  let json: unknown;
  try {
    json = parseBoundedJson(trimmed, 'GBS metadata');
  } catch (err) {
    const deep = (err as FormatError).code === 'EJSON_DEPTH';
    fail(deep ? 'EGBS_METADATA_DEPTH' : 'EGBS_METADATA_JSON', source, deep ? `${(err as Error).message}` : `metadata is not valid JSON (${(err as Error).message}); the file is corrupt or not a GBS`, { offset: METADATA_OFFSET, metadataLength });
  }
  const metadata = validateMetadata(json, source);
  const bitstream = bytes.subarray(end);
  const signature = signatureOf(bitstream, end, metadata.json, source);
  return {
    format: 'json',
    metadata,
    interfaceUuid: metadata.interfaceUuid,
    interfaceId: uuidToHalves(metadata.interfaceUuid),
    acceleratorUuid: metadata.acceleratorClusters[0]?.acceleratorTypeUuid,
    bitstreamOffset: end,
    bitstreamLength: bitstream.length,
    bitstream,
    metadataLength,
    signature,
  };
}

/**
 * The PACSign blocks leading a GBS bitstream, if any. PACSign's own test (reader.py
 * already_signed) is block0 magic at the start; a bitstream that starts with it but whose blocks
 * do not parse is refused rather than fed to the engine as if unsigned.
 */
function signatureOf(bitstream: Uint8Array, offset: number, json: Record<string, unknown>, source: string | undefined): GbsSignature | undefined {
  if (bitstream.length < 4 || getLe32(bitstream, 0) !== BLOCK0_MAGIC) return undefined;
  let image;
  try {
    image = parseSignedImage(bitstream);
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    fail('EGBS_SIGNATURE', source, `the bitstream at ${hex(offset)} starts with PACSign's block0 magic but its signature blocks are malformed (${err.message}); sign the GBS again with PACSign`, { offset, cause: err.code });
  }
  const check = checkPayloadHashes(image);
  const sig = json['signature'];
  return {
    offset,
    length: PAYLOAD_OFFSET,
    contentType: image.contentType,
    contentTypeName: image.contentTypeName,
    subtype: image.subtype,
    subtypeName: image.subtypeName,
    payloadOffset: offset + image.payloadOffset,
    payloadLength: image.payloadLength,
    hashesMatch: check.sha256Match && check.sha384Match,
    metadata: isObject(sig) ? sig : undefined,
  };
}

function parseLegacyGbs(bytes: Uint8Array, source: string | undefined): Gbs {
  if (bytes.length < LEGACY_BITSTREAM_OFFSET) {
    fail('EGBS_TRUNCATED', source, `legacy GBS is ${bytes.length} bytes, shorter than its 20-byte header (magic + interface ID); the file is truncated`, { length: bytes.length });
  }
  const low = getLe64(bytes, LEGACY_INTERFACE_OFFSET);
  const high = getLe64(bytes, LEGACY_INTERFACE_OFFSET + 8);
  const interfaceUuid = halvesToUuid(high, low);
  const bitstream = bytes.subarray(LEGACY_BITSTREAM_OFFSET);
  return {
    format: 'legacy',
    metadata: undefined,
    interfaceUuid,
    interfaceId: { high, low },
    acceleratorUuid: undefined,
    bitstreamOffset: LEGACY_BITSTREAM_OFFSET,
    bitstreamLength: bitstream.length,
    bitstream,
    metadataLength: 0,
    signature: undefined,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

const CLOCK_AUTO_RE = /^auto(-\d+(\.\d+)?)?$/;

function clockField(afu: Record<string, unknown>, key: string, source: string | undefined): ClockFrequency | undefined {
  const v = field(afu, key);
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string' && CLOCK_AUTO_RE.test(v)) return v;
  fail('EGBS_FIELD', source, `afu-image.${key} is ${JSON.stringify(v)}; expected a frequency in MHz (a number >= 0) or "auto"; fix the AFU JSON and repackage`, { field: `afu-image.${key}` });
}

function validateMetadata(json: unknown, source: string | undefined): GbsMetadata {
  if (!isObject(json)) {
    fail('EGBS_METADATA_JSON', source, `metadata is JSON ${Array.isArray(json) ? 'array' : typeof json}, expected an object with "version" and "afu-image"`);
  }
  const version = field(json, 'version');
  if (version === undefined) fail('EGBS_VERSION', source, 'metadata has no "version"; expected 1 (or 640/650 for older packagers)', { field: 'version' });
  if (typeof version !== 'number' || !GBS_METADATA_VERSIONS.includes(version)) {
    fail('EGBS_VERSION', source, `metadata version ${JSON.stringify(version)} is not supported; vfiokit reads versions ${GBS_METADATA_VERSIONS.join(', ')}`, { field: 'version', version: String(version) });
  }
  const platformName = field(json, 'platform-name');
  if (platformName !== undefined && typeof platformName !== 'string') {
    fail('EGBS_FIELD', source, `"platform-name" is ${JSON.stringify(platformName)}; expected a string`, { field: 'platform-name' });
  }
  const afu = field(json, 'afu-image');
  if (!isObject(afu)) fail('EGBS_AFU_IMAGE', source, `metadata has no "afu-image" object${afu === undefined ? '' : ` (found ${JSON.stringify(afu)})`}; the file is not a valid GBS`, { field: 'afu-image' });

  const magicNo = field(afu, 'magic-no');
  if (magicNo === undefined) fail('EGBS_MAGIC_NO', source, `afu-image has no "magic-no" (mandatory, ${GBS_MAGIC_NO} = ${hex(GBS_MAGIC_NO)}); rebuild the GBS with the packager`, { field: 'afu-image.magic-no' });
  if (magicNo !== GBS_MAGIC_NO) {
    fail('EGBS_MAGIC_NO', source, `afu-image.magic-no is ${JSON.stringify(magicNo)}, expected ${GBS_MAGIC_NO} (${hex(GBS_MAGIC_NO)}); the file is corrupt or for another product`, { field: 'afu-image.magic-no', found: String(magicNo), expected: GBS_MAGIC_NO });
  }

  const interfaceUuid = field(afu, 'interface-uuid');
  if (!isUuid(interfaceUuid)) {
    fail(
      'EGBS_INTERFACE_UUID',
      source,
      interfaceUuid === undefined
        ? 'afu-image has no "interface-uuid"; it names the FIM the AFU was built for and is mandatory'
        : `afu-image.interface-uuid ${JSON.stringify(interfaceUuid)} is not a UUID (8-4-4-4-12 hex digits)`,
      { field: 'afu-image.interface-uuid' },
    );
  }

  const clusters = field(afu, 'accelerator-clusters');
  if (!Array.isArray(clusters) || clusters.length === 0) {
    fail('EGBS_CLUSTERS', source, 'afu-image has no non-empty "accelerator-clusters" array; it names the AFU (accelerator-type-uuid) and is mandatory', { field: 'afu-image.accelerator-clusters' });
  }
  const acceleratorClusters: AcceleratorCluster[] = clusters.map((c: unknown, i: number) => {
    const at = `afu-image.accelerator-clusters[${i}]`;
    if (!isObject(c)) fail('EGBS_CLUSTERS', source, `${at} is ${JSON.stringify(c)}, expected an object`, { field: at });
    const uuid = field(c, 'accelerator-type-uuid');
    if (!isUuid(uuid)) {
      fail('EGBS_CLUSTERS', source, `${at}.accelerator-type-uuid ${uuid === undefined ? 'is missing' : `${JSON.stringify(uuid)} is not a UUID`}; it is the AFU GUID and is mandatory`, { field: `${at}.accelerator-type-uuid` });
    }
    const name = field(c, 'name');
    if (name !== undefined && typeof name !== 'string') fail('EGBS_CLUSTERS', source, `${at}.name is ${JSON.stringify(name)}, expected a string`, { field: `${at}.name` });
    const contexts = field(c, 'total-contexts');
    if (contexts !== undefined && !(Number.isSafeInteger(contexts) && (contexts as number) >= 0)) {
      fail('EGBS_CLUSTERS', source, `${at}.total-contexts is ${JSON.stringify(contexts)}, expected a non-negative integer`, { field: `${at}.total-contexts` });
    }
    return { name: name as string | undefined, totalContexts: (contexts as number | undefined) ?? 1, acceleratorTypeUuid: uuid.toLowerCase() };
  });

  const power = field(afu, 'power');
  if (power !== undefined && !(typeof power === 'number' && Number.isFinite(power) && power >= 0)) {
    fail('EGBS_FIELD', source, `afu-image.power is ${JSON.stringify(power)}; expected watts as a number >= 0`, { field: 'afu-image.power' });
  }
  return {
    version,
    platformName: platformName as string | undefined,
    magicNo: GBS_MAGIC_NO,
    interfaceUuid: interfaceUuid.toLowerCase(),
    clockFrequencyHigh: clockField(afu, 'clock-frequency-high', source),
    clockFrequencyLow: clockField(afu, 'clock-frequency-low', source),
    power: power as number | undefined,
    acceleratorClusters,
    json,
  };
}

// ---------------------------------------------------------------------------------------------
// Writer (tests, the demo, tools): metadata + raw bitstream -> GBS bytes.

export interface GbsClusterInput {
  name?: string;
  totalContexts?: number;
  acceleratorTypeUuid: string;
}

export interface GbsInput {
  /** Metadata version (default 1). */
  version?: number;
  platformName?: string;
  interfaceUuid: string;
  clockFrequencyHigh?: ClockFrequency;
  clockFrequencyLow?: ClockFrequency;
  power?: number;
  acceleratorClusters: GbsClusterInput[];
  /** Override magic-no (only to build deliberately bad files in tests). */
  magicNo?: number;
}

/** Build a JSON-metadata GBS. The result parses back with parseGbs to the same metadata. */
export function buildGbs(input: GbsInput, bitstream: Uint8Array): Uint8Array {
  const afuImage: Record<string, unknown> = {
    'magic-no': input.magicNo ?? GBS_MAGIC_NO,
    'interface-uuid': input.interfaceUuid,
  };
  if (input.clockFrequencyHigh !== undefined) afuImage['clock-frequency-high'] = input.clockFrequencyHigh;
  if (input.clockFrequencyLow !== undefined) afuImage['clock-frequency-low'] = input.clockFrequencyLow;
  if (input.power !== undefined) afuImage['power'] = input.power;
  afuImage['accelerator-clusters'] = input.acceleratorClusters.map((c) => ({
    ...(c.name !== undefined ? { name: c.name } : {}),
    'total-contexts': c.totalContexts ?? 1,
    'accelerator-type-uuid': c.acceleratorTypeUuid,
  }));
  const json: Record<string, unknown> = { version: input.version ?? 1, 'afu-image': afuImage };
  if (input.platformName !== undefined) json['platform-name'] = input.platformName;
  return buildGbsFromJson(JSON.stringify(json), bitstream);
}

/** Build a GBS around arbitrary metadata text (tests of malformed metadata). */
export function buildGbsFromJson(metadataText: string, bitstream: Uint8Array): Uint8Array {
  const meta = new TextEncoder().encode(metadataText);
  const out = new Uint8Array(METADATA_OFFSET + meta.length + bitstream.length);
  out.set(GBS_FILE_GUID, 0);
  putLe32(out, METADATA_LENGTH_OFFSET, meta.length);
  out.set(meta, METADATA_OFFSET);
  out.set(bitstream, METADATA_OFFSET + meta.length);
  return out;
}

/**
 * Sign a JSON-metadata GBS as PACSign does (reader.py UPDATE_reader.run with content type PR and
 * no keys): the metadata gains a "signature" object, and block0 + block1 + the bitstream padded to
 * 128 bytes replace the bitstream. `contentType` other than 2 only to build wrong files in tests.
 */
export function buildSignedGbs(gbs: Uint8Array, contentType: number = ContentType.PR): Uint8Array {
  const parsed = parseGbs(gbs);
  if (!parsed.metadata) throw new GbsError('EGBS_FORMAT', 'PACSign signs only JSON-metadata GBS files (it treats a legacy file as a raw payload)');
  if (parsed.signature) throw new GbsError('EGBS_SIGNATURE', 'the GBS is already signed');
  const json = { ...parsed.metadata.json, signature: { root_key: null, CSK: null } };
  return buildGbsFromJson(JSON.stringify(json), buildSignedImage({ contentType, payload: parsed.bitstream }));
}

/** Build a legacy (pre-BBS 6.4) GBS: magic, byte-reversed interface ID, bitstream. */
export function buildLegacyGbs(interfaceUuid: string, bitstream: Uint8Array): Uint8Array {
  if (!isUuid(interfaceUuid)) throw new GbsError('EGBS_INTERFACE_UUID', `interface UUID ${JSON.stringify(interfaceUuid)} is not a UUID (8-4-4-4-12 hex digits)`);
  const { high, low } = uuidToHalves(interfaceUuid);
  const out = new Uint8Array(LEGACY_BITSTREAM_OFFSET + bitstream.length);
  putLe32(out, 0, GBS_MAGIC_NO);
  putLe64(out, LEGACY_INTERFACE_OFFSET, low);
  putLe64(out, LEGACY_INTERFACE_OFFSET + 8, high);
  out.set(bitstream, LEGACY_BITSTREAM_OFFSET);
  return out;
}
