// Adaptive busy-reading for vfio-user round trips. Re-reading the socket for a few microseconds
// before sleeping in poll() saves a thread wake-up per message when the peer answers from another
// core - but when both processes share one core the peer cannot answer while we spin, so every
// spin is pure loss (a register round trip went from 25 us to ~100 us), and under load spinning
// steals time the peer needs. So the window follows results: a wait that ended inside the window
// (a hit) opens it fully, one that ran out (a miss) halves it, and below 1/4 of the maximum (two
// misses in a row) it closes: plain blocking, as libvfio-user does. Closed, it re-opens for one
// full-window probe every PROBE_EVERY waits, so a placement that changes (a process migrated to
// another core, the peer starting to spin too) is noticed; a probe costs at most one window.
// Between two reads the spinner yields the CPU (sched_yield): a peer on the same core runs at once
// instead of waiting for our window to end; with the core to itself the call returns at once.
import { libc } from '../sys/libc.js';

const PROBE_EVERY = 32;

export class AdaptiveSpin {
  /** Largest window, milliseconds. */
  readonly maxMs: number;
  /** False: always spin maxMs (the fixed window, for comparison in benchmarks). */
  readonly adaptive: boolean;
  #windowMs: number;
  #sinceClosed = 0;
  hits = 0;
  misses = 0;

  constructor(maxUs: number, adaptive = true) {
    this.maxMs = Math.max(0, maxUs) / 1000;
    this.adaptive = adaptive;
    this.#windowMs = this.maxMs;
  }

  /** The window for the next wait, milliseconds (0: block at once). */
  next(): number {
    if (!this.adaptive || this.#windowMs > 0) return this.#windowMs;
    if (++this.#sinceClosed < PROBE_EVERY) return 0;
    this.#sinceClosed = 0;
    return this.maxMs;
  }

  /** The awaited message came inside the window. */
  hit(): void {
    this.hits++;
    if (this.adaptive) this.#windowMs = this.maxMs;
  }

  /** Between two reads of the socket while spinning: let a runnable peer on this core go first. */
  pause(): void {
    if (this.adaptive) libc.sched_yield();
  }

  /** The window ran out before the message came. */
  miss(): void {
    this.misses++;
    if (!this.adaptive) return;
    this.#windowMs /= 2;
    if (this.#windowMs < this.maxMs / 4) this.#windowMs = 0;
  }
}
