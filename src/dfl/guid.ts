// GUID / UUID formatting for DFL headers (dfl.md "GUID as a string"): the 128-bit value
// GUID_H:GUID_L printed big-endian in the 8-4-4-4-12 form. The PR interface ID (pr.md,
// PR_INTFC_ID_H:PR_INTFC_ID_L) uses the same form.
import { ArgumentError } from '../errors.js';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "bfaf2ae9-4a52-46e3-82fe-38f0f9e17764" from the high and low 64-bit halves. */
export function formatGuid(high: bigint, low: bigint): string {
  const h = BigInt.asUintN(64, high).toString(16).padStart(16, '0');
  const l = BigInt.asUintN(64, low).toString(16).padStart(16, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${l.slice(0, 4)}-${l.slice(4, 16)}`;
}

/** The high and low 64-bit halves of a GUID string (as written to GUID_H / GUID_L). */
export function parseGuid(guid: string): { high: bigint; low: bigint } {
  if (typeof guid !== 'string' || !GUID_RE.test(guid)) {
    throw new ArgumentError('EGUID', `"${String(guid)}" is not a GUID; write it as 8-4-4-4-12 hex digits, e.g. bfaf2ae9-4a52-46e3-82fe-38f0f9e17764`, { guid: String(guid) });
  }
  const digits = guid.replace(/-/g, '').toLowerCase();
  return { high: BigInt(`0x${digits.slice(0, 16)}`), low: BigInt(`0x${digits.slice(16)}`) };
}

export function isGuid(value: string): boolean {
  return GUID_RE.test(value);
}

/** Well-known FIU GUIDs (dfl.md). */
export const FME_GUID = 'bfaf2ae9-4a52-46e3-82fe-38f0f9e17764';
export const PORT_GUID = '3ab49893-138d-42eb-9642-b06c6b355b87';
