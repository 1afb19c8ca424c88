#!/usr/bin/env node
// Mutation check for the fuzzers: each entry below re-injects a bug that today's checks prevent
// (a removed bounds/length/cycle check) into a temporary copy of the repository, runs the fuzzer
// that should notice, briefly, and records whether it reported a finding (or hung). The unpatched
// tree must give no finding. Exit 1 when a mutant survives or a patch no longer applies.
// Usage: node scripts/mutation-check.mjs [--cases N] [--seconds S] [--only NAME] [--json]
// Ends (without --json) with "N passed, N failed": one per baseline and per mutant.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { cases: { type: 'string', default: '20000' }, only: { type: 'string' }, json: { type: 'boolean' }, seconds: { type: 'string', default: '60' } } });

/** file, the exact text of the check, what replaces it, the fuzz target and its environment. */
const MUTANTS = [
  { name: 'DFL cycle check', file: 'src/dfl/walk.ts', find: 'if (this.#visited.has(key)) {', replace: 'if (false && this.#visited.has(key)) {', target: 'dfl' },
  { name: 'GBS metadata length', file: 'src/afu/pr/gbs.ts', find: 'if (end > bytes.length) {', replace: 'if (false) {', target: 'gbs' },
  { name: 'image subtype', file: 'src/afu/image/signed-image.ts', find: 'if (subtype >= subtypeNames.length) {', replace: 'if (false) {', target: 'images' },
  { name: 'Avalon overflow (C shim, ASan)', file: 'shim/spi_avmm.c', find: 'if (n >= cap) { result = DECODE_OVERFLOW; i++; break; }', replace: '', run: ['bash', 'scripts/sanitize-shim.sh', '20000'], target: 'sanitize' },
  { name: 'Avalon overflow (JS decoder)', file: 'src/afu/bmc/avalon.ts', find: 'if (n >= cap) { result = DECODE_OVERFLOW; i++; break; }', replace: '', target: 'avalon', env: { VFIOKIT_NO_SHIM: '1' } },
  // dataAfter (messages.ts): the data length check of REGION_READ/WRITE and DMA_READ/WRITE payloads.
  { name: 'region-access truncation', file: 'src/vfio-user/messages.ts', find: '  if (p.length < expect) throw truncated(`${what} data`, expect, p.length);\n', replace: '', target: 'vfio-user' },
  { name: 'server region bounds', file: 'src/vfio-user/server-regions.ts', find: 'if (offset64 + BigInt(count) > BigInt(info.size)) refuse(', replace: 'if (false) refuse(', target: 'vfio-user' },
  { name: 'DMA overlap', file: 'src/vfio-user/server-dma.ts', find: 'if (iova < w.iova + w.size && w.iova < iova + size) {', replace: 'if (false) {', target: 'vfio-user' },
  // readInputFile's ceiling (src/util/input-file.ts): without it a regular file past the format's maximum is read whole.
  // No fuzzer feeds files; the input-files test that pins the refusal by size must fail instead.
  {
    name: 'file-size checks', file: 'src/util/input-file.ts', find: 'if (st.size > limit.maxBytes) throw tooBig(st.size);', replace: '', target: 'input-file', env: { NO_COLOR: '1' },
    run: [process.execPath, 'node_modules/vitest/vitest.mjs', 'run', 'test/cli/input-files.test.ts', '-t', 'larger than the format allows'],
  },
];

