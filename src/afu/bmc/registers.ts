// MAX10 BMC register map and secure-update constants (N3000), host side: the address map and the
// doorbell fields live in src/dfl/regs/max10-bmc.ts (shared with the sim's BMC model) and are
// re-exported here; this file adds the names for logs and errors, the state predicates and the
// kernel's timings (include/linux/mfd/intel-m10-bmc.h, drivers/fpga/intel-m10-bmc-sec-update.c,
// DPDK drivers/raw/ifpga/base/opae_intel_max10.h, reference/secure-update.md).
import {
  DRBL_CONFIG_SEL, DRBL_REBOOT_DISABLED, DRBL_REBOOT_REQ, DRBL_RSU_REQUEST, RsuProgress, RsuStatus, hostStatus, rsuProgress, rsuStatus,
} from '../../dfl/regs/max10-bmc.js';

export {
  M10BMC_SYS_BASE, SYS_FW_VERSION, SYS_MAC_LOW, SYS_MAC_HIGH, SYS_FPGA_RECONF, FPGA_RECONF_REQUEST, FPGA_RECONF_PAGE_SHIFT,
  FPGA_RECONF_PAGE_MASK, FPGA_RECONF_COUNTDOWN_START, SYS_TEST, SYS_BUILD_VER, SYS_FPGA_PAGE_INFO, FPGA_PAGE_MASK,
  SYS_PKVL_POLLING_CTRL, SYS_PKVL_LINK_STATUS, SYS_PKVL_A_VERSION, SYS_PKVL_B_VERSION, SYS_DOORBELL, SYS_AUTH_RESULT,
  DOORBELL, AUTH_RESULT, STAGING_BASE, STAGING_SIZE,
  DRBL_RSU_REQUEST, DRBL_RSU_PROGRESS_SHIFT, DRBL_RSU_PROGRESS, DRBL_HOST_STATUS_SHIFT, DRBL_HOST_STATUS, DRBL_RSU_STATUS_SHIFT,
  DRBL_RSU_STATUS, DRBL_PKVL_EEPROM_LOAD_SEC, DRBL_PKVL1_POLL_EN, DRBL_PKVL2_POLL_EN, DRBL_CONFIG_SEL, DRBL_REBOOT_REQ,
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
