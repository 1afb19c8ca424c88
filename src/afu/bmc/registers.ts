// MAX10 BMC register map and secure-update constants (N3000), from include/linux/mfd/
// intel-m10-bmc.h, drivers/fpga/intel-m10-bmc-sec-update.c, DPDK drivers/raw/ifpga/base/
// opae_intel_max10.h and reference/secure-update.md.

/** System register base (M10BMC_N3000_SYS_BASE); the offsets below are relative to it. */
export const M10BMC_SYS_BASE = 0x300800;
/** NIOS2 firmware version (NIOS2_N3000_FW_VERSION): [31:24] board, [23:16] major, [15:8] minor, [7:0] patch. */
export const SYS_FW_VERSION = 0x00;
/** MAC address low/high (M10BMC_N3000_MAC_LOW/HIGH). */
export const SYS_MAC_LOW = 0x10;
export const SYS_MAC_HIGH = 0x14;
/** FPGA reconfiguration (DPDK FPGA_RECONF_REG): [23] request, [22:20] page, [18] countdown start. */
export const SYS_FPGA_RECONF = 0x30;
export const FPGA_RECONF_REQUEST = 1 << 23;
export const FPGA_RECONF_PAGE_SHIFT = 20;
export const FPGA_RECONF_PAGE_MASK = 0x7 << FPGA_RECONF_PAGE_SHIFT;
export const FPGA_RECONF_COUNTDOWN_START = 1 << 18;
/** Scratch/test register (M10BMC_N3000_TEST_REG). */
export const SYS_TEST = 0x3c;
/** BMC build version (M10BMC_N3000_BUILD_VER): [31:24] PCB info, [23:16] major, [15:8] minor, [7:0] patch. */
export const SYS_BUILD_VER = 0x68;
/** FPGA boot page info (DPDK FPGA_PAGE_INFO): [2:0] page the FPGA booted from (0 factory, 1 user). */
export const SYS_FPGA_PAGE_INFO = 0x6c;
export const FPGA_PAGE_MASK = 0x7;
/** Retimer (PKVL) registers (DPDK opae_intel_max10.h): link status bit per line, versions. */
export const SYS_PKVL_POLLING_CTRL = 0x80;
export const SYS_PKVL_LINK_STATUS = 0x164;
export const SYS_PKVL_A_VERSION = 0x254;
export const SYS_PKVL_B_VERSION = 0x258;
/** Secure update doorbell and authentication result (M10BMC_N3000_DOORBELL / AUTH_RESULT). */
export const SYS_DOORBELL = 0x400;
export const SYS_AUTH_RESULT = 0x404;

export const DOORBELL = M10BMC_SYS_BASE + SYS_DOORBELL;
export const AUTH_RESULT = M10BMC_SYS_BASE + SYS_AUTH_RESULT;

/** Staging area in the BMC's flash window (M10BMC_STAGING_BASE / _SIZE). */
export const STAGING_BASE = 0x18000000;
export const STAGING_SIZE = 0x3800000;

// DOORBELL fields (DRBL_*).
export const DRBL_RSU_REQUEST = 1 << 0;
export const DRBL_RSU_PROGRESS_SHIFT = 4;
export const DRBL_RSU_PROGRESS = 0xf << 4;
export const DRBL_HOST_STATUS_SHIFT = 8;
export const DRBL_HOST_STATUS = 0xf << 8;
export const DRBL_RSU_STATUS_SHIFT = 16;
export const DRBL_RSU_STATUS = 0xff << 16;
export const DRBL_PKVL_EEPROM_LOAD_SEC = 1 << 24;
export const DRBL_PKVL1_POLL_EN = 1 << 25;
export const DRBL_PKVL2_POLL_EN = 1 << 26;
export const DRBL_CONFIG_SEL = 1 << 28;
export const DRBL_REBOOT_REQ = 1 << 29;
export const DRBL_REBOOT_DISABLED = 1 << 30;

export const rsuProgress = (doorbell: number): number => (doorbell & DRBL_RSU_PROGRESS) >>> DRBL_RSU_PROGRESS_SHIFT;
export const hostStatus = (doorbell: number): number => (doorbell & DRBL_HOST_STATUS) >>> DRBL_HOST_STATUS_SHIFT;
export const rsuStatus = (doorbell: number): number => (doorbell & DRBL_RSU_STATUS) >>> DRBL_RSU_STATUS_SHIFT;

/** RSU progress (RSU_PROG_*). */
export const RsuProgress = {
  IDLE: 0x0,
  PREPARE: 0x1,
  READY: 0x3,
  AUTHENTICATING: 0x4,
  COPYING: 0x5,
  UPDATE_CANCEL: 0x6,
  PROGRAM_KEY_HASH: 0x7,
  RSU_DONE: 0x8,
  PKVL_PROM_DONE: 0x9,
} as const;

/** RSU status (RSU_STAT_*). */
export const RsuStatus = {
  NORMAL: 0x0,
  TIMEOUT: 0x1,
  AUTH_FAIL: 0x2,
  COPY_FAIL: 0x3,
  FATAL: 0x4,
  PKVL_REJECT: 0x5,
  NON_INC: 0x6,
  ERASE_FAIL: 0x7,
  WEAROUT: 0x8,
  NIOS_OK: 0x80,
  USER_OK: 0x81,
  FACTORY_OK: 0x82,
  USER_FAIL: 0x83,
  FACTORY_FAIL: 0x84,
  NIOS_FLASH_ERR: 0x85,
  FPGA_FLASH_ERR: 0x86,
} as const;

/** HOST_STATUS_* */
export const HostStatus = { IDLE: 0x0, WRITE_DONE: 0x1, ABORT_RSU: 0x2 } as const;

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
