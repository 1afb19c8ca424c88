// VfioDevice releases what it opened on every path: region mappings (also when a later sparse area
// cannot be mapped), eventfds (also when SET_IRQS fails), and everything on close(). The device fd
// is a memfd behind the fake vfio-pci ioctls of fake-vfio-pci.ts; mmap, pread/pwrite, eventfd and
// epoll are real.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openVfioDevice } from '../../src/vfio/open.js';
import { PciSysfs } from '../../src/pci/sysfs.js';
import { n3000Tree } from '../pci/fake-sysfs.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeQuietly, createEventfd } from '../../src/sys/libc.js';
import { watchEventfd } from '../../src/sys/eventfd-watcher.js';
import { VfioDevice } from '../../src/vfio/vfio-device.js';
import { VfioError } from '../../src/vfio/errors.js';
import { SysError } from '../../src/sys/sys-error.js';
import { IrqIndex } from '../../src/device/device.js';
import type { EventfdInterrupt } from '../../src/device/eventfd-interrupt.js';
import { RegionInfoFlags } from '../../src/sys/uapi/linux-vfio.js';
import { fakeVfioPci, type FakeVfioPci } from './fake-vfio-pci.js';
import { NoIommuMapper } from '../../src/vfio/type1.js';
import { shim } from '../../src/sys/shim.js';
import { vi } from 'vitest';

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;
/** Mappings of the fake device's memfd in this process. */
const deviceMappings = (): number => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('memfd:fake-vfio-pci')).length;

const RW_MMAP = RegionInfoFlags.READ | RegionInfoFlags.WRITE | RegionInfoFlags.MMAP;

// The thread's eventfd watcher opens its epoll fd and control eventfd once, for the process.
beforeAll(() => {
  const efd = createEventfd();
  watchEventfd(efd, () => {}).close();
  closeQuietly(efd);
});

let fake: FakeVfioPci | undefined;
afterEach(() => {
  fake?.dispose();
  fake = undefined;
});

function open(f: FakeVfioPci, released: { count: number }): VfioDevice {
  return new VfioDevice({ bdf: '0000:3b:00.0', deviceFd: f.fd, mode: 'noiommu', mapper: new NoIommuMapper('vfio:0000:3b:00.0'), release: () => { released.count++; } });
}

