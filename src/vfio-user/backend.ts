// The vfio-user backend: opens `vfio-user:/path/to.sock` (a device served by another process,
// e.g. `vfiokit serve sim:n3000 --socket /run/card.sock`, or any libvfio-user server).
// Enumeration lists the sockets named in the backend's configuration ({ "sockets": [...] }).
import { existsSync, lstatSync } from 'node:fs';
import type { Backend, DeviceFilter, DeviceToken, OpenOptions } from '../device/backend.js';
import type { Device } from '../device/device.js';
import { ArgumentError } from '../errors.js';
import { VfioUserDevice, type VfioUserClientOptions } from './client.js';

let configuredSockets: string[] = [];

function socketPath(url: string): string {
  const path = url.startsWith('vfio-user:') ? url.slice('vfio-user:'.length) : url;
  if (path.length === 0) throw new ArgumentError('EARG_URL', `"${url}" names no socket; use vfio-user:/path/to.sock`, { url });
  return path;
}

export const backend: Backend = {
  name: 'vfio-user',
  schemes: ['vfio-user'],
  supports: (deviceType, host) => deviceType === 'pci' && host.startsWith('/'),
  initialize(configuration) {
    const sockets = configuration.sockets;
    if (sockets !== undefined && (!Array.isArray(sockets) || !sockets.every((s) => typeof s === 'string'))) {
      throw new ArgumentError('EARG_CONFIG', 'vfio-user backend configuration: "sockets" must be an array of socket paths', { sockets });
    }
    configuredSockets = (sockets as string[] | undefined) ?? [];
  },
  enumerate(filter?: DeviceFilter): DeviceToken[] {
    const tokens: DeviceToken[] = [];
    for (const path of configuredSockets) {
      if (!existsSync(path) || !lstatSync(path).isSocket()) continue;
      let device: VfioUserDevice | undefined;
      try {
        device = new VfioUserDevice(path, { replyTimeoutMs: 2000 });
        const id = device.identity;
        if (filter?.vendor !== undefined && filter.vendor !== id.vendor) continue;
        if (filter?.device !== undefined && filter.device !== id.device) continue;
        tokens.push({ backend: 'vfio-user', url: device.url, vendor: id.vendor, device: id.device, subsystemVendor: id.subsystemVendor, subsystemDevice: id.subsystemDevice, classCode: id.classCode, description: `vfio-user device at ${path}` });
      } catch {
        // busy (one client at a time) or not a vfio-user server: not listed
      } finally {
        device?.close();
      }
    }
    return tokens;
  },
  open(url: string, options?: OpenOptions): Device {
    return new VfioUserDevice(socketPath(url), (options ?? {}) as VfioUserClientOptions);
  },
};
