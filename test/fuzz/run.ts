// `npm run fuzz -- <target> [--cases N] [--seed S]`: runs test/fuzz/<target>.fuzz.ts.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng, type FuzzTarget } from './lib.js';
import { fuzzGuided, minimiseCorpus, startCoverage } from './coverage.js';

const here = dirname(fileURLToPath(import.meta.url));
const targets = readdirSync(here).filter((f) => f.endsWith('.fuzz.ts')).map((f) => f.slice(0, -'.fuzz.ts'.length));
const { values, positionals } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' }, seed: { type: 'string' }, guided: { type: 'boolean' }, seconds: { type: 'string' },
    grow: { type: 'boolean' }, minimise: { type: 'boolean' },
  },
  allowPositionals: true,
});
const name = positionals[0];
if (!name || !targets.includes(name)) {
  process.stderr.write(`usage: npm run fuzz -- <${targets.join('|')}> [--cases N] [--seed S] [--guided [--seconds S] [--grow] | --minimise]\n`);
  process.exit(2);
}
// Coverage must be on before the code under test compiles (coverage.ts startCoverage).
if (values.guided || values.minimise) startCoverage();
const { target } = (await import(pathToFileURL(join(here, `${name}.fuzz.ts`)).href)) as { target: FuzzTarget };
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() & 0x7fffffff;
if (values.guided || values.minimise) {
  if (!target.guided) {
    process.stderr.write(`fuzz ${name}: no coverage-guided mode\n`);
    process.exit(2);
  }
  const g = target.guided(new Rng(seed));
  try {
    if (values.minimise) {
      const [before, after] = minimiseCorpus(name, (input) => g.exec(input));
      process.stdout.write(`fuzz ${name}: corpus minimised from ${before} to ${after} entries\n`);
    } else {
      const s = fuzzGuided({ target: name, rng: new Rng(seed), cases: Number(values.cases), seconds: values.seconds !== undefined ? Number(values.seconds) : undefined, seeds: g.seeds, exec: (i) => g.exec(i), mutateMore: g.mutateMore, grow: values.grow });
      process.stdout.write(`fuzz ${name} (coverage-guided): ${s.cases} cases (seed ${seed}) in ${((s.ms || 0) / 1000).toFixed(1)} s: ${s.blocks} blocks covered, corpus ${s.corpus} (${s.found} new${values.grow ? ', saved' : ''}), ${s.accepted} accepted, ${s.typedErrors} typed errors, 0 findings\n`);
    }
  } finally {
    g.close?.();
  }
  process.exit(0);
}
const t0 = performance.now();
const stats = await target.fuzz({ cases: Number(values.cases), seed });
stats.ms = performance.now() - t0;
process.stdout.write(`fuzz ${name}: ${stats.cases} cases (seed ${seed}) in ${(stats.ms / 1000).toFixed(1)} s: ${stats.accepted} accepted, ${stats.typedErrors} typed errors, 0 findings\n`);
process.stdout.write(`error codes: ${JSON.stringify(stats.codes)}\n`);
