// The layer rule of docs/design.md, checked statically: the device models in src/sim import the
// hardware description (src/dfl/regs), the dfl codecs and the layers below, never the host's card
// layer (src/afu) or the command line (src/cli), not even through another module. The import
// graph is read from the sources (static `import`/`export ... from` and `import()` with a string
// literal), following relative specifiers only.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const SPECIFIER = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative imports of `file`, resolved to .ts paths under the repository. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    out.push(existsSync(target) ? target : resolve(dirname(file), spec, 'index.ts'));
  }
  return out;
}

/** Every module reachable from `start`, each with the chain that reaches it. */
function reachable(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const dep of importsOf(file)) {
      if (seen.has(dep)) continue;
      seen.set(dep, [...seen.get(file)!, dep]);
      queue.push(dep);
    }
  }
  return seen;
}

const rel = (p: string): string => relative(root, p);
const forbidden = [join(src, 'afu') + '/', join(src, 'cli') + '/'];

describe('import graph (docs/design.md "Layers")', () => {
  it('reads imports the way the sources write them', () => {
    const here = importsOf(join(src, 'sim', 'pr-engine.ts')).map(rel);
    expect(here).toContain('src/dfl/regs/pr.ts');
    expect(here).toContain('src/dfl/regs/signed-image-layout.ts');
  });

  it('no module under src/sim reaches src/afu or src/cli, directly or through another module', () => {
    const offending: string[] = [];
    for (const file of tsFiles(join(src, 'sim'))) {
      for (const [dep, chain] of reachable(file)) {
        if (forbidden.some((f) => dep.startsWith(f))) offending.push(chain.map(rel).join(' -> '));
      }
    }
    expect(offending).toEqual([]);
  });

  it('the hardware description (src/dfl/regs) imports nothing above util and itself', () => {
    const offending = tsFiles(join(src, 'dfl', 'regs')).flatMap((file) =>
      importsOf(file).filter((dep) => !dep.startsWith(join(src, 'util') + '/') && !dep.startsWith(join(src, 'dfl') + '/')).map((dep) => `${rel(file)} -> ${rel(dep)}`));
    expect(offending).toEqual([]);
  });
});
