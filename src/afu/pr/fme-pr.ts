// The FME PR feature driver (FME private feature 0x5; drivers/fpga/dfl-fme-pr.c, whose
// pr_mgmt_init creates the FME's FPGA manager over the feature's registers): bound once by the
// card's walk, it holds the card's FpgaManager, whose state persists across loads (mgr->state).
import { PrError } from './partial-reconfiguration.js';
import { FpgaManager } from './fpga-manager.js';
import { fmeMgrOps, type PrFeatureRef } from './fme-mgr.js';
import { featureKey } from '../../dfl/names.js';
import { FiuId } from '../../dfl/regs/dfh.js';
import { FME_FEATURE_ID_PR } from './registers.js';
import type { FeatureDriver } from '../feature-driver.js';
import type { FeatureRef } from '../feature-ref.js';

/** The PR feature of an FME, bound. */
export interface FmePr {
  readonly ref: FeatureRef;
  /** The PR registers: the DFH in v0, the CSR block in v1. */
  readonly registers: PrFeatureRef;
  readonly manager: FpgaManager;
}

export const fmePrDriver: FeatureDriver<FmePr> = {
  name: 'pr',
  ids: [featureKey(FiuId.FME, FME_FEATURE_ID_PR)],
  init(ref, fiu) {
    // dfl-fme-mgr.c indexes the PR registers from the feature's MMIO resource: the DFH in v0, the
    // CSR block in v1 (dfl.c create_feature_instance). An absolute CSR address is not in a BAR.
    if (ref.feature.csr?.absolute) {
      const url = fiu.device.url;
      throw new PrError('EPR_CSR_ABSOLUTE', `${url}: the PR feature (DFH v1 at BAR${ref.bar}+0x${ref.offset.toString(16)}) gives an absolute CSR address 0x${ref.feature.csr.address.toString(16)} (DFHv1_CSR_ADDR bit 0 set, "non-PCIe use" in dfl.h); its registers are not in a BAR, so PR is not possible through this function`, { device: url, bar: ref.bar, offset: ref.offset });
    }
    const registers = { region: ref.region, offset: ref.csrOffset };
    return { ref, registers, manager: new FpgaManager(fmeMgrOps(registers)) };
  },
};