function copyTree() {
  const dir = mkdtempSync(join(tmpdir(), 'vfiokit-mutant-'));
  for (const p of ['src', 'test', 'shim', 'scripts', 'bin', 'package.json', 'tsconfig.json', 'vitest.config.ts']) cpSync(join(root, p), join(dir, p), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function fuzz(dir, target, env, run) {
  const t0 = Date.now();
  const [cmd, ...args] = run ?? [process.execPath, '--import', 'tsx', 'test/fuzz/run.ts', target, '--cases', values.cases, '--seed', '1'];
  const r = spawnSync(cmd, args, {
    cwd: dir, encoding: 'utf8', timeout: Number(values.seconds) * 1000, env: { ...process.env, ...env },
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  // The finding's message: the line after the error name (FuzzFinding: <message>).
  if (run) {
    const sanitizer = out.match(/SUMMARY: ([^\n]*)|runtime error: ([^\n]*)|(AssertionError: [^\n]*)/)?.slice(1).find(Boolean);
    if (r.status !== 0) return { caught: true, how: (sanitizer ?? out.trim().split('\n').at(-1) ?? '').slice(0, 100), ms: Date.now() - t0 };
    return { caught: false, how: out.trim().split('\n').at(-1)?.slice(0, 100) ?? '', ms: Date.now() - t0 };
  }
  const message = out.match(/^(?:FuzzFinding|\w*Error)(?: \[\w+\])?: ([^\n]*)/m)?.[1] ?? '';
  const finding = (message.split(/\): (?:\w*Error(?: \[\w+\])?: )?/).at(-1) ?? '').trim().slice(0, 100);
  if (r.error && r.error.code === 'ETIMEDOUT') return { caught: true, how: `hang (no answer in ${values.seconds} s)`, ms: Date.now() - t0 };
  if (r.status === 0) return { caught: false, how: (out.match(/fuzz [^\n]*/)?.[0] ?? 'no finding').slice(0, 110), ms: Date.now() - t0 };
  return { caught: true, how: finding || `exit ${r.status}: ${out.trim().split('\n').slice(-1)[0]?.slice(0, 100)}`, ms: Date.now() - t0 };
}

const rows = [];
const selected = MUTANTS.filter((m) => !values.only || m.name.includes(values.only));
const fuzzers = new Set(readdirSync(join(root, 'test/fuzz')).filter((f) => f.endsWith('.fuzz.ts')).map((f) => f.slice(0, -8)));
const targets = [...new Set(selected.map((m) => m.target))].filter((t) => fuzzers.has(t) || selected.some((m) => m.target === t && m.run));
const base = copyTree();
try {
  for (const t of targets) {
    const m0 = selected.find((m) => m.target === t);
    const r = fuzz(base, t, m0?.env ?? {}, m0?.run);
    rows.push({ mutant: `(none: baseline ${t})`, target: t, status: r.caught ? 'FALSE ALARM' : 'clean', detail: r.how, ms: r.ms });
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
for (const m of selected) {
  const dir = copyTree();
  try {
    const path = join(dir, m.file);
    const text = (() => { try { return readFileSync(path, 'utf8'); } catch { return ''; } })();
    const hits = text.split(m.find).length - 1;
    if (hits !== 1) {
      rows.push({ mutant: m.name, target: m.target, status: 'NO PATCH', detail: `${m.file}: the check's text is found ${hits} times (not in this tree, or changed: update the mutant)`, ms: 0 });
      continue;
    }
    writeFileSync(path, text.replace(m.find, m.replace));
    const r = fuzz(dir, m.target, m.env ?? {}, m.run);
    rows.push({ mutant: m.name, target: m.target, status: r.caught ? 'caught' : 'SURVIVED', detail: r.how, ms: r.ms });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
else {
  process.stdout.write(`${'mutant'.padEnd(32)}${'target'.padEnd(11)}${'status'.padEnd(12)}${'s'.padStart(5)}  how\n`);
  for (const r of rows) process.stdout.write(`${r.mutant.padEnd(32)}${r.target.padEnd(11)}${r.status.padEnd(12)}${(r.ms / 1000).toFixed(1).padStart(5)}  ${r.detail}\n`);
}
// One line for CI (.ci/run's mutation lane): a caught mutant or a clean baseline passes; a survivor,
// a false alarm or a patch that no longer applies fails.
const good = rows.filter((r) => r.status === 'caught' || r.status === 'clean').length;
if (!values.json) process.stdout.write(`${good} passed, ${rows.length - good} failed\n`);
process.exit(good === rows.length ? 0 : 1);
