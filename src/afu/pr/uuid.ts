// UUID strings <-> the two 64-bit register halves the hardware uses.
// dfl.md: "GUID as a string: the 128-bit value GUID_H:GUID_L printed big-endian in the 8-4-4-4-12
// form". The PR interface ID (PR_INTFC_ID_H:PR_INTFC_ID_L, pr.md) and the GBS `interface-uuid` use
// the same mapping (OPAE get_interface_id: the first 8 bytes of the parsed UUID are id_h).

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface UuidHalves {
  /** Bits [127:64]: the first 16 hex digits of the string. */
  high: bigint;
  /** Bits [63:0]: the last 16 hex digits. */
  low: bigint;
}

/** True for the canonical 8-4-4-4-12 form (either case). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

/** Lower-case canonical form; undefined when `value` is not a UUID string. */
export function normalizeUuid(value: unknown): string | undefined {
  return isUuid(value) ? value.toLowerCase() : undefined;
}

/** Split a canonical UUID string into its high and low 64-bit halves. The caller validates first. */
export function uuidToHalves(uuid: string): UuidHalves {
  const hexDigits = uuid.replace(/-/g, '');
  return { high: BigInt(`0x${hexDigits.slice(0, 16)}`), low: BigInt(`0x${hexDigits.slice(16, 32)}`) };
}

/** The canonical lower-case UUID string of GUID_H:GUID_L. */
export function halvesToUuid(high: bigint, low: bigint): string {
  const h = BigInt.asUintN(64, high).toString(16).padStart(16, '0');
  const l = BigInt.asUintN(64, low).toString(16).padStart(16, '0');
  const s = h + l;
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** The 16 bytes of a UUID in string (big-endian) order. */
export function uuidToBytes(uuid: string): Uint8Array {
  const hexDigits = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hexDigits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The UUID string of 16 bytes in string (big-endian) order. */
export function bytesToUuid(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
