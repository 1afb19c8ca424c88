// Golden test: every ioctl number, flag and struct layout in src/vfio/uapi.ts against a C probe
// compiled now from the Linux uAPI headers: the system's (/usr/include/linux/vfio.h) and, for
// iommufd.h and the cdev ioctls (absent from Debian 12's 6.1 linux-libc-dev), the headers that
// scripts/kernel/uapi-headers.sh unpacks from linux-source.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { constants, layouts } from '../../src/vfio/uapi.js';

const gcc = spawnSync('gcc', ['--version']).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-uapi-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Struct sizes that grew by tail padding in newer headers (vfio.h 6.6 added `pad` to vfio_device_info). */
const GROWN: Record<string, number[]> = { vfio_device_info: [20, 24] };

interface Row { kind: 'C' | 'S' | 'O'; name: string; expr: string; expected: number; }

function rows(headers: Set<string>): Row[] {
  const out: Row[] = [];
  for (const [name, c] of Object.entries(constants)) {
    if (headers.has(c.header)) out.push({ kind: 'C', name, expr: `(long long)(${name})`, expected: c.value });
  }
  for (const [name, l] of Object.entries(layouts)) {
    if (!headers.has(l.header)) continue;
    out.push({ kind: 'S', name, expr: `(long long)sizeof(struct ${name})`, expected: l.size });
    for (const [field, off] of Object.entries(l.fields)) out.push({ kind: 'O', name: `${name}.${field}`, expr: `(long long)offsetof(struct ${name}, ${field})`, expected: off });
  }
  return out;
}

/** Compile and run the probe; rows whose names the headers lack are dropped (and returned). */
function probe(includeDir: string | undefined, headers: Set<string>, label: string): { values: Map<string, number>; missing: string[] } {
  let todo = rows(headers);
  const missing: string[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const src = [
      '#include <stdio.h>', '#include <stddef.h>', '#include <linux/vfio.h>',
      ...(headers.has('iommufd.h') ? ['#include <linux/iommufd.h>'] : []),
      'int main(void) {',
      ...todo.map((r) => `  printf("%s %lld\\n", "${r.name}", ${r.expr});`),
      '  return 0;', '}',
    ].join('\n');
    const c = path.join(tmp, `${label}.c`);
    const exe = path.join(tmp, label);
    fs.writeFileSync(c, src);
    // Unsanitized source headers still carry the kernel's __user annotation.
    const r = spawnSync('gcc', ['-o', exe, '-D__user=', ...(includeDir ? ['-I', includeDir] : []), c], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (r.status === 0) {
      const values = new Map<string, number>();
      for (const line of execFileSync(exe, { encoding: 'utf8' }).trim().split('\n')) {
        const [name, v] = line.split(' ');
        values.set(name!, Number(v));
      }
      return { values, missing };
    }
    const bad = new Set<string>();
    for (const m of r.stderr.matchAll(/'([A-Za-z0-9_]+)' undeclared/g)) bad.add(m[1]!);
    for (const m of r.stderr.matchAll(/incomplete type 'struct ([A-Za-z0-9_]+)'/g)) bad.add(m[1]!);
    for (const m of r.stderr.matchAll(/'struct ([A-Za-z0-9_]+)' has no member named '([A-Za-z0-9_]+)'/g)) bad.add(`${m[1]}.${m[2]}`);
    if (bad.size === 0) throw new Error(`probe did not compile:\n${r.stderr}`);
    const drop = (r0: Row) => bad.has(r0.name) || bad.has(r0.name.split('.')[0]!);
    missing.push(...todo.filter(drop).map((r0) => r0.name));
    todo = todo.filter((r0) => !drop(r0));
  }
  throw new Error('probe did not converge');
}

function check(values: Map<string, number>, headers: Set<string>): void {
  for (const r of rows(headers)) {
    const got = values.get(r.name);
    if (got === undefined) continue;
    if (r.kind === 'S' && GROWN[r.name]) expect(GROWN[r.name], r.name).toContain(got);
    else expect(got, r.name).toBe(r.expected);
  }
}

describe.skipIf(!gcc)('uAPI golden values', () => {
  it('match the system linux/vfio.h (rows it lacks are reported)', () => {
    const headers = new Set(['vfio.h']);
    const { values, missing } = probe(undefined, headers, 'system');
    check(values, headers);
    expect(values.size).toBeGreaterThan(80);
    // Debian 12's 6.1 headers lack only the iommufd-era ioctls and structs.
    for (const m of missing) expect(m).toMatch(/IOMMUFD|iommufd/);
    if (missing.length) console.log(`system vfio.h lacks ${missing.length} rows (checked against linux-source below): ${[...new Set(missing.map((m) => m.split('.')[0]))].join(', ')}`);
  });

  const script = path.resolve('scripts/kernel/uapi-headers.sh');
  let dir: string | undefined;
  try {
    dir = execFileSync(script, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop();
  } catch {
    dir = undefined;
  }
  it.skipIf(!dir)('match linux-source vfio.h + iommufd.h (every row)', () => {
    const headers = new Set(['vfio.h', 'iommufd.h']);
    const { values, missing } = probe(dir, headers, 'source');
    expect(missing).toEqual([]);
    check(values, headers);
    expect(values.size).toBe(rows(headers).length);
  });
});
