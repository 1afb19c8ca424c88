// docs/api/ (the API reference generated from the TSDoc comments) matches the sources.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

describe('docs/api', () => {
  it('is what scripts/api-docs.mjs generates from the entry points', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'api-docs.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000); // the TypeScript compiler over every entry point: ~10 s idle, several times that on a loaded machine
});
