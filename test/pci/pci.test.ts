import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PciSysfs, listPciDevices, readPciDevice, parentBridge, children, ancestors, physicalFunction, virtualFunctions,
  siblingFunctions, slotFunctions, iommuGroupOf, iommuGroupMembers, deviceUses, bindDriver, unbindDriver,
  removeDevice, rescan, rememberedDriver, DeviceInUseError, PciError, parseBdf, normalizeBdf, classMatches,
} from '../../src/pci/index.js';
import { ArgumentError } from '../../src/errors.js';
import { FakeSysfs, n3000Tree } from './fake-sysfs.js';

const MOUNTS = '/dev/nvme0n1p2 / ext4 rw 0 0\n/dev/nvme0n1p1 /boot\\040efi vfat rw 0 0\nproc /proc proc rw 0 0\n';
const NO_MOUNTS = 'proc /proc proc rw 0 0\n';
const SWAPS = 'Filename Type Size Used Priority\n';

let tree: FakeSysfs;
let sysfs: PciSysfs;
let state: string;
beforeEach(() => {
  tree = n3000Tree();
  sysfs = new PciSysfs({ root: tree.root, onWrite: tree.kernel() });
  state = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-pcistate-'));
});
afterEach(() => {
  tree.dispose();
  fs.rmSync(state, { recursive: true, force: true });
});

describe('addresses', () => {
  it('parses full and short forms and rejects junk', () => {
    expect(parseBdf('0000:3b:00.1')).toEqual({ domain: 0, bus: 0x3b, device: 0, function: 1 });
    expect(normalizeBdf('3B:1f.7')).toBe('0000:3b:1f.7');
    expect(normalizeBdf('10000:00:00.0')).toBe('10000:00:00.0');
    for (const bad of ['', '3b:00', '0000:3b:20.0', '0000:3b:00.8', 'zz:00.0', '../../etc']) expect(() => parseBdf(bad)).toThrow(ArgumentError);
  });
  it('matches class filters at 8, 16 and 24 bits', () => {
    expect(classMatches(0x120000, 0x12)).toBe(true);
    expect(classMatches(0x120000, 0x1200)).toBe(true);
    expect(classMatches(0x120000, 0x120000)).toBe(true);
    expect(classMatches(0x010802, 0x0108)).toBe(true);
    expect(classMatches(0x010802, 0x12)).toBe(false);
  });
});

describe('enumeration', () => {
  it('lists every function with IDs, class, driver and IOMMU group', () => {
    const all = listPciDevices(undefined, { sysfs });
    expect(all.map((d) => d.bdf)).toEqual(['0000:00:01.0', '0000:00:02.0', '0000:00:03.0', '0000:00:04.0', '0000:01:00.0', '0000:02:08.0', '0000:03:00.0', '0000:03:00.1', '0000:03:00.2', '0000:03:00.4']);
    const pf0 = all.find((d) => d.bdf === '0000:03:00.0')!;
    expect(pf0).toMatchObject({ vendor: 0x8086, device: 0x0b30, subsystemVendor: 0x8086, classCode: 0x120000, revision: 2, driver: 'dfl-pci', iommuGroup: 4, physfn: undefined, sriovNumVfs: 2, driverOverride: undefined, numaNode: undefined });
    expect(all.find((d) => d.bdf === '0000:03:00.4')!.driver).toBeUndefined();
    expect(all.find((d) => d.bdf === '0000:03:00.1')!.physfn).toBe('0000:03:00.0');
  });
  it('filters by vendor, device, class, subsystem', () => {
    expect(listPciDevices({ vendor: 0x8086, device: 0x0b31 }, { sysfs }).map((d) => d.bdf)).toEqual(['0000:03:00.1', '0000:03:00.2']);
    expect(listPciDevices({ classCode: 0x12 }, { sysfs }).length).toBe(4);
    expect(listPciDevices({ classCode: 0x0604 }, { sysfs }).length).toBe(3);
    expect(listPciDevices({ subsystemVendor: 0x8086, subsystemDevice: 0 }, { sysfs }).map((d) => d.bdf)).toEqual(['0000:03:00.0']);
    expect(listPciDevices({ vendor: 0xdead }, { sysfs })).toEqual([]);
  });
  it('says when a device does not exist', () => {
    expect(() => readPciDevice('0000:99:00.0', { sysfs })).toThrow(/no PCI device 0000:99:00.0/);
  });
});

