// The one place a CLI device argument is understood. A device argument may be:
//   - a PCI address: 0000:3b:00.0 or 3b:00.0 (opened through vfio)
//   - a device URL: sim:n3000, vfio:0000:3b:00.0, vfio-user:/run/card.sock, or a plugin's scheme
//   - a reservation id: r-1a2b3c4d (as `vfiokit reservations` prints it)
// Every command that names a device goes through here: commands that open it use openDeviceArg,
// commands that only name it (status, cancel, reserve, free) use deviceKeyArg, so one card has
// one name however it is written.
import { UsageError } from './output.js';
import { canonicalDevice, deviceForReservationId, RESERVATION_ID } from '../lock/reservations.js';
import { openDevice, activeConfig } from '../device/registry.js';
import type { Device } from '../device/device.js';
import { DeviceError } from '../errors.js';

/** Turn a device argument into the device URL to open (canonical form; options after "?" kept). */
export function resolveDevice(arg: string | undefined): string {
  if (arg === undefined || arg === '') {
    throw new UsageError('EUSAGE', 'missing DEVICE: give a PCI address (3b:00.0), a device URL (sim:n3000) or a reservation id (r-1a2b3c4d)');
  }
  if (RESERVATION_ID.test(arg)) {
    const device = deviceForReservationId(arg);
    if (!device) throw new DeviceError('ENODEV', `no reservation with id ${arg}; list them with: vfiokit reservations --all`, { id: arg });
    return device;
  }
  try {
    // Options after "?" (sim faults, clock) stay on the URL for opening; reservations ignore them.
    const query = arg.indexOf('?');
    return query > 0 ? canonicalDevice(arg.slice(0, query)) + arg.slice(query) : canonicalDevice(arg);
  } catch (err) {
    throw new UsageError('EUSAGE', (err as Error).message);
  }
}

/**
 * The name a card's shared state is kept under (reservation, flash status, cancel request): the
 * canonical device without open options, so "3b:00.0", "vfio:0000:3b:00.0" and its reservation id
 * name one card, and "sim:n3000?fault=dma" is the card "sim:n3000".
 */
export function deviceKeyArg(arg: string | undefined): string {
  return canonicalDevice(resolveDevice(arg));
}

/** The PCI address behind a device argument that must be a local PCI function (bind, unbind). */
export function resolveBdf(arg: string | undefined): string {
  const key = deviceKeyArg(arg);
  if (!key.startsWith('vfio:')) {
    throw new UsageError('EUSAGE', `${arg === key ? key : `${arg} is ${key}, which`} is not a local PCI function; give a PCI address such as 0000:3b:00.0 (see vfiokit ls)`);
  }
  return key.slice('vfio:'.length);
}

let warned = false;
/** Print once per process why the configuration file was ignored (the built-in default is used). */
export function warnConfigOnce(): void {
  if (warned) return;
  warned = true;
  const { error } = activeConfig();
  if (error) process.stderr.write(`vfiokit: warning: ${error.message} (using the built-in backends)\n`);
}

/** Resolve a device argument and open it with the backend that owns its scheme. */
export async function openDeviceArg(arg: string | undefined): Promise<Device> {
  const url = resolveDevice(arg);
  warnConfigOnce();
  return openDevice(url);
}
