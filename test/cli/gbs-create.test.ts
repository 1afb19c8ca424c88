// `vfiokit gbs-info --create` writes a GBS the simulated card loads, so the documented
// `vfiokit pr sim:n3000 demo.gbs` can be followed; it never writes through a link or over a file.
import { describe, it, expect } from 'vitest';
import { cliSandbox } from './sandbox.js';
import { symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGbs } from '../../src/afu/pr/gbs.js';
import { decodeSimImageHeader } from '../../src/sim/pr-engine-image.js';
import { SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';

const AFU = '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b';
const sandbox = cliSandbox('gbs-create');
const vfiokit = (args: string[]) => sandbox.run(args, { cwd: sandbox.dir, timeoutMs: 60_000 });

describe('vfiokit gbs-info --create', () => {
  it('writes a GBS whose sim image names the AFU and interface, and pr loads it into the sim', () => {
    const made = vfiokit(['gbs-info', '--create', 'demo.gbs', '--afu-guid', AFU, '--size', '8192', '--json']);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ path: 'demo.gbs', interfaceUuid: SIM_PR_INTERFACE_ID, acceleratorUuid: AFU });
    const gbs = parseGbs(readFileSync(join(sandbox.dir, 'demo.gbs')));
    const header = decodeSimImageHeader(gbs.bitstream);
    expect(header?.payloadLength).toBe(8192);
    const pr = vfiokit(['pr', 'sim:n3000', 'demo.gbs', '--json']);
    expect(pr.status, pr.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(pr.stdout))).toContain(AFU);
  });

  it('refuses an existing file without --force, a planted link even with it, and bad options', () => {
    writeFileSync(join(sandbox.dir, 'taken.gbs'), 'mine');
    const taken = vfiokit(['gbs-info', '--create', 'taken.gbs']);
    expect(taken.status).toBe(4);
    expect(taken.stderr).toMatch(/exists; add --force/);
    expect(readFileSync(join(sandbox.dir, 'taken.gbs'), 'utf8')).toBe('mine');
    expect(vfiokit(['gbs-info', '--create', 'taken.gbs', '--force']).status).toBe(0);

    writeFileSync(join(sandbox.dir, 'victim'), 'keep');
    symlinkSync(join(sandbox.dir, 'victim'), join(sandbox.dir, 'link.gbs'));
    const link = vfiokit(['gbs-info', '--create', 'link.gbs', '--force']);
    expect(link.status).toBe(4);
    expect(link.stderr).toMatch(/symbolic link/);
    expect(readFileSync(join(sandbox.dir, 'victim'), 'utf8')).toBe('keep');

    expect(vfiokit(['gbs-info', '--create', 'x.gbs', '--afu-guid', 'nope']).status).toBe(2);
    expect(vfiokit(['gbs-info', '--create', 'x.gbs', '--size', '-1']).status).toBe(2);
  });
});