describe('topology', () => {
  it('finds bridges above, functions below, PF/VF links, siblings, the slot PF1 and IOMMU groups', () => {
    expect(parentBridge('0000:03:00.0', { sysfs })).toBe('0000:02:08.0');
    expect(parentBridge('0000:00:01.0', { sysfs })).toBeUndefined();
    expect(ancestors('0000:03:00.0', { sysfs })).toEqual(['0000:02:08.0', '0000:01:00.0', '0000:00:01.0']);
    expect(children('0000:02:08.0', { sysfs })).toEqual(['0000:03:00.0', '0000:03:00.1', '0000:03:00.2', '0000:03:00.4']);
    expect(physicalFunction('0000:03:00.2', { sysfs })).toBe('0000:03:00.0');
    expect(physicalFunction('0000:03:00.0', { sysfs })).toBeUndefined();
    expect(virtualFunctions('0000:03:00.0', { sysfs })).toEqual(['0000:03:00.1', '0000:03:00.2']);
    expect(siblingFunctions('0000:03:00.0', { sysfs })).toEqual(['0000:03:00.4']);
    expect(slotFunctions('0000:03:00.0', { sysfs })).toEqual(['0000:03:00.4']);
    expect(iommuGroupOf('0000:03:00.0', { sysfs })).toBe(4);
    expect(iommuGroupMembers(4, { sysfs })).toEqual(['0000:03:00.0', '0000:03:00.4']);
    expect(() => parentBridge('0000:77:00.0', { sysfs })).toThrow(PciError);
  });
});

describe('in-use guard', () => {
  it('sees a mounted partition (nvme layout, escaped mount point)', () => {
    const uses = deviceUses('0000:00:02.0', { sysfs, mounts: MOUNTS, swaps: SWAPS, procRoot: tree.root });
    expect(uses).toEqual([
      { kind: 'block', name: 'nvme0n1p1', detail: 'mounted on /boot efi' },
      { kind: 'block', name: 'nvme0n1p2', detail: 'mounted on /' },
    ]);
  });
  it('sees swap and device-mapper holders', () => {
    fs.mkdirSync(path.join(tree.dir('0000:00:02.0'), 'nvme/nvme0/nvme0n1/nvme0n1p2/holders/dm-0'), { recursive: true });
    const uses = deviceUses('0000:00:02.0', { sysfs, mounts: NO_MOUNTS, swaps: `${SWAPS}/dev/nvme0n1p1 partition 1 0 -2\n`, procRoot: tree.root });
    expect(uses.map((u) => `${u.kind}:${u.name}`)).toEqual(['swap:nvme0n1p1', 'holder:nvme0n1p2']);
  });
  it('sees an interface that is up, not one that is down', () => {
    expect(deviceUses('0000:00:03.0', { sysfs, mounts: NO_MOUNTS, procRoot: tree.root })).toEqual([{ kind: 'net', name: 'eth0', detail: 'interface is up (operstate up)' }]);
    fs.writeFileSync(path.join(tree.dir('0000:00:03.0'), 'net/eth0/flags'), '0x1002\n');
    expect(deviceUses('0000:00:03.0', { sysfs, mounts: NO_MOUNTS, procRoot: tree.root })).toEqual([]);
  });
  it('sees the framebuffer console only while fbcon is bound', () => {
    expect(deviceUses('0000:00:04.0', { sysfs, mounts: NO_MOUNTS, procRoot: tree.root }).map((u) => u.kind)).toEqual(['console', 'drm']);
    tree.setFbcon(false);
    expect(deviceUses('0000:00:04.0', { sysfs, mounts: NO_MOUNTS, procRoot: tree.root })).toEqual([]);
  });
  it('a bridge is in use when a function below it is', () => {
    tree.addClassDevice('0000:03:00.4', 'net/eth9', 'net', { flags: '0x1003\n' });
    expect(deviceUses('0000:02:08.0', { sysfs, mounts: NO_MOUNTS, procRoot: tree.root }).map((u) => u.name)).toEqual(['eth9']);
  });
});

