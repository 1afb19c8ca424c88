// Driver binding through sysfs (Documentation/ABI/testing/sysfs-bus-pci): driver_override names
// the only driver that may bind, drivers/<d>/unbind releases the device, drivers_probe asks
// the kernel to bind again. The driver a device had before vfiokit bound it is remembered in the
// state directory so `unbind` can give the device back. Unbinding a driver that is in use
// (mounted disk, interface up, console, open VFIO fds) is refused unless forced.
import fs from 'node:fs';
import path from 'node:path';
import { normalizeBdf } from './address.js';
import { DeviceInUseError, PciError } from './errors.js';
import { readPciDevice, type PciOptions } from './enumerate.js';
import { liveSysfs } from './sysfs.js';
import { deviceUses, describeUses, type UsageOptions } from './usage.js';
import { stateDir } from '../util/state-dir.js';
import { logger } from '../util/log.js';

const log = logger('pci');

export const VFIO_PCI_DRIVER = 'vfio-pci';

export interface DriverOptions extends UsageOptions {
  /** Unbind even when the device is in use. */
  force?: boolean;
  /** Where the previous driver is remembered (default stateDir('pci')). */
  stateDirectory?: string;
}

export interface BindResult {
  bdf: string;
  driver: string | undefined;
  /** The driver before the operation (undefined when it was unbound). */
  previousDriver: string | undefined;
  /** False when nothing had to change. */
  changed: boolean;
}

interface Remembered {
  previousDriver: string | undefined;
  boundTo: string;
}

function stateFile(bdf: string, options: DriverOptions): string {
  return path.join(options.stateDirectory ?? stateDir('pci'), `${bdf}.json`);
}

/** The driver the device had before vfiokit bound another one, if remembered. */
export function rememberedDriver(bdf: string, options: DriverOptions = {}): string | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(stateFile(normalizeBdf(bdf), options), 'utf8')) as Remembered;
    return typeof r.previousDriver === 'string' ? r.previousDriver : undefined;
  } catch {
    return undefined;
  }
}

function remember(bdf: string, r: Remembered, options: DriverOptions): void {
  const file = stateFile(bdf, options);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(r));
}

function forget(bdf: string, options: DriverOptions): void {
  fs.rmSync(stateFile(bdf, options), { force: true });
}

/** Throws DeviceInUseError when something uses the device and `force` is not set. */
export function assertNotInUse(bdf: string, driver: string, options: DriverOptions): void {
  if (options.force) return;
  const uses = deviceUses(bdf, options);
  if (uses.length === 0) return;
  throw new DeviceInUseError(
    `refusing to unbind ${bdf} from ${driver}: it is in use (${describeUses(uses)}). Unmount the filesystems, bring the interfaces down, stop the programs holding it, or pass --force (force: true) if you are sure`,
    uses, { bdf, driver });
}

function unbindRaw(bdf: string, driver: string, options: PciOptions): void {
  const sysfs = options.sysfs ?? liveSysfs;
  sysfs.write(path.join(sysfs.driversPath(driver), 'unbind'), bdf, `unbinding ${bdf} from ${driver}`);
}

function setOverride(bdf: string, driver: string | undefined, options: PciOptions): void {
  const sysfs = options.sysfs ?? liveSysfs;
  const file = path.join(sysfs.devicePath(bdf), 'driver_override');
  // An empty line clears the override (drivers/pci/pci-sysfs.c driver_override_store).
  sysfs.write(file, driver ? `${driver}\n` : '\n', driver ? `setting driver_override of ${bdf} to ${driver}` : `clearing driver_override of ${bdf}`);
}

function probe(bdf: string, options: PciOptions): void {
  const sysfs = options.sysfs ?? liveSysfs;
  sysfs.write(path.join(sysfs.root, 'bus/pci/drivers_probe'), bdf, `probing drivers for ${bdf}`);
}

/**
 * Bind `bdf` to `driver` (vfio-pci by default): unbind the current driver (after the in-use
 * guard), set driver_override, probe, and check the result. Remembers the previous driver.
 */
