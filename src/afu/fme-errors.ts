// The FME's global errors (FME private feature 0x4) as the kernel reads and clears them
// (drivers/fpga/dfl-fme-error.c): read every error register; clear FME_ERROR and PCIE0/1_ERROR by
// masking all errors, writing back exactly the value read (write 1 to clear) and unmasking, with
// MBP_ERROR kept masked on revision 0 of the feature; inject RAS errors through RAS_ERROR_INJECT.
// The feature driver binds 'fme:0x4' once per walk (dfl-fme-main.c fme_feature_drvs
// fme_global_err_ops); the functions below act on the FME's bound instance.
import type { Fme } from './fme.js';
import type { FeatureRef } from './feature-ref.js';
import { registerBlockDriver } from './feature-driver.js';
import { FiuId } from '../dfl/regs/dfh.js';
import { FmeFeatureId } from '../dfl/names.js';
import { FmeErrorReg, FME_ERROR_MASK_ALL, FME_INJECT_ERROR_MASK, FME_MBP_ERROR } from '../dfl/regs/fiu.js';
import { fieldFit, fieldPrep } from '../util/bitfield.js';
import { updateBits64 } from '../mmio/bits.js';
import { DeviceError, ArgumentError } from '../errors.js';

export interface FmeErrors {
  /** FME_ERROR (dfl-fme-error.c fme_errors). */
  fmeErrors: bigint;
  pcie0Errors: bigint;
  pcie1Errors: bigint;
  /** RAS_NONFAT_ERROR (nonfatal_errors). */
  nonFatalErrors: bigint;
  /** RAS_CATFAT_ERROR (catfatal_errors). */
  catFatalErrors: bigint;
  /** RAS_ERROR_INJECT[2:0] (inject_errors). */
  injectErrors: bigint;
  firstError: bigint;
  nextError: bigint;
}

const CLEARABLE = [
  ['fmeErrors', FmeErrorReg.FME_ERROR, FmeErrorReg.FME_ERROR_MASK],
  ['pcie0Errors', FmeErrorReg.PCIE0_ERROR, FmeErrorReg.PCIE0_ERROR_MASK],
  ['pcie1Errors', FmeErrorReg.PCIE1_ERROR, FmeErrorReg.PCIE1_ERROR_MASK],
] as const;

/** The global error feature driver: its instance is the feature's FeatureRef. */
export const fmeErrorDriver = registerBlockDriver('global-error', FiuId.FME, FmeFeatureId.GLOBAL_ERROR);

function globalError(fme: Fme): FeatureRef {
  const ref = fme.instance(fmeErrorDriver);
  if (!ref) throw new DeviceError('EFME_NO_ERROR_FEATURE', 'the FME has no global error feature (FME private feature 0x4); its errors cannot be read or cleared', {});
  return ref;
}

export function readFmeErrors(fme: Fme): FmeErrors {
  const { region, csrOffset: base } = globalError(fme);
  const r = (off: number): bigint => region.read64(base + off);
  return {
    fmeErrors: r(FmeErrorReg.FME_ERROR),
    pcie0Errors: r(FmeErrorReg.PCIE0_ERROR),
    pcie1Errors: r(FmeErrorReg.PCIE1_ERROR),
    nonFatalErrors: r(FmeErrorReg.RAS_NONFAT_ERROR),
    catFatalErrors: r(FmeErrorReg.RAS_CATFAT_ERROR),
    injectErrors: r(FmeErrorReg.RAS_ERROR_INJECT) & FME_INJECT_ERROR_MASK,
    firstError: r(FmeErrorReg.FME_FIRST_ERROR),
    nextError: r(FmeErrorReg.FME_NEXT_ERROR),
  };
}

/** Clear the latched FME, PCIe0 and PCIe1 errors; returns what was cleared (the values read). */
export function clearFmeErrors(fme: Fme): Pick<FmeErrors, 'fmeErrors' | 'pcie0Errors' | 'pcie1Errors'> {
  const ref = globalError(fme);
  const { region, csrOffset: base } = ref;
  const cleared = { fmeErrors: 0n, pcie0Errors: 0n, pcie1Errors: 0n };
  for (const [key, errorReg, maskReg] of CLEARABLE) {
    region.write64(base + maskReg, FME_ERROR_MASK_ALL);
    const v = region.read64(base + errorReg);
    if (v !== 0n) region.write64(base + errorReg, v);
    cleared[key] = v;
    // Unmask; fme_errors_store keeps MBP_ERROR masked on revision 0 of the feature.
    region.write64(base + maskReg, errorReg === FmeErrorReg.FME_ERROR && ref.revision === 0 ? FME_MBP_ERROR : 0n);
  }
  return cleared;
}

/** Set RAS_ERROR_INJECT[2:0] (inject_errors): bit 0 catastrophic, 1 fatal, 2 non-fatal; 0 stops injecting. */
export function injectFmeErrors(fme: Fme, bits: number): void {
  if (!Number.isInteger(bits) || !fieldFit(FME_INJECT_ERROR_MASK, bits)) {
    throw new ArgumentError('EINVAL', `inject bits ${bits} outside RAS_ERROR_INJECT[2:0] (0..7: 1 catastrophic, 2 fatal, 4 non-fatal)`, { bits });
  }
  const { region, csrOffset: base } = globalError(fme);
  updateBits64(region, base + FmeErrorReg.RAS_ERROR_INJECT, FME_INJECT_ERROR_MASK, fieldPrep(FME_INJECT_ERROR_MASK, bits));
}
