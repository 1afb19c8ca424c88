// Backend registry: opens a device URL with the backend that owns its scheme.
// Built-ins are loaded lazily (the sim does not load koffi's VFIO bindings and vice versa).
import { DeviceError } from '../errors.js';
import type { Backend, OpenOptions } from './backend.js';
import type { Device } from './device.js';

type Loader = () => Promise<Backend>;

const builtinLoaders: Record<string, Loader> = {
  sim: async () => (await import('../sim/backend.js')).backend,
  vfio: async () => (await import('../vfio/backend.js')).backend,
  'vfio-user': async () => (await import('../vfio-user/backend.js')).backend,
};

const registered = new Map<string, Backend>();

/** Register a backend for its schemes (replaces a built-in of the same scheme). */
export function registerBackend(backend: Backend): void {
  for (const scheme of backend.schemes) registered.set(scheme, backend);
}

export function unregisterBackend(backend: Backend): void {
  for (const [scheme, b] of registered) if (b === backend) registered.delete(scheme);
}

/** Split "scheme:rest"; a bare PCI address "0000:3b:00.0" or "3b:00.0" means vfio. */
export function parseDeviceUrl(url: string): { scheme: string; rest: string } {
  if (/^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(url)) return { scheme: 'vfio', rest: url };
  const colon = url.indexOf(':');
  if (colon <= 0) {
    throw new DeviceError('EDEVICE_URL', `"${url}" is not a device URL; use sim:n3000, vfio:0000:3b:00.0, vfio-user:/path/to.sock or a PCI address`, { url });
  }
  return { scheme: url.slice(0, colon), rest: url.slice(colon + 1) };
}

export async function backendFor(scheme: string): Promise<Backend> {
  const known = registered.get(scheme);
  if (known) return known;
  const load = builtinLoaders[scheme];
  if (!load) {
    throw new DeviceError('EDEVICE_SCHEME', `no backend opens "${scheme}:" URLs; known: ${[...new Set([...Object.keys(builtinLoaders), ...registered.keys()])].join(', ')}`, { scheme });
  }
  const backend = await load();
  registered.set(scheme, backend);
  return backend;
}

/** Open a device by URL: "sim:n3000", "vfio:0000:3b:00.0", "vfio-user:/run/card.sock". */
export async function openDevice(url: string, options?: OpenOptions): Promise<Device> {
  const { scheme } = parseDeviceUrl(url);
  const backend = await backendFor(scheme);
  return backend.open(url, options);
}
