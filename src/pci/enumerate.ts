// Enumerate PCI functions from /sys/bus/pci/devices (Documentation/ABI/testing/sysfs-bus-pci):
// vendor, device, subsystem_vendor, subsystem_device, class, revision, driver, iommu_group.
import path from 'node:path';
import type { DeviceFilter } from '../device/backend.js';
import { isBdf, normalizeBdf } from './address.js';
import { PciError } from './errors.js';
import type { PciIdentity } from './identity.js';
import { PciSysfs, liveSysfs } from './sysfs.js';

/** A function as sysfs shows it: its IDs (PciIdentity) plus address, driver and topology. */
export interface PciDeviceInfo extends PciIdentity {
  bdf: string;
  /** Bound driver name, or undefined when unbound. */
  driver: string | undefined;
  /** driver_override contents, or undefined when empty/absent. */
  driverOverride: string | undefined;
  /** IOMMU group number, or undefined when the device has none (no IOMMU). */
  iommuGroup: number | undefined;
  numaNode: number | undefined;
  /** Set for a virtual function: its physical function's BDF. */
  physfn: string | undefined;
  /** Number of VFs enabled on a PF (sriov_numvfs), undefined when not SR-IOV capable. */
  sriovNumVfs: number | undefined;
}

/** Options shared by the PCI functions. */
export interface PciOptions {
  sysfs?: PciSysfs;
}

function matches(d: PciDeviceInfo, f: DeviceFilter | undefined): boolean {
  if (!f) return true;
  return (f.vendor === undefined || d.vendor === f.vendor)
    && (f.device === undefined || d.device === f.device)
    && (f.subsystemVendor === undefined || d.subsystemVendor === f.subsystemVendor)
    && (f.subsystemDevice === undefined || d.subsystemDevice === f.subsystemDevice)
    && (f.classCode === undefined || classMatches(d.classCode, f.classCode));
}

/**
 * A class filter matches the full 24-bit code, or (when it fits in 16 bits) base class and
 * subclass, or (when it fits in 8 bits) the base class: 0x12 matches all processing accelerators.
 */
export function classMatches(classCode: number, filter: number): boolean {
  if (filter > 0xffff) return classCode === filter;
  if (filter > 0xff) return classCode >>> 8 === filter;
  return classCode >>> 16 === filter;
}

/** Read one device's attributes; throws PciError when there is no such device. */
export function readPciDevice(bdf: string, options: PciOptions = {}): PciDeviceInfo {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const dir = sysfs.devicePath(name);
  const vendor = sysfs.readHex(path.join(dir, 'vendor'));
  if (vendor === undefined) {
    throw new PciError('EPCI_NO_DEVICE', `no PCI device ${name} (${dir} is missing): listPciDevices() lists them`, { bdf: name });
  }
  const numa = sysfs.read(path.join(dir, 'numa_node'));
  const override = sysfs.read(path.join(dir, 'driver_override'));
  const group = sysfs.linkName(path.join(dir, 'iommu_group'));
  const numvfs = sysfs.read(path.join(dir, 'sriov_numvfs'));
  return {
    bdf: name,
    vendor,
    device: sysfs.readHex(path.join(dir, 'device')) ?? 0,
    subsystemVendor: sysfs.readHex(path.join(dir, 'subsystem_vendor')) ?? 0,
    subsystemDevice: sysfs.readHex(path.join(dir, 'subsystem_device')) ?? 0,
    classCode: sysfs.readHex(path.join(dir, 'class')) ?? 0,
    revision: sysfs.readHex(path.join(dir, 'revision')) ?? 0,
    driver: sysfs.linkName(path.join(dir, 'driver')),
    driverOverride: override && override !== '(null)' ? override : undefined,
    iommuGroup: group !== undefined && /^\d+$/.test(group) ? Number(group) : undefined,
    numaNode: numa !== undefined && /^\d+$/.test(numa) ? Number(numa) : undefined,
    physfn: sysfs.linkName(path.join(dir, 'physfn')),
    sriovNumVfs: numvfs !== undefined && /^\d+$/.test(numvfs) ? Number(numvfs) : undefined,
  };
}

/** Every PCI function in sysfs that passes the filter, in address order. */
export function listPciDevices(filter?: DeviceFilter, options: PciOptions = {}): PciDeviceInfo[] {
  const sysfs = options.sysfs ?? liveSysfs;
  const out: PciDeviceInfo[] = [];
  for (const name of sysfs.list(path.join(sysfs.root, 'bus/pci/devices'))) {
    if (!isBdf(name)) continue;
    let info: PciDeviceInfo;
    try {
      info = readPciDevice(name, { sysfs });
    } catch {
      continue; // removed while we listed
    }
    if (matches(info, filter)) out.push(info);
  }
  return out;
}
