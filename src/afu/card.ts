// Card: the model of one DFL card built from a walk of its feature lists (reference/dfl.md).
// Card.discover(device) is synchronous (register reads are): FMEs, Ports (ordered by port
// number) and their AFUs, plus the whole feature tree. After partial reconfiguration, discover
// again to see the new AFU.
import type { Device } from '../device/device.js';
import { walkDfl, type DflWalk, type WalkOptions } from '../dfl/walk.js';
import type { Feature } from '../dfl/feature.js';
import { flattenFeatures } from '../dfl/feature.js';
import { FiuId } from '../dfl/regs/dfh.js';
import { logger } from '../util/log.js';
import { Fme } from './fme.js';
import { Port } from './port.js';
import { Afu } from './afu.js';
import { CardEvents, type CardEventOptions } from './events.js';

const log = logger('afu:card');

export class Card {
  readonly device: Device;
  readonly fmes: Fme[];
  /** The first FME (a PF has one). */
  readonly fme: Fme | undefined;
  /** Ports in port-number order: card.ports[n] is port n when the numbers are 0..N-1. */
  readonly ports: Port[];
  readonly afus: Afu[];
  /** Roots of the feature tree. */
  readonly features: Feature[];
  /** The walk the card was built from (discovery method, lists, warnings). */
  readonly walk: DflWalk;

  private constructor(device: Device, walk: DflWalk) {
    this.device = device;
    this.walk = walk;
    this.features = walk.features;
    this.fmes = walk.features.filter((f) => f.type === 'fiu' && f.id === FiuId.FME).map((f) => new Fme(device, f));
    this.fme = this.fmes[0];
    this.ports = walk.features.filter((f) => f.type === 'fiu' && f.id === FiuId.PORT).map((f) => new Port(device, f)).sort((a, b) => a.number - b.number);
    this.afus = [];
    for (const port of this.ports) {
      const node = port.feature.children.find((c) => c.type === 'afu');
      if (node) this.afus.push(new Afu(port, node));
    }
  }

  /** Walk the device's DFLs and build the card model. Throws DflError on a malformed list. */
  static discover(device: Device, options?: WalkOptions): Card {
    const card = new Card(device, walkDfl(device, options));
    log('%s: %d FME, %d port(s), %d AFU(s), %d features', device.url, card.fmes.length, card.ports.length, card.afus.length, card.walk.count);
    return card;
  }

  /** The port numbered `n` (PORT_CAP[1:0]), or undefined. */
  port(n: number): Port | undefined {
    return this.ports.find((p) => p.number === n);
  }

  /** The AFU behind port `n`, or undefined. */
  afu(n = 0): Afu | undefined {
    return this.afus.find((a) => a.port.number === n);
  }

  /**
   * Watch for error events (FME and port errors, on their MSI-X vectors where the card has them)
   * and power/thermal alarm events (polled): OPAE's fpgaRegisterEvent ERROR / POWER_THERMAL.
   * Close the returned object (or `using` it) to release the vectors and timers.
   */
  events(options?: CardEventOptions): CardEvents {
    return new CardEvents(this, options);
  }

  /** Every feature node, depth first. */
  allFeatures(): Feature[] {
    return flattenFeatures(this.features);
  }
}
