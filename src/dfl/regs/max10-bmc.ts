// The MAX10 BMC of an N3000-class card as both sides see it, written once for the host driver
// (src/afu/bmc) and the device model (src/sim/bmc):
//   1. the Altera SPI master registers (spi-altera-core.c) and the window of FME private feature
//      0xE onto them (drivers/spi/spi-altera-dfl.c: D5005 / N5010 class cards). On the N3000 the
//      same SPI master sits behind feature 0xD instead (dfl-n3000-nios.c, src/dfl/regs/n3000-nios.ts);
//   2. the BMC's Avalon-MM address map: system registers, the secure-update doorbell and its
//      fields, the staging area (include/linux/mfd/intel-m10-bmc.h, drivers/fpga/
//      intel-m10-bmc-sec-update.c, DPDK opae_intel_max10.h; reference/secure-update.md).

import { genmask } from '../../util/bitfield.js';

// ---- 1. SPI master behind feature 0xE (offsets relative to the feature's register block) ----

/** +0x08 SPI_CORE_PARAMETER: [7:2] data width, [13:8] chip selects, [14] CPOL, [15] CPHA. */
export const SPI_CORE_PARAMETER = 0x08;
export const CORE_DATA_WIDTH_SHIFT = 2n;
export const CORE_DATA_WIDTH_MASK = 0x3fn;
export const CORE_NUM_CHIPSELECT_SHIFT = 8n;
export const CORE_NUM_CHIPSELECT_MASK = 0x3fn;
export const CORE_CPOL_SHIFT = 14n;
export const CORE_CPHA_SHIFT = 15n;
/** +0x10 INDIRECT_ADDR (SPI_CTRL): [9] read, [8] write, [2:0] SPI master register index (offset >> 2). */
export const SPI_INDIRECT_ADDR = 0x10;
export const INDIRECT_WR = 1n << 8n;
export const INDIRECT_RD = 1n << 9n;
export const INDIRECT_REG_MASK = 0x7n;
/** +0x18 INDIRECT_RD_DATA (SPI_READ): [31:0] data, [32] valid (the kernel calls it INDIRECT_DEBUG and ignores it). */
export const SPI_INDIRECT_RD_DATA = 0x18;
export const INDIRECT_DATA_MASK = 0xffffffffn;
export const INDIRECT_VALID = 1n << 32n;
/** +0x20 INDIRECT_WR_DATA (SPI_WRITE): [31:0] data. */
export const SPI_INDIRECT_WR_DATA = 0x20;

// Altera SPI master registers, byte offsets (spi-altera-core.c ALTERA_SPI_*); the indirect window
// takes offset >> 2.
export const ALTERA_SPI_RXDATA = 0x0;
export const ALTERA_SPI_TXDATA = 0x4;
export const ALTERA_SPI_STATUS = 0x8;
export const ALTERA_SPI_CONTROL = 0xc;
export const ALTERA_SPI_SLAVE_SEL = 0x14;
// STATUS bits (ALTERA_SPI_STATUS_*_MSK).
export const STATUS_ROE = 0x8;
export const STATUS_TOE = 0x10;
export const STATUS_TMT = 0x20;
export const STATUS_TRDY = 0x40;
export const STATUS_RRDY = 0x80;
export const STATUS_E = 0x100;
// CONTROL bits (ALTERA_SPI_CONTROL_*_MSK).
export const CONTROL_SSO = 0x400;

// ---- 2. MAX10 Avalon-MM address map ----

/** System register base (M10BMC_N3000_SYS_BASE); the SYS_* offsets below are relative to it. */
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
/**
 * Retimer (PKVL) poll control (intel-m10-bmc.h M10BMC_PKVL_POLL_CTRL, out-of-tree linux-dfl and
 * DPDK opae_intel_max10.h): [16]/[24] retimer A/B preload done, [17]/[25] preload timeout,
 * [18]/[26] data too big, [20]/[28] header checksum good. UPG_STATUS_GOOD = preload | checksum.
 */
