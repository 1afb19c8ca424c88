// Open a PCI function bound to vfio-pci, picking the kernel interface: the iommufd cdev when
// /dev/iommu and /dev/vfio/devices/vfioN exist, no-IOMMU mode when the group is a noiommu group,
// else the legacy type1 container. `iommu` overrides the choice.
import fs from 'node:fs';
import path from 'node:path';
import { normalizeBdf } from '../pci/address.js';
import { readPciDevice } from '../pci/enumerate.js';
import { PciSysfs, liveSysfs } from '../pci/sysfs.js';
import { closeQuietly } from '../sys/libc.js';
import { O_CLOEXEC, O_RDWR } from '../sys/constants.js';
import { ArgumentError } from '../errors.js';
import { VfioError, openNode } from './errors.js';
import { GroupHandle } from './type1.js';
import { IommufdContext } from './iommufd.js';
import { VfioDevice, type VfioDeviceOptions } from './vfio-device.js';

export type IommuChoice = 'type1' | 'iommufd' | 'noiommu';

export interface OpenVfioOptions extends VfioDeviceOptions {
  /** Force the kernel interface instead of picking one. */
  iommu?: IommuChoice;
  sysfs?: PciSysfs;
  /** Where the VFIO nodes are (/dev). */
  devRoot?: string;
}

/** The vfioN cdev name of a device (sysfs vfio-dev/), or undefined. */
export function cdevName(bdf: string, sysfs: PciSysfs = liveSysfs): string | undefined {
  return sysfs.list(path.join(sysfs.devicePath(bdf), 'vfio-dev')).find((n) => /^vfio\d+$/.test(n));
}

/** Which interface openVfioDevice would use for `bdf` (and why), without opening anything. */
export function pickIommu(bdf: string, options: OpenVfioOptions = {}): { mode: IommuChoice; group: string | undefined; cdev: string | undefined } {
  const sysfs = options.sysfs ?? liveSysfs;
  const dev = options.devRoot ?? '/dev';
  const group = sysfs.linkName(path.join(sysfs.devicePath(bdf), 'iommu_group'));
  const cdev = cdevName(bdf, sysfs);
  if (options.iommu) return { mode: options.iommu, group, cdev };
  if (group !== undefined && fs.existsSync(path.join(dev, 'vfio', `noiommu-${group}`))) return { mode: 'noiommu', group, cdev };
  if (cdev && fs.existsSync(path.join(dev, 'iommu')) && fs.existsSync(path.join(dev, 'vfio/devices', cdev))) return { mode: 'iommufd', group, cdev };
  return { mode: 'type1', group, cdev };
}

export function openVfioDevice(bdfOrUrl: string, options: OpenVfioOptions = {}): VfioDevice {
  const sysfs = options.sysfs ?? liveSysfs;
  const dev = options.devRoot ?? '/dev';
  const bdf = normalizeBdf(bdfOrUrl.replace(/^vfio:/, ''));
  if (options.iommu !== undefined && !['type1', 'iommufd', 'noiommu'].includes(options.iommu)) {
    throw new ArgumentError('EARG_IOMMU', `iommu '${String(options.iommu)}' is not one of type1, iommufd, noiommu`, { iommu: options.iommu });
  }
  const info = readPciDevice(bdf, { sysfs });
  if (info.driver !== 'vfio-pci') {
    throw new VfioError('EVFIO_NOT_BOUND', `${bdf} is ${info.driver ? `bound to ${info.driver}` : 'not bound to any driver'}, not vfio-pci: bind it to vfio-pci first (bindDriver, as root)`, { device: `vfio:${bdf}`, driver: info.driver });
  }
  const { mode, group, cdev } = pickIommu(bdf, options);
  if (mode === 'iommufd') {
    if (!cdev) {
      throw new VfioError('EVFIO_NO_CDEV', `${bdf} has no VFIO device cdev (${sysfs.devicePath(bdf)}/vfio-dev is empty): the kernel needs CONFIG_VFIO_DEVICE_CDEV (Linux >= 6.6); use iommu: 'type1'`, { device: `vfio:${bdf}` });
    }
    const ctx = IommufdContext.open(`vfio:${bdf}`, path.join(dev, 'iommu'));
    let fd = -1;
    try {
      fd = openNode(path.join(dev, 'vfio/devices', cdev), `vfio:${bdf}`, O_RDWR | O_CLOEXEC);
      ctx.attach(fd, `vfio:${bdf}`);
      const devFd = fd;
      return new VfioDevice({ bdf, deviceFd: devFd, mode, mapper: ctx, release: () => ctx.close() }, options);
    } catch (e) {
      closeQuietly(fd >= 0 ? fd : undefined);
      ctx.close();
      throw e;
    }
  }
  if (group === undefined) {
    throw new VfioError('EVFIO_NO_GROUP', `${bdf} has no IOMMU group: enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line) or, without one, VFIO no-IOMMU mode (modprobe vfio enable_unsafe_noiommu_mode=1)`, { device: `vfio:${bdf}` });
  }
  const handle = GroupHandle.acquire(bdf, group, mode === 'noiommu' ? 'noiommu' : 'type1', { sysfs, devRoot: path.join(dev, 'vfio') });
  let fd = -1;
  try {
    fd = handle.deviceFd(bdf);
    return new VfioDevice({ bdf, deviceFd: fd, mode, mapper: handle.mapper, release: () => handle.release() }, options);
  } catch (e) {
    closeQuietly(fd >= 0 ? fd : undefined);
    handle.release();
    throw e;
  }
}
