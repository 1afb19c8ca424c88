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
import type { Feature } from '../../dfl/feature.js';
import { FiuId } from '../../dfl/regs/dfh.js';
import { FmeFeatureId, featureKey } from '../../dfl/names.js';
import type { FeatureDriver } from '../feature-driver.js';
import { Card } from '../card.js';
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

/** The FME features a BMC transport binds to, in the order they are preferred when a card has several. */
const BMC_FEATURES = [FmeFeatureId.NIOS_SPI, FmeFeatureId.MAX10_SPI, FmeFeatureId.PMCI] as const;

/** What the kernel binds to one of the BMC features (dfl-n3000-nios.c, spi-altera-dfl.c, drivers/mfd/intel-m10-bmc-pmci.c). */
function bmcLocation(f: Feature): BmcLocation {
  const at = (kind: BmcLocation['kind'], device: string): BmcLocation => ({ kind, featureId: f.id, device, bar: f.bar, offset: f.offset, feature: f });
  if (f.id === FmeFeatureId.NIOS_SPI) return at('spi-avmm', 'm10-n3000');
  // spi-altera-dfl.c: revision FME_FEATURE_REV_MAX10_SPI_N5010 (1) names the device m10-n5010.
  if (f.id === FmeFeatureId.MAX10_SPI) return at('spi-avmm', f.revision === 1 ? 'm10-n5010' : 'm10-d5005');
  return at('pmci', 'm10-pmci');
}

/**
 * The BMC feature driver: binds the features above to where the BMC is. Binding reads nothing;
 * openBmc runs the Nios handshake and starts the transport (asynchronous, up to 10 s).
 */
export const bmcDriver: FeatureDriver<BmcLocation> = {
  name: 'bmc',
  ids: BMC_FEATURES.map((id) => featureKey(FiuId.FME, id)),
  init: (ref) => bmcLocation(ref.feature),
};

export interface OpenBmcOptions extends SpiAvmmOptions {
  /** The device's card when the caller discovered it already (else it is discovered). */
  card?: Card;
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
 * Open the BMC of a card: the feature the card's walk bound to the BMC driver (the card is
 * discovered unless given), the register bus the kernel binds for it, the Nios handshake on 0xD
 * (up to 10 s on the device's clock), and the SPI-AVMM transport.
 */
export async function openBmc(device: Device, options: OpenBmcOptions = {}): Promise<Bmc> {
  const { card: given, ...spiOptions } = options;
  const card = given ?? Card.discover(device);
  const fme = card.fme;
  if (!fme) {
    throw new DeviceError('ENOBMC', `${device.url}: no FME in the device feature list, so no BMC; secure update needs the PF of an N3000-class card (not a VF)`, { device: device.url });
  }
  const bound = fme.instances(bmcDriver);
  const location = BMC_FEATURES.map((id) => bound.find((l) => l.featureId === id)).find((l) => l !== undefined);
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
  const transport = new SpiAvmmTransport(bus, spiOptions);
  return new Bmc(device, location, transport, nios);
}
