// DFL discovery through the PCIe Vendor-Specific Extended Capability (reference/dfl.md "Finding
// the lists" 1; drivers/fpga/dfl-pci.c find_dfls_by_vsec). The VSEC lists up to 6 DFLs, one per
// BAR: +0x08 the count, +0x0C one u32 per DFL, [2:0] BAR index, [31:3] 8-byte aligned offset.
import { dflError, DflError } from './errors.js';
import { hex } from '../util/bytes.js';
import { fieldGet, genmask } from '../util/bitfield.js';

/** PCIe extended capabilities start right after the 256-byte legacy config space. */
export const PCI_CFG_SPACE_SIZE = 0x100;
/** Full PCIe config space size (PCI_CFG_SPACE_EXP_SIZE). */
export const PCI_CFG_SPACE_EXP_SIZE = 0x1000;
/** Extended capability ID of a Vendor-Specific Extended Capability (PCI_EXT_CAP_ID_VNDR). */
export const PCI_EXT_CAP_ID_VNDR = 0x000b;
/** Extended capability header [15:0] capability ID (pci_regs.h PCI_EXT_CAP_ID(header)). */
export const PCI_EXT_CAP_ID = genmask(15, 0);
/** [31:20] next capability; the low two bits of the offset are reserved (pci_regs.h PCI_EXT_CAP_NEXT(header) masks 0xffc). */
export const PCI_EXT_CAP_NEXT = genmask(31, 20);
/** Offset of the VSEC header (ID [15:0], rev [19:16], length [31:20]) in the capability (PCI_VNDR_HEADER). */
export const PCI_VNDR_HEADER = 0x4;
/** VSEC header [15:0] VSEC ID (pci_regs.h PCI_VNDR_HEADER_ID(x)). */
export const PCI_VNDR_HEADER_ID = genmask(15, 0);
export const PCI_VENDOR_ID_INTEL = 0x8086;
/** VSEC ID Intel reserved for the DFL locator (dfl-pci.c PCI_VSEC_ID_INTEL_DFLS). */
export const PCI_VSEC_ID_INTEL_DFLS = 0x43;
/** Number of DFLs register (dfl-pci.c PCI_VNDR_DFLS_CNT). */
export const PCI_VNDR_DFLS_CNT = 0x8;
/** First Offset/BIR register (dfl-pci.c PCI_VNDR_DFLS_RES). */
export const PCI_VNDR_DFLS_RES = 0xc;
/** Offset/BIR fields: [2:0] BAR, [31:3] 8-byte aligned offset, kept in place (dfl-pci.c PCI_VNDR_DFLS_RES_BAR_MASK / _OFF_MASK). */
export const PCI_VNDR_DFLS_RES_BAR_MASK = genmask(2, 0);
export const PCI_VNDR_DFLS_RES_OFF_MASK = genmask(31, 3);
/** At most one DFL per standard BAR (PCI_STD_NUM_BARS). */
export const PCI_STD_NUM_BARS = 6;
/** Loop guard of the extended capability walk: each capability takes at least 8 bytes (pci_find_next_ext_capability). */
export const EXT_CAP_TTL = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;

/** What the VSEC walk needs from a device. */
export interface ConfigSource {
  readonly identity: { vendor: number };
  configRead(offset: number, width: 1 | 2 | 4): number;
  regionInfo(index: number): { size: number };
  readonly regionCount: number;
}

export interface VsecDfl {
  bar: number;
  offset: number;
}

/**
 * Offset of the next extended capability with `capId` after `start` (0 = from the beginning), or 0.
 * Stops at a null header, a next pointer below 0x100, or after EXT_CAP_TTL capabilities (a loop).
 */
