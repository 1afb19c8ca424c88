// Card: the model of one DFL card built from a walk of its feature lists (reference/dfl.md).
// Card.discover(device) is synchronous (register reads are): FMEs, Ports (ordered by port
// number) and their AFUs, the whole feature tree, and the private features bound to their feature
// drivers (feature-driver.ts; the defaults are in default-drivers.ts), found once by the walk.
// An open Device has one Card, as the kernel has one feature device per FIU for as long as the
// driver is bound: discovering again re-walks the same Card (after partial reconfiguration, to
// see the new AFU) and keeps what belongs to the card across walks, the ports' disable counts
// (dfl_feature_platform_data.disable_count, dfl-afu-main.c __afu_port_disable).
import type { Device } from '../device/device.js';
import { walkDfl, type DflWalk, type WalkOptions } from '../dfl/walk.js';
import type { Feature } from '../dfl/feature.js';
import { flattenFeatures } from '../dfl/feature.js';
import { FiuId } from '../dfl/regs/dfh.js';
import { logger } from '../util/log.js';
import { Fme } from './fme.js';
import { Port } from './port.js';
import { Afu } from './afu.js';
import { FeatureDriverTable, type BoundFeature, type FeatureDriver, type FeatureDriverError } from './feature-driver.js';
import { defaultFeatureDrivers } from './default-drivers.js';

const log = logger('afu:card');

export interface CardOptions extends WalkOptions {
  /** Feature drivers bound in addition to the defaults; one listing a key the defaults list replaces it for that key. */
  drivers?: readonly FeatureDriver[];
  /** Bind only `drivers`, none of defaultFeatureDrivers(). */
  noDefaultDrivers?: boolean;
}

interface Scan {
  walk: DflWalk;
  fmes: Fme[];
  ports: Port[];
  afus: Afu[];
  driverErrors: FeatureDriverError[];
}

/** The Card of each open Device: one model per device, however often it is discovered. */
const cards = new WeakMap<Device, Card>();

export class Card {
  readonly device: Device;
  /** Disable counts of the ports by header location: they outlive a re-walk (port.ts). */
  readonly #portDisableCounts = new Map<string, number>();
  #scan: Scan;

  private constructor(device: Device, options: CardOptions | undefined) {
    this.device = device;
    this.#scan = this.#walk(options);
  }

  /**
   * Walk the device's DFLs and bind the feature drivers: the device's Card, built on the first
   * call and walked again on every later one. Throws DflError on a malformed list.
   */
  static discover(device: Device, options?: CardOptions): Card {
    let card = cards.get(device);
    if (card) card.rescan(options);
    else cards.set(device, (card = new Card(device, options)));
    log('%s: %d FME, %d port(s), %d AFU(s), %d features, %d bound', device.url, card.fmes.length, card.ports.length, card.afus.length, card.walk.count, card.bindings.length);
    return card;
  }

  /** Walk again (after PR the AFU behind a port changed): release the bound drivers, re-bind them. */
  rescan(options?: CardOptions): void {
    const scan = this.#walk(options);
    this.#unbind();
    this.#scan = scan;
  }

  /** Release every bound feature driver; the Card is walked afresh by the next discover. */
  release(): void {
    this.#unbind();
    if (cards.get(this.device) === this) cards.delete(this.device);
  }

  #walk(options: CardOptions = {}): Scan {
    const { drivers = [], noDefaultDrivers = false, ...walkOptions } = options;
    const walk = walkDfl(this.device, walkOptions);
    const fmes = walk.features.filter((f) => f.type === 'fiu' && f.id === FiuId.FME).map((f) => new Fme(this.device, f));
    const ports = walk.features.filter((f) => f.type === 'fiu' && f.id === FiuId.PORT).map((f) => new Port(this.device, f, this.#portDisableCounts)).sort((a, b) => a.number - b.number);
    const afus: Afu[] = [];
    for (const port of ports) {
      const node = port.feature.children.find((c) => c.type === 'afu');
      if (node) afus.push(new Afu(port, node));
    }
    const table = new FeatureDriverTable([...(noDefaultDrivers ? [] : defaultFeatureDrivers()), ...drivers]);
    const driverErrors: FeatureDriverError[] = [];
    for (const fiu of [...fmes, ...ports]) fiu.bind(table, driverErrors);
    return { walk, fmes, ports, afus, driverErrors };
  }

  #unbind(): void {
    for (const fiu of [...this.#scan.fmes, ...this.#scan.ports]) fiu.unbind();
  }

  /** The walk the card was built from (discovery method, lists, warnings). */
  get walk(): DflWalk {
    return this.#scan.walk;
  }

  /** Roots of the feature tree. */
  get features(): Feature[] {
    return this.#scan.walk.features;
  }

  get fmes(): readonly Fme[] {
    return this.#scan.fmes;
  }

  /** The first FME (a PF has one). */
  get fme(): Fme | undefined {
    return this.#scan.fmes[0];
  }

  /** Ports in port-number order: card.ports[n] is port n when the numbers are 0..N-1. */
  get ports(): readonly Port[] {
    return this.#scan.ports;
  }

  get afus(): readonly Afu[] {
    return this.#scan.afus;
  }

  /** Every private feature bound to a feature driver, FMEs first, in walk order. */
  get bindings(): readonly BoundFeature[] {
    return [...this.fmes, ...this.ports].flatMap((fiu) => fiu.bound);
  }

  /** Features whose driver refused them (its init threw a typed error); they stay unbound. */
  get driverErrors(): readonly FeatureDriverError[] {
    return this.#scan.driverErrors;
  }

  /** The first feature bound under `key` ('fme:0x5'), or undefined. */
  binding(key: string): BoundFeature | undefined {
    return this.bindings.find((b) => b.key === key);
  }

  /** The port numbered `n` (PORT_CAP[1:0]), or undefined. */
  port(n: number): Port | undefined {
    return this.ports.find((p) => p.number === n);
  }

  /** The AFU behind port `n`, or undefined. */
  afu(n = 0): Afu | undefined {
    return this.afus.find((a) => a.port.number === n);
  }

  /** Every feature node, depth first. */
  allFeatures(): Feature[] {
    return flattenFeatures(this.features);
  }
}
