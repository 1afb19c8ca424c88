// Partial reconfiguration of a Card (the card model from Card.discover): the FME's PR feature as
// bound by the walk (fme-pr.ts) and the ports, then the flow in partial-reconfiguration.ts.
// After a successful PR the AFU behind the port changed: Card.discover(device) again to see it.
import type { Card } from '../card.js';
import type { Gbs } from './gbs.js';
import type { FpgaManager } from './fpga-manager.js';
import type { PrFeatureRef } from './fme-mgr.js';
import { fmePrDriver } from './fme-pr.js';
import { PrError, partialReconfigure, startPartialReconfiguration, type PrJob, type PrOptions, type PrResult, type PrTarget } from './partial-reconfiguration.js';

/** The PR target of a card: its (first) FME's PR manager and registers, FME_CAP port count and ports by number. */
export function prTarget(card: Card): PrTarget & { pr: PrFeatureRef; manager: FpgaManager } {
  const fme = card.fme;
  if (!fme) {
    throw new PrError('EPR_NO_FME', `${card.device.url} has no FME (a VF or a port-only function); partial reconfiguration runs on the PF that holds the FME`, { device: card.device.url });
  }
  const pr = fme.instance(fmePrDriver);
  if (!pr) {
    const refused = card.driverErrors.find((e) => fmePrDriver.ids.includes(e.key));
    if (refused) throw refused.error;
    throw new PrError('EPR_NO_PR_FEATURE', `${card.device.url}: the FME has no partial reconfiguration feature (FME private feature 0x5); this FIM does not support PR`, { device: card.device.url });
  }
  return { pr: pr.registers, manager: pr.manager, portCount: fme.portCount, port: (n) => card.port(n) };
}

/** Load `gbs` into `card`'s port `options.port` (default 0). */
export function reconfigureCard(card: Card, gbs: Gbs, options: PrOptions = {}): Promise<PrResult> {
  return partialReconfigure(prTarget(card), gbs, options);
}

/** As reconfigureCard, with progress as events / an async iterator. */
export function startCardReconfiguration(card: Card, gbs: Gbs, options: PrOptions = {}): PrJob {
  return startPartialReconfiguration(prTarget(card), gbs, options);
}