export function findExtendedCapability(dev: ConfigSource, capId: number, start = 0): number {
  let pos = start > 0 ? start : PCI_CFG_SPACE_SIZE;
  let header = dev.configRead(pos, 4);
  // No capabilities: ID, version and next pointer all zero (or an absent function reading ~0).
  if (header === 0 || header === 0xffff_ffff) return 0;
  for (let ttl = EXT_CAP_TTL; ttl > 0; ttl--) {
    if (fieldGet(PCI_EXT_CAP_ID, header) === capId && pos !== start) return pos;
    const next = fieldGet(PCI_EXT_CAP_NEXT, header) & ~0x3;
    if (next < PCI_CFG_SPACE_SIZE) return 0;
    pos = next;
    header = dev.configRead(pos, 4);
  }
  throw new DflError('EDFL_EXTCAP_LOOP', `config space: the PCIe extended capability list does not end after ${EXT_CAP_TTL} entries (a loop at ${hex(pos)}); the device's config space is corrupt`, { offset: pos });
}

/** Offset of the DFL VSEC (vendor 0x8086, VSEC ID 0x43), or 0 when the device has none. */
export function findDflVsec(dev: ConfigSource): number {
  if (dev.identity.vendor !== PCI_VENDOR_ID_INTEL) return 0;
  let pos = 0;
  while ((pos = findExtendedCapability(dev, PCI_EXT_CAP_ID_VNDR, pos)) !== 0) {
    const vndr = dev.configRead(pos + PCI_VNDR_HEADER, 4);
    if (fieldGet(PCI_VNDR_HEADER_ID, vndr) === PCI_VSEC_ID_INTEL_DFLS) return pos;
  }
  return 0;
}

/**
 * The DFLs the VSEC lists, validated like dfl-pci.c: count <= 6, BAR index < 6 and present,
 * offset inside the BAR, no BAR listed twice. Returns undefined when there is no DFL VSEC.
 */
export function readDflVsec(dev: ConfigSource): VsecDfl[] | undefined {
  const voff = findDflVsec(dev);
  if (voff === 0) return undefined;
  const count = dev.configRead(voff + PCI_VNDR_DFLS_CNT, 4);
  if (count > PCI_STD_NUM_BARS) {
    throw new DflError('EDFL_VSEC_COUNT', `DFL VSEC at config ${hex(voff)}: it lists ${count} DFLs, more than the ${PCI_STD_NUM_BARS} BARs a function has (at most one DFL per BAR); the card's VSEC is corrupt`, { vsec: voff, count, limit: PCI_STD_NUM_BARS });
  }
  const out: VsecDfl[] = [];
  let bars = 0;
  for (let i = 0; i < count; i++) {
    const res = dev.configRead(voff + PCI_VNDR_DFLS_RES + 4 * i, 4);
    const bar = fieldGet(PCI_VNDR_DFLS_RES_BAR_MASK, res);
    const offset = (res & PCI_VNDR_DFLS_RES_OFF_MASK) >>> 0;
    const barSize = bar < PCI_STD_NUM_BARS && bar < dev.regionCount ? dev.regionInfo(bar).size : 0;
    if (bar >= PCI_STD_NUM_BARS || barSize === 0) {
      throw dflError('EDFL_VSEC_BAR', bar, offset, `DFL VSEC entry ${i} (config ${hex(voff + PCI_VNDR_DFLS_RES + 4 * i)}) names BAR${bar}, which the device does not have; the card's VSEC is corrupt`, { entry: i });
    }
    if ((bars & (1 << bar)) !== 0) {
      throw dflError('EDFL_VSEC_DUP_BAR', bar, offset, `DFL VSEC entry ${i} names BAR${bar} again; at most one DFL per BAR is allowed (dfl-pci.c)`, { entry: i });
    }
    bars |= 1 << bar;
    if (offset >= barSize) {
      throw dflError('EDFL_VSEC_OFFSET', bar, offset, `DFL VSEC entry ${i}: offset ${hex(offset)} is outside BAR${bar} (size ${hex(barSize)}); the card's VSEC is corrupt`, { entry: i, size: barSize });
    }
    out.push({ bar, offset });
  }
  return out;
}
