// PCI topology from sysfs: the bridge above a function, functions below a bridge, SR-IOV
// PF/VF links (physfn, virtfnN), sibling functions of the same card, and IOMMU groups
// (/sys/kernel/iommu_groups/<N>/devices).
import path from 'node:path';
import { isBdf, normalizeBdf, parseBdf } from './address.js';
import { PciError } from './errors.js';
import { liveSysfs } from './sysfs.js';
import type { PciOptions } from './enumerate.js';

function realDir(bdf: string, options: PciOptions): string {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const dir = sysfs.realpath(sysfs.devicePath(name));
  if (!dir) throw new PciError('EPCI_NO_DEVICE', `no PCI device ${name} in ${sysfs.root}/bus/pci/devices: listPciDevices() lists them`, { bdf: name });
  return dir;
}

/** The bridge (or root port) above `bdf`, or undefined when it sits on a root bus. */
export function parentBridge(bdf: string, options: PciOptions = {}): string | undefined {
  const parent = path.basename(path.dirname(realDir(bdf, options)));
  return isBdf(parent) ? parent : undefined;
}

/** PCI functions directly below a bridge. */
export function children(bdf: string, options: PciOptions = {}): string[] {
  const sysfs = options.sysfs ?? liveSysfs;
  return sysfs.list(realDir(bdf, options)).filter(isBdf);
}

/** Every bridge from `bdf` up to the root bus, nearest first. */
export function ancestors(bdf: string, options: PciOptions = {}): string[] {
  const out: string[] = [];
  let dir = path.dirname(realDir(bdf, options));
  while (isBdf(path.basename(dir))) {
    out.push(path.basename(dir));
    dir = path.dirname(dir);
  }
  return out;
}

/** The physical function of a VF, or undefined for a PF / non-SR-IOV function. */
export function physicalFunction(bdf: string, options: PciOptions = {}): string | undefined {
  const sysfs = options.sysfs ?? liveSysfs;
  return sysfs.linkName(path.join(sysfs.devicePath(normalizeBdf(bdf)), 'physfn'));
}

/** The VFs of a PF in VF index order (virtfn0, virtfn1, ...). */
export function virtualFunctions(bdf: string, options: PciOptions = {}): string[] {
  const sysfs = options.sysfs ?? liveSysfs;
  const dir = sysfs.devicePath(normalizeBdf(bdf));
  return sysfs.list(dir)
    .filter((n) => /^virtfn\d+$/.test(n))
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
    .map((n) => sysfs.linkName(path.join(dir, n)))
    .filter((n): n is string => n !== undefined);
}

/**
 * Other functions of the same card: functions on the same bus below the same bridge (an
 * N3000's FPGA PF0 and its other endpoints sit below one switch), excluding VFs.
 */
export function siblingFunctions(bdf: string, options: PciOptions = {}): string[] {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const me = parseBdf(name);
  const parentDir = path.dirname(realDir(name, options));
  return sysfs.list(parentDir)
    .filter((n) => isBdf(n) && n !== name)
    .filter((n) => {
      const a = parseBdf(n);
      return a.domain === me.domain && a.bus === me.bus && physicalFunction(n, options) === undefined;
    });
}

/** Other functions in the same slot (same domain:bus:device, other function numbers): a card's PF1. */
export function slotFunctions(bdf: string, options: PciOptions = {}): string[] {
  const me = parseBdf(bdf);
  return siblingFunctions(bdf, options).filter((n) => parseBdf(n).device === me.device);
}

/** The IOMMU group number of a device, or undefined when it has none. */
export function iommuGroupOf(bdf: string, options: PciOptions = {}): number | undefined {
  const sysfs = options.sysfs ?? liveSysfs;
  const g = sysfs.linkName(path.join(sysfs.devicePath(normalizeBdf(bdf)), 'iommu_group'));
  return g !== undefined && /^\d+$/.test(g) ? Number(g) : undefined;
}

/** The devices in an IOMMU group (all must be bound to vfio-pci or unbound for the group to be viable). */
export function iommuGroupMembers(group: number, options: PciOptions = {}): string[] {
  const sysfs = options.sysfs ?? liveSysfs;
  return sysfs.list(path.join(sysfs.root, 'kernel/iommu_groups', String(group), 'devices'));
}
