// openVfioDevice's checks before any ioctl, on captured sysfs trees and a /dev without VFIO nodes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openVfioDevice, pickIommu } from '../../src/vfio/open.js';
import { VfioError } from '../../src/vfio/errors.js';
import { backend } from '../../src/vfio/backend.js';
import { PciSysfs } from '../../src/pci/sysfs.js';
import { ArgumentError } from '../../src/errors.js';
import { n3000Tree } from '../pci/fake-sysfs.js';

const tree = n3000Tree();
const sysfs = new PciSysfs({ root: tree.root, onWrite: tree.kernel() });
const dev = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-dev-'));
afterAll(() => {
  tree.dispose();
  fs.rmSync(dev, { recursive: true, force: true });
});

describe('openVfioDevice', () => {
  it('refuses a device not bound to vfio-pci, saying how to bind it', () => {
    try {
      openVfioDevice('vfio:0000:03:00.0', { sysfs, devRoot: dev });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(VfioError);
      expect((e as VfioError).code).toBe('EVFIO_NOT_BOUND');
      expect((e as Error).message).toContain('bound to dfl-pci');
      expect((e as Error).message).toContain('bind it to vfio-pci first (bindDriver, as root)');
    }
  });

  it('picks type1 without /dev/iommu, iommufd with it and a cdev, noiommu for a noiommu group; the option overrides', () => {
    tree.link('0000:03:00.4', 'vfio-pci');
    expect(pickIommu('0000:03:00.4', { sysfs, devRoot: dev })).toEqual({ mode: 'type1', group: '4', cdev: undefined });
    fs.mkdirSync(path.join(tree.dir('0000:03:00.4'), 'vfio-dev/vfio3'), { recursive: true });
    fs.mkdirSync(path.join(dev, 'vfio/devices'), { recursive: true });
    fs.writeFileSync(path.join(dev, 'vfio/devices/vfio3'), '');
    expect(pickIommu('0000:03:00.4', { sysfs, devRoot: dev }).mode).toBe('type1');
    fs.writeFileSync(path.join(dev, 'iommu'), '');
    expect(pickIommu('0000:03:00.4', { sysfs, devRoot: dev })).toEqual({ mode: 'iommufd', group: '4', cdev: 'vfio3' });
    expect(pickIommu('0000:03:00.4', { sysfs, devRoot: dev, iommu: 'type1' }).mode).toBe('type1');
    fs.writeFileSync(path.join(dev, 'vfio/noiommu-4'), '');
    expect(pickIommu('0000:03:00.4', { sysfs, devRoot: dev }).mode).toBe('noiommu');
  });

  it('names the node and what to do when it cannot be opened', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-dev-empty-'));
    try {
      expect(() => openVfioDevice('0000:03:00.4', { sysfs, devRoot: empty })).toThrow(new RegExp(`opening ${empty}/vfio/vfio for vfio:0000:03:00.4 failed: ENOENT`));
      expect(() => openVfioDevice('0000:03:00.4', { sysfs, devRoot: empty, iommu: 'iommufd' })).toThrow(/no \/dev\/iommu|vfio-dev is empty|ENOENT/);
      expect(() => openVfioDevice('0000:03:00.4', { sysfs, devRoot: empty, iommu: 'bogus' as 'type1' })).toThrow(ArgumentError);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('says to enable an IOMMU when the device has no group', () => {
    fs.rmSync(path.join(tree.dir('0000:03:00.4'), 'iommu_group'));
    fs.rmSync(path.join(dev, 'iommu'));
    expect(() => openVfioDevice('0000:03:00.4', { sysfs, devRoot: dev })).toThrow(/no IOMMU group: enable the IOMMU/);
  });

  it('the backend enumerates only vfio-pci functions of this machine (none here)', () => {
    const tokens = backend.enumerate!() as ReturnType<NonNullable<typeof backend.enumerate>> as { url: string }[];
    for (const t of tokens) expect(t.url).toMatch(/^vfio:/);
    expect(backend.schemes).toEqual(['vfio']);
  });
});

describe('vfio URL options', () => {
  it('takes iommu=type1|iommufd|noiommu and refuses anything else with a typed error', async () => {
    const { splitVfioUrl } = await import('../../src/vfio/backend.js');
    expect(splitVfioUrl('vfio:0000:3b:00.0')).toEqual({ base: 'vfio:0000:3b:00.0', iommu: undefined });
    expect(splitVfioUrl('vfio:0000:3b:00.0?iommu=iommufd')).toEqual({ base: 'vfio:0000:3b:00.0', iommu: 'iommufd' });
    expect(() => splitVfioUrl('vfio:0000:3b:00.0?iommu=magic')).toThrow(/iommu=type1\|iommufd\|noiommu/);
    expect(() => splitVfioUrl('vfio:0000:3b:00.0?fast=1')).toThrow(expect.objectContaining({ code: 'EDEVICE_URL' }));
  });
});
