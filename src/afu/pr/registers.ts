// FME partial reconfiguration feature (ID 0x5), host side: the register map itself lives in
// src/dfl/regs/pr.ts (shared with the device model) and is re-exported here; this file adds what
// only the host needs: PR_ERR decoding with hints, PR_STS decoding, the kernel's timeouts
// (reference/pr.md; drivers/fpga/dfl-fme-mgr.c).
import type { RegisteredCode } from '../../error-codes.js';
import { PR_STS_PR_CREDIT, PR_STS_PR_STS, PR_STS_CTRLR_STS, PR_STS_HOST_STS, PR_STS_SECURITY } from '../../dfl/regs/pr.js';
import { fieldGet } from '../../util/bitfield.js';

export {
  FME_FEATURE_ID_PR, PR_CTRL, PR_STS, PR_DATA, PR_ERR, PR_INTFC_ID_L, PR_INTFC_ID_H, PR_REGISTER_NAMES,
  PR_CTRL_PR_RST, PR_CTRL_PR_RSTACK, PR_CTRL_RGN_ID, PR_CTRL_PR_START, PR_CTRL_PR_COMPLETE,
  PR_STS_PR_CREDIT, PR_STS_PR_STS, PR_STS_CTRLR_STS, PR_STS_HOST_STS, PR_STS_SECURITY, PR_DATA_WORD_BYTES, PR_ERR_KNOWN_MASK,
} from '../../dfl/regs/pr.js';

/** PR_ERR bits (kernel FME_PR_ERR_* for [4:0]; pr.md adds [5] timeout and [6] secure load, from OPAE/DPDK). */
export const PR_ERR_BITS = [
  { bit: 0, name: 'operation error', code: 'EPR_OPERATION', hint: 'the engine refused the operation (is the port held in reset? is the region ID right?)' },
  { bit: 1, name: 'CRC error', code: 'EPR_CRC', hint: 'the bitstream is corrupt; copy the GBS again and check its checksum' },
  { bit: 2, name: 'incompatible bitstream', code: 'EPR_INCOMPATIBLE', hint: 'the bitstream was not built for this FIM; rebuild it against this card\'s PR interface ID' },
  { bit: 3, name: 'IP protocol error', code: 'EPR_PROTOCOL', hint: 'the PR data push protocol was violated (data outside start/complete, or a short bitstream)' },
  { bit: 4, name: 'FIFO overflow', code: 'EPR_FIFO_OVERFLOW', hint: 'data was written with no credit; words were lost' },
  { bit: 5, name: 'timeout', code: 'EPR_HW_TIMEOUT', hint: 'the engine timed out waiting for data' },
  { bit: 6, name: 'secure load error', code: 'EPR_SECURE_LOAD', hint: 'the security block refused the bitstream (unsigned or wrongly signed?)' },
] as const;

/** The names of the PR_ERR bits set in `value` ("bit 1 CRC error", ... "bit 9 (reserved)"). */
export function decodePrErr(value: bigint): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((value >> BigInt(bit)) & 1n) === 0n) continue;
    const known = PR_ERR_BITS.find((b) => b.bit === bit);
    out.push(known ? `bit ${bit} ${known.name}` : `bit ${bit} (reserved)`);
  }
  return out;
}

/** The PR error code for a PR_ERR value: the most specific bit wins, operation error last. */
export function prErrCode(value: bigint): RegisteredCode {
  for (const bit of [1, 2, 3, 4, 5, 6, 0]) {
    if ((value >> BigInt(bit)) & 1n) return PR_ERR_BITS[bit]!.code;
  }
  return 'EPR_ERROR';
}

/** Readable fields of a PR_STS value (for logs and error details). */
export function decodePrSts(value: bigint): { credits: number; busy: boolean; controllerStatus: number; hostStatus: number; securityStatus: number } {
  return {
    credits: Number(fieldGet(PR_STS_PR_CREDIT, value)),
    busy: (value & PR_STS_PR_STS) !== 0n,
    controllerStatus: Number(fieldGet(PR_STS_CTRLR_STS, value)),
    hostStatus: Number(fieldGet(PR_STS_HOST_STS, value)),
    securityStatus: Number(fieldGet(PR_STS_SECURITY, value)),
  };
}

/** Kernel PR_WAIT_TIMEOUT: 8,000,000 us (dfl-fme-mgr.c), for every wait of the sequence. */
export const PR_WAIT_TIMEOUT_MS = 8000;
/** Kernel poll interval for every wait of the sequence (readq_poll_timeout(..., 1, ...), udelay(1)). */
export const PR_POLL_INTERVAL_US = 1;
