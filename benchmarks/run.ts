// `npm run bench -- <name> [--json] [...]`: runs benchmarks/<name>.ts.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchmarkModule } from './lib.js';
import { printReport } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here).filter((f) => f.endsWith('.ts') && !['run.ts', 'lib.ts'].includes(f)).map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${names.join('|')}> [--json]\n`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as BenchmarkModule;
const json = args.includes('--json');
const report = await mod.run({ json, args: args.filter((a) => a !== '--json') });
printReport(report, json);
