// The package as a user gets it: `npm pack` of a fresh build, unpacked into a new app's
// node_modules with the dependencies it declares (linked from this checkout, so no network), then
// the README's driver compiled by `tsc --strict` (no skipLibCheck) and run against the sim, and
// every import the README names resolved from the tarball's entry points.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let work: string;
let app: string;
let pkgDir: string;

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The README section that starts at `heading`, up to the next "## ". */
function readmeSection(heading: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(heading);
  const end = readme.indexOf('\n## ', start + heading.length);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Link `name` and what it depends on (recursively) from this checkout's node_modules. */
function linkDependency(name: string, into: string, seen = new Set<string>()): void {
  if (seen.has(name)) return;
  seen.add(name);
  const from = join(root, 'node_modules', name);
  const to = join(into, name);
  mkdirSync(dirname(to), { recursive: true });
  if (!existsSync(to)) symlinkSync(from, to, 'dir');
  const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(manifest.dependencies ?? {})) linkDependency(dep, into, seen);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vfiokit-pack-'));
  // A clean copy of the package sources, built there (the checkout's dist/ is not trusted).
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'docs', 'examples', 'scripts', 'shim', 'src']) {
    cpSync(join(root, f), join(stage, f), { recursive: true, filter: (p) => !p.includes(`${join('shim', 'build')}`) });
  }
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], stage);
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage, { npm_config_offline: 'true' })) as { filename: string }[];
  const tarball = join(work, packed[0]!.filename);

  app = join(work, 'app');
  pkgDir = join(app, 'node_modules', 'vfiokit');
  mkdirSync(pkgDir, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'], work);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(manifest.dependencies)) linkDependency(dep, join(app, 'node_modules'));
  linkDependency('@types/node', join(app, 'node_modules')); // any TypeScript app on Node has it
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the build, docs, examples, LICENSE and repository, and no tests or sources', () => {
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { repository?: { url?: string }; license?: string };
    expect(manifest.license).toBe('MIT');
    expect(manifest.repository?.url).toMatch(/^git\+https:/);
    for (const f of ['LICENSE', 'README.md', 'docs/cli.md', 'docs/api/index.md', 'examples/afu-driver.ts', 'examples/plugins/memory-backend.ts', 'dist/index.d.ts', 'bin/vfiokit.js', 'shim/binding.gyp']) {
      expect(existsSync(join(pkgDir, f)), f).toBe(true);
    }
    expect(existsSync(join(pkgDir, 'test'))).toBe(false);
    expect(existsSync(join(pkgDir, 'src'))).toBe(false);
  });

  it('has source maps whose sources are all in the package (embedded, as src/ is not shipped)', () => {
    const maps: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.js.map')) maps.push(join(dir, e.name));
      }
    };
    walk(join(pkgDir, 'dist'));
    expect(maps.length).toBeGreaterThan(50);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(m, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sourcesContent?.length, m).toBe(map.sources.length);
      for (const c of map.sourcesContent!) expect(typeof c === 'string' && c.length > 0, m).toBe(true);
    }
  });

  it("compiles the README's driver with tsc --strict (no skipLibCheck) and runs it on the sim", () => {
    const code = /```ts\n([\s\S]*?)```/.exec(readmeSection('## The library'))![1]!;
    writeFileSync(join(app, 'driver.ts'), code);
    writeFileSync(join(app, 'main.ts'), "import { copyThroughAfu } from './driver.js';\nawait copyThroughAfu('sim:n3000', 16 * 1024);\nconsole.log('copied');\n");
    // The tsconfig README "The library" documents for consumers.
    const tsconfig = /```json\n(\{\s*"compilerOptions"[\s\S]*?)```/.exec(readmeSection('## The library'));
    expect(tsconfig, 'README documents the consumer tsconfig').not.toBeNull();
    const config = JSON.parse(tsconfig![1]!) as { compilerOptions: Record<string, unknown> };
    expect(config.compilerOptions.skipLibCheck).toBeUndefined();
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, strict: true, outDir: 'out' }, files: ['main.ts', 'driver.ts'] }));
    run(process.execPath, [tsc, '-p', '.'], app);
    expect(run(process.execPath, ['out/main.js'], app, { VFIOKIT_NO_SHIM: '1', DEBUG: '' }).trim()).toBe('copied');
  });

  it('exports every name the README imports or names, from the entry it names', () => {
    const section = readmeSection('## The library');
    // The prose after the driver, up to the tsconfig paragraph (whose backticks are options).
    const prose = section.slice(section.indexOf('```', section.indexOf('```ts') + 5), section.indexOf('The API reference'));
    const wanted = new Map<string, Set<string>>([['vfiokit', new Set()]]);
    const want = (entry: string, name: string): void => {
      if (!wanted.has(entry)) wanted.set(entry, new Set());
      wanted.get(entry)!.add(name);
    };
    for (const m of section.matchAll(/import \{([^}]*)\} from '(vfiokit[^']*)'/g)) {
      for (const n of m[1]!.split(',')) if (n.trim()) want(m[2]!, n.trim().replace(/^type /, ''));
    }
    // Backticked identifiers in the prose belong to the main entry, or in the entry table's rows
    // to that row's entry.
    for (const line of prose.split('\n')) {
      const entry = /^\| `(vfiokit(?:\/[a-z]+)?)` \|/.exec(line)?.[1] ?? 'vfiokit';
      if (!wanted.has(entry)) wanted.set(entry, new Set());
      for (const m of line.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)) if (m[1] !== 'using' && m[1] !== 'vfiokit') want(entry, m[1]!);
    }
    expect(wanted.get('vfiokit')!.size).toBeGreaterThan(15);
    expect([...wanted.keys()].sort()).toEqual(['vfiokit', 'vfiokit/backend', 'vfiokit/dfl', 'vfiokit/manage', 'vfiokit/pci', 'vfiokit/reservations', 'vfiokit/sim']);
    // Types and values alike: `import type` of a missing name is a compile error.
    const probe = [
      ...[...wanted].filter(([, names]) => names.size > 0).map(([entry, names]) => `import type { ${[...names].join(', ')} } from '${entry}';`),
      ...[...wanted.keys()].map((entry) => `import '${entry}';`),
    ].join('\n');
    writeFileSync(join(app, 'probe.ts'), probe + '\n');
    writeFileSync(join(app, 'tsconfig.probe.json'), JSON.stringify({ extends: './tsconfig.json', files: ['probe.ts'] }));
    run(process.execPath, [tsc, '-p', 'tsconfig.probe.json'], app);
    // And each entry loads at run time from the compiled build.
    expect(run(process.execPath, ['out/probe.js'], app, { VFIOKIT_NO_SHIM: '1' })).toBe('');
  }, 240_000); // tsc over every entry plus a run: as long as run()'s spawn timeout on a loaded machine

  it('keeps internals out of the main entry', async () => {
    const probe = "import * as v from 'vfiokit'; console.log(JSON.stringify(Object.keys(v)));";
    writeFileSync(join(app, 'keys.mjs'), probe);
    const keys = JSON.parse(run(process.execPath, ['keys.mjs'], app, { VFIOKIT_NO_SHIM: '1' })) as string[];
    for (const internal of ['writeFlashStatus', 'cancelRequestPath', 'prReservationHook', 'flashReserveHook', 'statusPath', 'enterReservation', 'checkBmcAccess']) expect(keys).not.toContain(internal);
    expect(keys.length).toBeLessThan(120);
  });

  it('runs the CLI from the compiled build', () => {
    const out = run(process.execPath, [join(pkgDir, 'bin', 'vfiokit.js'), 'walk', 'sim:n3000', '--json'], app, { VFIOKIT_NO_SHIM: '1', VFIOKIT_STATE_DIR: join(work, 'state'), VFIOKIT_LOCK_DIR: join(work, 'lock') });
    expect(JSON.parse(out)).toBeTruthy();
  });
});
