// FIU header registers and the FME/Port private features' capability and error registers, written
// once for the host (src/dfl/walk.ts, src/afu) and the sim card (src/sim/fme-model.ts,
// port-model.ts) (reference/dfl.md "FME header" / "Port header"; drivers/fpga/dfl.h FME_HDR_* /
// PORT_HDR_* and their fields as named masks). Offsets relative to the FIU's DFH.
import { bit64, genmask64 } from '../../util/bitfield.js';

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

/** FME_CAP fields (dfl.h FME_CAP_*). */
export const FME_CAP = {
  /** [7:0] fabric version ID (dfl.h FME_CAP_FABRIC_VERID). */
  FABRIC_VERID: genmask64(7, 0),
  /** [8] socket ID (dfl.h FME_CAP_SOCKET_ID). */
  SOCKET_ID: bit64(8),
  /** [12] PCIe0 link available (dfl.h FME_CAP_PCIE0_LINK_AVL). */
  PCIE0_LINK_AVL: bit64(12),
  /** [13] PCIe1 link available (dfl.h FME_CAP_PCIE1_LINK_AVL). */
  PCIE1_LINK_AVL: bit64(13),
  /** [14] coherent link available (dfl.h FME_CAP_COHR_LINK_AVL). */
  COHR_LINK_AVL: bit64(14),
  /** [16] IOMMU available (dfl.h FME_CAP_IOMMU_AVL). */
  IOMMU_AVL: bit64(16),
  /** [19:17] number of ports (dfl.h FME_CAP_NUM_PORTS). */
  NUM_PORTS: genmask64(19, 17),
  /** [29:24] address bus width (dfl.h FME_CAP_ADDR_WIDTH). */
  ADDR_WIDTH: genmask64(29, 24),
  /** [43:32] cache size in KiB (dfl.h FME_CAP_CACHE_SIZE). */
  CACHE_SIZE: genmask64(43, 32),
  /** [47:44] cache associativity (dfl.h FME_CAP_CACHE_ASSOC). */
  CACHE_ASSOC: genmask64(47, 44),
} as const;

/**
 * BITSTREAM_ID version fields (reference/dfl.md "FME header"; OPAE's fpga_version: the kernel only
 * prints the raw register, dfl-fme-main.c bitstream_id_show).
 */
export const FME_BITSTREAM_ID = {
  /** [59:56] major version. */
  MAJOR: genmask64(59, 56),
  /** [55:52] minor version. */
  MINOR: genmask64(55, 52),
  /** [51:48] patch version. */
  PATCH: genmask64(51, 48),
} as const;

/** At most this many ports per FME (dfl.h MAX_DFL_FPGA_PORT_NUM). */
export const MAX_PORTS = 4;

/** PORT_OFFSET(n) fields (dfl.h FME_PORT_OFST_*). */
export const FME_PORT_OFST = {
  /** [23:0] offset of the port's DFH inside its BAR (dfl.h FME_PORT_OFST_DFH_OFST). */
  DFH_OFST: genmask64(23, 0),
  /** [34:32] BAR index (dfl.h FME_PORT_OFST_BAR_ID). */
  BAR_ID: genmask64(34, 32),
  /** BAR_ID 7: no port in this slot (dfl.h FME_PORT_OFST_BAR_SKIP). */
  BAR_SKIP: 7,
  /** [55] access control: 0 PF, 1 VF only (dfl.h FME_PORT_OFST_ACC_CTRL). */
  ACC_CTRL: bit64(55),
  /** [60] implemented (dfl.h FME_PORT_OFST_IMP). */
  IMP: bit64(60),
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
  /** [1:0] port number (dfl.h PORT_CAP_PORT_NUM). */
  PORT_NUM: genmask64(1, 0),
  /** [23:8] MMIO size of the AFU in KiB (dfl.h PORT_CAP_MMIO_SIZE). */
  MMIO_SIZE: genmask64(23, 8),
  /** [35:32] number of supported user interrupts (dfl.h PORT_CAP_SUPP_INT_NUM). */
  SUPP_INT_NUM: genmask64(35, 32),
} as const;

/** PORT_CTRL bits (dfl.h PORT_CTRL_*). */
export const PORT_CTRL = {
  /** [0] soft reset: 1 holds the port (and its AFU) in reset (dfl.h PORT_CTRL_SFTRST). */
  SFTRST: bit64(0),
  /** [2] latency tolerance (dfl.h PORT_CTRL_LATENCY). */
  LATENCY: bit64(2),
  /** [4] soft reset ACK: 1 once outstanding requests drained (dfl.h PORT_CTRL_SFTRST_ACK). */
  SFTRST_ACK: bit64(4),
} as const;

