// Read-modify-write and wait helpers over a Region (ixy's set_reg32 / clear_flags32 /
// wait_set_reg32, the kernel's readq/writeq pairs around a mask): the one way drivers set, clear,
// update and wait for bits, so no caller open-codes `write(read() | x)`.
import { poll32Async, poll64Async, type AsyncPollOptions } from './poll-async.js';
import type { PollOptions, PollResult, Region } from './region.js';

type Rw32 = Pick<Region, 'read32' | 'write32'>;
type Rw64 = Pick<Region, 'read64' | 'write64'>;

/** reg |= bits (32-bit). Returns the value written. */
export function setBits32(region: Rw32, offset: number, bits: number): number {
  const v = (region.read32(offset) | bits) >>> 0;
  region.write32(offset, v);
  return v;
}
/** reg &= ~bits (32-bit). Returns the value written. */
export function clearBits32(region: Rw32, offset: number, bits: number): number {
  const v = (region.read32(offset) & ~bits) >>> 0;
  region.write32(offset, v);
  return v;
}
/** reg = (reg & ~mask) | value (32-bit; `value` already in place, e.g. from fieldPrep). Returns the value written. */
export function updateBits32(region: Rw32, offset: number, mask: number, value: number): number {
  const v = ((region.read32(offset) & ~mask) | (value & mask)) >>> 0;
  region.write32(offset, v);
  return v;
}
/** reg |= bits (64-bit). Returns the value written. */
export function setBits64(region: Rw64, offset: number, bits: bigint): bigint {
  const v = region.read64(offset) | bits;
  region.write64(offset, v);
  return v;
}
/** reg &= ~bits (64-bit). Returns the value written. */
export function clearBits64(region: Rw64, offset: number, bits: bigint): bigint {
  const v = BigInt.asUintN(64, region.read64(offset) & ~bits);
  region.write64(offset, v);
  return v;
}
/** reg = (reg & ~mask) | value (64-bit). Returns the value written. */
export function updateBits64(region: Rw64, offset: number, mask: bigint, value: bigint): bigint {
  const v = BigInt.asUintN(64, (region.read64(offset) & ~mask) | (value & mask));
  region.write64(offset, v);
  return v;
}

/** Wait until all of `bits` are set (`set` true) or clear (`set` false), synchronously (the shim's loop on mapped regions). */
export function waitBits64(region: Pick<Region, 'poll64'>, offset: number, bits: bigint, set: boolean, options?: PollOptions): PollResult<bigint> {
  return region.poll64(offset, bits, set ? bits : 0n, options);
}
export function waitBits32(region: Pick<Region, 'poll32'>, offset: number, bits: number, set: boolean, options?: PollOptions): PollResult<number> {
  return region.poll32(offset, bits, set ? bits : 0, options);
}
/** The same waits, yielding to the event loop between slices (mmio/poll-async.ts). */
export function waitBits64Async(region: Pick<Region, 'clock' | 'poll32' | 'poll64'>, offset: number, bits: bigint, set: boolean, options?: AsyncPollOptions): Promise<PollResult<bigint>> {
  return poll64Async(region, offset, bits, set ? bits : 0n, options);
}
export function waitBits32Async(region: Pick<Region, 'clock' | 'poll32' | 'poll64'>, offset: number, bits: number, set: boolean, options?: AsyncPollOptions): Promise<PollResult<number>> {
  return poll32Async(region, offset, bits, set ? bits : 0, options);
}
