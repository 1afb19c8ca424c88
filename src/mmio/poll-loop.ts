// The JavaScript poll loop both Region kinds use: on trapped regions always, on mapped regions when
// the shim is missing or the clock is virtual (with the shim and a real clock, the loop runs in C).
// Reads go through the region (full width, checked); waits go through the region's clock.
import type { Clock } from '../util/clock.js';
import type { PollResult } from './region.js';

interface Pollable {
  readonly clock: Clock;
  read32(offset: number): number;
  read64(offset: number): bigint;
}

/** Poll the 32-bit register at `offset` until (value & mask) === expected or `timeoutMs` passes. */
export function pollLoop32(region: Pollable, offset: number, mask: number, expected: number, timeoutMs: number, intervalUs: number): PollResult<number> {
  const m = mask >>> 0;
  const want = expected >>> 0;
  const clock = region.clock;
  const intervalMs = intervalUs / 1000;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const value = region.read32(offset);
    if (((value & m) >>> 0) === want) return { value, timedOut: false };
    if (clock.now() >= deadline) return { value, timedOut: true };
    clock.spin(intervalMs);
  }
}

/** Poll the 64-bit register at `offset` until (value & mask) === expected or `timeoutMs` passes. */
export function pollLoop64(region: Pollable, offset: number, mask: bigint, expected: bigint, timeoutMs: number, intervalUs: number): PollResult<bigint> {
  const m = BigInt.asUintN(64, mask);
  const want = BigInt.asUintN(64, expected);
  const clock = region.clock;
  const intervalMs = intervalUs / 1000;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const value = region.read64(offset);
    if ((value & m) === want) return { value, timedOut: false };
    if (clock.now() >= deadline) return { value, timedOut: true };
    clock.spin(intervalMs);
  }
}
