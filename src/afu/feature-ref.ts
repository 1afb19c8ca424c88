// FeatureRef: where a feature's registers are, for code that drives them (PR, BMC, AFU drivers).
import type { Device } from '../device/device.js';
import type { Region } from '../mmio/region.js';
import { csrOffsetOf, type DflParam, type Feature, type FeatureIrq } from '../dfl/feature.js';

export interface FeatureRef {
  id: number;
  name: string;
  bar: number;
  /** Offset of the feature's DFH in `region`. */
  offset: number;
  /**
   * Offset of the feature's register block in `region`: the DFH in v0; in v1 the CSR block the
   * DFH points to when its address is relative. An absolute CSR address (non-PCIe use, dfl.h) is
   * not a BAR offset: csrOffset stays at the DFH and `feature.csr` holds the address.
   */
  csrOffset: number;
  region: Region;
  revision: number;
  /** DFH version (0 or 1). */
  version: number;
  size: number;
  guid?: string;
  params?: DflParam[];
  irq?: FeatureIrq;
  /** The walker's node. */
  feature: Feature;
}

export function featureRef(device: Device, f: Feature): FeatureRef {
  const csrOffset = csrOffsetOf(f) ?? f.offset;
  return {
    id: f.id,
    name: f.name,
    bar: f.bar,
    offset: f.offset,
    csrOffset,
    region: device.region(f.bar),
    revision: f.revision,
    version: f.version,
    size: f.size,
    ...(f.guid !== undefined ? { guid: f.guid } : {}),
    ...(f.params ? { params: f.params } : {}),
    ...(f.irq ? { irq: f.irq } : {}),
    feature: f,
  };
}
