// `vfiokit gbs-info --create` writes a GBS the simulated card loads, so the documented
// `vfiokit pr sim:n3000 demo.gbs` can be followed; it never writes through a link or over a file.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseGbs } from '../../src/afu/pr/gbs.js';
import { decodeSimImageHeader } from '../../src/sim/pr-engine-image.js';
import { SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';

const root = resolve(__dirname, '../..');
const AFU = '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b';
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfiokit-gbs-create-'));
  env = { ...process.env, VFIOKIT_LOCK_DIR: join(dir, 'locks'), VFIOKIT_STATE_DIR: join(dir, 'state'), HOME: join(dir, 'home'), DEBUG: '' };
  delete env.VFIOKIT_CONFIG;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vfiokit = (args: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [join(root, 'bin/vfiokit.js'), ...args], { encoding: 'utf8', env, cwd: dir, timeout: 60_000 });

describe('vfiokit gbs-info --create', () => {
  it('writes a GBS whose sim image names the AFU and interface, and pr loads it into the sim', () => {
    const made = vfiokit(['gbs-info', '--create', 'demo.gbs', '--afu-guid', AFU, '--size', '8192', '--json']);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ path: 'demo.gbs', interfaceUuid: SIM_PR_INTERFACE_ID, acceleratorUuid: AFU });
    const gbs = parseGbs(readFileSync(join(dir, 'demo.gbs')));
    const header = decodeSimImageHeader(gbs.bitstream);
    expect(header?.payloadLength).toBe(8192);
    const pr = vfiokit(['pr', 'sim:n3000', 'demo.gbs', '--json']);
    expect(pr.status, pr.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(pr.stdout))).toContain(AFU);
  });

  it('refuses an existing file without --force, a planted link even with it, and bad options', () => {
    writeFileSync(join(dir, 'taken.gbs'), 'mine');
    const taken = vfiokit(['gbs-info', '--create', 'taken.gbs']);
    expect(taken.status).toBe(4);
    expect(taken.stderr).toMatch(/exists; add --force/);
    expect(readFileSync(join(dir, 'taken.gbs'), 'utf8')).toBe('mine');
    expect(vfiokit(['gbs-info', '--create', 'taken.gbs', '--force']).status).toBe(0);

    writeFileSync(join(dir, 'victim'), 'keep');
    symlinkSync(join(dir, 'victim'), join(dir, 'link.gbs'));
    const link = vfiokit(['gbs-info', '--create', 'link.gbs', '--force']);
    expect(link.status).toBe(4);
    expect(link.stderr).toMatch(/symbolic link/);
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep');

    expect(vfiokit(['gbs-info', '--create', 'x.gbs', '--afu-guid', 'nope']).status).toBe(2);
    expect(vfiokit(['gbs-info', '--create', 'x.gbs', '--size', '-1']).status).toBe(2);
  });
});
