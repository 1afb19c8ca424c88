// Coverage feedback for the fuzzers: V8's own block coverage (node:inspector, Profiler
// .takePreciseCoverage with detailed ranges), read after every case. An input that covers a block
// of src/ no earlier input covered joins the corpus; later inputs are mutations of corpus entries.
// The corpus lives in the repository (test/fuzz/corpus/<target>/, one file per input named by its
// SHA-1): `npm run fuzz -- <target> --grow` adds what a run found, `--minimise` keeps only the
// entries that still add coverage, smallest first. CI replays the corpus and fuzzes for seconds.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuzzFinding, mutate, newStats, runCase, type FuzzStats, type Rng } from './lib.js';

export const CORPUS_ROOT = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

let shared: Coverage | undefined;

/**
 * The process's coverage collector, started on first use. Start it before the code under test is
 * imported and run: V8 instruments only functions compiled after precise coverage is enabled.
 */
export function startCoverage(): Coverage {
  return shared ??= new Coverage();
}

/** Blocks of src/ covered so far, by V8's precise block coverage. */
export class Coverage {
  readonly #session = new Session();
  readonly #seen = new Set<string>();
  readonly #filter: RegExp;

  constructor(filter = /\/src\//) {
    this.#filter = filter;
    this.#session.connect();
    this.#post('Profiler.enable');
    // Counts are reset by every take, so each take is one case's coverage.
    this.#post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  #post(method: string, params?: object): unknown {
    let out: unknown;
    let error: Error | null = null;
    let done = false;
    // A same-thread inspector session answers synchronously.
    this.#session.post(method, params ?? {}, (err, res) => {
      error = err;
      out = res;
      done = true;
    });
    if (!done) throw new Error(`inspector ${method} did not answer synchronously`);
    if (error) throw error;
    return out;
  }

  /** Blocks covered since the last call that were never covered before. */
  take(): number {
    const r = this.#post('Profiler.takePreciseCoverage') as { result: { url: string; functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[] }[] };
    let fresh = 0;
    for (const script of r.result) {
      if (!this.#filter.test(script.url)) continue;
      for (const fn of script.functions) {
        for (const range of fn.ranges) {
          if (range.count === 0) continue;
          const key = `${script.url}:${range.startOffset}:${range.endOffset}`;
          if (!this.#seen.has(key)) {
            this.#seen.add(key);
            fresh++;
          }
        }
      }
    }
    return fresh;
  }

  get blocks(): number {
    return this.#seen.size;
  }

  close(): void {
    this.#post('Profiler.stopPreciseCoverage');
    this.#session.disconnect();
  }
}

export interface GuidedOptions {
  target: string;
  rng: Rng;
  /** Run at most this many mutated cases. */
  cases: number;
  /** And stop after this long (CI: seconds per target). */
  seconds?: number;
  /** Built-in seeds (the corpus directory adds to them). */
  seeds: Uint8Array[];
  /** Run one input; throw FuzzFinding for a broken invariant, a typed error for refused input. */
  exec: (input: Uint8Array) => void;
  /** Write inputs that found new coverage into the corpus directory. */
  grow?: boolean;
  /** Per-case time budget (ms). */
  budgetMs?: number;
  /** Extra mutations for this target (structure-aware), tried on a third of the cases. */
  mutateMore?: (rng: Rng, input: Uint8Array) => Uint8Array;
}

export interface GuidedStats extends FuzzStats {
  corpus: number;
  /** Corpus entries found by this run. */
  found: number;
  blocks: number;
}

export function corpusDir(target: string): string {
  return join(CORPUS_ROOT, target);
}

export function readCorpus(target: string): Uint8Array[] {
  try {
    return readdirSync(corpusDir(target)).filter((f) => f.endsWith('.bin')).sort().map((f) => new Uint8Array(readFileSync(join(corpusDir(target), f))));
  } catch {
    return [];
  }
}

function save(target: string, input: Uint8Array): void {
  mkdirSync(corpusDir(target), { recursive: true });
  writeFileSync(join(corpusDir(target), `${createHash('sha1').update(input).digest('hex')}.bin`), input);
}

/** Replay the corpus, then mutate corpus entries, keeping inputs that reach new blocks. */
export function fuzzGuided(o: GuidedOptions): GuidedStats {
  const stats = newStats(o.target);
  const t0 = performance.now();
  const coverage = startCoverage();
  coverage.take();
  const blocksBefore = coverage.blocks;
  const corpus: Uint8Array[] = [];
  let found = 0;
  const deadline = o.seconds !== undefined ? performance.now() + o.seconds * 1000 : Infinity;
  const one = (input: Uint8Array, fromCorpus: boolean): void => {
    try {
      runCase(stats, input, () => o.exec(input), o.budgetMs);
    } catch (err) {
      if (err instanceof FuzzFinding) throw err;
      throw new FuzzFinding(`${o.target}: ${String((err as Error)?.stack ?? err)}`);
    }
    if (coverage.take() > 0 || fromCorpus) {
      corpus.push(input);
      if (!fromCorpus) {
        found++;
        if (o.grow) save(o.target, input);
      }
    }
  };
  try {
    for (const input of [...o.seeds, ...readCorpus(o.target)]) one(input, true);
    for (let i = 0; i < o.cases && performance.now() < deadline; i++) {
      const rng = o.rng;
      const base = corpus[corpus.length - 1 - rng.int(Math.min(corpus.length, rng.bool(0.5) ? 8 : corpus.length))]!;
      let input: Uint8Array;
      const kind = rng.int(10);
      if (kind < 3 && o.mutateMore) input = o.mutateMore(rng, base);
      else if (kind === 3 && corpus.length > 1) {
        // splice: the head of one entry, the tail of another
        const other = rng.pick(corpus);
        const a = rng.int(base.length + 1);
        const b = rng.int(other.length + 1);
        input = new Uint8Array(a + other.length - b);
        input.set(base.subarray(0, a));
        input.set(other.subarray(b), a);
      } else input = mutate(rng, base);
      one(input, false);
    }
  } finally {
    stats.ms = performance.now() - t0;
  }
  return { ...stats, corpus: corpus.length, found, blocks: coverage.blocks - blocksBefore };
}

/** Keep only the corpus entries that add coverage, smallest first; returns [before, after]. */
export function minimiseCorpus(target: string, exec: (input: Uint8Array) => void): [number, number] {
  const dir = corpusDir(target);
  const files = (() => {
    try {
      return readdirSync(dir).filter((f) => f.endsWith('.bin'));
    } catch {
      return [];
    }
  })();
  const entries = files.map((f) => ({ f, bytes: new Uint8Array(readFileSync(join(dir, f))) })).sort((a, b) => a.bytes.length - b.bytes.length);
  const coverage = startCoverage();
  coverage.take();
  let kept = 0;
  {
    for (const e of entries) {
      try {
        exec(e.bytes);
      } catch {
        // refused input still covers blocks
      }
      if (coverage.take() > 0) kept++;
      else rmSync(join(dir, e.f));
    }
  }
  return [entries.length, kept];
}
