import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { n3000Tree } from './fake-sysfs.js';

const tree = n3000Tree();
afterAll(() => tree.dispose());
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });

describe('vfiokit ls / bind / unbind', () => {
  it('ls lists a captured tree as a table and as JSON, filtered', () => {
    const t = cli('ls', '--sysfs', tree.root, '--class', '12');
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^BDF\s+ID\s+SUBSYSTEM\s+CLASS\s+DRIVER\s+GROUP/);
    expect(t.stdout).toMatch(/0000:03:00\.0\s+8086:0b30\s+8086:0000\s+120000\s+dfl-pci\s+4/);
    expect(t.stdout).toMatch(/0000:03:00\.1 .*VF of 0000:03:00\.0/);
    const j = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ls', '--sysfs', tree.root, '--vendor', '8086', '--device', '0b31', '--json'], { encoding: 'utf8' }));
    expect(j.map((d: { bdf: string }) => d.bdf)).toEqual(['0000:03:00.1', '0000:03:00.2']);
    expect(j[0]).toMatchObject({ vendor: '8086', device: '0b31', class: '120000', physfn: '0000:03:00.0', driver: null, iommuGroup: 5 });
  });

  it('rejects bad arguments with exit 2 and a message', () => {
    const r = cli('ls', '--vendor', 'xyz');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--vendor must be a hex ID');
    expect(cli('bind').status).toBe(2);
    const bad = cli('unbind', 'not-a-bdf');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('"not-a-bdf" is not a device');
    expect(bad.stderr).toMatch(/give a PCI address/);
    expect(cli('bind', '0000:00:00.0', '--driver', '../x').status).toBe(2);
  });

  it('help has examples', () => {
    for (const c of ['ls', 'bind', 'unbind']) expect(cli(c, '--help').stdout).toContain('examples:');
  });
});
