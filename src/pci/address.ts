// PCI addresses (domain:bus:device.function), as sysfs names them: "0000:3b:00.0".
import { ArgumentError } from '../errors.js';

export interface PciAddress {
  domain: number;
  bus: number;
  device: number;
  function: number;
}

const FULL = /^([0-9a-f]{4,8}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;
const SHORT = /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

/** True for a full sysfs-style BDF ("0000:3b:00.0"). */
export function isBdf(text: string): boolean {
  const m = FULL.exec(text);
  return m !== null && Number.parseInt(m[3]!, 16) < 32;
}

/** Parse "0000:3b:00.0" or "3b:00.0" (domain 0). */
export function parseBdf(text: string): PciAddress {
  const t = String(text).trim();
  let m = FULL.exec(t);
  let parts: string[] | undefined;
  if (m) parts = [m[1]!, m[2]!, m[3]!, m[4]!];
  else if ((m = SHORT.exec(t))) parts = ['0', m[1]!, m[2]!, m[3]!];
  const addr = parts && { domain: Number.parseInt(parts[0]!, 16), bus: Number.parseInt(parts[1]!, 16), device: Number.parseInt(parts[2]!, 16), function: Number.parseInt(parts[3]!, 10) };
  if (!addr || addr.device > 31) {
    throw new ArgumentError('EARG_BDF', `'${t}' is not a PCI address: use [domain:]bus:device.function in hex (bus 00-ff, device 00-1f, function 0-7), e.g. 0000:3b:00.0`, { bdf: t });
  }
  return addr;
}

export function formatBdf(a: PciAddress): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${h(a.domain, 4)}:${h(a.bus, 2)}:${h(a.device, 2)}.${a.function}`;
}

/** Canonical full form ("3B:00.0" -> "0000:3b:00.0"). */
export function normalizeBdf(text: string): string {
  return formatBdf(parseBdf(text));
}
