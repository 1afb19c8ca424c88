// Partial reconfiguration of a Card (the card model from Card.discover): finds the FME's PR
// feature (FME private feature 0x5) and the ports, then runs the flow in partial-reconfiguration.ts.
// After a successful PR the AFU behind the port changed: Card.discover(device) again to see it.
import type { Card } from '../card.js';
import type { Gbs } from './gbs.js';
import { FME_FEATURE_ID_PR } from './registers.js';
import { PrError, partialReconfigure, startPartialReconfiguration, type PrJob, type PrOptions, type PrResult, type PrTarget } from './partial-reconfiguration.js';

/** The PR target of a card: its (first) FME's PR feature, FME_CAP port count and ports by number. */
export function prTarget(card: Card): PrTarget {
  const fme = card.fme;
  if (!fme) {
    throw new PrError('EPR_NO_FME', `${card.device.url} has no FME (a VF or a port-only function); partial reconfiguration runs on the PF that holds the FME`, { device: card.device.url });
  }
  const pr = fme.findFeature(FME_FEATURE_ID_PR);
  if (!pr) {
    throw new PrError('EPR_NO_PR_FEATURE', `${card.device.url}: the FME has no partial reconfiguration feature (FME private feature 0x5); this FIM does not support PR`, { device: card.device.url });
  }
  // dfl-fme-mgr.c indexes the PR registers from the feature's MMIO resource: the DFH in v0, the
  // CSR block in v1 (dfl.c create_feature_instance). An absolute CSR address is not in a BAR.
  if (pr.feature.csr?.absolute) {
    throw new PrError('EPR_CSR_ABSOLUTE', `${card.device.url}: the PR feature (DFH v1 at BAR${pr.bar}+0x${pr.offset.toString(16)}) gives an absolute CSR address 0x${pr.feature.csr.address.toString(16)} (DFHv1_CSR_ADDR bit 0 set, "non-PCIe use" in dfl.h); its registers are not in a BAR, so PR is not possible through this function`, { device: card.device.url, bar: pr.bar, offset: pr.offset });
  }
  return { pr: { region: pr.region, offset: pr.csrOffset }, portCount: fme.portCount, port: (n) => card.port(n) };
}

/** Load `gbs` into `card`'s port `options.port` (default 0). */
export function reconfigureCard(card: Card, gbs: Gbs, options: PrOptions = {}): Promise<PrResult> {
  return partialReconfigure(prTarget(card), gbs, options);
}

/** As reconfigureCard, with progress as events / an async iterator. */
export function startCardReconfiguration(card: Card, gbs: Gbs, options: PrOptions = {}): PrJob {
  return startPartialReconfiguration(prTarget(card), gbs, options);
}