describe('driver binding', () => {
  const opts = () => ({ sysfs, stateDirectory: state, mounts: NO_MOUNTS, swaps: SWAPS, procRoot: tree.root });

  it('binds to vfio-pci through driver_override, remembers the old driver, and unbind restores it', () => {
    const r = bindDriver('0000:03:00.0', 'vfio-pci', opts());
    expect(r).toEqual({ bdf: '0000:03:00.0', driver: 'vfio-pci', previousDriver: 'dfl-pci', changed: true });
    expect(tree.driverOf('0000:03:00.0')).toBe('vfio-pci');
    expect(readPciDevice('0000:03:00.0', { sysfs }).driverOverride).toBe('vfio-pci');
    expect(rememberedDriver('0000:03:00.0', opts())).toBe('dfl-pci');
    expect(bindDriver('0000:03:00.0', 'vfio-pci', opts()).changed).toBe(false);
    const u = unbindDriver('0000:03:00.0', opts());
    expect(u).toEqual({ bdf: '0000:03:00.0', driver: 'dfl-pci', previousDriver: 'vfio-pci', changed: true });
    expect(tree.driverOf('0000:03:00.0')).toBe('dfl-pci');
    expect(readPciDevice('0000:03:00.0', { sysfs }).driverOverride).toBeUndefined();
    expect(rememberedDriver('0000:03:00.0', opts())).toBeUndefined();
  });

  it('binds an unbound function and unbind leaves it unbound', () => {
    bindDriver('0000:03:00.4', 'vfio-pci', opts());
    expect(tree.driverOf('0000:03:00.4')).toBe('vfio-pci');
    const u = unbindDriver('0000:03:00.4', opts());
    expect(u.driver).toBeUndefined();
    expect(tree.driverOf('0000:03:00.4')).toBeUndefined();
  });

  it('refuses to unbind a driver in use, naming what uses it; force overrides', () => {
    try {
      bindDriver('0000:00:02.0', 'vfio-pci', { ...opts(), mounts: MOUNTS });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DeviceInUseError);
      expect((e as Error).message).toContain('nvme0n1p2: mounted on /');
      expect((e as Error).message).toContain('--force');
      expect((e as DeviceInUseError).uses.length).toBe(2);
    }
    expect(tree.driverOf('0000:00:02.0')).toBe('nvme');
    expect(readPciDevice('0000:00:02.0', { sysfs }).driverOverride).toBeUndefined();
    expect(() => unbindDriver('0000:00:03.0', opts())).toThrow(/eth0: interface is up/);
    expect(unbindDriver('0000:00:03.0', { ...opts(), force: true }).changed).toBe(true);
    expect(tree.driverOf('0000:00:03.0')).toBeUndefined();
  });

  it('says to load the driver when it is missing, before touching the device', () => {
    expect(() => bindDriver('0000:03:00.0', 'vfio-pci-missing', opts())).toThrow(/modprobe vfio-pci-missing/);
    expect(tree.driverOf('0000:03:00.0')).toBe('dfl-pci');
  });

  it('reports a bind the kernel did not do, and clears nothing it should not', () => {
    tree.refuse.add('vfio-pci');
    expect(() => bindDriver('0000:03:00.4', 'vfio-pci', opts())).toThrow(/did not bind to vfio-pci/);
  });

  it('reports sysfs write failures with the file and a hint', () => {
    fs.rmSync(path.join(tree.dir('0000:03:00.4'), 'remove'));
    fs.mkdirSync(path.join(tree.dir('0000:03:00.4'), 'remove'));
    expect(() => removeDevice('0000:03:00.4', { sysfs })).toThrow(/removing 0000:03:00.4: writing '1' to .*remove failed: EISDIR/);
  });

  it('remove and rescan write the right files', () => {
    const writes: string[] = [];
    const s = new PciSysfs({ root: tree.root, onWrite: (f, v) => writes.push(`${path.relative(tree.root, f)}=${v}`) });
    removeDevice('0000:03:00.4', { sysfs: s });
    rescan(undefined, { sysfs: s });
    rescan('0000:02:08.0', { sysfs: s });
    expect(writes).toEqual(['bus/pci/devices/0000:03:00.4/remove=1', 'bus/pci/rescan=1', 'bus/pci/devices/0000:02:08.0/rescan=1']);
  });
});

describe('this machine (read-only)', () => {
  it('enumerates the real /sys/bus/pci without error', () => {
    const all = listPciDevices();
    for (const d of all) {
      expect(d.bdf).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
      expect(d.vendor).toBeGreaterThan(0);
      expect(readPciDevice(d.bdf)).toEqual(d);
      expect(Array.isArray(children(d.bdf))).toBe(true);
    }
  });
  it('finds that the disk holding / is in use', () => {
    const root = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[1] === '/');
    const dev = root?.[0]?.match(/^\/dev\/([a-z]+)/)?.[1];
    if (!dev || !fs.existsSync(`/sys/class/block/${dev}`)) return;
    const real = fs.realpathSync(`/sys/class/block/${dev}`);
    const bdf = real.split('/').filter((p) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(p)).pop();
    if (!bdf) return;
    expect(deviceUses(bdf).some((u) => u.detail === 'mounted on /')).toBe(true);
  });
});
