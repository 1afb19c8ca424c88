// Register map of the simulated card's AFU (offsets from the AFU's DFH, 64-bit registers). It is
// the sim's own design, in the style of OPAE sample AFUs: scratch registers and a DMA copy engine
// that moves bytes between two IOVAs through the host's IOMMU mappings and signals completion on
// an AFU user interrupt (Port UINT feature -> MSI-X vector). Fields are named masks
// (src/util/bitfield.ts), read with fieldGet and written with fieldPrep.
import { bit64, fieldPrep, genmask64 } from '../util/bitfield.js';

export const SimAfuReg = {
  /** Four read/write scratch registers, reset to 0. */
  SCRATCH0: 0x100,
  SCRATCH1: 0x108,
  SCRATCH2: 0x110,
  SCRATCH3: 0x118,
  /** DMA source IOVA (byte address). */
  DMA_SRC: 0x200,
  /** DMA destination IOVA. */
  DMA_DST: 0x208,
  /** DMA length in bytes, 1..SIM_DMA_MAX_LENGTH. */
  DMA_LEN: 0x210,
  /** DMA control, see DmaCtrl. */
  DMA_CTRL: 0x218,
  /** DMA status, see DmaStatus. Read only. */
  DMA_STATUS: 0x220,
  /** IOVA of the access that faulted (valid while DmaStatus.FAULT is set). */
  DMA_FAULT_IOVA: 0x228,
  /** Number of copies completed successfully since reset. */
  DMA_COMPLETED: 0x230,
} as const;

/** The AFU's registers end before this offset (the rest of its MMIO reads 0). */
export const SIM_AFU_REGS_END = 0x1000;

/** DMA_CTRL fields. */
export const DmaCtrl = {
  /** [0] write 1 to start a copy (ignored while busy). Reads 0. */
  START: bit64(0),
  /** [1] signal the completion (or fault) interrupt. */
  IRQ_ENABLE: bit64(1),
  /** [2] write 1 to clear DONE, FAULT and the fault code. Reads 0. */
  CLEAR: bit64(2),
  /** [11:8] AFU user interrupt (0..count-1 of the Port UINT feature) to signal. */
  IRQ: genmask64(11, 8),
} as const;

/** DMA_STATUS fields. */
export const DmaStatus = {
  /** [0] a copy is running. */
  BUSY: bit64(0),
  /** [1] the last copy completed. */
  DONE: bit64(1),
  /** [2] the last copy faulted. */
  FAULT: bit64(2),
  /** [11:8] fault code, see DmaFault. */
  FAULT_CODE: genmask64(11, 8),
  /** [63:32] bytes copied by the last copy (partial when it faulted). */
  BYTES: genmask64(63, 32),
} as const;

/** DMA fault codes (DMA_STATUS[11:8]). */
export const DmaFault = {
  NONE: 0,
  /** Source IOVA not mapped. */
  SRC_UNMAPPED: 1,
  /** Source mapping does not allow device reads. */
  SRC_NO_READ: 2,
  /** Destination IOVA not mapped. */
  DST_UNMAPPED: 3,
  /** Destination mapping is read-only for the device. */
  DST_NO_WRITE: 4,
  /** DMA_LEN is 0 or above SIM_DMA_MAX_LENGTH. */
  BAD_LENGTH: 5,
  /** Injected device fault (the 'dma' fault knob). */
  INJECTED: 6,
  /** The selected user interrupt does not exist. */
  BAD_IRQ: 7,
} as const;

export const DMA_FAULT_NAMES: Record<number, string> = {
  [DmaFault.SRC_UNMAPPED]: 'source IOVA not mapped',
  [DmaFault.SRC_NO_READ]: 'source mapping not readable by the device',
  [DmaFault.DST_UNMAPPED]: 'destination IOVA not mapped',
  [DmaFault.DST_NO_WRITE]: 'destination mapping is read-only for the device',
  [DmaFault.BAD_LENGTH]: 'bad DMA_LEN',
  [DmaFault.INJECTED]: 'injected device fault',
  [DmaFault.BAD_IRQ]: 'no such user interrupt',
};

/** Largest single copy (64 MiB). */
export const SIM_DMA_MAX_LENGTH = 64 * 1024 * 1024;

/** The AFU's 64-bit registers, as an Afu, a Region over the AFU, or a mapped port region offers them. */
export interface AfuRegisters {
  read64(offset: number): bigint;
  write64(offset: number, value: bigint): void;
}

/** Program and start one copy: clear the last status, set source, destination, length, start (optionally signalling user interrupt `irq`). */
export function startAfuDma(afu: AfuRegisters, src: bigint, dst: bigint, length: number, irq?: number): void {
  afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.CLEAR);
  afu.write64(SimAfuReg.DMA_SRC, src);
  afu.write64(SimAfuReg.DMA_DST, dst);
  afu.write64(SimAfuReg.DMA_LEN, BigInt(length));
  const irqBits = irq === undefined ? 0n : DmaCtrl.IRQ_ENABLE | fieldPrep(DmaCtrl.IRQ, irq);
  afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.START | irqBits);
}
