// Access to the PCI part of sysfs under a configurable root, so the same code runs on the live
// /sys and on captured trees in tests. Writes go through one method (with an optional hook a
// test can use to play the kernel's part, e.g. drop the `driver` link when `unbind` is written).
import fs from 'node:fs';
import path from 'node:path';
import { PciError } from './errors.js';

export interface PciSysfsOptions {
  /** Where sysfs is mounted; "/sys" on a live system. */
  root?: string;
  /** Called after each attribute write with the absolute path and the text written. */
  onWrite?: (file: string, value: string) => void;
}

export class PciSysfs {
  readonly root: string;
  readonly #onWrite: ((file: string, value: string) => void) | undefined;

  constructor(options: PciSysfsOptions = {}) {
    this.root = options.root ?? '/sys';
    this.#onWrite = options.onWrite;
  }

  /** /sys/bus/pci/devices/<bdf> (a symlink into /sys/devices). */
  devicePath(bdf: string): string {
    return path.join(this.root, 'bus/pci/devices', bdf);
  }

  driversPath(driver?: string): string {
    return driver ? path.join(this.root, 'bus/pci/drivers', driver) : path.join(this.root, 'bus/pci/drivers');
  }

  exists(file: string): boolean {
    return fs.existsSync(file);
  }

  /** Trimmed text of an attribute, or undefined when it does not exist or cannot be read. */
  read(file: string): string | undefined {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** A hex attribute ("0x8086") as a number, or undefined. */
  readHex(file: string): number | undefined {
    const t = this.read(file);
    if (t === undefined || !/^(0x)?[0-9a-f]+$/i.test(t)) return undefined;
    return Number.parseInt(t, 16);
  }

  /** Basename of a symlink's target (driver, iommu_group), or undefined. */
  linkName(link: string): string | undefined {
    try {
      return path.basename(fs.readlinkSync(link));
    } catch {
      return undefined;
    }
  }

  /** The real directory of a path (following the bus symlink into /sys/devices). */
  realpath(p: string): string | undefined {
    try {
      return fs.realpathSync(p);
    } catch {
      return undefined;
    }
  }

  list(dir: string): string[] {
    try {
      return fs.readdirSync(dir).sort();
    } catch {
      return [];
    }
  }

  /** Write an attribute (the kernel acts on it). Errors name the file and say what to do. */
  write(file: string, value: string, purpose: string): void {
    try {
      fs.writeFileSync(file, value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      const hint = code === 'EACCES' || code === 'EPERM' ? 'run as root' :
        code === 'ENOENT' ? 'the device or driver is gone (check the address: listPciDevices)' :
        code === 'ENODEV' ? 'no driver accepted the device (is the driver module loaded? e.g. modprobe vfio-pci)' :
        code === 'EBUSY' ? 'the device is busy: close programs using it and retry' :
        code === 'EEXIST' ? 'the device is already bound' :
        'check dmesg for the kernel\'s reason';
      throw new PciError('EPCI_SYSFS', `${purpose}: writing '${value.trim()}' to ${file} failed: ${code}: ${hint}`, { file, value: value.trim(), errno: code }, { cause: e });
    }
    this.#onWrite?.(file, value);
  }
}

export const liveSysfs = new PciSysfs();
