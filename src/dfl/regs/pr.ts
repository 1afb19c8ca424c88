// FME partial reconfiguration feature (FME private feature ID 0x5): the register map, written once
// for both sides of the protocol, the host flow (src/afu/pr) and the device model (src/sim/
// pr-engine.ts). Offsets are relative to the feature's DFH; fields are named masks
// (reference/pr.md; drivers/fpga/dfl-fme-mgr.c FME_PR_*).
import { FmeFeatureId } from '../names.js';
import { bit, bit64, genmask64 } from '../../util/bitfield.js';

/** FME private feature ID of the PR engine, 0x5 (dfl.md "Feature IDs"; FmeFeatureId.PR). */
export const FME_FEATURE_ID_PR = FmeFeatureId.PR;

/** PR control (dfl-fme-mgr.c FME_PR_CTRL). */
export const PR_CTRL = 0x08;
/** PR status (FME_PR_STS). */
export const PR_STS = 0x10;
/** PR data: one bitstream word per 64-bit store (FME_PR_DATA). */
export const PR_DATA = 0x18;
/** PR error, write 1 to clear (FME_PR_ERR). */
export const PR_ERR = 0x20;
/** PR interface ID, low and high halves (FME_PR_INTFC_ID_L/H). */
export const PR_INTFC_ID_L = 0xa8;
export const PR_INTFC_ID_H = 0xb0;

export const PR_REGISTER_NAMES: Readonly<Record<number, string>> = {
  [PR_CTRL]: 'PR_CTRL',
  [PR_STS]: 'PR_STS',
  [PR_DATA]: 'PR_DATA',
  [PR_ERR]: 'PR_ERR',
  [PR_INTFC_ID_L]: 'PR_INTFC_ID_L',
  [PR_INTFC_ID_H]: 'PR_INTFC_ID_H',
};

// PR_CTRL
/** [0] PR reset: hold the PR engine in reset (dfl-fme-mgr.c FME_PR_CTRL_PR_RST). */
export const PR_CTRL_PR_RST = bit64(0);
/** [4] PR reset ACK (engine) (FME_PR_CTRL_PR_RSTACK). */
export const PR_CTRL_PR_RSTACK = bit64(4);
/** [9:7] PR region (port) ID (FME_PR_CTRL_PR_RGN_ID; DPDK uses 2 bits at [9:8]). */
export const PR_CTRL_RGN_ID = genmask64(9, 7);
/** [12] PR start: request PR service; the engine clears it when done (FME_PR_CTRL_PR_START). */
export const PR_CTRL_PR_START = bit64(12);
/** [13] PR complete: the host has pushed all data (FME_PR_CTRL_PR_COMPLETE). */
export const PR_CTRL_PR_COMPLETE = bit64(13);
/** [63:32] config data: stored and read back (reference/pr.md; unnamed in dfl-fme-mgr.c). */
export const PR_CTRL_CONFIG_DATA = genmask64(63, 32);

// PR_STS
/** [8:0] credits: free entries in the engine's data FIFO (FME_PR_STS_PR_CREDIT). */
export const PR_STS_PR_CREDIT = genmask64(8, 0);
/** [16] PR status: 0 = idle (FME_PR_STS_PR_STS). */
export const PR_STS_PR_STS = bit64(16);
/** [22:20] PR controller status (FME_PR_STS_PR_CTRLR_STS). */
export const PR_STS_CTRLR_STS = genmask64(22, 20);
/** [27:24] PR host status (0 = idle, PR_HOST_STATUS_IDLE) (FME_PR_STS_PR_HOST_STS). */
export const PR_STS_HOST_STS = genmask64(27, 24);
/** [63:32] security block status (reference/pr.md; unnamed in dfl-fme-mgr.c). */
export const PR_STS_SECURITY = genmask64(63, 32);

/** PR_DATA carries one 32-bit word in [31:0], written as a 64-bit store. */
export const PR_DATA_WORD_BYTES = 4;

// PR_ERR: [4:0] are the kernel's FME_PR_ERR_*; pr.md adds [5] timeout and [6] secure load (OPAE/DPDK).
/** [0] operation error (FME_PR_ERR_OPERATION_ERR). */
export const PR_ERR_OPERATION = bit(0);
/** [1] CRC error (FME_PR_ERR_CRC_ERR). */
export const PR_ERR_CRC = bit(1);
/** [2] incompatible bitstream (FME_PR_ERR_INCOMPATIBLE_BS). */
export const PR_ERR_INCOMPATIBLE = bit(2);
/** [3] IP protocol error (FME_PR_ERR_PROTOCOL_ERR). */
export const PR_ERR_PROTOCOL = bit(3);
/** [4] FIFO overflow (FME_PR_ERR_FIFO_OVERFLOW). */
export const PR_ERR_FIFO_OVERFLOW = bit(4);
/** [5] timeout (pr.md). */
export const PR_ERR_TIMEOUT = bit(5);
/** [6] secure load error (pr.md). */
export const PR_ERR_SECURE_LOAD = bit(6);
/** Every PR_ERR bit with a meaning, [6:0]. */
export const PR_ERR_KNOWN_MASK = genmask64(6, 0);
