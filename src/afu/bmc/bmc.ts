// The card's BMC: find its transport among the FME's private features the way the kernel binds
// them, and bundle the flows that use it: secure update, reboot/reload, versions and PHY info.
//   0xD "N3000 Nios" (dfl-n3000-nios.c): Nios handshake, then the Altera SPI master through the
//       Nios indirect bus; the SPI device is "m10-n3000" (intel-m10-bmc-spi.c).
//   0xE MAX10 SPI (spi-altera-dfl.c): the SPI master through its own window; "m10-d5005"
//       (revision 1: "m10-n5010").
//   0x12 PMCI (N6000 class): located, not driven by this build.
// A DFH v1 feature's registers are its CSR block (featureRef csrOffset), not the DFH.
import { DeviceError } from '../../errors.js';
import type { Device } from '../../device/device.js';
import { walkDfl } from '../../dfl/walk.js';
import { findPrivateFeature, type Feature } from '../../dfl/feature.js';
import { FiuId } from '../../dfl/regs/dfh.js';
import { FmeFeatureId } from '../../dfl/names.js';
import { logger } from '../../util/log.js';
import { SecureUpdate } from './secure-update.js';
import { featureRef } from '../feature-ref.js';
import { SpiAvmmTransport, type SpiAvmmOptions } from './spi-avmm-transport.js';
import { DflIndirectRegBus, type SpiRegBus } from './spi-regbus.js';
import { NiosRegBus, niosInitDoneCheck, type NiosInitResult } from './nios-regbus.js';
import type { BmcTransport } from './transport.js';
import { readBmcInfo, readPhyInfo, type BmcInfo, type PhyInfo } from './bmc-info.js';
import { rebootCard, type RebootOptions } from './reboot.js';
import type { BmcBoard } from './registers.js';
import { readBmcSensors, type BmcSensorReading } from './sensors.js';
import { readBmcSecurity, type BmcSecurity } from './security.js';

const log = logger('bmc');

export interface BmcLocation {
  kind: 'spi-avmm' | 'pmci';
  /** FME feature ID: 0xd (N3000 Nios), 0xe (MAX10 SPI), 0x12 (PMCI). */
  featureId: number;
  /** The SPI device name the kernel gives the BMC (m10-n3000, m10-d5005, m10-n5010). */
  device: string;
  bar: number;
  /** Offset of the feature's DFH. */
  offset: number;
  feature: Feature;
}

/** The FME root of a walk, or undefined. */
export function fmeOf(features: readonly Feature[]): Feature | undefined {
  return features.find((f) => f.type === 'fiu' && f.id === FiuId.FME);
}

/** Where the BMC transport is among the FME's private features (the kernel's driver binding). */
export function locateBmc(fme: Feature): BmcLocation | undefined {
  const at = (f: Feature, kind: BmcLocation['kind'], device: string): BmcLocation => ({ kind, featureId: f.id, device, bar: f.bar, offset: f.offset, feature: f });
  const nios = findPrivateFeature(fme, FmeFeatureId.NIOS_SPI);
  if (nios) return at(nios, 'spi-avmm', 'm10-n3000');
  const spi = findPrivateFeature(fme, FmeFeatureId.MAX10_SPI);
  // spi-altera-dfl.c: revision FME_FEATURE_REV_MAX10_SPI_N5010 (1) names the device m10-n5010.
  if (spi) return at(spi, 'spi-avmm', spi.revision === 1 ? 'm10-n5010' : 'm10-d5005');
  const pmci = findPrivateFeature(fme, FmeFeatureId.PMCI);
  if (pmci) return at(pmci, 'pmci', 'm10-pmci');
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
  /** Boot-page semantics of this card class (N3000: BMC factory = CONFIG_SEL 1; D5005: 0). */
  readonly board: BmcBoard;
  /** The Nios handshake's outcome (feature 0xD only). */
  readonly nios: NiosInitResult | undefined;

  constructor(device: Device, location: BmcLocation, transport: BmcTransport, nios?: NiosInitResult) {
    this.device = device;
    this.location = location;
    this.transport = transport;
    this.nios = nios;
    this.board = location.featureId === FmeFeatureId.NIOS_SPI ? 'n3000' : 'd5005';
    this.update = new SecureUpdate(transport, { device: device.url });
  }

  info(): BmcInfo {
    return readBmcInfo(this.transport, this.board);
  }

  phyInfo(): PhyInfo {
    return readPhyInfo(this.transport);
  }

  /** Every telemetry sensor, as the kernel's hwmon driver decodes it (sensors.ts). */
  sensors(): BmcSensorReading[] {
    return readBmcSensors(this.transport, this.location.device);
  }

  /** Root entry hashes, canceled code-signing keys and the flash count (security.ts). */
  security(): BmcSecurity {
    return readBmcSecurity(this.transport);
  }

  reboot(options: RebootOptions): Promise<void> {
    return rebootCard(this.transport, { ...options, device: options.device ?? this.device.url, board: this.board });
  }

  close(): void {
    this.transport.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Open the BMC of a card: walk its DFL (unless given the FME), bind the register bus the kernel
 * binds for the feature found, run the Nios handshake on 0xD (up to 10 s on the device's clock),
 * and start the SPI-AVMM transport.
 */
export async function openBmc(device: Device, options: OpenBmcOptions = {}): Promise<Bmc> {
  const fme = options.fme ?? fmeOf(walkDfl(device).features);
  if (!fme) {
    throw new DeviceError('ENOBMC', `${device.url}: no FME in the device feature list, so no BMC; secure update needs the PF of an N3000-class card (not a VF)`, { device: device.url });
  }
  const location = locateBmc(fme);
  if (!location) {
    throw new DeviceError('ENOBMC', `${device.url}: the FME has no N3000 Nios feature (0xD), MAX10 SPI feature (0xE) or PMCI feature (0x12); this card has no BMC that vfiokit can reach`, { device: device.url });
  }
  if (location.kind === 'pmci') {
    throw new DeviceError('ENOBMC_PMCI', `${device.url}: the BMC sits behind PMCI (FME feature 0x12, N6000-class); this build of vfiokit reaches BMCs over SPI-AVMM (features 0xD and 0xE) only`, { device: device.url, featureId: location.featureId, bar: location.bar, offset: location.offset });
  }
  // The register block: the DFH in v0, the CSR block in v1 (dfl.c create_feature_instance).
  const { region, csrOffset } = featureRef(device, location.feature);
  let bus: SpiRegBus;
  let nios: NiosInitResult | undefined;
  if (location.featureId === FmeFeatureId.NIOS_SPI) {
    const niosBus = new NiosRegBus(region, csrOffset);
    nios = await niosInitDoneCheck(niosBus, region.clock);
    bus = niosBus;
  } else {
    bus = new DflIndirectRegBus(region, csrOffset);
  }
  log('%s: BMC %s over SPI-AVMM, FME feature 0x%s at BAR%d+0x%s', device.url, location.device, location.featureId.toString(16), location.bar, csrOffset.toString(16));
  const transport = new SpiAvmmTransport(bus, options);
  return new Bmc(device, location, transport, nios);
}
