// FME private feature 0xD, "N3000 Nios" (drivers/fpga/dfl-n3000-nios.c): the path to the MAX10 BMC
// on a PAC N3000, written once for the host driver (src/afu/bmc/nios-regbus.ts) and the device
// model (src/sim/bmc/nios-spi-model.ts). Offsets are relative to the feature's register block (the
// DFH in v0, the CSR block in v1). Fields are named masks as in the kernel file.
//   +0x08 N3000_NS_PARAM  the Altera SPI master's parameters (same layout as spi-altera-dfl.c)
//   +0x10 N3000_NS_CTRL   [63:62] command (0 nop, 1 read, 2 write), [44:32] indirect address,
//                         [31:0] write data
//   +0x18 N3000_NS_STAT   [32] RW_VAL (the command completed), [31:0] read data
// Indirect addresses: the Altera SPI master (spi-altera-core.c ALTERA_SPI_*, regoff 0 as
// spi-altera-platform.c registers it) at 0x0-0x14, the Nios handshake registers from 0x1000.
import { FmeFeatureId } from '../names.js';

/** FME_FEATURE_ID_N3000_NIOS (dfl-n3000-nios.c). */
export const FME_FEATURE_ID_N3000_NIOS = FmeFeatureId.NIOS_SPI;

/** N3000_NS_PARAM: [1] shift mode, [7:2] data width, [13:8] chip selects, [14] CPOL, [15] CPHA, [47:32] peripheral ID. */
export const NS_PARAM = 0x08;
/** N3000_NS_CTRL. */
export const NS_CTRL = 0x10;
export const NS_CTRL_WR_DATA = 0xffff_ffffn;
export const NS_CTRL_ADDR_SHIFT = 32n;
export const NS_CTRL_ADDR_MASK = 0x1fffn; // GENMASK_ULL(44, 32)
export const NS_CTRL_CMD_SHIFT = 62n;
export const NS_CTRL_CMD_MASK = 0x3n; // GENMASK_ULL(63, 62)
export const NS_CTRL_CMD_NOP = 0n;
export const NS_CTRL_CMD_RD = 1n;
export const NS_CTRL_CMD_WR = 2n;
/** N3000_NS_STAT. */
export const NS_STAT = 0x18;
export const NS_STAT_RD_DATA = 0xffff_ffffn;
export const NS_STAT_RW_VAL = 1n << 32n;

/** The CTRL word of one indirect command (n3000_nios_reg_read / n3000_nios_reg_write). */
export function nsCtrl(cmd: bigint, address: number, data = 0): bigint {
  return ((cmd & NS_CTRL_CMD_MASK) << NS_CTRL_CMD_SHIFT) | ((BigInt(address) & NS_CTRL_ADDR_MASK) << NS_CTRL_ADDR_SHIFT) | (BigInt(data >>> 0) & NS_CTRL_WR_DATA);
}

/** N3000_NIOS_REGBUS_RETRY_COUNT: polls of NS_STAT per command before -ETIMEDOUT. */
export const NIOS_REGBUS_RETRY_COUNT = 10000;

// ---- Nios handshake registers (indirect addresses) ----

/** N3000_NIOS_INIT: [0] DONE, [1] START, [23:8] requested FEC mode, 2 bits per retimer link (A0..A3, B0..B3). */
export const NIOS_INIT = 0x1000;
export const NIOS_INIT_DONE = 1 << 0;
export const NIOS_INIT_START = 1 << 1;
export const NIOS_INIT_REQ_FEC_MODE_SHIFT = 8;
export const NIOS_INIT_REQ_FEC_MODE_MSK_ALL = 0xffff << NIOS_INIT_REQ_FEC_MODE_SHIFT; // GENMASK(23, 8)
export const FecMode = { NO: 0x0, KR: 0x1, RS: 0x2 } as const;
/** The same 2-bit FEC mode in all eight link fields (N3000_NIOS_INIT_REQ_FEC_MODE_*_ALL). */
export function fecModeAll(mode: number): number {
  let v = 0;
  for (let link = 0; link < 8; link++) v |= (mode & 0x3) << (NIOS_INIT_REQ_FEC_MODE_SHIFT + 2 * link);
  return v >>> 0;
}
/** N3000_NIOS_FW_VERSION: [31:28] major, [27:24] minor, [23:20] patch. */
export const NIOS_FW_VERSION = 0x1004;
export const niosFwMajor = (v: number): number => (v >>> 28) & 0xf;
export const niosFwMinor = (v: number): number => (v >>> 24) & 0xf;
export const niosFwPatch = (v: number): number => (v >>> 20) & 0xf;
/** Nios firmware from this major on waits for the host's INIT_START (n3000_nios_init_done_check). */
export const NIOS_FW_MAJOR_INIT_START = 3;
/** N3000_NIOS_PKVL_A/B_MODE_STS: [15:8] group (0 = OK), [7:0] mode ID. */
export const NIOS_PKVL_A_MODE_STS = 0x1020;
export const NIOS_PKVL_B_MODE_STS = 0x1024;
export const PKVL_MODE_STS_GROUP_SHIFT = 8;
export const PKVL_MODE_STS_GROUP_MSK = 0xff << PKVL_MODE_STS_GROUP_SHIFT;
export const PKVL_MODE_STS_GROUP_OK = 0x0;
export const PKVL_MODE_STS_ID_MSK = 0xff;
export const PkvlMode = { RESET: 0x0, M4X10G: 0x1, M4X25G: 0x2, M2X25G: 0x3, M2X25G_2X10G: 0x4, M1X25G: 0x5 } as const;
export const pkvlModeOk = (sts: number): boolean => ((sts & PKVL_MODE_STS_GROUP_MSK) >>> PKVL_MODE_STS_GROUP_SHIFT) === PKVL_MODE_STS_GROUP_OK;

/** N3000_NIOS_INIT_TIME_INTV / N3000_NIOS_INIT_TIMEOUT: poll INIT_DONE every 100 ms for up to 10 s. */
export const NIOS_INIT_INTERVAL_MS = 100;
export const NIOS_INIT_TIMEOUT_MS = 10_000;

/** m10_n3000_info.max_speed_hz: the SPI clock to the MAX10 (12.5 MHz). */
export const N3000_SPI_MAX_SPEED_HZ = 12_500_000;
