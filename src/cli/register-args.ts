// Parsing of the register arguments peek and poke share: region (-r), access width (-a), offsets
// and values in hex (0x...) or decimal. Bad input is a UsageError that says what was expected.
import { UsageError } from './output.js';
import type { Device } from '../device/device.js';
import { RegionIndex } from '../device/device.js';

/** "0", "bar2", "BAR2" -> 0..5 (VFIO region index); "rom" -> 6. */
export function parseRegion(text: string | undefined, device: Device): number {
  if (text === undefined) return RegionIndex.BAR0;
  const m = /^(?:bar)?([0-5])$/i.exec(text);
  const index = m ? Number(m[1]) : /^rom$/i.test(text) ? RegionIndex.ROM : NaN;
  if (Number.isNaN(index)) throw new UsageError('EUSAGE', `-r/--region must be a BAR number 0..5 (or bar0..bar5, rom), got "${text}"`);
  if (index >= device.regionCount || device.regionInfo(index).size === 0) {
    const present: string[] = [];
    for (let i = 0; i < Math.min(device.regionCount, RegionIndex.CONFIG); i++) if (device.regionInfo(i).size > 0) present.push(String(i));
    throw new UsageError('EUSAGE', `${device.url} has no region ${index}; it has ${present.length ? `region(s) ${present.join(', ')}` : 'no BARs'}`);
  }
  return index;
}

export function parseWidth(text: string | undefined): 32 | 64 {
  if (text === undefined || text === '64') return 64;
  if (text === '32') return 32;
  throw new UsageError('EUSAGE', `-a/--access must be 32 or 64, got "${text}"`);
}

/** A non-negative integer offset in hex or decimal. */
export function parseOffset(text: string | undefined, what = 'OFFSET'): number {
  if (text === undefined) throw new UsageError('EUSAGE', `missing ${what}; give it in hex (0x40) or decimal`);
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new UsageError('EUSAGE', `${what} "${text}" is not a number; give it in hex (0x40) or decimal`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError('EUSAGE', `${what} ${text} is too large`);
  return n;
}

/** A register value of `width` bits in hex or decimal, range-checked. */
export function parseValue(text: string | undefined, width: 32 | 64): bigint {
  if (text === undefined) throw new UsageError('EUSAGE', 'missing VALUE; give it in hex (0xdeadbeef) or decimal');
  if (!/^(0x[0-9a-f_]+|\d+)$/i.test(text)) throw new UsageError('EUSAGE', `VALUE "${text}" is not a number; give it in hex (0xdeadbeef) or decimal`);
  const v = BigInt(text.replace(/_/g, ''));
  if (v >= 1n << BigInt(width)) throw new UsageError('EUSAGE', `VALUE ${text} does not fit a ${width}-bit register (max 0x${((1n << BigInt(width)) - 1n).toString(16)}); use -a 64 for 64-bit registers`);
  return v;
}

export function hexWord(value: bigint | number, width: 32 | 64): string {
  return '0x' + value.toString(16).padStart(width / 4, '0');
}
