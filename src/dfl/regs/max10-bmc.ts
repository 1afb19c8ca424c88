// The MAX10 BMC of an N3000-class card as both sides see it, written once for the host driver
// (src/afu/bmc) and the device model (src/sim/bmc):
//   1. the Altera SPI master registers (spi-altera-core.c) and the window of FME private feature
//      0xE onto them (drivers/spi/spi-altera-dfl.c: D5005 / N5010 class cards). On the N3000 the
//      same SPI master sits behind feature 0xD instead (dfl-n3000-nios.c, src/dfl/regs/n3000-nios.ts);
//   2. the BMC's Avalon-MM address map: system registers, the secure-update doorbell and its
//      fields, the staging area (include/linux/mfd/intel-m10-bmc.h, drivers/fpga/
//      intel-m10-bmc-sec-update.c, DPDK opae_intel_max10.h; reference/secure-update.md).
// Fields are named masks (src/util/bitfield.ts) read with fieldGet and written with fieldPrep.
import { bit, bit64, fieldGet, genmask, genmask64 } from '../../util/bitfield.js';

// ---- 1. SPI master behind feature 0xE (offsets relative to the feature's register block) ----

/** +0x08 SPI_CORE_PARAMETER (spi-altera-dfl.c; the same layout as dfl-n3000-nios.c N3000_NS_PARAM). */
export const SPI_CORE_PARAMETER = 0x08;
/** [1] shift mode, 0 MSB first (spi-altera-dfl.c SHIFT_MODE). */
export const CORE_SHIFT_MODE = bit64(1);
/** [7:2] data width in bits (spi-altera-dfl.c DATA_WIDTH). */
export const CORE_DATA_WIDTH = genmask64(7, 2);
/** [13:8] number of chip selects (spi-altera-dfl.c NUM_CHIPSELECT). */
export const CORE_NUM_CHIPSELECT = genmask64(13, 8);
/** [14] clock polarity, CPOL (spi-altera-dfl.c CLK_POLARITY). */
export const CORE_CLK_POLARITY = bit64(14);
/** [15] clock phase, CPHA (spi-altera-dfl.c CLK_PHASE). */
export const CORE_CLK_PHASE = bit64(15);
/** [31:22] SPI clock (spi-altera-dfl.c SPI_CLK). */
export const CORE_SPI_CLK = genmask64(31, 22);
/** [47:32] peripheral ID (spi-altera-dfl.c PERIPHERAL_ID). */
export const CORE_PERIPHERAL_ID = genmask64(47, 32);
/** +0x10 INDIRECT_ADDR (spi-altera-dfl.c INDIRECT_ADDR): [9] read, [8] write, [2:0] SPI master register index (offset >> 2). */
export const SPI_INDIRECT_ADDR = 0x10;
/** [8] start an indirect write (spi-altera-dfl.c INDIRECT_WR). */
export const INDIRECT_WR = bit64(8);
/** [9] start an indirect read (spi-altera-dfl.c INDIRECT_RD). */
export const INDIRECT_RD = bit64(9);
/** [2:0] SPI master register index: indirect_bus_reg_read/write write `reg >> 2` here (unnamed in the kernel). */
export const INDIRECT_REG = genmask64(2, 0);
/** +0x18 INDIRECT_RD_DATA (spi-altera-dfl.c INDIRECT_RD_DATA). */
export const SPI_INDIRECT_RD_DATA = 0x18;
/** [31:0] data (spi-altera-dfl.c INDIRECT_DATA_MASK). */
export const INDIRECT_DATA_MASK = genmask64(31, 0);
/** [32] data valid (spi-altera-dfl.c INDIRECT_DEBUG; the kernel ignores it). */
export const INDIRECT_VALID = bit64(32);
/** +0x20 INDIRECT_WR_DATA (SPI_WRITE): [31:0] data. */
export const SPI_INDIRECT_WR_DATA = 0x20;

