// Async polls: wait for a register without holding the event loop. The wait runs as a series of
// short synchronous polls (each one call into the shim's tight loop when the region is mapped,
// the shim is built and the clock is real; the JS loop otherwise), and yields to the event loop
// between them, so timers, progress bars and I/O keep running during an 8-second PR wait.
// Latency: a change is seen within one interval while a slice runs, or one event-loop turn later.
import { DEFAULT_POLL_INTERVAL_US, DEFAULT_POLL_TIMEOUT_MS, type PollOptions, type PollResult, type Region } from './region.js';

export interface AsyncPollOptions extends PollOptions {
  /** The longest a synchronous slice of the poll holds the event loop, in ms (default 1). */
  sliceMs?: number;
  /** Stop waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const DEFAULT_POLL_SLICE_MS = 1;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Pollable = Pick<Region, 'clock' | 'poll32' | 'poll64'>;

async function pollInSlices<T>(region: Pollable, options: AsyncPollOptions, slice: (opts: PollOptions) => PollResult<T>): Promise<PollResult<T>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  const intervalUs = options.intervalUs ?? DEFAULT_POLL_INTERVAL_US;
  const sliceMs = Math.max(0, options.sliceMs ?? DEFAULT_POLL_SLICE_MS);
  const clock = region.clock;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const r = slice({ timeoutMs: Math.max(0, Math.min(sliceMs, deadline - clock.now())), intervalUs });
    if (!r.timedOut || clock.now() >= deadline) return r;
    await yieldToEventLoop();
  }
}

/** Poll a 32-bit register until (value & mask) === expected or the timeout passes, yielding while it waits. Never rejects on timeout. */
export function poll32Async(region: Pollable, offset: number, mask: number, expected: number, options: AsyncPollOptions = {}): Promise<PollResult<number>> {
  return pollInSlices(region, options, (o) => region.poll32(offset, mask, expected, o));
}

/** Poll a 64-bit register until (value & mask) === expected or the timeout passes, yielding while it waits. Never rejects on timeout. */
export function poll64Async(region: Pollable, offset: number, mask: bigint, expected: bigint, options: AsyncPollOptions = {}): Promise<PollResult<bigint>> {
  return pollInSlices(region, options, (o) => region.poll64(offset, mask, expected, o));
}
