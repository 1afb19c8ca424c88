// The feature tree the walker produces: FIUs (FME, Port) at the roots, their private features and
// (under a Port) the AFU as children, BBBs and AFU-private features under the AFU.
import type { DfhV1Csr, FeatureType } from './dfh.js';

/** One DFHv1 parameter (dfl.md "DFH v1 additions"). */
export interface DflParam {
  id: number;
  version: number;
  /** Byte offset of the parameter header relative to the feature's DFH. */
  offset: number;
  /** The parameter's data words (between its header and the next one). */
  data: bigint[];
}

/** Interrupt vectors a feature uses: from a v1 MSI-X parameter or a v0 capability register. */
export interface FeatureIrq {
  firstVector: number;
  count: number;
  source: 'msix-param' | 'port-uint-cap' | 'port-error-cap' | 'fme-error-cap';
}

export interface Feature {
  /** BAR (region index) holding the DFH. */
  bar: number;
  /** Byte offset of the DFH inside the BAR. */
  offset: number;
  type: FeatureType;
  /** DFH[11:0]. */
  id: number;
  /** Name keyed by (FIU type, feature ID), e.g. 'fme', 'pr', 'port-error', 'afu'. */
  name: string;
  /** DFH[15:12]. */
  revision: number;
  /** DFH[51:48] (v1; 0 in v0). */
  minorRevision: number;
  /** DFH version (DFH[59:52]): 0 or 1. */
  version: number;
  /** Byte span of the feature in its BAR (next offset, 4 KiB when 0, PORT_CAP MMIO size for an AFU). */
  size: number;
  /** GUID of an FIU, AFU or BBB. */
  guid?: string;
  /** v1 CSR block description. */
  csr?: DfhV1Csr;
  /** v1 parameters. */
  params?: DflParam[];
  irq?: FeatureIrq;
  children: Feature[];
}

/** Every feature of a tree, depth first (parents before children). */
export function flattenFeatures(roots: readonly Feature[]): Feature[] {
  const out: Feature[] = [];
  const visit = (f: Feature): void => {
    out.push(f);
    for (const c of f.children) visit(c);
  };
  for (const r of roots) visit(r);
  return out;
}

/** The first direct child of `parent` that is a private feature with ID `id`. */
export function findPrivateFeature(parent: Feature, id: number): Feature | undefined {
  for (const c of parent.children) if (c.type === 'private' && c.id === id) return c;
  return undefined;
}

/**
 * Offset in its BAR of a feature's register block, as dfl.c create_feature_instance places the
 * feature's MMIO resource: the DFH in v0; in v1 the CSR block at the DFH plus the CSR address
 * (DFHv1_CSR_ADDR_REL = 0). Undefined for an absolute CSR address (DFHv1_CSR_ADDR_REL = 1, "ARM
 * or other non-PCIe use", dfl.h): a bus address no BAR offset reaches.
 */
export function csrOffsetOf(f: Feature): number | undefined {
  if (!f.csr) return f.offset;
  return f.csr.absolute ? undefined : f.offset + Number(f.csr.address);
}
