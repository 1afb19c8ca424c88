// The Device Feature Header and the DFH v1 CSR/parameter registers as named masks, written once for
// the host's codec and walker (src/dfl/dfh.ts, src/dfl/walk.ts) and the sim card that builds the
// lists (src/sim). Every mask is the kernel's, drivers/fpga/dfl.h (reference/dfl.md "Device Feature
// Header"); BBB, the minor revision and the default feature size are from the DFL spec / dfl.c.
import { bit64, genmask64 } from '../../util/bitfield.js';

/** DFH[63:60] feature type (dfl.h DFH_TYPE_*; BBB = 2 is from the DFL spec / OPAE). */
export const DfhType = { AFU: 1, BBB: 2, PRIVATE: 3, FIU: 4 } as const;

/** FIU feature IDs (dfl.h DFH_ID_FIU_FME / DFH_ID_FIU_PORT). */
export const FiuId = { FME: 0, PORT: 1 } as const;

/** Register offsets common to DFL headers (dfl.h). */
export const DfhReg = {
  DFH: 0x00,
  /** FIU / AFU GUID low and high halves (dfl.h GUID_L / GUID_H). */
  GUID_L: 0x08,
  GUID_H: 0x10,
  /** FIU: offset of the AFU DFH relative to the FIU header (dfl.h NEXT_AFU). */
  NEXT_AFU: 0x18,
  /** v1: CSR address register (dfl.h DFHv1_CSR_ADDR). */
  V1_CSR_ADDR: 0x18,
  /** v1: CSR size / grouping register (dfl.h DFHv1_CSR_SIZE_GRP). */
  V1_CSR_SIZE_GRP: 0x20,
  /** v1: first parameter header (dfl.h DFHv1_PARAM_HDR). */
  V1_PARAM_HDR: 0x28,
} as const;

/** Bytes of one DFH (dfl.h DFH_SIZE). */
export const DFH_SIZE = 8;
/** Size of a feature whose next offset is 0 (dfl.c feature_size(): "use 4K instead"). */
export const DEFAULT_FEATURE_SIZE = 0x1000;

// ---- DFH fields (dfl.h) ----
/** [11:0] feature ID (dfl.h DFH_ID). */
export const DFH_ID = genmask64(11, 0);
/** [15:12] feature revision (dfl.h DFH_REVISION). */
export const DFH_REVISION = genmask64(15, 12);
/** [39:16] byte offset of the next DFH, relative to this one (dfl.h DFH_NEXT_HDR_OFST). */
export const DFH_NEXT_HDR_OFST = genmask64(39, 16);
/** [40] end of list (dfl.h DFH_EOL). */
export const DFH_EOL = bit64(40);
/** [51:48] minor revision, v1 only, reserved in v0 (DFL spec; dfl.h leaves it unnamed). */
export const DFH_MINOR_REVISION = genmask64(51, 48);
/** [59:52] DFH version (dfl.h DFH_VERSION). */
export const DFH_VERSION = genmask64(59, 52);
/** [63:60] feature type (dfl.h DFH_TYPE). */
export const DFH_TYPE = genmask64(63, 60);

/** NEXT_AFU[23:0]: offset to the next AFU (dfl.h NEXT_AFU_NEXT_DFH_OFST). */
export const NEXT_AFU_NEXT_DFH_OFST = genmask64(23, 0);

// ---- DFH v1 (Linux 6.3+, dfl.h DFHv1_*) ----
/** DFHv1_CSR_ADDR[0]: 0 = relative to the DFH, 1 = absolute (dfl.h DFHv1_CSR_ADDR_REL). */
export const DFHv1_CSR_ADDR_REL = bit64(0);
/** DFHv1_CSR_ADDR[63:1]: the relative CSR address (dfl.h DFHv1_CSR_ADDR_MASK). */
export const DFHv1_CSR_ADDR_MASK = genmask64(63, 1);
/** [15:0] instance ID (dfl.h DFHv1_CSR_SIZE_GRP_INSTANCE_ID). */
export const DFHv1_CSR_SIZE_GRP_INSTANCE_ID = genmask64(15, 0);
/** [30:16] grouping ID (dfl.h DFHv1_CSR_SIZE_GRP_GROUPING_ID). */
export const DFHv1_CSR_SIZE_GRP_GROUPING_ID = genmask64(30, 16);
/** [31] parameters present (dfl.h DFHv1_CSR_SIZE_GRP_HAS_PARAMS). */
export const DFHv1_CSR_SIZE_GRP_HAS_PARAMS = bit64(31);
/** [63:32] CSR block size in bytes (dfl.h DFHv1_CSR_SIZE_GRP_SIZE). */
export const DFHv1_CSR_SIZE_GRP_SIZE = genmask64(63, 32);

/** [15:0] parameter ID (dfl.h DFHv1_PARAM_HDR_ID). */
export const DFHv1_PARAM_HDR_ID = genmask64(15, 0);
/** [31:16] parameter version (dfl.h DFHv1_PARAM_HDR_VER). */
export const DFHv1_PARAM_HDR_VER = genmask64(31, 16);
/** [32] end of parameters (dfl.h DFHv1_PARAM_HDR_NEXT_EOP). */
export const DFHv1_PARAM_HDR_NEXT_EOP = bit64(32);
/** [63:35] offset of the next parameter header in 8-byte words (dfl.h DFHv1_PARAM_HDR_NEXT_OFFSET). */
export const DFHv1_PARAM_HDR_NEXT_OFFSET = genmask64(63, 35);
/** Parameter IDs (dfl.h DFHv1_PARAM_ID_*). */
export const ParamId = { MSI_X: 1, CLK_FRQ: 2, FIFO_LEN: 3, REG_LAYOUT: 4 } as const;
/** MSI-X parameter data: [31:0] first vector (dfl.h DFHv1_PARAM_MSI_X_STARTV). */
export const DFHv1_PARAM_MSI_X_STARTV = genmask64(31, 0);
/** MSI-X parameter data: [63:32] vector count (dfl.h DFHv1_PARAM_MSI_X_NUMV). */
export const DFHv1_PARAM_MSI_X_NUMV = genmask64(63, 32);