describe('VfioDevice resource release', () => {
  it('a sparse BAR whose second area cannot be mapped leaves no mapping of the first behind', () => {
    // Area 1 is 128 TiB: larger than the user address space, so mmap fails with ENOMEM for real.
    fake = fakeVfioPci({ 0: { size: 2 ** 48, offset: 0x10000, flags: RW_MMAP, sparse: [{ offset: 0, size: 0x1000 }, { offset: 0x100000, size: 2 ** 47 }] } });
    const released = { count: 0 };
    const dev = open(fake, released);
    const before = deviceMappings();
    let error: unknown;
    try {
      dev.region(0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SysError);
    expect((error as SysError).code).toBe('ENOMEM');
    expect((error as Error).message).toContain('BAR0 [0x100000+0x800000000000]');
    expect(deviceMappings()).toBe(before);
    dev.close();
    expect(released.count).toBe(1);
  });

  it('a failed SET_IRQS closes the eventfds it created; close() closes BAR mappings, eventfds and the device fd', () => {
    fake = fakeVfioPci({ 2: { size: 0x1000, offset: 0x1000, flags: RW_MMAP } }, { [IrqIndex.MSIX]: { count: 4 }, [IrqIndex.REQ]: { count: 1 } });
    const fdsBefore = openFds();
    const mapsBefore = deviceMappings();
    const released = { count: 0 };
    const dev = open(fake, released);
    // REQ was armed at open with one eventfd.
    expect(fake.irqSets.map((s) => s.index)).toEqual([IrqIndex.REQ]);
    const withReq = openFds();
    expect(withReq).toBe(fdsBefore + 1);
    fake.failNextEventfdSet = 22;
    expect(() => dev.enableInterrupts(IrqIndex.MSIX, 0, 4)).toThrow(VfioError);
    expect(openFds()).toBe(withReq);
    const bar = dev.region(2);
    bar.write32(0, 0x1234);
    expect(bar.read32(0)).toBe(0x1234);
    expect(deviceMappings()).toBe(mapsBefore + 1);
    const vectors = dev.enableInterrupts(IrqIndex.MSIX, 0, 4);
    expect(vectors).toHaveLength(4);
    expect(openFds()).toBe(withReq + 4);
    dev.close();
    expect(bar.closed).toBe(true);
    expect(vectors.every((v) => (v as EventfdInterrupt).closed)).toBe(true);
    expect(deviceMappings()).toBe(mapsBefore);
    expect(released.count).toBe(1);
    // The device fd itself was closed too (the fake's memfd): one fd fewer than before open.
    expect(openFds()).toBe(fdsBefore - 1);
  });

  // The shim's SharedArrayBuffer wrap failing is below the syscall seam (a native call): provoked with a spy.
  it.skipIf(!shim())('a BAR whose mapping cannot be wrapped as a SharedArrayBuffer is unmapped at once', () => {
    fake = fakeVfioPci({ 2: { size: 0x1000, offset: 0x1000, flags: RW_MMAP } });
    const dev = open(fake, { count: 0 });
    const before = deviceMappings();
    const spy = vi.spyOn(shim()!, 'sharedBuffer').mockImplementationOnce(() => { throw new RangeError('external buffer refused'); });
    try {
      expect(() => dev.region(2)).toThrow('external buffer refused');
    } finally {
      spy.mockRestore();
    }
    expect(deviceMappings()).toBe(before);
    dev.region(2).write32(0, 1); // a second attempt maps it
    dev.close();
    expect(deviceMappings()).toBe(before);
  });

  it('close() still unmaps, closes the eventfds and the device fd when releasing the group throws, then reports it typed', () => {
    fake = fakeVfioPci({ 2: { size: 0x1000, offset: 0x1000, flags: RW_MMAP } }, { [IrqIndex.MSIX]: { count: 2 } });
    const fdsBefore = openFds();
    const mapsBefore = deviceMappings();
    const dev = new VfioDevice({
      bdf: '0000:3b:00.0', deviceFd: fake.fd, mode: 'noiommu', mapper: new NoIommuMapper('vfio:0000:3b:00.0'),
      release: () => { throw new VfioError('EVFIO_EBADF', 'VFIO_GROUP_UNSET_CONTAINER failed'); },
    });
    const bar = dev.region(2);
    const vectors = dev.enableInterrupts(IrqIndex.MSIX, 0, 2);
    expect(() => dev.close()).toThrow(VfioError);
    expect(bar.closed).toBe(true);
    expect(vectors.every((v) => (v as EventfdInterrupt).closed)).toBe(true);
    expect(deviceMappings()).toBe(mapsBefore);
    expect(openFds()).toBe(fdsBefore - 1);
    dev.close(); // idempotent
  });
});

describe('openVfioDevice releases what it opened when a later step fails', () => {
  it('type1: the container is closed when the API version check fails; iommufd: /dev/iommu is closed when IOAS_ALLOC fails', () => {
    const tree = n3000Tree();
    const sysfs = new PciSysfs({ root: tree.root, onWrite: tree.kernel() });
    const dev = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-dev-'));
    try {
      tree.link('0000:03:00.4', 'vfio-pci');
      // Nodes that open for real but are not VFIO files: every VFIO ioctl on them is ENOTTY.
      fs.mkdirSync(path.join(dev, 'vfio/devices'), { recursive: true });
      fs.symlinkSync('/dev/null', path.join(dev, 'vfio/vfio'));
      fs.symlinkSync('/dev/null', path.join(dev, 'vfio/4'));
      const before = openFds();
      let error: unknown;
      try {
        openVfioDevice('0000:03:00.4', { sysfs, devRoot: dev, iommu: 'type1' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(VfioError);
      expect((error as VfioError).code).toBe('EVFIO_ENOTTY');
      expect((error as Error).message).toContain('VFIO_GET_API_VERSION');
      expect(openFds()).toBe(before);

      fs.mkdirSync(path.join(tree.dir('0000:03:00.4'), 'vfio-dev/vfio3'), { recursive: true });
      fs.symlinkSync('/dev/null', path.join(dev, 'vfio/devices/vfio3'));
      fs.symlinkSync('/dev/null', path.join(dev, 'iommu'));
      expect(() => openVfioDevice('0000:03:00.4', { sysfs, devRoot: dev, iommu: 'iommufd' })).toThrow(/IOMMU_IOAS_ALLOC on vfio:0000:03:00.4 failed: ENOTTY/);
      expect(openFds()).toBe(before);
    } finally {
      tree.dispose();
      fs.rmSync(dev, { recursive: true, force: true });
    }
  });
});

describe('VfioDevice capabilities', () => {
  it('is a host PCI function bound to vfio-pci; a sim device is not, and the PCI properties follow the capability', async () => {
    const { createSimCard } = await import('../../src/sim/sim-device.js');
    const { pciPropertiesOf } = await import('../../src/afu/bmc/properties.js');
    fake = fakeVfioPci({ 0: { size: 0x1000, offset: 0x1000, flags: RW_MMAP } });
    const dev = open(fake, { count: 0 });
    try {
      expect(dev.capabilities.hostPci).toEqual({ bdf: '0000:3b:00.0', driver: 'vfio-pci' });
      expect(pciPropertiesOf(dev)).toMatchObject({ address: '0000:3b:00.0', driver: 'vfio-pci', transport: 'vfio' });
    } finally {
      dev.close();
    }
    using sim = createSimCard('n3000');
    expect(sim.capabilities?.hostPci).toBeUndefined();
    expect(pciPropertiesOf(sim)).toMatchObject({ address: undefined, driver: undefined, transport: 'sim' });
  });
});
