// Feature drivers: the host side of DFL private features, bound once per walk the way
// drivers/fpga/dfl.c binds them. Each FIU driver lists dfl_feature_driver entries (dfl-fme-main.c
// fme_feature_drvs, dfl-afu-main.c port_feature_drvs): an id table and dfl_feature_ops with
// init/uinit; dfl_fpga_dev_feature_init matches every private feature of the FIU against the
// tables (dfl_feature_drv_match) and runs init for each match (dfl_feature_instance_init).
// Here the id table is keyed '<fiu>:<feature id>' ('fme:0x5', 'port:0x10'), the keys the sim's
// feature models use (src/sim/defaults.ts), so a feature has one name on both sides.
import { ArgumentError, VfiokitError } from '../errors.js';
import { logger } from '../util/log.js';
import { featureKey } from '../dfl/names.js';
import { featureRef, type FeatureRef } from './feature-ref.js';
import type { Fiu } from './fiu.js';

const log = logger('afu:driver');

const KEY_RE = /^(fme|port):0x[0-9a-f]{1,3}$/;

export interface FeatureDriver<T = unknown> {
  /** What the driver drives, for logs and errors ('pr', 'bmc', 'global-error'). */
  readonly name: string;
  /** The features it binds, keyed '<fiu>:<feature id>' in lower-case hex (dfl_feature_driver id_table). */
  readonly ids: readonly string[];
  /**
   * Whether to bind this feature (dfl_feature_drv_match, refined): return false to leave it
   * unbound, e.g. a revision the driver does not know. Absent: every feature in `ids` binds.
   */
  probe?(ref: FeatureRef, fiu: Fiu): boolean;
  /**
   * Build the driver's instance for one feature (dfl_feature_ops.init). Runs once per walk and is
   * synchronous (register reads only; waits belong to the instance's async methods). Throwing a
   * VfiokitError leaves the feature unbound and is recorded in Card.driverErrors.
   */
  init(ref: FeatureRef, fiu: Fiu): T;
  /** Release what init took (dfl_feature_ops.uinit): on Card.rescan() and Card.release(). */
  release?(instance: T): void;
}

/**
 * A driver whose instance is the feature's register block itself (its FeatureRef): the features
 * whose host side is plain register reads (thermal, power, global and port errors).
 */
export function registerBlockDriver(name: string, fiu: number, id: number): FeatureDriver<FeatureRef> {
  return { name, ids: [featureKey(fiu, id)], init: (ref) => ref };
}

/** One feature bound to its driver. */
export interface BoundFeature<T = unknown> {
  readonly key: string;
  readonly driver: FeatureDriver<T>;
  readonly ref: FeatureRef;
  readonly instance: T;
}

/** A feature whose driver's init refused it. */
export interface FeatureDriverError {
  readonly key: string;
  readonly driver: string;
  readonly error: VfiokitError;
}

/** The id table of a card: feature key -> driver; a later driver for a key replaces an earlier one. */
export class FeatureDriverTable {
  readonly #byKey = new Map<string, FeatureDriver>();

  constructor(drivers: Iterable<FeatureDriver> = []) {
    for (const d of drivers) this.add(d);
  }

  add(driver: FeatureDriver): this {
    for (const key of driver.ids) {
      if (!KEY_RE.test(key)) {
        throw new ArgumentError('EARG_FEATURE_KEY', `feature driver "${driver.name}" lists "${key}"; a feature key is '<fme|port>:0x<id>' with the ID in lower-case hex, e.g. 'fme:0x5'`, { driver: driver.name, key });
      }
      this.#byKey.set(key, driver);
    }
    return this;
  }

  match(key: string): FeatureDriver | undefined {
    return this.#byKey.get(key);
  }

  get keys(): string[] {
    return [...this.#byKey.keys()];
  }
}

/** Bind every private feature of `fiu` that has a driver in `table` (dfl_fpga_dev_feature_init). */
export function bindFeatures(fiu: Fiu, table: FeatureDriverTable, errors: FeatureDriverError[]): BoundFeature[] {
  const bound: BoundFeature[] = [];
  for (const child of fiu.feature.children) {
    if (child.type !== 'private') continue;
    const key = featureKey(fiu.feature.id, child.id);
    const driver = table.match(key);
    if (!driver) continue;
    const ref = featureRef(fiu.device, child);
    if (driver.probe && !driver.probe(ref, fiu)) continue;
    try {
      bound.push({ key, driver, ref, instance: driver.init(ref, fiu) });
      log('%s: %s bound to %s at BAR%d+0x%s', fiu.device.url, key, driver.name, ref.bar, ref.offset.toString(16));
    } catch (err) {
      if (!(err instanceof VfiokitError)) throw err;
      log('%s: %s refused by %s: %s', fiu.device.url, key, driver.name, err.message);
      errors.push({ key, driver: driver.name, error: err });
    }
  }
  return bound;
}

/** Release the instances of `bound` (dfl_fpga_dev_feature_uinit); a failing release is logged, the rest still run. */
export function releaseFeatures(bound: readonly BoundFeature[]): void {
  for (const b of bound) {
    try {
      b.driver.release?.(b.instance);
    } catch (err) {
      if (!(err instanceof VfiokitError)) throw err;
      log('%s: release by %s failed: %s', b.key, b.driver.name, err.message);
    }
  }
}
