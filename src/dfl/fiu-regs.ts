// FIU header registers (reference/dfl.md "FME header" / "Port header"; drivers/fpga/dfl.h
// FME_HDR_* / PORT_HDR_* and their bit fields). Offsets relative to the FIU's DFH.

/** FME header registers. */
export const FmeReg = {
  /** FME capabilities (dfl.h FME_HDR_CAP). */
  CAP: 0x30,
  /** PORT_OFFSET(n) = 0x38 + 8n (dfl.h FME_HDR_PORT_OFST(n)). */
  PORT_OFFSET0: 0x38,
  /** Bitstream ID (dfl.h FME_HDR_BITSTREAM_ID). */
  BITSTREAM_ID: 0x60,
  /** Bitstream metadata (dfl.h FME_HDR_BITSTREAM_MD). */
  BITSTREAM_MD: 0x68,
} as const;

export const fmePortOffsetReg = (n: number): number => FmeReg.PORT_OFFSET0 + 8 * n;

/** FME_CAP fields as [low bit, width] (dfl.h FME_CAP_*). */
export const FME_CAP = {
  FABRIC_VERID: [0, 8],
  SOCKET_ID: [8, 1],
  PCIE0_LINK_AVL: [12, 1],
  PCIE1_LINK_AVL: [13, 1],
  COHR_LINK_AVL: [14, 1],
  IOMMU_AVL: [16, 1],
  NUM_PORTS: [17, 3],
  ADDR_WIDTH: [24, 6],
  CACHE_SIZE: [32, 12],
  CACHE_ASSOC: [44, 4],
} as const;

/** At most this many ports per FME (dfl.h MAX_DFL_FPGA_PORT_NUM). */
export const MAX_PORTS = 4;

/** PORT_OFFSET(n) fields (dfl.h FME_PORT_OFST_*). */
export const FME_PORT_OFST = {
  /** [23:0] offset of the port's DFH inside its BAR. */
  DFH_OFST_MASK: 0xff_ffffn,
  /** [34:32] BAR index; 7 = no port (FME_PORT_OFST_BAR_SKIP). */
  BAR_SHIFT: 32n,
  BAR_MASK: 0x7n,
  BAR_SKIP: 7,
  /** [55] access control: 0 PF, 1 VF only (FME_PORT_OFST_ACC_CTRL). */
  ACC_CTRL: 1n << 55n,
  /** [60] implemented (FME_PORT_OFST_IMP). */
  IMP: 1n << 60n,
} as const;

/** Port header registers. */
export const PortReg = {
  /** Port capabilities (dfl.h PORT_HDR_CAP). */
  CAP: 0x30,
  /** Port control (dfl.h PORT_HDR_CTRL). */
  CTRL: 0x38,
  /** Port status (dfl.h PORT_HDR_STS). */
  STS: 0x40,
} as const;

/** PORT_CAP fields (dfl.h PORT_CAP_*). */
export const PORT_CAP = {
  /** [1:0] port number. */
  PORT_NUM: [0, 2],
  /** [23:8] MMIO size of the AFU in KiB. */
  MMIO_SIZE: [8, 16],
  /** [35:32] number of supported user interrupts. */
  SUPP_INT_NUM: [32, 4],
} as const;

/** PORT_CTRL bits (dfl.h PORT_CTRL_*). */
export const PORT_CTRL = {
  /** [0] soft reset: 1 holds the port (and its AFU) in reset. */
  SFTRST: 1n << 0n,
  /** [2] latency tolerance. */
  LATENCY: 1n << 2n,
  /** [4] soft reset ACK: 1 once outstanding requests drained. */
  SFTRST_ACK: 1n << 4n,
} as const;

/** PORT_STS fields (dfl.h PORT_STS_*). */
export const PORT_STS = {
  /** [11:8] power state. */
  PWR_STATE: [8, 4],
  /** [12] AP1 event, [13] AP2 event. */
  AP1_EVT: [12, 1],
  AP2_EVT: [13, 1],
} as const;

