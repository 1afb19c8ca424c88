// Device Feature Header codec, v0 and v1 (reference/dfl.md "Device Feature Header"). Every DFL
// feature starts with one 64-bit DFH. The fields are the named masks of src/dfl/regs/dfh.ts
// (drivers/fpga/dfl.h DFH_* and DFHv1_*), read with fieldGet and written with fieldPrep.
import { fieldGet, fieldPrep } from '../util/bitfield.js';
import {
  DfhType, DFH_EOL, DFH_ID, DFH_MINOR_REVISION, DFH_NEXT_HDR_OFST, DFH_REVISION, DFH_TYPE, DFH_VERSION,
  DFHv1_CSR_ADDR_MASK, DFHv1_CSR_ADDR_REL, DFHv1_CSR_SIZE_GRP_GROUPING_ID, DFHv1_CSR_SIZE_GRP_HAS_PARAMS,
  DFHv1_CSR_SIZE_GRP_INSTANCE_ID, DFHv1_CSR_SIZE_GRP_SIZE, DFHv1_PARAM_HDR_ID, DFHv1_PARAM_HDR_NEXT_EOP,
  DFHv1_PARAM_HDR_NEXT_OFFSET, DFHv1_PARAM_HDR_VER, DFHv1_PARAM_MSI_X_NUMV, DFHv1_PARAM_MSI_X_STARTV,
} from './regs/dfh.js';

export type FeatureType = 'fiu' | 'afu' | 'private' | 'bbb';

/** A field as a number (every DFH field is at most 32 bits wide). */
const get = (mask: bigint, reg: bigint): number => Number(fieldGet(mask, reg));
/**
 * FIELD_PREP as the kernel evaluates it at run time, `(val << shift) & mask`: the encoders below
 * (device side: the sim card, tests, fuzz seeds) mask each value to its field's width.
 */
const prep = (mask: bigint, value: number | bigint): bigint => fieldPrep(mask, BigInt(value) & fieldGet(mask, mask));

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
  return {
    raw,
    id: get(DFH_ID, raw),
    revision: get(DFH_REVISION, raw),
    next: get(DFH_NEXT_HDR_OFST, raw),
    eol: (raw & DFH_EOL) !== 0n,
    minorRevision: get(DFH_MINOR_REVISION, raw),
    version: get(DFH_VERSION, raw),
    type: get(DFH_TYPE, raw),
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
  return prep(DFH_ID, f.id) | prep(DFH_REVISION, f.revision ?? 0) | prep(DFH_NEXT_HDR_OFST, f.next ?? 0) | (f.eol ? DFH_EOL : 0n) |
    prep(DFH_MINOR_REVISION, f.minorRevision ?? 0) | prep(DFH_VERSION, f.version ?? 0) | prep(DFH_TYPE, f.type);
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
  const absolute = (csrAddr & DFHv1_CSR_ADDR_REL) !== 0n;
  return {
    absolute,
    address: absolute ? csrAddr & ~DFHv1_CSR_ADDR_REL : fieldGet(DFHv1_CSR_ADDR_MASK, csrAddr),
    instanceId: get(DFHv1_CSR_SIZE_GRP_INSTANCE_ID, sizeGroup),
    groupingId: get(DFHv1_CSR_SIZE_GRP_GROUPING_ID, sizeGroup),
    hasParams: (sizeGroup & DFHv1_CSR_SIZE_GRP_HAS_PARAMS) !== 0n,
    size: get(DFHv1_CSR_SIZE_GRP_SIZE, sizeGroup),
  };
}

/** Encode the two v1 CSR registers (device side). `address` as the kernel reads it (see DfhV1Csr). */
export function encodeV1Csr(c: { absolute?: boolean; address?: bigint; instanceId?: number; groupingId?: number; hasParams?: boolean; size: number }): { csrAddr: bigint; sizeGroup: bigint } {
  const address = c.address ?? 0n;
  const csrAddr = c.absolute ? (address & ~DFHv1_CSR_ADDR_REL) | DFHv1_CSR_ADDR_REL : prep(DFHv1_CSR_ADDR_MASK, address);
  const sizeGroup = prep(DFHv1_CSR_SIZE_GRP_INSTANCE_ID, c.instanceId ?? 0) | prep(DFHv1_CSR_SIZE_GRP_GROUPING_ID, c.groupingId ?? 0) |
    (c.hasParams ? DFHv1_CSR_SIZE_GRP_HAS_PARAMS : 0n) | prep(DFHv1_CSR_SIZE_GRP_SIZE, c.size);
  return { csrAddr: BigInt.asUintN(64, csrAddr), sizeGroup };
}

export interface ParamHeader {
  id: number;
  version: number;
  eop: boolean;
  /** Words (8 bytes each) from this header to the next one; the data is nextWords - 1 words. */
  nextWords: number;
}

export function decodeParamHeader(raw: bigint): ParamHeader {
  return { id: get(DFHv1_PARAM_HDR_ID, raw), version: get(DFHv1_PARAM_HDR_VER, raw), eop: (raw & DFHv1_PARAM_HDR_NEXT_EOP) !== 0n, nextWords: get(DFHv1_PARAM_HDR_NEXT_OFFSET, raw) };
}

export function encodeParamHeader(p: { id: number; version?: number; eop?: boolean; nextWords: number }): bigint {
  return prep(DFHv1_PARAM_HDR_ID, p.id) | prep(DFHv1_PARAM_HDR_VER, p.version ?? 0) | (p.eop ? DFHv1_PARAM_HDR_NEXT_EOP : 0n) | prep(DFHv1_PARAM_HDR_NEXT_OFFSET, p.nextWords);
}

/** MSI-X parameter data (dfl.h DFHv1_PARAM_MSI_X_STARTV [31:0], DFHv1_PARAM_MSI_X_NUMV [63:32]). */
export function decodeMsixParam(data: bigint): { firstVector: number; count: number } {
  return { firstVector: get(DFHv1_PARAM_MSI_X_STARTV, data), count: get(DFHv1_PARAM_MSI_X_NUMV, data) };
}

export function encodeMsixParam(firstVector: number, count: number): bigint {
  return prep(DFHv1_PARAM_MSI_X_NUMV, count) | prep(DFHv1_PARAM_MSI_X_STARTV, firstVector);
}