// Altera SPI master registers, byte offsets (spi-altera-core.c ALTERA_SPI_*); the indirect window
// takes offset >> 2.
export const ALTERA_SPI_RXDATA = 0x0;
export const ALTERA_SPI_TXDATA = 0x4;
export const ALTERA_SPI_STATUS = 0x8;
export const ALTERA_SPI_CONTROL = 0xc;
export const ALTERA_SPI_SLAVE_SEL = 0x14;
/** STATUS[3] receive overrun (spi-altera-core.c ALTERA_SPI_STATUS_ROE_MSK). */
export const STATUS_ROE = bit(3);
/** STATUS[4] transmit overrun (ALTERA_SPI_STATUS_TOE_MSK). */
export const STATUS_TOE = bit(4);
/** STATUS[5] transmitter shift register empty (ALTERA_SPI_STATUS_TMT_MSK). */
export const STATUS_TMT = bit(5);
/** STATUS[6] transmitter ready (ALTERA_SPI_STATUS_TRDY_MSK). */
export const STATUS_TRDY = bit(6);
/** STATUS[7] receiver ready (ALTERA_SPI_STATUS_RRDY_MSK). */
export const STATUS_RRDY = bit(7);
/** STATUS[8] error (ALTERA_SPI_STATUS_E_MSK). */
export const STATUS_E = bit(8);
/** CONTROL[10] force slave select (spi-altera-core.c ALTERA_SPI_CONTROL_SSO_MSK). */
export const CONTROL_SSO = bit(10);

// ---- 2. MAX10 Avalon-MM address map ----

/** System register base (M10BMC_N3000_SYS_BASE); the SYS_* offsets below are relative to it. */
export const M10BMC_SYS_BASE = 0x300800;
/** NIOS2 firmware version (NIOS2_N3000_FW_VERSION): the VER_* fields below. */
export const SYS_FW_VERSION = 0x00;
/** MAC address low/high (M10BMC_N3000_MAC_LOW/HIGH). */
export const SYS_MAC_LOW = 0x10;
export const SYS_MAC_HIGH = 0x14;
/** MAC_LOW[31:24] first byte .. [7:0] fourth byte (intel-m10-bmc.h M10BMC_N3000_MAC_BYTE1..4; DPDK MAX10_MAC_BYTE1..4). */
export const MAC_BYTE1 = genmask(31, 24);
export const MAC_BYTE2 = genmask(23, 16);
export const MAC_BYTE3 = genmask(15, 8);
export const MAC_BYTE4 = genmask(7, 0);
/** MAC_HIGH[15:8] fifth byte, [7:0] sixth byte (M10BMC_N3000_MAC_BYTE5/6). */
export const MAC_BYTE5 = genmask(15, 8);
export const MAC_BYTE6 = genmask(7, 0);
/** MAC_HIGH[23:16] number of MAC addresses (M10BMC_N3000_MAC_COUNT). */
export const MAC_COUNT = genmask(23, 16);
/** FPGA reconfiguration (DPDK FPGA_RECONF_REG): [23] request, [22:20] page, [18] countdown start. */
export const SYS_FPGA_RECONF = 0x30;
/** [23] reload request (DPDK opae_intel_max10.h SFPGA_RP_LOAD). */
export const FPGA_RECONF_REQUEST = bit(23);
/** [22:20] page to reload from (DPDK SFPGA_RECONF_PAGE). */
export const FPGA_RECONF_PAGE = genmask(22, 20);
/** [18] countdown start: the reload begins on its rising edge (DPDK COUNTDOWN_START). */
export const FPGA_RECONF_COUNTDOWN_START = bit(18);
/** Scratch/test register (M10BMC_N3000_TEST_REG). */
export const SYS_TEST = 0x3c;
/** BMC build version (M10BMC_N3000_BUILD_VER): the VER_* fields below. */
export const SYS_BUILD_VER = 0x68;
/** BUILD_VER / FW_VERSION [31:24] PCB info, the board letter (intel-m10-bmc.h M10BMC_N3000_VER_PCB_INFO_MSK). */
export const VER_PCB_INFO = genmask(31, 24);
/** [23:16] major version (M10BMC_N3000_VER_MAJOR_MSK; DPDK MAX10_VERSION_MAJOR). */
export const VER_MAJOR = genmask(23, 16);
/** [15:8] minor version, [7:0] patch (unnamed in the kernel and DPDK; DPDK prints them as "%C.%u.%u.%u"). */
export const VER_MINOR = genmask(15, 8);
export const VER_PATCH = genmask(7, 0);
/** FPGA boot page info (DPDK FPGA_PAGE_INFO). */
export const SYS_FPGA_PAGE_INFO = 0x6c;
/** [2:0] page the FPGA booted from, 0 factory, 1 user (the same field is DPDK PMCI_FPGA_BOOT_PAGE GENMASK(2, 0) on PMCI cards). */
export const FPGA_PAGE = genmask(2, 0);
/**
 * Retimer (PKVL) poll control (intel-m10-bmc.h M10BMC_PKVL_POLL_CTRL, out-of-tree linux-dfl and
 * DPDK opae_intel_max10.h): [16]/[24] retimer A/B preload done, [17]/[25] preload timeout,
 * [18]/[26] data too big, [20]/[28] header checksum good. UPG_STATUS_GOOD = preload | checksum.
 */
