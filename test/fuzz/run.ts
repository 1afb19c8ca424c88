// `npm run fuzz -- <target> [--cases N] [--seed S]`: runs test/fuzz/<target>.fuzz.ts.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FuzzTarget } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const targets = readdirSync(here).filter((f) => f.endsWith('.fuzz.ts')).map((f) => f.slice(0, -'.fuzz.ts'.length));
const { values, positionals } = parseArgs({ options: { cases: { type: 'string', default: '100000' }, seed: { type: 'string' } }, allowPositionals: true });
const name = positionals[0];
if (!name || !targets.includes(name)) {
  process.stderr.write(`usage: npm run fuzz -- <${targets.join('|')}> [--cases N] [--seed S]\n`);
  process.exit(2);
}
const { target } = (await import(pathToFileURL(join(here, `${name}.fuzz.ts`)).href)) as { target: FuzzTarget };
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() & 0x7fffffff;
const t0 = performance.now();
const stats = await target.fuzz({ cases: Number(values.cases), seed });
stats.ms = performance.now() - t0;
process.stdout.write(`fuzz ${name}: ${stats.cases} cases (seed ${seed}) in ${(stats.ms / 1000).toFixed(1)} s: ${stats.accepted} accepted, ${stats.typedErrors} typed errors, 0 findings\n`);
process.stdout.write(`error codes: ${JSON.stringify(stats.codes)}\n`);
