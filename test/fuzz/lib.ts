// Fuzzing support: a seeded PRNG, byte mutators, and the runner contract. A target throws only
// VfiokitError (typed) on bad input; anything else, or a case over its time budget, is a finding.
import { VfiokitError } from '../../src/errors.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
}

export interface FuzzStats {
  target: string;
  cases: number;
  accepted: number;
  typedErrors: number;
  /** Count per error code. */
  codes: Record<string, number>;
  ms: number;
}

export interface FuzzTarget {
  name: string;
  /** Run `cases` cases; must throw FuzzFinding on an untyped exception or a hang. */
  fuzz(options: FuzzOptions): FuzzStats | Promise<FuzzStats>;
  /** Coverage-guided mode (test/fuzz/coverage.ts): seeds, one input's run, and cleanup. */
  guided?(rng: Rng): GuidedTarget;
}

export interface GuidedTarget {
  seeds: Uint8Array[];
  /** Run one input: FuzzFinding for a broken invariant, a typed error for refused input. */
  exec(input: Uint8Array): void;
  /** Structure-aware mutations (tried on some cases besides the byte mutators). */
  mutateMore?(rng: Rng, input: Uint8Array): Uint8Array;
  close?(): void;
}

export class FuzzFinding extends Error {}

/** sfc32 seeded PRNG (128-bit state, period at least 2^32, about 2^127 on average): deterministic per seed. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32(); // mix the seed into every word
  }
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  bool(p = 0.5): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Mutate a copy of `input`: bit flips, byte sets, interesting values, truncation, extension, splices. */
export function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  let out = new Uint8Array(input);
  const rounds = 1 + rng.int(4);
  const interesting = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x10, 0x40];
  for (let r = 0; r < rounds; r++) {
    const len = out.length;
    switch (rng.int(7)) {
      case 0: if (len) out[rng.int(len)]! ^= 1 << rng.int(8); break;
      case 1: if (len) out[rng.int(len)] = rng.u32() & 0xff; break;
      case 2: if (len) out[rng.int(len)] = rng.pick(interesting); break;
      case 3: out = out.slice(0, rng.int(len + 1)); break;
      case 4: { const extra = rng.bytes(rng.int(64)); const n = new Uint8Array(len + extra.length); n.set(out); n.set(extra, len); out = n; break; }
      case 5: if (len >= 8) { const at = rng.int(len - 7) & ~7; for (let i = 0; i < 8; i++) out[at + i] = rng.pick([0, 0xff]); } break;
      default: if (len > 2) { const a = rng.int(len), b = rng.int(len), n = Math.min(rng.int(32), len - Math.max(a, b)); out.copyWithin(a, b, b + n); } break;
    }
  }
  return out;
}

/** Run one case: counts typed errors, turns anything else or an over-budget case into a FuzzFinding. */
export function runCase(stats: FuzzStats, input: Uint8Array, fn: () => void, budgetMs = 2000): void {
  const t0 = performance.now();
  try {
    fn();
    stats.accepted++;
  } catch (err) {
    if (!(err instanceof VfiokitError)) {
      throw new FuzzFinding(`${stats.target}: untyped exception on case ${stats.cases} (${Buffer.from(input).toString('hex').slice(0, 512)}): ${(err as Error)?.stack ?? String(err)}`);
    }
    stats.typedErrors++;
    stats.codes[err.code] = (stats.codes[err.code] ?? 0) + 1;
  }
  const ms = performance.now() - t0;
  if (ms > budgetMs) throw new FuzzFinding(`${stats.target}: case ${stats.cases} took ${ms.toFixed(0)} ms (a hang)`);
  stats.cases++;
}

export function newStats(target: string): FuzzStats {
  return { target, cases: 0, accepted: 0, typedErrors: 0, codes: {}, ms: 0 };
}