export const SYS_PKVL_POLLING_CTRL = 0x80;
export const PKVL_A_PRELOAD = 1 << 16;
export const PKVL_A_PRELOAD_TO = 1 << 17;
export const PKVL_A_DATA_TOO_BIG = 1 << 18;
export const PKVL_A_HDR_CKSUM = 1 << 20;
export const PKVL_B_PRELOAD = 1 << 24;
export const PKVL_B_PRELOAD_TO = 1 << 25;
export const PKVL_B_DATA_TOO_BIG = 1 << 26;
export const PKVL_B_HDR_CKSUM = 1 << 28;
export const PKVL_PRELOAD = PKVL_A_PRELOAD | PKVL_B_PRELOAD;
export const PKVL_UPG_STATUS_MASK = (PKVL_PRELOAD | PKVL_A_PRELOAD_TO | PKVL_B_PRELOAD_TO | PKVL_A_DATA_TOO_BIG | PKVL_B_DATA_TOO_BIG | PKVL_A_HDR_CKSUM | PKVL_B_HDR_CKSUM) >>> 0;
export const PKVL_UPG_STATUS_GOOD = (PKVL_PRELOAD | PKVL_A_HDR_CKSUM | PKVL_B_HDR_CKSUM) >>> 0;
/** Retimer link status (bit per line) and versions (DPDK opae_intel_max10.h). */
export const SYS_PKVL_LINK_STATUS = 0x164;
export const SYS_PKVL_A_VERSION = 0x254;
export const SYS_PKVL_B_VERSION = 0x258;
/** Secure update doorbell and authentication result (M10BMC_N3000_DOORBELL / AUTH_RESULT). */
export const SYS_DOORBELL = 0x400;
export const SYS_AUTH_RESULT = 0x404;

export const DOORBELL = M10BMC_SYS_BASE + SYS_DOORBELL;
export const AUTH_RESULT = M10BMC_SYS_BASE + SYS_AUTH_RESULT;

/** M10BMC_N3000_LEGACY_BUILD_VER (absolute): reads 0xffffffff on a secure (non-legacy) BMC. */
export const LEGACY_BUILD_VER = 0x300468;
/** M10BMC_N3000_VER_LEGACY_INVALID. */
export const VER_LEGACY_INVALID = 0xffffffff;

/**
 * Telemetry (sensor) registers, system-register offsets (intel-m10-bmc.h M10BMC_N3000_TELEM_START..
 * _END; drivers/hwmon/intel-m10-bmc-hwmon.c n3000bmc_*_tbl): {input, max, crit, hyst} per
 * temperature in 0.5 C units, voltages in mV, currents in mA, power in mW.
 */
export const TELEM_START = 0x100;
export const N3000_TELEM_END = 0x250;
export const D5005_TELEM_END = 0x300;

/** Staging area in the BMC's flash window (M10BMC_STAGING_BASE / _SIZE). */
export const STAGING_BASE = 0x18000000;
export const STAGING_SIZE = 0x3800000;

// DOORBELL fields (intel-m10-bmc.h DRBL_*).
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

/** RSU progress, DOORBELL[7:4] (RSU_PROG_*). */
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

/** RSU status, DOORBELL[23:16] (RSU_STAT_*). */
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

/** Host status, DOORBELL[11:8] (HOST_STATUS_*). */
export const HostStatus = { IDLE: 0x0, WRITE_DONE: 0x1, ABORT_RSU: 0x2 } as const;

// ---- 3. Security data in the BMC's flash (N3000 csr map; the D5005 class uses the same one) ----
// intel-m10-bmc.h M10BMC_N3000_{BMC,SR,PR}_{PROG_ADDR,REH_ADDR,PROG_MAGIC}, _STAGING_FLASH_COUNT;
// intel-m10-bmc-sec-update.c show_root_entry_hash, show_canceled_csk, flash_count_show.

/** The word at a root entry hash's prog address: [15:0] the area's magic when programmed, [31:16] the hash size in bits. */
export const REH_MAGIC = genmask(15, 0);
export const REH_SHA_NUM_BYTES = genmask(31, 16);
export const REH_SHA256_SIZE = 32;
export const REH_SHA384_SIZE = 48;
/** The canceled code-signing-key vector: 128 bits at prog address + 0x34, a cleared bit = a canceled key ID. */
export const CSK_VEC_OFFSET = 0x34;
export const CSK_BIT_LEN = 128;

/** Root entry hash areas: {prog address, hash address, magic} per image class (sr = static region / FIM). */
export const REH_AREAS = [
  { name: 'sr', prog: 0x17ffd000, reh: 0x17ffd004, magic: 0x5253 },
  { name: 'bmc', prog: 0x17ffc000, reh: 0x17ffc004, magic: 0x5746 },
  { name: 'pr', prog: 0x17ffe000, reh: 0x17ffe004, magic: 0x5250 },
] as const;

/** The update counter (rsu_update_counter): 4096 bytes, an inverted bit vector, one bit cleared per update. */
export const FLASH_COUNT_ADDR = 0x17ffb000;
export const FLASH_COUNT_SIZE = 4096;
