// The bitstream format the simulated PR engine understands ("sim image").
//
// A real FPGA's PR bitstream is opaque vendor data; the card learns what it loaded by configuring
// the fabric, after which the new AFU's DFH shows its GUID. The sim needs the same information
// from the bytes it receives through PR_DATA, so its bitstream starts with a 64-byte header (all
// fields little endian, 32-bit words as they arrive through PR_DATA[31:0]):
//
//   +0x00 u32  magic 0x52506b76 ("vkPR" in memory order)
//   +0x04 u32  header length in bytes (64)
//   +0x08 u64  PR interface ID, low half  (must equal PR_INTFC_ID_L, else "incompatible bitstream")
//   +0x10 u64  PR interface ID, high half (must equal PR_INTFC_ID_H)
//   +0x18 u64  AFU (accelerator-type) GUID, low half  -> the AFU's GUID_L after PR
//   +0x20 u64  AFU GUID, high half                    -> GUID_H
//   +0x28 u32  payload length in bytes (the bytes after the header; padding beyond it is ignored,
//              as the kernel notes the hardware ignores the padding to a 4-byte multiple)
//   +0x2c u32  CRC-32 (IEEE 802.3, as zlib) of the payload  -> "CRC error" when it does not match
//   +0x30..0x3f reserved, zero
//
// The GBS around it is an ordinary GBS (see src/afu/pr/gbs.ts buildGbs); its metadata should name
// the same interface UUID and accelerator-type-uuid, as a packager would produce.
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';

export const SIM_IMAGE_MAGIC = 0x52506b76;
export const SIM_IMAGE_HEADER_LENGTH = 64;

const OFF_MAGIC = 0x00;
const OFF_HEADER_LENGTH = 0x04;
const OFF_INTERFACE_L = 0x08;
const OFF_INTERFACE_H = 0x10;
const OFF_AFU_L = 0x18;
const OFF_AFU_H = 0x20;
const OFF_PAYLOAD_LENGTH = 0x28;
const OFF_PAYLOAD_CRC = 0x2c;

export interface SimImageHeader {
  interfaceIdLow: bigint;
  interfaceIdHigh: bigint;
  afuGuidLow: bigint;
  afuGuidHigh: bigint;
  payloadLength: number;
  payloadCrc: number;
}

export interface SimImageInput {
  /** The PR interface UUID the image is built for (the engine's PR_INTFC_ID_H:L). */
  interfaceUuid: string;
  /** The AFU GUID the port shows after a successful PR. */
  afuGuid: string;
  /** The "fabric configuration" bytes after the header (any length). */
  payload: Uint8Array;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** GUID_H:GUID_L of a canonical UUID string (dfl.md: the 128-bit value printed big-endian). */
export function uuidHalves(uuid: string): { high: bigint; low: bigint } {
  if (!UUID_RE.test(uuid)) throw new TypeError(`"${uuid}" is not a UUID (8-4-4-4-12 hex digits)`);
  const digits = uuid.replace(/-/g, '');
  return { high: BigInt(`0x${digits.slice(0, 16)}`), low: BigInt(`0x${digits.slice(16)}`) };
}

/** The canonical lower-case UUID string of GUID_H:GUID_L. */
export function uuidString(high: bigint, low: bigint): string {
  const s = high.toString(16).padStart(16, '0') + low.toString(16).padStart(16, '0');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, reflected, as zlib's crc32). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Build a sim image: header + payload. */
export function buildSimImage(input: SimImageInput): Uint8Array {
  const ifc = uuidHalves(input.interfaceUuid);
  const afu = uuidHalves(input.afuGuid);
  const out = new Uint8Array(SIM_IMAGE_HEADER_LENGTH + input.payload.length);
  putLe32(out, OFF_MAGIC, SIM_IMAGE_MAGIC);
  putLe32(out, OFF_HEADER_LENGTH, SIM_IMAGE_HEADER_LENGTH);
  putLe64(out, OFF_INTERFACE_L, ifc.low);
  putLe64(out, OFF_INTERFACE_H, ifc.high);
  putLe64(out, OFF_AFU_L, afu.low);
  putLe64(out, OFF_AFU_H, afu.high);
  putLe32(out, OFF_PAYLOAD_LENGTH, input.payload.length);
  putLe32(out, OFF_PAYLOAD_CRC, crc32(input.payload));
  out.set(input.payload, SIM_IMAGE_HEADER_LENGTH);
  return out;
}

/** Decode the header at the start of `bytes`; undefined when it is not a sim image. */
export function decodeSimImageHeader(bytes: Uint8Array): SimImageHeader | undefined {
  if (bytes.length < SIM_IMAGE_HEADER_LENGTH) return undefined;
  if (getLe32(bytes, OFF_MAGIC) !== SIM_IMAGE_MAGIC || getLe32(bytes, OFF_HEADER_LENGTH) !== SIM_IMAGE_HEADER_LENGTH) return undefined;
  return {
    interfaceIdLow: getLe64(bytes, OFF_INTERFACE_L),
    interfaceIdHigh: getLe64(bytes, OFF_INTERFACE_H),
    afuGuidLow: getLe64(bytes, OFF_AFU_L),
    afuGuidHigh: getLe64(bytes, OFF_AFU_H),
    payloadLength: getLe32(bytes, OFF_PAYLOAD_LENGTH),
    payloadCrc: getLe32(bytes, OFF_PAYLOAD_CRC),
  };
}
