// The card's BMC: find its transport in the FME's private features (0xE: MAX10 behind the SPI
// master, N3000; reference/dfl.md "Feature IDs") and bundle the flows that use it: secure update,
// reboot/reload, versions and PHY info.
import { DeviceError } from '../../errors.js';
import type { Device } from '../../device/device.js';
import { walkDfl } from '../../dfl/walk.js';
import { findPrivateFeature, type Feature } from '../../dfl/feature.js';
import { FiuId } from '../../dfl/dfh.js';
import { FmeFeatureId } from '../../dfl/names.js';
import { logger } from '../../util/log.js';
import { SecureUpdate } from './secure-update.js';
import { SpiAvmmTransport, type SpiAvmmOptions } from './spi-avmm-transport.js';
import type { BmcTransport } from './transport.js';
import { readBmcInfo, readPhyInfo, type BmcInfo, type PhyInfo } from './bmc-info.js';
import { rebootCard, type RebootOptions } from './reboot.js';

const log = logger('bmc');

export interface BmcLocation {
  kind: 'spi-avmm' | 'pmci';
  bar: number;
  offset: number;
}

/** The FME root of a walk, or undefined. */
export function fmeOf(features: readonly Feature[]): Feature | undefined {
  return features.find((f) => f.type === 'fiu' && f.id === FiuId.FME);
}

/** Where the BMC transport is among the FME's private features. */
export function locateBmc(fme: Feature): BmcLocation | undefined {
  const spi = findPrivateFeature(fme, FmeFeatureId.MAX10_SPI);
  if (spi) return { kind: 'spi-avmm', bar: spi.bar, offset: spi.offset };
  const pmci = findPrivateFeature(fme, FmeFeatureId.PMCI);
  if (pmci) return { kind: 'pmci', bar: pmci.bar, offset: pmci.offset };
  return undefined;
}

export interface OpenBmcOptions extends SpiAvmmOptions {
  /** The FME node when the caller walked already (else the device's DFL is walked). */
  fme?: Feature;
}

export class Bmc implements Disposable {
  readonly device: Device;
  readonly location: BmcLocation;
  readonly transport: BmcTransport;
  readonly update: SecureUpdate;

  constructor(device: Device, location: BmcLocation, transport: BmcTransport) {
    this.device = device;
    this.location = location;
    this.transport = transport;
    this.update = new SecureUpdate(transport, { device: device.url });
  }

  info(): BmcInfo {
    return readBmcInfo(this.transport);
  }

  phyInfo(): PhyInfo {
    return readPhyInfo(this.transport);
  }

  reboot(options: RebootOptions): Promise<void> {
    return rebootCard(this.transport, { ...options, device: options.device ?? this.device.url });
  }

  close(): void {
    this.transport.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Open the BMC of a card: walk its DFL (unless given the FME) and start the transport. */
export function openBmc(device: Device, options: OpenBmcOptions = {}): Bmc {
  const fme = options.fme ?? fmeOf(walkDfl(device).features);
  if (!fme) {
    throw new DeviceError('ENOBMC', `${device.url}: no FME in the device feature list, so no BMC; secure update needs the PF of an N3000-class card (not a VF)`, { device: device.url });
  }
  const location = locateBmc(fme);
  if (!location) {
    throw new DeviceError('ENOBMC', `${device.url}: the FME has no MAX10 SPI feature (0xE) or PMCI feature (0x12); this card has no BMC that vfiokit can reach`, { device: device.url });
  }
  if (location.kind === 'pmci') {
    throw new DeviceError('ENOBMC_PMCI', `${device.url}: the BMC sits behind PMCI (FME feature 0x12, N6000-class); this build of vfiokit reaches N3000 BMCs over SPI-AVMM (feature 0xE) only`, { device: device.url, ...location });
  }
  log('%s: BMC over SPI-AVMM at BAR%d+0x%s', device.url, location.bar, location.offset.toString(16));
  const transport = new SpiAvmmTransport(device.region(location.bar), location.offset, options);
  return new Bmc(device, location, transport);
}
