// What the FME and a Port have in common as FPGA Interface Units: a node in the feature tree whose
// header registers sit at a BAR offset, and a list of private features below it (reference/dfl.md
// "FIU"; drivers/fpga/dfl.c builds both from the same walk).
import type { Device } from '../device/device.js';
import type { Region } from '../mmio/region.js';
import type { Feature } from '../dfl/feature.js';
import { findPrivateFeature } from '../dfl/feature.js';
import { featureRef, type FeatureRef } from './feature-ref.js';

export abstract class Fiu {
  readonly device: Device;
  /** The FIU's node in the feature tree. */
  readonly feature: Feature;
  /** The BAR holding the FIU header. */
  readonly region: Region;
  /** Offset of the FIU's DFH in the BAR. */
  readonly offset: number;
  readonly guid: string;

  constructor(device: Device, feature: Feature) {
    this.device = device;
    this.feature = feature;
    this.region = device.region(feature.bar);
    this.offset = feature.offset;
    this.guid = feature.guid ?? '';
  }

  /** The private feature with this ID (FME: 0x5 PR, 0xe MAX10 SPI, ...; Port: 0x10 error, 0x12 UINT, ...), or undefined. */
  findFeature(id: number): FeatureRef | undefined {
    const f = findPrivateFeature(this.feature, id);
    return f ? featureRef(this.device, f) : undefined;
  }

  /** Every private feature of the FIU. */
  get features(): FeatureRef[] {
    return this.feature.children.filter((c) => c.type === 'private').map((c) => featureRef(this.device, c));
  }
}