export function bindDriver(bdf: string, driver: string = VFIO_PCI_DRIVER, options: DriverOptions = {}): BindResult {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const info = readPciDevice(name, options);
  if (info.driver === driver) return { bdf: name, driver, previousDriver: driver, changed: false };
  if (!sysfs.exists(sysfs.driversPath(driver))) {
    throw new PciError('EPCI_NO_DRIVER', `driver ${driver} is not loaded (${sysfs.driversPath(driver)} is missing): load it first, e.g. \`modprobe ${driver}\``, { bdf: name, driver });
  }
  if (info.driver) assertNotInUse(name, info.driver, options);
  const previous = info.driver ?? rememberedDriver(name, options);
  remember(name, { previousDriver: previous, boundTo: driver }, options);
  setOverride(name, driver, options);
  try {
    if (info.driver) unbindRaw(name, info.driver, options);
    probe(name, options);
  } catch (e) {
    // Leave no override behind that would keep the old driver from binding again.
    try { setOverride(name, undefined, options); } catch { /* reported below */ }
    throw e;
  }
  const now = readPciDevice(name, options).driver;
  if (now !== driver) {
    throw new PciError('EPCI_BIND_FAILED', `${name} did not bind to ${driver} (driver now: ${now ?? 'none'}): check dmesg; for vfio-pci the device needs an IOMMU group (boot with intel_iommu=on / amd_iommu=on, or enable no-IOMMU mode)`, { bdf: name, driver, now });
  }
  log('bound %s to %s (was %s)', name, driver, info.driver ?? 'unbound');
  return { bdf: name, driver, previousDriver: info.driver, changed: true };
}

/**
 * Unbind `bdf` from its driver. When it is bound to the driver vfiokit put there and the
 * previous driver is remembered, the device goes back to that driver (restore: true, default).
 */
export function unbindDriver(bdf: string, options: DriverOptions & { restore?: boolean } = {}): BindResult {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const info = readPciDevice(name, options);
  const previous = rememberedDriver(name, options);
  if (!info.driver) {
    if (info.driverOverride) setOverride(name, undefined, options);
    forget(name, options);
    return { bdf: name, driver: undefined, previousDriver: undefined, changed: false };
  }
  assertNotInUse(name, info.driver, options);
  if (info.driverOverride) setOverride(name, undefined, options);
  unbindRaw(name, info.driver, options);
  forget(name, options);
  if ((options.restore ?? true) && previous && previous !== info.driver) {
    if (sysfs.exists(sysfs.driversPath(previous))) {
      sysfs.write(path.join(sysfs.driversPath(previous), 'bind'), name, `giving ${name} back to ${previous}`);
    } else {
      probe(name, options);
    }
    const now = readPciDevice(name, options).driver;
    if (now !== previous) {
      throw new PciError('EPCI_RESTORE_FAILED', `${name} was unbound from ${info.driver} but did not go back to ${previous} (driver now: ${now ?? 'none'}): load ${previous} (modprobe ${previous}) and bind it again (bindDriver(bdf, '${previous}'))`, { bdf: name, driver: previous, now });
    }
    log('unbound %s from %s, restored %s', name, info.driver, previous);
    return { bdf: name, driver: now, previousDriver: info.driver, changed: true };
  }
  log('unbound %s from %s', name, info.driver);
  return { bdf: name, driver: undefined, previousDriver: info.driver, changed: true };
}

/** Hot-remove the function (sysfs `remove`); the driver's remove runs (vfio-pci raises REQ). */
export function removeDevice(bdf: string, options: DriverOptions = {}): void {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const info = readPciDevice(name, options);
  if (info.driver && info.driver !== VFIO_PCI_DRIVER) assertNotInUse(name, info.driver, options);
  sysfs.write(path.join(sysfs.devicePath(name), 'remove'), '1', `removing ${name}`);
}

/** Rescan all PCI buses (/sys/bus/pci/rescan), or below one bridge/device. */
export function rescan(bdf?: string, options: PciOptions = {}): void {
  const sysfs = options.sysfs ?? liveSysfs;
  const file = bdf ? path.join(sysfs.devicePath(normalizeBdf(bdf)), 'rescan') : path.join(sysfs.root, 'bus/pci/rescan');
  sysfs.write(file, '1', bdf ? `rescanning below ${bdf}` : 'rescanning the PCI buses');
}
