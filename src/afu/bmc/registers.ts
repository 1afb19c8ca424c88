// MAX10 BMC register map and secure-update constants (N3000), host side: the address map and the
// doorbell fields live in src/dfl/regs/max10-bmc.ts (shared with the sim's BMC model) and are
// re-exported here; this file adds the names for logs and errors, the state predicates and the
// kernel's timings (include/linux/mfd/intel-m10-bmc.h, drivers/fpga/intel-m10-bmc-sec-update.c,
// DPDK drivers/raw/ifpga/base/opae_intel_max10.h, reference/secure-update.md).
import { DeviceError } from '../../errors.js';
import { hex } from '../../util/bytes.js';
import {
  LEGACY_BUILD_VER, VER_LEGACY_INVALID, DRBL_CONFIG_SEL, DRBL_REBOOT_DISABLED, DRBL_REBOOT_REQ, DRBL_RSU_REQUEST, RsuProgress, RsuStatus, hostStatus, rsuProgress, rsuStatus,
} from '../../dfl/regs/max10-bmc.js';

export {
  M10BMC_SYS_BASE, SYS_FW_VERSION, SYS_MAC_LOW, SYS_MAC_HIGH, SYS_FPGA_RECONF, FPGA_RECONF_REQUEST,
  FPGA_RECONF_PAGE, FPGA_RECONF_COUNTDOWN_START, SYS_TEST, SYS_BUILD_VER, SYS_FPGA_PAGE_INFO, FPGA_PAGE,
  SYS_PKVL_POLLING_CTRL, PKVL_PRELOAD, PKVL_UPG_STATUS_MASK, PKVL_UPG_STATUS_GOOD, SYS_PKVL_LINK_STATUS, SYS_PKVL_A_VERSION, SYS_PKVL_B_VERSION, SYS_DOORBELL, SYS_AUTH_RESULT,
  DOORBELL, AUTH_RESULT, STAGING_BASE, STAGING_SIZE, LEGACY_BUILD_VER, VER_LEGACY_INVALID,
  DRBL_RSU_REQUEST, DRBL_RSU_PROGRESS, DRBL_HOST_STATUS, DRBL_RSU_STATUS, DRBL_PKVL_EEPROM_LOAD_SEC, DRBL_PKVL1_POLL_EN, DRBL_PKVL2_POLL_EN, DRBL_CONFIG_SEL, DRBL_REBOOT_REQ,
  DRBL_REBOOT_DISABLED, rsuProgress, hostStatus, rsuStatus, RsuProgress, RsuStatus, HostStatus,
} from '../../dfl/regs/max10-bmc.js';

const progressNames: Record<number, string> = {
  0x0: 'idle', 0x1: 'preparing (erasing staging)', 0x3: 'ready (host writes staging)', 0x4: 'authenticating', 0x5: 'copying',
  0x6: 'update cancel', 0x7: 'programming key hash', 0x8: 'RSU done', 0x9: 'PKVL PROM done',
};
const statusNames: Record<number, string> = {
  0x0: 'normal', 0x1: 'timeout', 0x2: 'authentication failed', 0x3: 'copy failed', 0x4: 'fatal', 0x5: 'PKVL reject',
  0x6: 'non-incremental', 0x7: 'erase failed', 0x8: 'flash wear-out', 0x80: 'NIOS OK', 0x81: 'user OK', 0x82: 'factory OK',
  0x83: 'user fail', 0x84: 'factory fail', 0x85: 'NIOS flash error', 0x86: 'FPGA flash error',
};
const hostNames: Record<number, string> = { 0: 'idle', 1: 'write done', 2: 'abort' };

export const progressName = (p: number): string => progressNames[p] ?? `unknown (${p})`;
export const statusName = (s: number): string => statusNames[s] ?? `unknown (0x${s.toString(16)})`;
export const hostStatusName = (h: number): string => hostNames[h] ?? `unknown (${h})`;

