// Card properties grouped as the management API's mask (DPDK ifpga_opae_api.c opae_get_property:
// OPAE_PROP_PCI 1, FME 2, PORT 4, BMC 8): PCI identity (from sysfs, no open needed), FME
// (bitstream ID and version, port count, PR interface ID), Port (per port: AFU ID, state), BMC
// (versions, boot pages). PHY/retimer info is separate (getPhyInfo, opae_get_phy_info).
import { ArgumentError } from '../../errors.js';
import type { Device } from '../../device/device.js';
import { walkDfl } from '../../dfl/walk.js';
import { csrOffsetOf, findPrivateFeature, type Feature } from '../../dfl/feature.js';
import { FiuId } from '../../dfl/regs/dfh.js';
import { FmeFeatureId } from '../../dfl/names.js';
import { formatGuid } from '../../dfl/guid.js';
import { FME_CAP, FmeReg, PORT_CTRL, PortReg } from '../../dfl/regs/fiu.js';
import { fieldGet } from '../../util/bitfield.js';
import { decodeBitstreamVersion } from '../fme.js';
import { readPciDevice } from '../../pci/enumerate.js';
import { parseDeviceUrl } from '../../device/registry.js';
import { hex } from '../../util/bytes.js';
import { openBmc } from './bmc.js';
import { PR_INTFC_ID_H, PR_INTFC_ID_L } from '../../dfl/regs/pr.js';
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
    subsystemDevice: h4(id.subsystemDevice), classCode: `0x${id.classCode.toString(16).padStart(6, '0')}`, driver: device.transport === 'vfio' ? 'vfio-pci' : undefined, transport: device.transport,
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

function fmeProperties(device: Device, fme: Feature): FmeProperties {
  const r = device.region(fme.bar);
  const id = r.read64(fme.offset + FmeReg.BITSTREAM_ID);
  const md = r.read64(fme.offset + FmeReg.BITSTREAM_MD);
  const cap = r.read64(fme.offset + FmeReg.CAP);
  const pr = findPrivateFeature(fme, FmeFeatureId.PR);
  let prInterfaceId: string | undefined;
  if (pr) {
    const pr0 = device.region(pr.bar);
    const base = csrOffsetOf(pr) ?? pr.offset; // DFH v1: the CSR block (dfl.c)
    prInterfaceId = formatGuid(pr0.read64(base + PR_INTFC_ID_H), pr0.read64(base + PR_INTFC_ID_L));
  }
  return {
    bitstreamId: hex(id, 16),
    bitstreamVersion: decodeBitstreamVersion(id).text,
    bitstreamMetadata: hex(md, 16),
    ports: Number(fieldGet(FME_CAP.NUM_PORTS, cap)),
    prInterfaceId,
  };
}

function portProperties(device: Device, ports: Feature[]): PortProperties[] {
  return ports.map((port, index) => {
    const ctrl = device.region(port.bar).read64(port.offset + PortReg.CTRL);
    const afu = port.children.find((c) => c.type === 'afu');
    return { index, afuId: afu?.guid, state: (ctrl & PORT_CTRL.SFTRST) !== 0n ? 'reset' : 'enabled' };
  });
}

/** Read the properties in `mask` (0 = all) from an open device. */
export async function readCardProperties(device: Device, mask = 0): Promise<CardProperties> {
  const m = checkMask(mask);
  const out: CardProperties = {};
  if (m & PropertyMask.PCI) out.pci = pciPropertiesOf(device);
  if (!(m & (PropertyMask.FME | PropertyMask.PORT | PropertyMask.BMC))) return out;
  const walk = walkDfl(device);
  const fme = walk.features.find((f) => f.type === 'fiu' && f.id === FiuId.FME);
  if (m & PropertyMask.FME && fme) out.fme = fmeProperties(device, fme);
  if (m & PropertyMask.PORT) out.ports = portProperties(device, walk.features.filter((f) => f.type === 'fiu' && f.id === FiuId.PORT));
  if (m & PropertyMask.BMC && fme) {
    using bmc = await openBmc(device, { fme });
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
