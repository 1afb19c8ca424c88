// BMC versions, boot pages, MAC and retimer (PKVL) PHY information read over a BmcTransport
// (include/linux/mfd/intel-m10-bmc.h; DPDK drivers/raw/ifpga/base/opae_intel_max10.h and
// ifpga_opae_api.c get_bmc_property / opae_get_phy_info).
import type { BmcTransport } from './transport.js';
import {
  BOARD_BOOT, PKVL_UPG_STATUS_GOOD, PKVL_UPG_STATUS_MASK, SYS_PKVL_POLLING_CTRL, type BmcBoard,
  DOORBELL, DRBL_CONFIG_SEL, FPGA_PAGE, M10BMC_SYS_BASE, SYS_BUILD_VER, SYS_FPGA_PAGE_INFO, SYS_FW_VERSION, SYS_MAC_HIGH,
  SYS_MAC_LOW, SYS_PKVL_A_VERSION, SYS_PKVL_B_VERSION, SYS_PKVL_LINK_STATUS,
} from './registers.js';
import {
  LEGACY_BUILD_VER, MAC_BYTE1, MAC_BYTE2, MAC_BYTE3, MAC_BYTE4, MAC_BYTE5, MAC_BYTE6, MAC_COUNT, PKVL_VERSION_SBUS, PKVL_VERSION_SERDES,
  VER_LEGACY_INVALID, VER_MAJOR, VER_MINOR, VER_PATCH, VER_PCB_INFO,
} from '../../dfl/regs/max10-bmc.js';
import { fieldGet } from '../../util/bitfield.js';

export { LEGACY_BUILD_VER, VER_LEGACY_INVALID } from '../../dfl/regs/max10-bmc.js';
/** The N3000 has two retimers (PKVL A and B), four lines each. */
export const N3000_RETIMERS = 2;

export interface BmcVersion {
  raw: number;
  /** Board letter ([31:24] as a character, e.g. 'D'). */
  board: string;
  major: number;
  minor: number;
  patch: number;
  /** DPDK's form "%C.%u.%u.%u", e.g. "D.2.0.6". */
  text: string;
}

export interface BmcInfo {
  bmcVersion: BmcVersion;
  firmwareVersion: BmcVersion;
  /** True when the BMC runs the secure (non-legacy) firmware the update flow needs. */
  secure: boolean;
  /** Page the FPGA booted from: 'factory' (0) or 'user' (1). */
  fpgaBootPage: 'factory' | 'user';
  fpgaPageRaw: number;
  /** Page the BMC boots from (doorbell config select; which value is factory depends on the card, BOARD_BOOT). */
  bmcBootPage: 'factory' | 'user';
  mac: string;
  macCount: number;
}

export interface PhyInfo {
  retimers: number;
  /** Per-line link status bits (PKVL_LINK_STATUS). */
  linkStatus: number;
  linksUp: number;
  retimerVersions: { serdes: number; sbus: number }[];
  /** PKVL_POLL_CTRL raw, and whether both retimers report preload done with a good header checksum. */
  pkvlPollCtrl: number;
  pkvlPreloadGood: boolean;
}

export function decodeBmcVersion(raw: number): BmcVersion {
  const board = String.fromCharCode(fieldGet(VER_PCB_INFO, raw));
  const major = fieldGet(VER_MAJOR, raw);
  const minor = fieldGet(VER_MINOR, raw);
  const patch = fieldGet(VER_PATCH, raw);
  return { raw, board, major, minor, patch, text: `${board}.${major}.${minor}.${patch}` };
}

const sys = (t: BmcTransport, off: number): number => t.read32(M10BMC_SYS_BASE + off);

export function readBmcInfo(t: BmcTransport, board: BmcBoard = 'n3000'): BmcInfo {
  const configSel = (t.read32(DOORBELL) & DRBL_CONFIG_SEL) !== 0 ? 1 : 0;
  const low = sys(t, SYS_MAC_LOW);
  const high = sys(t, SYS_MAC_HIGH);
  const bytes = [fieldGet(MAC_BYTE1, low), fieldGet(MAC_BYTE2, low), fieldGet(MAC_BYTE3, low), fieldGet(MAC_BYTE4, low), fieldGet(MAC_BYTE5, high), fieldGet(MAC_BYTE6, high)];
  const page = fieldGet(FPGA_PAGE, sys(t, SYS_FPGA_PAGE_INFO));
  return {
    bmcVersion: decodeBmcVersion(sys(t, SYS_BUILD_VER)),
    firmwareVersion: decodeBmcVersion(sys(t, SYS_FW_VERSION)),
    secure: t.read32(LEGACY_BUILD_VER) === VER_LEGACY_INVALID,
    fpgaBootPage: page === 0 ? 'factory' : 'user',
    fpgaPageRaw: page,
    bmcBootPage: configSel === BOARD_BOOT[board].bmcFactoryConfigSel ? 'factory' : 'user',
    mac: bytes.map((b) => b.toString(16).padStart(2, '0')).join(':'),
    macCount: fieldGet(MAC_COUNT, high),
  };
}

export function readPhyInfo(t: BmcTransport): PhyInfo {
  const linkStatus = sys(t, SYS_PKVL_LINK_STATUS);
  let up = 0;
  for (let v = linkStatus; v; v &= v - 1) up++;
  const versions = [SYS_PKVL_A_VERSION, SYS_PKVL_B_VERSION].map((off) => {
    const v = sys(t, off);
    return { serdes: fieldGet(PKVL_VERSION_SERDES, v), sbus: fieldGet(PKVL_VERSION_SBUS, v) };
  });
  const poll = sys(t, SYS_PKVL_POLLING_CTRL);
  return { retimers: N3000_RETIMERS, linkStatus, linksUp: up, retimerVersions: versions, pkvlPollCtrl: poll, pkvlPreloadGood: (poll & PKVL_UPG_STATUS_MASK) === PKVL_UPG_STATUS_GOOD };
}