export const SYS_PKVL_POLLING_CTRL = 0x80;
export const PKVL_A_PRELOAD = bit(16);
export const PKVL_A_PRELOAD_TO = bit(17);
export const PKVL_A_DATA_TOO_BIG = bit(18);
export const PKVL_A_HDR_CKSUM = bit(20);
export const PKVL_B_PRELOAD = bit(24);
export const PKVL_B_PRELOAD_TO = bit(25);
export const PKVL_B_DATA_TOO_BIG = bit(26);
export const PKVL_B_HDR_CKSUM = bit(28);
export const PKVL_PRELOAD = PKVL_A_PRELOAD | PKVL_B_PRELOAD;
export const PKVL_UPG_STATUS_MASK = (PKVL_PRELOAD | PKVL_A_PRELOAD_TO | PKVL_B_PRELOAD_TO | PKVL_A_DATA_TOO_BIG | PKVL_B_DATA_TOO_BIG | PKVL_A_HDR_CKSUM | PKVL_B_HDR_CKSUM) >>> 0;
export const PKVL_UPG_STATUS_GOOD = (PKVL_PRELOAD | PKVL_A_HDR_CKSUM | PKVL_B_HDR_CKSUM) >>> 0;
/** Retimer link status (bit per line) and versions (DPDK opae_intel_max10.h). */
export const SYS_PKVL_LINK_STATUS = 0x164;
export const SYS_PKVL_A_VERSION = 0x254;
export const SYS_PKVL_B_VERSION = 0x258;
/** PKVL_A/B_VERSION [15:0] SerDes firmware, [31:16] SBus master firmware (DPDK SERDES_VERSION / SBUS_VERSION). */
export const PKVL_VERSION_SERDES = genmask(15, 0);
export const PKVL_VERSION_SBUS = genmask(31, 16);
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

/**
 * Root entry hash program word at M10BMC_N3000_*_PROG_ADDR: [15:0] magic, [31:16] hash size in
 * bits (intel-m10-bmc-sec-update.c REH_MAGIC / REH_SHA_NUM_BYTES, read with FIELD_GET and / 8).
 */
export const REH_MAGIC = genmask(15, 0);
export const REH_SHA_NUM_BYTES = genmask(31, 16);

/** Staging area in the BMC's flash window (M10BMC_STAGING_BASE / _SIZE). */
export const STAGING_BASE = 0x18000000;
export const STAGING_SIZE = 0x3800000;

// DOORBELL fields (intel-m10-bmc.h DRBL_*).
/** [0] RSU request (DRBL_RSU_REQUEST). */
export const DRBL_RSU_REQUEST = bit(0);
/** [7:4] RSU progress, RsuProgress (DRBL_RSU_PROGRESS). */
export const DRBL_RSU_PROGRESS = genmask(7, 4);
/** [11:8] host status, HostStatus (DRBL_HOST_STATUS). */
export const DRBL_HOST_STATUS = genmask(11, 8);
/** [23:16] RSU status, RsuStatus (DRBL_RSU_STATUS). */
export const DRBL_RSU_STATUS = genmask(23, 16);
/** [24] (DRBL_PKVL_EEPROM_LOAD_SEC). */
export const DRBL_PKVL_EEPROM_LOAD_SEC = bit(24);
/** [25] (DRBL_PKVL1_POLL_EN). */
export const DRBL_PKVL1_POLL_EN = bit(25);
/** [26] (DRBL_PKVL2_POLL_EN). */
export const DRBL_PKVL2_POLL_EN = bit(26);
/** [28] config select: the page the BMC boots from (DRBL_CONFIG_SEL). */
export const DRBL_CONFIG_SEL = bit(28);
/** [29] reboot request (DRBL_REBOOT_REQ). */
export const DRBL_REBOOT_REQ = bit(29);
/** [30] reboot disabled (DRBL_REBOOT_DISABLED). */
export const DRBL_REBOOT_DISABLED = bit(30);

/** intel-m10-bmc.h rsu_prog(doorbell): FIELD_GET(DRBL_RSU_PROGRESS, doorbell). */
export const rsuProgress = (doorbell: number): number => fieldGet(DRBL_RSU_PROGRESS, doorbell);
export const hostStatus = (doorbell: number): number => fieldGet(DRBL_HOST_STATUS, doorbell);
/** FIELD_GET(DRBL_RSU_STATUS, doorbell) (intel-m10-bmc-sec-update.c m10bmc_sec_status reads it so). */
export const rsuStatus = (doorbell: number): number => fieldGet(DRBL_RSU_STATUS, doorbell);

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
