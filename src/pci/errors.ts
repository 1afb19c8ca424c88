// PCI management errors.
import { DeviceError } from '../errors.js';

/** A PCI device is missing, or a sysfs operation on it failed. */
export class PciError extends DeviceError {}

/** What keeps a device's driver busy (a mounted disk, an interface that is up, the console). */
export interface DeviceUse {
  kind: 'block' | 'net' | 'console' | 'drm' | 'swap' | 'holder';
  /** The block device, interface, framebuffer or DRM card. */
  name: string;
  /** What uses it: a mount point, "up", "fbcon". */
  detail: string;
}

/** Refused to unbind a driver that something is using. */
export class DeviceInUseError extends PciError {
  readonly uses: readonly DeviceUse[];
  constructor(message: string, uses: DeviceUse[], details: Record<string, unknown> = {}) {
    super('EPCI_IN_USE', message, { ...details, uses });
    this.uses = uses;
  }
}
