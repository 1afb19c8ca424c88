// Injectable time. Flows (port reset, PR, secure update) wait and poll through a Clock; device
// models read the same Clock, so a VirtualClock runs a 40-minute flash copy in milliseconds.

export interface Clock {
  /** Monotonic time in milliseconds (fractional). */
  now(): number;
  /** Wait asynchronously (yields to the event loop). */
  sleep(ms: number): Promise<void>;
  /** Wait synchronously (short register polls, microseconds). */
  spin(ms: number): void;
  /** True for the wall clock: only then may a poll run inside the C shim on real time. */
  readonly real: boolean;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export const realClock: Clock = {
  real: true,
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  spin(ms) {
    if (ms >= 1) {
      Atomics.wait(sleepCell, 0, 0, ms);
      return;
    }
    const end = performance.now() + ms;
    while (performance.now() < end) { /* busy wait below 1 ms */ }
  },
};

/**
 * Virtual time: sleep and spin advance time instantly. Device models that schedule work with
 * `at()` see it run when time passes the deadline. Deterministic; shared by a flow and a model.
 */
export class VirtualClock implements Clock {
  readonly real = false;
  #now: number;
  #timers: { at: number; seq: number; fn: () => void }[] = [];
  #seq = 0;

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Advance time by `ms`, firing scheduled callbacks in order. */
  advance(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /** Run `fn` when virtual time reaches now + delayMs. Returns a cancel function. */
  at(delayMs: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn };
    const timers = this.#timers;
    let i = timers.length;
    while (i > 0 && (timers[i - 1]!.at > timer.at)) i--;
    timers.splice(i, 0, timer);
    return () => {
      const k = timers.indexOf(timer);
      if (k >= 0) timers.splice(k, 1);
    };
  }

  spin(ms: number): void {
    this.advance(ms);
  }

  async sleep(ms: number): Promise<void> {
    this.advance(ms);
    await Promise.resolve();
  }
}
