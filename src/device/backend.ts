// Backend: one transport that can enumerate and open devices (the OPAE "adapter table" idea).
// Built-in backends live in their layer's folder as `backend.ts` exporting `backend`; plugins
// are ES modules exporting the same shape (see registry.ts).
import type { Device } from './device.js';

/** Optional filters, all IDs as numbers (PCI enumeration uses the same). */
export interface DeviceFilter {
  vendor?: number;
  device?: number;
  classCode?: number;
  subsystemVendor?: number;
  subsystemDevice?: number;
}

/** A device a backend can open, remembering which backend found it. */
export interface DeviceToken {
  backend: string;
  url: string;
  vendor: number;
  device: number;
  subsystemVendor?: number;
  subsystemDevice?: number;
  classCode?: number;
  description?: string;
}

export interface OpenOptions {
  /** Transport-specific settings (e.g. { iommu: 'iommufd' } for vfio). */
  [key: string]: unknown;
}

export interface Backend {
  readonly name: string;
  /** URL schemes this backend opens, e.g. ['sim'] for "sim:n3000". */
  readonly schemes: readonly string[];
  /** Whether this backend handles a device type ('pci', 'sim', ...) on a host ('localhost', a socket path...). */
  supports?(deviceType: string, host: string): boolean;
  initialize?(configuration: Record<string, unknown>): void | Promise<void>;
  finalize?(): void | Promise<void>;
  enumerate?(filter?: DeviceFilter): DeviceToken[] | Promise<DeviceToken[]>;
  open(url: string, options?: OpenOptions): Device | Promise<Device>;
}
