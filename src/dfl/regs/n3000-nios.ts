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
import { bit, bit64, fieldGet, fieldPrep, genmask, genmask64 } from '../../util/bitfield.js';

/** FME_FEATURE_ID_N3000_NIOS (dfl-n3000-nios.c). */
export const FME_FEATURE_ID_N3000_NIOS = FmeFeatureId.NIOS_SPI;

/** N3000_NS_PARAM: [1] shift mode, [7:2] data width, [13:8] chip selects, [14] CPOL, [15] CPHA, [47:32] peripheral ID. */
export const NS_PARAM = 0x08;
/** N3000_NS_CTRL. */
export const NS_CTRL = 0x10;
/** [31:0] write data (N3000_NS_CTRL_WR_DATA). */
export const NS_CTRL_WR_DATA = genmask64(31, 0);
/** [44:32] indirect address (N3000_NS_CTRL_ADDR). */
export const NS_CTRL_ADDR = genmask64(44, 32);
/** [63:62] command (N3000_NS_CTRL_CMD_MSK): NOP 0, RD 1, WR 2 (N3000_NS_CTRL_CMD_*). */
export const NS_CTRL_CMD_MSK = genmask64(63, 62);
export const NS_CTRL_CMD_NOP = 0n;
export const NS_CTRL_CMD_RD = 1n;
export const NS_CTRL_CMD_WR = 2n;
/** N3000_NS_STAT. */
export const NS_STAT = 0x18;
/** [31:0] read data (N3000_NS_STAT_RD_DATA). */
export const NS_STAT_RD_DATA = genmask64(31, 0);
/** [32] the command completed (N3000_NS_STAT_RW_VAL). */
export const NS_STAT_RW_VAL = bit64(32);

/**
 * The CTRL word of one indirect command (n3000_nios_reg_read / n3000_nios_reg_write): FIELD_PREP of
 * the command, the address and the data, each masked to its field as the kernel's run-time
 * FIELD_PREP does (the address field is 13 bits wide).
 */
export function nsCtrl(cmd: bigint, address: number, data = 0): bigint {
  const prep = (mask: bigint, v: bigint): bigint => fieldPrep(mask, v & fieldGet(mask, mask));
  return prep(NS_CTRL_CMD_MSK, cmd) | prep(NS_CTRL_ADDR, BigInt(address)) | prep(NS_CTRL_WR_DATA, BigInt(data >>> 0));
}

/** N3000_NIOS_REGBUS_RETRY_COUNT: polls of NS_STAT per command before -ETIMEDOUT. */
export const NIOS_REGBUS_RETRY_COUNT = 10000;

// ---- Nios handshake registers (indirect addresses) ----

/** N3000_NIOS_INIT. */
export const NIOS_INIT = 0x1000;
/** [0] the Nios finished retimer initialisation (N3000_NIOS_INIT_DONE). */
export const NIOS_INIT_DONE = bit(0);
/** [1] the host asks the Nios to start it (N3000_NIOS_INIT_START). */
export const NIOS_INIT_START = bit(1);
/**
 * [23:8] requested FEC mode, 2 bits per retimer link: A0 [9:8], A1 [11:10], A2 [13:12], A3 [15:14],
 * B0 [17:16], B1 [19:18], B2 [21:20], B3 [23:22] (N3000_NIOS_INIT_REQ_FEC_MODE_A0_MSK .. B3_MSK).
 */
export const NIOS_INIT_REQ_FEC_MODE_MSK = [8, 10, 12, 14, 16, 18, 20, 22].map((low) => genmask(low + 1, low));
/** All eight link fields, GENMASK(23, 8) (N3000_NIOS_INIT_REQ_FEC_MODE_MSK_ALL). */
export const NIOS_INIT_REQ_FEC_MODE_MSK_ALL = genmask(23, 8);
/** FEC modes (N3000_NIOS_INIT_REQ_FEC_MODE_NO / _KR / _RS). */
export const FecMode = { NO: 0x0, KR: 0x1, RS: 0x2 } as const;
/** The same 2-bit FEC mode in all eight link fields (N3000_NIOS_INIT_REQ_FEC_MODE_*_ALL). */
export function fecModeAll(mode: number): number {
  return NIOS_INIT_REQ_FEC_MODE_MSK.reduce((v, mask) => (v | fieldPrep(mask, mode)) >>> 0, 0);
}
/** N3000_NIOS_FW_VERSION. */
export const NIOS_FW_VERSION = 0x1004;
/** [31:28] major (N3000_NIOS_FW_VERSION_MAJOR). */
export const NIOS_FW_VERSION_MAJOR = genmask(31, 28);
/** [27:24] minor (N3000_NIOS_FW_VERSION_MINOR). */
export const NIOS_FW_VERSION_MINOR = genmask(27, 24);
/** [23:20] patch (N3000_NIOS_FW_VERSION_PATCH). */
export const NIOS_FW_VERSION_PATCH = genmask(23, 20);
export const niosFwMajor = (v: number): number => fieldGet(NIOS_FW_VERSION_MAJOR, v);
export const niosFwMinor = (v: number): number => fieldGet(NIOS_FW_VERSION_MINOR, v);
export const niosFwPatch = (v: number): number => fieldGet(NIOS_FW_VERSION_PATCH, v);
/** Nios firmware from this major on waits for the host's INIT_START (n3000_nios_init_done_check). */
export const NIOS_FW_MAJOR_INIT_START = 3;
/** N3000_NIOS_PKVL_A/B_MODE_STS. */
export const NIOS_PKVL_A_MODE_STS = 0x1020;
export const NIOS_PKVL_B_MODE_STS = 0x1024;
/** [15:8] group, 0 = OK (N3000_NIOS_PKVL_MODE_STS_GROUP_MSK, _GROUP_OK). */
export const PKVL_MODE_STS_GROUP_MSK = genmask(15, 8);
export const PKVL_MODE_STS_GROUP_OK = 0x0;
/** [7:0] mode ID, PkvlMode (N3000_NIOS_PKVL_MODE_STS_ID_MSK). */
export const PKVL_MODE_STS_ID_MSK = genmask(7, 0);
/** Retimer modes (N3000_NIOS_PKVL_MODE_ID_*). */
export const PkvlMode = { RESET: 0x0, M4X10G: 0x1, M4X25G: 0x2, M2X25G: 0x3, M2X25G_2X10G: 0x4, M1X25G: 0x5 } as const;
/** dfl-n3000-nios.c IS_MODE_STATUS_OK. */
export const pkvlModeOk = (sts: number): boolean => fieldGet(PKVL_MODE_STS_GROUP_MSK, sts) === PKVL_MODE_STS_GROUP_OK;

/** N3000_NIOS_INIT_TIME_INTV / N3000_NIOS_INIT_TIMEOUT: poll INIT_DONE every 100 ms for up to 10 s. */
export const NIOS_INIT_INTERVAL_MS = 100;
export const NIOS_INIT_TIMEOUT_MS = 10_000;

/** m10_n3000_info.max_speed_hz: the SPI clock to the MAX10 (12.5 MHz). */
export const N3000_SPI_MAX_SPEED_HZ = 12_500_000;
