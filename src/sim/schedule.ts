// Run a device-side action after a delay on the card's clock: on a VirtualClock when virtual time
// passes the deadline (deterministic tests), on the real clock with a timer.
import { VirtualClock, type Clock } from '../util/clock.js';

/** Schedule `fn` after `delayMs` on `clock`; returns a cancel function. */
export function schedule(clock: Clock, delayMs: number, fn: () => void): () => void {
  if (clock instanceof VirtualClock) return clock.at(delayMs, fn);
  const timer = delayMs <= 0 ? setImmediate(fn) : setTimeout(fn, delayMs);
  return () => (delayMs <= 0 ? clearImmediate(timer as NodeJS.Immediate) : clearTimeout(timer as NodeJS.Timeout));
}
