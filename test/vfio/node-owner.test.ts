// `vfiokit bind BDF USER:GROUP` (opae-sdk binaries/opae.io/opae/io/utils.py vfio_init: chown
// /dev/vfio/<group> to USER[:GROUP], chmod 0660): real chown/chmod on real character device
// nodes (mknod, as root) under a scratch /dev; only sysfs (the iommu_group link, vfio-dev/) is a
// scratch tree. Permission denied is caused for real by a child running as uid 65534.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PciSysfs } from '../../src/pci/sysfs.js';
import { chownVfioNodes, parseOwner, vfioNodes, VFIO_NODE_MODE } from '../../src/vfio/node-owner.js';
import { ArgumentError } from '../../src/errors.js';
import { VfioError } from '../../src/vfio/errors.js';

const BDF = '0000:5e:00.0';
const NOBODY = 65534;
const root = process.getuid?.() === 0;
let dir = '';
let sysfs: PciSysfs;
let dev = '';

/** A real character device node (the /dev/null numbers: harmless if anything opened it). */
function mknod(path: string): void {
  execFileSync('mknod', ['-m', '0600', path, 'c', '1', '3']);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfiokit-owner-'));
  chmodSync(dir, 0o755);
  const devDir = join(dir, 'sys/devices/pci0000:5d', BDF);
  mkdirSync(join(devDir, 'vfio-dev/vfio3'), { recursive: true });
  mkdirSync(join(dir, 'sys/kernel/iommu_groups/42'), { recursive: true });
  mkdirSync(join(dir, 'sys/bus/pci/devices'), { recursive: true });
  symlinkSync(devDir, join(dir, 'sys/bus/pci/devices', BDF));
  symlinkSync(join(dir, 'sys/kernel/iommu_groups/42'), join(devDir, 'iommu_group'));
  sysfs = new PciSysfs({ root: join(dir, 'sys') });
  dev = join(dir, 'dev');
  mkdirSync(join(dev, 'vfio/devices'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseOwner (USER[:GROUP] through getpwnam/getgrnam)', () => {
  it('names and numbers; without :GROUP the group is left as it is', () => {
    expect(parseOwner('nobody:nogroup')).toEqual({ user: 'nobody', group: 'nogroup', uid: NOBODY, gid: NOBODY });
    expect(parseOwner('root')).toEqual({ user: 'root', uid: 0, gid: -1 });
    expect(parseOwner('1234:5678')).toEqual({ user: '1234', group: '5678', uid: 1234, gid: 5678 });
  });

  it('unknown user, unknown group and malformed text are ArgumentErrors naming what was wrong', () => {
    const err = (spec: string): ArgumentError => {
      try {
        parseOwner(spec);
      } catch (e) {
        expect(e).toBeInstanceOf(ArgumentError);
        return e as ArgumentError;
      }
      throw new Error(`parseOwner(${spec}) did not throw`);
    };
    expect(err('no-such-user-vk:root')).toMatchObject({ code: 'EOWNER_USER', message: expect.stringContaining('no user named "no-such-user-vk"') });
    expect(err('root:no-such-group-vk')).toMatchObject({ code: 'EOWNER_GROUP', message: expect.stringContaining('no group named "no-such-group-vk"') });
    for (const bad of ['', 'a:b:c', ':wheel', 'lab lab']) expect(err(bad).code).toBe('EOWNER_SPEC');
  });
});

describe.runIf(root)('chownVfioNodes on real character device nodes', () => {
  it('gives the group node and the iommufd cdev to USER:GROUP with mode 0660', () => {
    mknod(join(dev, 'vfio/42'));
    mknod(join(dev, 'vfio/devices/vfio3'));
    expect(vfioNodes(BDF, { sysfs, devRoot: dev })).toEqual([join(dev, 'vfio/42'), join(dev, 'vfio/devices/vfio3')]);
    const done = chownVfioNodes(BDF, parseOwner('nobody:nogroup'), { sysfs, devRoot: dev });
    expect(done.map((n) => [n.path, n.uid, n.gid, n.mode])).toEqual([
      [join(dev, 'vfio/42'), NOBODY, NOBODY, VFIO_NODE_MODE],
      [join(dev, 'vfio/devices/vfio3'), NOBODY, NOBODY, VFIO_NODE_MODE],
    ]);
    for (const n of done) {
      const st = statSync(n.path);
      expect([st.isCharacterDevice(), st.uid, st.gid, st.mode & 0o777]).toEqual([true, NOBODY, NOBODY, 0o660]);
    }
    // USER alone: the owner changes, the group stays.
    chownVfioNodes(BDF, parseOwner('root'), { sysfs, devRoot: dev });
    expect([statSync(join(dev, 'vfio/42')).uid, statSync(join(dev, 'vfio/42')).gid]).toEqual([0, NOBODY]);
  });

  it('permission denied (a real EPERM: the call runs as uid 65534) is a typed error naming the node', () => {
    const fixture = fileURLToPath(new URL('./fixtures/chown-nodes.ts', import.meta.url));
    chownVfioNodes(BDF, parseOwner('root:root'), { sysfs, devRoot: dev });
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, join(dir, 'sys'), dev, BDF, 'nobody:nogroup'], { encoding: 'utf8', uid: NOBODY, gid: NOBODY, cwd: process.cwd(), timeout: 30_000 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { error: { name: string; code: string; message: string } };
    expect(out.error).toMatchObject({ name: 'VfioError', code: 'EVFIO_CHOWN_EPERM', message: expect.stringContaining(`giving ${join(dev, 'vfio/42')} to nobody:nogroup failed: EPERM: changing the owner of a device node needs root`) });
    expect(statSync(join(dev, 'vfio/42')).uid).toBe(0);
  });

  it('refuses a planted symlink or a regular file in place of a node, and a device with no node', () => {
    unlinkSync(join(dev, 'vfio/42'));
    symlinkSync('/etc/passwd', join(dev, 'vfio/42'));
    const before = statSync('/etc/passwd');
    expect(() => chownVfioNodes(BDF, parseOwner('nobody:nogroup'), { sysfs, devRoot: dev })).toThrow(expect.objectContaining({ code: 'EVFIO_NODE_TYPE', message: expect.stringContaining('is a symbolic link') }));
    const after = statSync('/etc/passwd');
    expect([after.uid, after.gid, after.mode]).toEqual([before.uid, before.gid, before.mode]);
    expect(lstatSync(join(dev, 'vfio/42')).isSymbolicLink()).toBe(true);
    expect(readFileSync('/etc/passwd', 'utf8')).toContain('root:');
    unlinkSync(join(dev, 'vfio/42'));
    unlinkSync(join(dev, 'vfio/devices/vfio3'));
    expect(() => chownVfioNodes(BDF, parseOwner('nobody'), { sysfs, devRoot: dev })).toThrow(VfioError);
    expect(() => chownVfioNodes(BDF, parseOwner('nobody'), { sysfs, devRoot: dev })).toThrow(expect.objectContaining({ code: 'EVFIO_NO_NODE' }));
  });
});
