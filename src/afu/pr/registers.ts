// FME partial reconfiguration feature (ID 0x5) registers, host side: offsets relative to the
// feature's DFH, fields as named masks (reference/pr.md; drivers/fpga/dfl-fme-mgr.c FME_PR_*).

/** FME private feature ID of the PR engine (dfl.md "Feature IDs"). */
export const FME_FEATURE_ID_PR = 0x5;

export const PR_CTRL = 0x08;
export const PR_STS = 0x10;
export const PR_DATA = 0x18;
export const PR_ERR = 0x20;
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
/** [0] PR reset: hold the PR engine in reset. */
export const PR_CTRL_PR_RST = 1n << 0n;
/** [4] PR reset ACK (engine). */
export const PR_CTRL_PR_RSTACK = 1n << 4n;
/** [9:7] PR region (port) ID (kernel FME_PR_CTRL_PR_RGN_ID; DPDK uses 2 bits at [9:8]). */
export const PR_CTRL_RGN_ID_SHIFT = 7n;
export const PR_CTRL_RGN_ID = 0x7n << PR_CTRL_RGN_ID_SHIFT;
/** [12] PR start: request PR service; the engine clears it when done. */
export const PR_CTRL_PR_START = 1n << 12n;
/** [13] PR complete: the host has pushed all data. */
export const PR_CTRL_PR_COMPLETE = 1n << 13n;

// PR_STS
/** [8:0] credits: free entries in the engine's data FIFO. */
export const PR_STS_PR_CREDIT = 0x1ffn;
/** [16] PR status: 0 = idle. */
export const PR_STS_PR_STS = 1n << 16n;
/** [22:20] PR controller status. */
export const PR_STS_CTRLR_STS_SHIFT = 20n;
export const PR_STS_CTRLR_STS = 0x7n << PR_STS_CTRLR_STS_SHIFT;
/** [27:24] PR host status (0 = idle, PR_HOST_STATUS_IDLE). */
export const PR_STS_HOST_STS_SHIFT = 24n;
export const PR_STS_HOST_STS = 0xfn << PR_STS_HOST_STS_SHIFT;
/** [63:32] security block status. */
export const PR_STS_SECURITY_SHIFT = 32n;

/** PR_DATA carries one 32-bit word in [31:0], written as a 64-bit store. */
export const PR_DATA_WORD_BYTES = 4;

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

export const PR_ERR_KNOWN_MASK = 0x7fn;

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
export function prErrCode(value: bigint): string {
  for (const bit of [1, 2, 3, 4, 5, 6, 0]) {
    if ((value >> BigInt(bit)) & 1n) return PR_ERR_BITS[bit]!.code;
  }
  return 'EPR_ERROR';
}

/** Readable fields of a PR_STS value (for logs and error details). */
export function decodePrSts(value: bigint): { credits: number; busy: boolean; controllerStatus: number; hostStatus: number; securityStatus: number } {
  return {
    credits: Number(value & PR_STS_PR_CREDIT),
    busy: (value & PR_STS_PR_STS) !== 0n,
    controllerStatus: Number((value & PR_STS_CTRLR_STS) >> PR_STS_CTRLR_STS_SHIFT),
    hostStatus: Number((value & PR_STS_HOST_STS) >> PR_STS_HOST_STS_SHIFT),
    securityStatus: Number(value >> PR_STS_SECURITY_SHIFT),
  };
}

/** Kernel PR_WAIT_TIMEOUT: 8,000,000 us (dfl-fme-mgr.c), for every wait of the sequence. */
export const PR_WAIT_TIMEOUT_MS = 8000;
/** Kernel poll interval for every wait of the sequence (readq_poll_timeout(..., 1, ...), udelay(1)). */
export const PR_POLL_INTERVAL_US = 1;
