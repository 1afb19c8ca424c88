// Card properties grouped as the management API's mask (DPDK ifpga_opae_api.c opae_get_property:
// OPAE_PROP_PCI 1, FME 2, PORT 4, BMC 8): PCI identity (from sysfs, no open needed), FME
// (bitstream ID and version, port count, PR interface ID), Port (per port: AFU ID, state), BMC
// (versions, boot pages). PHY/retimer info is separate (getPhyInfo, opae_get_phy_info).
import { ArgumentError } from '../../errors.js';
import type { Device } from '../../device/device.js';
import { Card } from '../card.js';
import type { Fme } from '../fme.js';
import { readPciDevice } from '../../pci/enumerate.js';
import { parseDeviceUrl } from '../../device/registry.js';
import { hex } from '../../util/bytes.js';
import { openBmc } from './bmc.js';
import type { BmcInfo, PhyInfo } from './bmc-info.js';

export const PropertyMask = { PCI: 0x1, FME: 0x2, PORT: 0x4, BMC: 0x8, ALL: 0xf } as const;

export interface PciProperties {
  address: string | undefined;
  vendor: string;
  device: string;
  subsystemVendor: string;
  subsystemDevice: string;
  classCode: string;
  driver: string | undefined;
  transport: string;
}

export interface FmeProperties {
  bitstreamId: string;
  /** BITSTREAM_ID version: major [59:56], minor [55:52], patch [51:48] (dfl.md; FME_BITSTREAM_ID). */
  bitstreamVersion: string;
  bitstreamMetadata: string;
  ports: number;
  prInterfaceId: string | undefined;
  /** Page the FPGA booted from (from the BMC when it has one). */
  bootPage?: string;
}

export interface PortProperties {
  index: number;
  afuId: string | undefined;
  /** 'enabled' or 'reset' (PORT_CTRL[0]). */
  state: 'enabled' | 'reset';
}

export interface CardProperties {
  pci?: PciProperties;
  fme?: FmeProperties;
  ports?: PortProperties[];
  bmc?: BmcInfo;
}

const h4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/** PCI properties of a local function from sysfs, without opening it. */
export function pciPropertiesFromSysfs(bdf: string): PciProperties {
  const info = readPciDevice(bdf);
  return {
    address: info.bdf, vendor: h4(info.vendor), device: h4(info.device), subsystemVendor: h4(info.subsystemVendor),
    subsystemDevice: h4(info.subsystemDevice), classCode: `0x${info.classCode.toString(16).padStart(6, '0')}`, driver: info.driver, transport: 'vfio',
  };
}

export function pciPropertiesOf(device: Device): PciProperties {
  const id = device.identity;
  return {
    address: device.bdf, vendor: h4(id.vendor), device: h4(id.device), subsystemVendor: h4(id.subsystemVendor),
    subsystemDevice: h4(id.subsystemDevice), classCode: `0x${id.classCode.toString(16).padStart(6, '0')}`, driver: device.capabilities?.hostPci?.driver, transport: device.transport,
  };
}

function checkMask(mask: number): number {
  if (!Number.isInteger(mask) || mask < 0 || mask > PropertyMask.ALL) {
    throw new ArgumentError('EUSAGE', `property mask ${String(mask)} is not 0..15 (1 PCI, 2 FME, 4 Port, 8 BMC; 0 = all)`, { mask });
  }
  return mask === 0 ? PropertyMask.ALL : mask;
}

/** The PCI part of a device URL's properties without opening it (local PCI functions only). */
export function pciPropertiesForUrl(url: string): PciProperties | undefined {
  const { scheme, rest } = parseDeviceUrl(url);
  if (scheme !== 'vfio' || !/^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(rest)) return undefined;
  return pciPropertiesFromSysfs(rest.length === 7 ? `0000:${rest}` : rest);
}

function fmeProperties(fme: Fme): FmeProperties {
  return {
    bitstreamId: hex(fme.bitstreamId, 16),
    bitstreamVersion: fme.bitstreamVersion.text,
    bitstreamMetadata: hex(fme.bitstreamMetadata, 16),
    ports: fme.portCount,
    prInterfaceId: fme.prInterfaceId,
  };
}

function portProperties(card: Card): PortProperties[] {
  return card.ports.map((port, index) => ({ index, afuId: card.afu(port.number)?.guid, state: port.control.softReset ? 'reset' : 'enabled' }));
}

/** Read the properties in `mask` (0 = all) from an open device. */
export async function readCardProperties(device: Device, mask = 0): Promise<CardProperties> {
  const m = checkMask(mask);
  const out: CardProperties = {};
  if (m & PropertyMask.PCI) out.pci = pciPropertiesOf(device);
  if (!(m & (PropertyMask.FME | PropertyMask.PORT | PropertyMask.BMC))) return out;
  const card = Card.discover(device);
  const fme = card.fme;
  if (m & PropertyMask.FME && fme) out.fme = fmeProperties(fme);
  if (m & PropertyMask.PORT) out.ports = portProperties(card);
  if (m & PropertyMask.BMC && fme) {
    using bmc = await openBmc(device, { card });
    out.bmc = bmc.info();
    if (out.fme) out.fme.bootPage = out.bmc.fpgaBootPage;
  }
  return out;
}

/** Retimer / PHY information through the BMC. */
export async function getPhyInfo(device: Device): Promise<PhyInfo> {
  using bmc = await openBmc(device);
  return bmc.phyInfo();
}
