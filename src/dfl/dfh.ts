// Device Feature Header codec, v0 and v1 (reference/dfl.md "Device Feature Header";
// drivers/fpga/dfl.h DFH_* and DFHv1_* masks). Every DFL feature starts with one 64-bit DFH.
// Decoding splits the bigint once into two 32-bit halves and reads the fields with number masks.

/** DFH[63:60] feature type (dfl.h DFH_TYPE_*; BBB = 2 is from the DFL spec / OPAE). */
export const DfhType = { AFU: 1, BBB: 2, PRIVATE: 3, FIU: 4 } as const;
export type FeatureType = 'fiu' | 'afu' | 'private' | 'bbb';

/** FIU feature IDs (dfl.h DFH_ID_FIU_FME / DFH_ID_FIU_PORT). */
export const FiuId = { FME: 0, PORT: 1 } as const;

/** Bit fields of the DFH as [low bit, width] (dfl.h). */
export const DFH = {
  /** [11:0] feature ID (DFH_ID). */
  ID: [0, 12],
  /** [15:12] revision (DFH_REVISION). */
  REVISION: [12, 4],
  /** [39:16] byte offset of the next DFH, relative to this one (DFH_NEXT_HDR_OFST). */
  NEXT: [16, 24],
  /** [40] end of list (DFH_EOL). */
  EOL: [40, 1],
  /** [51:48] minor revision, v1 only (reserved in v0). */
  MINOR_REVISION: [48, 4],
  /** [59:52] DFH version (DFH_VERSION). */
  VERSION: [52, 8],
  /** [63:60] feature type (DFH_TYPE). */
  TYPE: [60, 4],
} as const;

/** Register offsets common to DFL headers (dfl.h). */
export const DfhReg = {
  DFH: 0x00,
  /** FIU / AFU GUID low and high halves. */
  GUID_L: 0x08,
  GUID_H: 0x10,
  /** FIU: [23:0] offset of the AFU DFH relative to the FIU header (dfl.h NEXT_AFU). */
  NEXT_AFU: 0x18,
  /** v1: CSR address register (dfl.h DFHv1_CSR_ADDR). */
  V1_CSR_ADDR: 0x18,
  /** v1: CSR size / grouping register (dfl.h DFHv1_CSR_SIZE_GRP). */
  V1_CSR_SIZE_GRP: 0x20,
  /** v1: first parameter header (dfl.h DFHv1_PARAM_HDR). */
  V1_PARAM_HDR: 0x28,
} as const;

/** NEXT_AFU[23:0] (dfl.h NEXT_AFU_NEXT_DFH_OFST). */
export const NEXT_AFU_OFFSET_MASK = 0xff_ffff;

/** Size of a feature whose next offset is 0 (dfl.c feature_size(): "use 4K instead"). */
export const DEFAULT_FEATURE_SIZE = 0x1000;
/** Bytes of one DFH (dfl.h DFH_SIZE). */
export const DFH_SIZE = 8;

export interface Dfh {
  raw: bigint;
  id: number;
  revision: number;
  /** Offset of the next DFH relative to this one, bytes. */
  next: number;
  eol: boolean;
  minorRevision: number;
  /** DFH version: 0 or 1. */
  version: number;
  /** Raw DFH[63:60] type. */
  type: number;
}

export function decodeDfh(raw: bigint): Dfh {
  const lo = Number(raw & 0xffff_ffffn);
  const hi = Number((raw >> 32n) & 0xffff_ffffn);
  return {
    raw,
    id: lo & 0xfff,
    revision: (lo >>> 12) & 0xf,
    next: ((lo >>> 16) | ((hi & 0xff) << 16)) >>> 0,
    eol: ((hi >>> 8) & 1) === 1,
    minorRevision: (hi >>> 16) & 0xf,
    version: (hi >>> 20) & 0xff,
    type: (hi >>> 28) & 0xf,
  };
}

export interface DfhFields {
  id: number;
  type: number;
  revision?: number;
  next?: number;
  eol?: boolean;
  minorRevision?: number;
  version?: number;
}