/** PORT_STS[11:8] power states (dfl.h PORT_STS_PWR_STATE_*): AP1 50%, AP2 90%, AP6 100% throttling. */
export const PortPowerState = { NORMAL: 0, AP1: 1, AP2: 2, AP6: 6 } as const;

/** Read a [low, width] field (width <= 32) out of a 64-bit register value. */
export function field(value: bigint, [low, width]: readonly [number, number]): number {
  return Number((value >> BigInt(low)) & ((1n << BigInt(width)) - 1n));
}

/** Place a value in a [low, width] field (device side). */
export function putField(value: number | bigint, [low, width]: readonly [number, number]): bigint {
  return (BigInt(value) & ((1n << BigInt(width)) - 1n)) << BigInt(low);
}

// ---- interrupt capability registers of v0 private features (dfl.md "IRQ capability registers";
// dfl.c parse_feature_irqs) ----

/** Port error feature 0x10 registers (dfl-afu-error.c PORT_ERROR_MASK etc.), relative to its register block. */
export const PortErrorReg = {
  /** Error reporting mask: a set bit suppresses that error's interrupt. */
  MASK: 0x08,
  /** Latched errors; write 1s to clear (the host writes back the value it read). */
  ERROR: 0x10,
  /** The first error latched; write 1s to clear. */
  FIRST_ERROR: 0x18,
  MALFORMED_REQ0: 0x20,
  MALFORMED_REQ1: 0x28,
  /** PORT_ERROR_CAP, see below. */
  CAP: 0x38,
} as const;
/** All error bits masked (dfl-afu-error.c ERROR_MASK). */
export const PORT_ERROR_MASK_ALL = 0xffff_ffff_ffff_ffffn;

/** Port UINT feature +0x08: [11:0] vector count, [23:12] first vector (dfl.h PORT_UINT_CAP_*). */
export const PORT_UINT_CAP = { OFFSET: 0x08, INT_NUM: [0, 12], FST_VECT: [12, 12] } as const;
/** Port error feature +0x38: [0] supported, [12:1] vector (dfl.h PORT_ERROR_CAP_*). */
export const PORT_ERROR_CAP = { OFFSET: 0x38, SUPP_INT: [0, 1], INT_VECT: [1, 12] } as const;
/**
 * FME global error feature (0x4) registers, relative to its register block (dfl-fme-error.c).
 * The *_ERROR registers latch errors (write the value read back to clear, with the matching mask
 * register all ones meanwhile); RAS_*_ERROR and FIRST/NEXT_ERROR are read only.
 */
export const FmeErrorReg = {
  FME_ERROR_MASK: 0x08,
  FME_ERROR: 0x10,
  PCIE0_ERROR_MASK: 0x18,
  PCIE0_ERROR: 0x20,
  PCIE1_ERROR_MASK: 0x28,
  PCIE1_ERROR: 0x30,
  FME_FIRST_ERROR: 0x38,
  FME_NEXT_ERROR: 0x40,
  RAS_NONFAT_ERROR_MASK: 0x48,
  RAS_NONFAT_ERROR: 0x50,
  RAS_CATFAT_ERROR_MASK: 0x58,
  RAS_CATFAT_ERROR: 0x60,
  /** [2:0] error injection (dfl-fme-error.c INJECT_ERROR_MASK): 0 catastrophic, 1 fatal, 2 non-fatal. */
  RAS_ERROR_INJECT: 0x68,
} as const;
/** FME_ERROR[6]: kept masked on revision 0 of the feature (dfl-fme-error.c MBP_ERROR workaround). */
export const FME_MBP_ERROR = 1n << 6n;
/** RAS_ERROR_INJECT[2:0] (dfl-fme-error.c INJECT_ERROR_MASK). */
export const FME_INJECT_ERROR_MASK = 0x7n;

/** FME global error +0x70: [0] supported, [12:1] vector (dfl.h FME_ERROR_CAP_*). */
export const FME_ERROR_CAP = { OFFSET: 0x70, SUPP_INT: [0, 1], INT_VECT: [1, 12] } as const;