/** PORT_STS fields (dfl.h PORT_STS_*). */
export const PORT_STS = {
  /** [11:8] power state (dfl.h PORT_STS_PWR_STATE). */
  PWR_STATE: genmask64(11, 8),
  /** [12] AP1 event detected (dfl.h PORT_STS_AP1_EVT). */
  AP1_EVT: bit64(12),
  /** [13] AP2 event detected (dfl.h PORT_STS_AP2_EVT). */
  AP2_EVT: bit64(13),
} as const;

/** PORT_STS[11:8] power states (dfl.h PORT_STS_PWR_STATE_*): AP1 50%, AP2 90%, AP6 100% throttling. */
export const PortPowerState = { NORMAL: 0, AP1: 1, AP2: 2, AP6: 6 } as const;

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
/** All error bits masked (dfl-afu-error.c ERROR_MASK, GENMASK_ULL(63, 0)). */
export const PORT_ERROR_MASK_ALL = genmask64(63, 0);

/** Port UINT feature capability register (dfl.h PORT_UINT_CAP and fields). */
export const PORT_UINT_CAP = {
  /** +0x08 (dfl.h PORT_UINT_CAP). */
  OFFSET: 0x08,
  /** [11:0] number of user interrupts (dfl.h PORT_UINT_CAP_INT_NUM). */
  INT_NUM: genmask64(11, 0),
  /** [23:12] first vector (dfl.h PORT_UINT_CAP_FST_VECT). */
  FST_VECT: genmask64(23, 12),
} as const;
/** Port error feature capability register (dfl.h PORT_ERROR_CAP and fields). */
export const PORT_ERROR_CAP = {
  /** +0x38 (dfl.h PORT_ERROR_CAP). */
  OFFSET: 0x38,
  /** [0] interrupt supported (dfl.h PORT_ERROR_CAP_SUPP_INT). */
  SUPP_INT: bit64(0),
  /** [12:1] interrupt vector (dfl.h PORT_ERROR_CAP_INT_VECT). */
  INT_VECT: genmask64(12, 1),
} as const;
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
/** All error bits masked while clearing (dfl-fme-error.c ERROR_MASK, GENMASK_ULL(63, 0)). */
export const FME_ERROR_MASK_ALL = genmask64(63, 0);
/** FME_ERROR[6]: kept masked on revision 0 of the feature (dfl-fme-error.c MBP_ERROR workaround). */
export const FME_MBP_ERROR = bit64(6);
/** RAS_ERROR_INJECT[2:0] (dfl-fme-error.c INJECT_ERROR_MASK). */
export const FME_INJECT_ERROR_MASK = genmask64(2, 0);
/**
 * RAS_ERROR_INJECT bits: [0] catastrophic, [1] fatal, [2] non-fatal (DPDK ifpga_defines.h
 * feature_fme_ras_error_inject catastrophicr_error / fatal_error / nonfatal_error; the kernel
 * passes the three bits through unnamed).
 */
export const FME_INJECT_CATASTROPHIC = bit64(0);
export const FME_INJECT_FATAL = bit64(1);
export const FME_INJECT_NONFATAL = bit64(2);
// What an injection shows in the RAS status registers (DPDK ifpga_defines.h; the kernel prints
// the registers unnamed):
/** RAS_NONFAT_ERROR[6]: injected non-fatal error (feature_fme_ras_nonfaterror injected_nonfata_err). */
export const FME_RAS_NONFAT_INJECTED = bit64(6);
/** RAS_CATFAT_ERROR[8]: injected fatal error (feature_fme_ras_catfaterror inject_fata_err). */
export const FME_RAS_CATFAT_INJECTED_FATAL = bit64(8);
/** RAS_CATFAT_ERROR[11]: injected catastrophic error (feature_fme_ras_catfaterror injected_catast_err). */
export const FME_RAS_CATFAT_INJECTED_CATAST = bit64(11);

/** FME global error capability register (dfl.h FME_ERROR_CAP and fields). */
export const FME_ERROR_CAP = {
  /** +0x70 (dfl.h FME_ERROR_CAP). */
  OFFSET: 0x70,
  /** [0] interrupt supported (dfl.h FME_ERROR_CAP_SUPP_INT). */
  SUPP_INT: bit64(0),
  /** [12:1] interrupt vector (dfl.h FME_ERROR_CAP_INT_VECT). */
  INT_VECT: genmask64(12, 1),
} as const;