/** Encode a DFH (device side: the sim card, tests, fuzz seeds). Fields are masked to width. */
export function encodeDfh(f: DfhFields): bigint {
  const lo = ((f.id & 0xfff) | ((f.revision ?? 0) & 0xf) << 12 | ((f.next ?? 0) & 0xffff) << 16) >>> 0;
  const hi = ((((f.next ?? 0) >>> 16) & 0xff) | (f.eol ? 1 << 8 : 0) | ((f.minorRevision ?? 0) & 0xf) << 16 |
    ((f.version ?? 0) & 0xff) << 20 | (f.type & 0xf) << 28) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Map DFH[63:60] to a tree node type; undefined for types the DFL spec does not define. */
export function featureTypeOf(type: number): FeatureType | undefined {
  switch (type) {
    case DfhType.AFU: return 'afu';
    case DfhType.BBB: return 'bbb';
    case DfhType.PRIVATE: return 'private';
    case DfhType.FIU: return 'fiu';
    default: return undefined;
  }
}

// ---- DFH v1 (Linux 6.3+, dfl.h DFHv1_*) ----

/** DFHv1_CSR_ADDR[0]: 0 = relative to the DFH, 1 = absolute (DFHv1_CSR_ADDR_REL). */
export const V1_CSR_ADDR_ABSOLUTE = 1n;

export interface DfhV1Csr {
  /** True when the CSR address is absolute (bit 0 set). */
  absolute: boolean;
  /**
   * The CSR address as the kernel computes it (dfl.c create_feature_instance): absolute mode takes
   * the register with bit 0 cleared; relative mode takes FIELD_GET(DFHv1_CSR_ADDR_MASK [63:1]),
   * i.e. the register shifted right by one, as an offset from the DFH.
   */
  address: bigint;
  instanceId: number;
  groupingId: number;
  hasParams: boolean;
  /** CSR block size in bytes (DFHv1_CSR_SIZE_GRP_SIZE [63:32]). */
  size: number;
}

export function decodeV1Csr(csrAddr: bigint, sizeGroup: bigint): DfhV1Csr {
  const absolute = (csrAddr & V1_CSR_ADDR_ABSOLUTE) !== 0n;
  const lo = Number(sizeGroup & 0xffff_ffffn);
  return {
    absolute,
    address: absolute ? csrAddr & ~V1_CSR_ADDR_ABSOLUTE : csrAddr >> 1n,
    instanceId: lo & 0xffff,
    groupingId: (lo >>> 16) & 0x7fff,
    hasParams: (lo >>> 31) === 1,
    size: Number(sizeGroup >> 32n),
  };
}

/** Encode the two v1 CSR registers (device side). `address` as the kernel reads it (see DfhV1Csr). */
export function encodeV1Csr(c: { absolute?: boolean; address?: bigint; instanceId?: number; groupingId?: number; hasParams?: boolean; size: number }): { csrAddr: bigint; sizeGroup: bigint } {
  const address = c.address ?? 0n;
  const csrAddr = c.absolute ? (address & ~1n) | 1n : address << 1n;
  const lo = ((c.instanceId ?? 0) & 0xffff) | ((c.groupingId ?? 0) & 0x7fff) << 16 | (c.hasParams ? 0x8000_0000 : 0);
  return { csrAddr: BigInt.asUintN(64, csrAddr), sizeGroup: (BigInt(c.size >>> 0) << 32n) | BigInt(lo >>> 0) };
}

/** Parameter header fields (dfl.h DFHv1_PARAM_HDR_*). */
export const PARAM = {
  /** [15:0] parameter ID. */
  ID: [0, 16],
  /** [31:16] parameter version. */
  VERSION: [16, 16],
  /** [32] end of parameters (DFHv1_PARAM_HDR_NEXT_EOP). */
  EOP: [32, 1],
  /** [63:35] offset of the next parameter header in 8-byte words (DFHv1_PARAM_HDR_NEXT_OFFSET). */
  NEXT: [35, 29],
} as const;

/** Parameter IDs (dfl.h DFHv1_PARAM_ID_*). */
export const ParamId = { MSI_X: 1, CLK_FRQ: 2, FIFO_LEN: 3, REG_LAYOUT: 4 } as const;

export interface ParamHeader {
  id: number;
  version: number;
  eop: boolean;
  /** Words (8 bytes each) from this header to the next one; the data is nextWords - 1 words. */
  nextWords: number;
}

export function decodeParamHeader(raw: bigint): ParamHeader {
  const lo = Number(raw & 0xffff_ffffn);
  const hi = Number((raw >> 32n) & 0xffff_ffffn);
  return { id: lo & 0xffff, version: lo >>> 16, eop: (hi & 1) === 1, nextWords: hi >>> 3 };
}

export function encodeParamHeader(p: { id: number; version?: number; eop?: boolean; nextWords: number }): bigint {
  const lo = ((p.id & 0xffff) | ((p.version ?? 0) & 0xffff) << 16) >>> 0;
  const hi = ((p.eop ? 1 : 0) | ((p.nextWords & 0x1fff_ffff) << 3)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** MSI-X parameter data (dfl.h DFHv1_PARAM_MSI_X_STARTV [31:0], DFHv1_PARAM_MSI_X_NUMV [63:32]). */
export function decodeMsixParam(data: bigint): { firstVector: number; count: number } {
  return { firstVector: Number(data & 0xffff_ffffn), count: Number((data >> 32n) & 0xffff_ffffn) };
}

export function encodeMsixParam(firstVector: number, count: number): bigint {
  return (BigInt(count >>> 0) << 32n) | BigInt(firstVector >>> 0);
}
