// Golden test: the DFL character-device uAPI table the card lane's guest uses
// (test/kernel/fpga-dfl-uapi.ts) against a C probe compiled now from include/uapi/linux/fpga-dfl.h
// (the system's linux-libc-dev copy; the 6.12 header has the same numbers).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fpgaDfl, fpgaDflLayouts } from '../kernel/fpga-dfl-uapi.js';
import { skipUnlessCi } from '../helpers/skip-unless-ci.js';

const header = '/usr/include/linux/fpga-dfl.h';
const skipProbe = skipUnlessCi(
  spawnSync('gcc', ['--version']).status !== 0 ? 'gcc is not installed' : !fs.existsSync(header) ? `${header} is missing` : undefined,
  '.ci/run installs build-essential, whose libc6-dev brings linux-libc-dev with the header',
);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-fpga-dfl-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(skipProbe)('fpga-dfl.h golden values', () => {
  it('every ioctl number, flag, struct size and field offset equals the header', () => {
    const rows: [string, string, number][] = [];
    for (const [name, value] of Object.entries(fpgaDfl)) rows.push([name, `(long long)(${name})`, value]);
    for (const [name, l] of Object.entries(fpgaDflLayouts)) {
      rows.push([name, `(long long)sizeof(struct ${name})`, l.size]);
      for (const [field, off] of Object.entries(l.fields)) rows.push([`${name}.${field}`, `(long long)offsetof(struct ${name}, ${field})`, off]);
    }
    const src = ['#include <stdio.h>', '#include <stddef.h>', '#include <linux/fpga-dfl.h>', 'int main(void) {',
      ...rows.map(([n, e]) => `  printf("%s %lld\\n", "${n}", ${e});`), '  return 0;', '}'].join('\n');
    const c = path.join(tmp, 'probe.c');
    const exe = path.join(tmp, 'probe');
    fs.writeFileSync(c, src);
    execFileSync('gcc', ['-o', exe, c]);
    const got = new Map(execFileSync(exe, { encoding: 'utf8' }).trim().split('\n').map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
    for (const [name, , expected] of rows) expect(got.get(name), name).toBe(expected);
    expect(rows.length).toBeGreaterThan(40);
  });
});
