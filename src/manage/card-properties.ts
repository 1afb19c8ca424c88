// FME, port and BMC properties of a probed card for getProperty(), in the shape and key names of
// the seed API (DPDK ifpga "opae" module: build_fme_property / build_port_property /
// build_bmc_property; get_phy_info). The registers are read by src/afu/bmc/properties.ts
// (FME_HDR_BITSTREAM_ID/MD, FME_CAP, PR_INTFC_ID_H:L, each port's AFU GUID, MAX10 versions);
// this file only maps them to the seed API's keys and types.
import type { Device } from '../device/device.js';
import { readCardProperties, getPhyInfo as readPhy, PropertyMask } from '../afu/bmc/properties.js';

/** The seed API's port type: 0 for a port reached through the PF (the only kind walked here). */
export const PORT_TYPE_PF = 0;

export interface FmeProperty {
  /** Page the FPGA booted from (0 factory, 1 user), from the BMC; null when not read. */
  boot_page: number | null;
  num_ports: number;
  bbs_id: bigint;
  bbs_metadata: bigint;
  /** The PR interface ID (PR_INTFC_ID_H:L) as a GUID string; null without a PR feature. */
  pr_id: string | null;
}

export interface PortProperty {
  afu_id: string | null;
  type: number;
  index: number;
}

export interface BmcProperty {
  bmc_version: string;
  firmware_version: string;
}

export interface PhyProperty {
  num_retimers: number;
  /** 0: not reported (the MAX10 registers give no line rate; the seed API takes it from the FIM's network setup). */
  link_speed: number;
  /** PKVL_LINK_STATUS: one bit per retimer line. */
  link_status: number;
  links_up: number;
}

/** FME / port / BMC properties selected by `mask` (PropertyMask bits; PCI is handled by the caller). */
export async function cardProperties(device: Device, mask: number): Promise<Record<string, unknown>> {
  // The FPGA boot page comes from the BMC: read it along with the FME when it is asked for.
  const want = (mask & (PropertyMask.FME | PropertyMask.PORT | PropertyMask.BMC)) | (mask & PropertyMask.FME ? PropertyMask.BMC : 0);
  let p;
  try {
    p = await readCardProperties(device, want);
  } catch (err) {
    if (mask & PropertyMask.BMC || !(want & PropertyMask.BMC)) throw err;
    p = await readCardProperties(device, want & ~PropertyMask.BMC); // a card without a reachable BMC still has an FME
  }
  const out: Record<string, unknown> = {};
  if (mask & PropertyMask.FME) {
    out.fme = p.fme
      ? {
          boot_page: p.bmc ? p.bmc.fpgaPageRaw : null,
          num_ports: p.fme.ports,
          bbs_id: BigInt(p.fme.bitstreamId),
          bbs_metadata: BigInt(p.fme.bitstreamMetadata),
          pr_id: p.fme.prInterfaceId ?? null,
        } satisfies FmeProperty
      : null;
  }
  if (mask & PropertyMask.PORT) {
    out.port = (p.ports ?? []).map((port): PortProperty => ({ afu_id: port.afuId ?? null, type: PORT_TYPE_PF, index: port.index }));
  }
  if (mask & PropertyMask.BMC) {
    out.bmc = p.bmc ? ({ bmc_version: p.bmc.bmcVersion.text, firmware_version: p.bmc.firmwareVersion.text } satisfies BmcProperty) : null;
  }
  return out;
}

/** Retimer information (the seed API's get_phy_info). */
export async function phyInfo(device: Device): Promise<PhyProperty> {
  const p = await readPhy(device);
  return { num_retimers: p.retimers, link_speed: 0, link_status: p.linkStatus, links_up: p.linksUp };
}