/** The doorbell decoded by name (for errors and --json). */
export function decodeDoorbell(doorbell: number): Record<string, unknown> {
  return {
    doorbell: `0x${(doorbell >>> 0).toString(16).padStart(8, '0')}`,
    rsuRequest: (doorbell & DRBL_RSU_REQUEST) !== 0,
    progress: progressName(rsuProgress(doorbell)),
    hostStatus: hostStatusName(hostStatus(doorbell)),
    rsuStatus: statusName(rsuStatus(doorbell)),
    configSelect: (doorbell & DRBL_CONFIG_SEL) !== 0 ? 1 : 0,
    rebootRequest: (doorbell & DRBL_REBOOT_REQ) !== 0,
    rebootDisabled: (doorbell & DRBL_REBOOT_DISABLED) !== 0,
  };
}

export function rsuStatusOk(status: number): boolean {
  return status === RsuStatus.NORMAL || status === RsuStatus.NIOS_OK || status === RsuStatus.USER_OK || status === RsuStatus.FACTORY_OK;
}

export function rsuProgressDone(progress: number): boolean {
  return progress === RsuProgress.IDLE || progress === RsuProgress.RSU_DONE;
}

export function rsuProgressBusy(progress: number): boolean {
  return progress === RsuProgress.AUTHENTICATING || progress === RsuProgress.COPYING || progress === RsuProgress.UPDATE_CANCEL || progress === RsuProgress.PROGRAM_KEY_HASH;
}

// Kernel timings (intel-m10-bmc.h).
export const NIOS_HANDSHAKE_INTERVAL_MS = 100;
export const NIOS_HANDSHAKE_TIMEOUT_MS = 5_000;
export const RSU_PREP_INTERVAL_MS = 100;
export const RSU_PREP_TIMEOUT_MS = 2 * 60 * 1000;
export const RSU_COMPLETE_INTERVAL_MS = 1000;
export const RSU_COMPLETE_TIMEOUT_MS = 40 * 60 * 1000;
/** intel-m10-bmc-sec-update.c WRITE_BLOCK_SIZE: the staging area is written 16 KiB at a time. */
export const WRITE_BLOCK_SIZE = 0x4000;

/** Card classes whose BMC this library drives: N3000 (feature 0xD), D5005 class (feature 0xE). */
export type BmcBoard = 'n3000' | 'd5005';

/**
 * Boot-page semantics per card class. DOORBELL config select [28] for the BMC factory page: 1 on
 * the N3000 (DPDK ifpga_sec_mgr.c n3000_reload: psel = factory ? 1 : 0; linux-dfl
 * intel-m10-bmc-sec-update.c n3000_image_load_hndlrs "bmc_factory" = image_load_1), 0 on the D5005
 * (d5005_image_load_hndlrs "bmc_factory" = image_load_0). FPGA reload through FPGA_RECONF exists
 * for the N3000 only (n3000_reload_fpga; the D5005 handlers offer BMC pages only).
 */
export const BOARD_BOOT: Record<BmcBoard, { bmcFactoryConfigSel: 0 | 1; fpgaReload: boolean; name: string }> = {
  n3000: { bmcFactoryConfigSel: 1, fpgaReload: true, name: 'PAC N3000' },
  d5005: { bmcFactoryConfigSel: 0, fpgaReload: false, name: 'PAC D5005 class' },
};

/**
 * intel-m10-bmc-spi.c check_m10bmc_version: a BMC whose LEGACY_BUILD_VER (0x300468) is not
 * 0xffffffff runs the old non-secure firmware; the kernel refuses to probe it ("bad version M10BMC
 * detected"), so no secure update or image load exists for it. Refuse `what` the same way.
 */
export function assertSecureBmc(t: { read32(address: number): number }, what: string): void {
  const v = t.read32(LEGACY_BUILD_VER);
  if (v !== VER_LEGACY_INVALID) {
    throw new DeviceError('EBMC_LEGACY', `${what} refused: the BMC runs legacy (non-secure) firmware: LEGACY_BUILD_VER (0x300468) reads ${hex(v, 8)}, not 0xffffffff, so the kernel's intel-m10-bmc-spi refuses it ("bad version M10BMC detected"). Update the BMC to secure firmware with Intel's tools for legacy cards first`, { legacyBuildVersion: hex(v, 8) });
  }
}
