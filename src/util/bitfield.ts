// The register-field idiom, after the kernel's include/linux/bits.h (GENMASK, GENMASK_ULL) and
// include/linux/bitfield.h (FIELD_GET, FIELD_PREP, FIELD_FIT): a field is a named, contiguous
// mask; values are shifted by the mask's lowest set bit, never by a separate _SHIFT constant.
// Every register map in src/dfl/regs and every driver/model that reads them uses these.
// 32-bit registers use numbers (unsigned), 64-bit registers use bigints.

/** GENMASK(high, low): bits high..low set, as an unsigned 32-bit number. */
export function genmask(high: number, low: number): number {
  if (!(Number.isInteger(high) && Number.isInteger(low) && low >= 0 && high >= low && high < 32)) {
    throw new RangeError(`genmask(${high}, ${low}): need 31 >= high >= low >= 0`);
  }
  return ((0xffff_ffff >>> (31 - high)) & ~((1 << low) - 1)) >>> 0;
}

/** GENMASK_ULL(high, low): bits high..low set, as a 64-bit bigint. */
export function genmask64(high: number, low: number): bigint {
  if (!(Number.isInteger(high) && Number.isInteger(low) && low >= 0 && high >= low && high < 64)) {
    throw new RangeError(`genmask64(${high}, ${low}): need 63 >= high >= low >= 0`);
  }
  return ((1n << BigInt(high - low + 1)) - 1n) << BigInt(low);
}

/** BIT(n) as a number, BIT_ULL(n) as a bigint. */
export const bit = (n: number): number => genmask(n, n);
export const bit64 = (n: number): bigint => 1n << BigInt(n);

function lowestSetBit(mask: number | bigint): number {
  if (typeof mask === 'bigint') {
    if (mask <= 0n) throw new RangeError('field mask must be non-zero');
    // Two 32-bit halves and clz32, not a loop of bigint shifts: the models read fields per access.
    const lo = Number(BigInt.asUintN(32, mask));
    if (lo !== 0) return 31 - Math.clz32(lo & -lo);
    const hi = Number(BigInt.asUintN(32, mask >> 32n));
    if (hi !== 0) return 63 - Math.clz32(hi & -hi);
    let s = 64;
    while (((mask >> BigInt(s)) & 1n) === 0n) s++;
    return s;
  }
  const m = mask >>> 0;
  if (m === 0) throw new RangeError('field mask must be non-zero');
  return 31 - Math.clz32(m & -m);
}

/** FIELD_GET(mask, reg): the field's value, shifted down. */
export function fieldGet(mask: number, reg: number): number;
export function fieldGet(mask: bigint, reg: bigint): bigint;
export function fieldGet(mask: number | bigint, reg: number | bigint): number | bigint {
  const s = lowestSetBit(mask);
  if (typeof mask === 'bigint') return (BigInt.asUintN(64, reg as bigint) & mask) >> BigInt(s);
  return (((reg as number) & mask) >>> s) >>> 0;
}

/** FIELD_FIT(mask, value): true when `value` fits the field. */
export function fieldFit(mask: number | bigint, value: number | bigint): boolean {
  const s = lowestSetBit(mask);
  if (typeof mask === 'bigint') {
    const v = BigInt(value);
    return v >= 0n && ((v << BigInt(s)) & ~mask) === 0n;
  }
  const v = Number(value);
  return Number.isInteger(v) && v >= 0 && v <= (mask >>> 0) >>> s;
}

/** FIELD_PREP(mask, value): `value` shifted into the field. Throws when it does not fit (the kernel's build-time check). */
export function fieldPrep(mask: number, value: number): number;
export function fieldPrep(mask: bigint, value: bigint | number): bigint;
export function fieldPrep(mask: number | bigint, value: number | bigint): number | bigint {
  const s = lowestSetBit(mask);
  if (typeof mask === 'bigint') {
    const v = typeof value === 'bigint' ? value : Number.isInteger(value) ? BigInt(value) : -1n;
    const placed = v << BigInt(s);
    if (v < 0n || (placed & ~mask) !== 0n) throw new RangeError(`fieldPrep: ${value} does not fit mask 0x${mask.toString(16)}`);
    return placed;
  }
  const v = Number(value);
  if (!(Number.isInteger(v) && v >= 0 && v <= (mask >>> 0) >>> s)) throw new RangeError(`fieldPrep: ${value} does not fit mask 0x${mask.toString(16)}`);
  return (v << s) >>> 0;
}

/** (reg & ~mask) | fieldPrep(mask, value): replace one field of a register value. */
export function fieldSet(mask: number, reg: number, value: number): number;
export function fieldSet(mask: bigint, reg: bigint, value: bigint | number): bigint;
export function fieldSet(mask: number | bigint, reg: number | bigint, value: number | bigint): number | bigint {
  if (typeof mask === 'bigint') return (BigInt.asUintN(64, reg as bigint) & ~mask) | fieldPrep(mask, value);
  return (((reg as number) & ~mask) | fieldPrep(mask, value as number)) >>> 0;
}
