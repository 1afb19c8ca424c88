// What the FME and a Port have in common as FPGA Interface Units: a node in the feature tree whose
// header registers sit at a BAR offset, and a list of private features below it (reference/dfl.md
// "FIU"; drivers/fpga/dfl.c builds both from the same walk).
import type { Device } from '../device/device.js';
import type { Region } from '../mmio/region.js';
import type { Feature } from '../dfl/feature.js';
import { findPrivateFeature } from '../dfl/feature.js';
import { featureRef, type FeatureRef } from './feature-ref.js';
import { bindFeatures, releaseFeatures, type BoundFeature, type FeatureDriver, type FeatureDriverError, type FeatureDriverTable } from './feature-driver.js';

export abstract class Fiu {
  readonly device: Device;
  /** The FIU's node in the feature tree. */
  readonly feature: Feature;
  /** The BAR holding the FIU header. */
  readonly region: Region;
  /** Offset of the FIU's DFH in the BAR. */
  readonly offset: number;
  readonly guid: string;
  #bound: readonly BoundFeature[] = [];

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

  /** Its private features bound to feature drivers (dfl_feature_platform_data features[] with their ops). */
  get bound(): readonly BoundFeature[] {
    return this.#bound;
  }

  /** Bind the private features that have a driver in `table` (the card does this once per walk). */
  bind(table: FeatureDriverTable, errors: FeatureDriverError[]): void {
    this.unbind();
    this.#bound = bindFeatures(this, table, errors);
  }

  /** Release every bound instance. */
  unbind(): void {
    const bound = this.#bound;
    this.#bound = [];
    releaseFeatures(bound);
  }

  /** The instances `driver` made for the private features it bound under this FIU, in walk order. */
  instances<T>(driver: FeatureDriver<T>): T[] {
    return this.#bound.filter((b) => b.driver === driver).map((b) => b.instance as T);
  }

  /** The instance `driver` made for the first private feature it bound under this FIU, or undefined. */
  instance<T>(driver: FeatureDriver<T>): T | undefined {
    return this.instances(driver)[0];
  }
}
