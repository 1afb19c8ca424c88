// The FME power management feature (0x2) as drivers/fpga/dfl-fme-main.c uses it: power_hwmon_read
// (consumption, thresholds, alarms), power1_xeon_limit/fpga_limit/ltr_show, and power_hwmon_write
// (a read-modify-write of one threshold field of FME_PWR_THRESHOLD under the feature's lock; the
// kernel clamps to 0..127 W, this API refuses what the field cannot hold instead). `hwmon` carries
// the values under the names and units the kernel's dfl_fme_power hwmon device shows (microwatts).
import type { Fme } from './fme.js';
import type { FeatureRef } from './feature-ref.js';
import { registerBlockDriver } from './feature-driver.js';
import { FiuId } from '../dfl/regs/dfh.js';
import { FmeFeatureId } from '../dfl/names.js';
import { ArgumentError, DeviceError } from '../errors.js';
import { fieldFit, fieldGet, fieldSet } from '../util/bitfield.js';
import {
  FME_LATENCY_TOLERANCE, FME_PWR_FPGA_LIMIT, FME_PWR_STATUS, FME_PWR_THRESHOLD, FME_PWR_XEON_LIMIT, FPGA_PWR_EN, FPGA_PWR_LIMIT,
  PWR_CONSUMED, PWR_THRESHOLD1, PWR_THRESHOLD1_STATUS, PWR_THRESHOLD2, PWR_THRESHOLD2_STATUS, PWR_THRESHOLD_MAX, XEON_PWR_EN, XEON_PWR_LIMIT,
} from '../dfl/regs/fme-power.js';

export interface FmePower {
  /** power1_input in W (PWR_CONSUMED). */
  consumedW: number;
  /** power1_max / power1_crit: thresholds 1 and 2 in W. */
  maxW: number;
  critW: number;
  /** power1_max_alarm / power1_crit_alarm: the threshold has been reached. */
  maxAlarm: boolean;
  critAlarm: boolean;
  /** power1_xeon_limit / power1_fpga_limit in W; undefined when not enabled (the kernel shows 0). */
  xeonLimitW: number | undefined;
  fpgaLimitW: number | undefined;
  /** power1_ltr: latency tolerance reporting (FME_PWR_STATUS[18]). */
  latencyTolerance: boolean;
  /** The kernel's hwmon attributes (power1_*; microwatts, alarms and ltr 0/1). */
  hwmon: Record<string, number>;
}

/** The power management feature driver (dfl-fme-main.c fme_power_mgmt): its instance is the feature's FeatureRef. */
export const fmePowerDriver = registerBlockDriver('power', FiuId.FME, FmeFeatureId.POWER);

function powerFeature(fme: Fme): FeatureRef {
  const ref = fme.instance(fmePowerDriver);
  if (!ref) throw new DeviceError('EFME_NO_POWER', 'the FME has no power management feature (FME private feature 0x2); read the board power through the BMC sensors instead ((await openBmc(device)).sensors())', {});
  return ref;
}

/** A limit register in 0.1 W, or undefined when its enable bit is clear (power1_xeon_limit_show). */
function limitW(v: bigint, limit: bigint, en: bigint): number | undefined {
  return (v & en) !== 0n ? Number(fieldGet(limit, v)) / 10 : undefined;
}

/** Read the FME power feature. Throws DeviceError EFME_NO_POWER when the FME has none. */
export function readFmePower(fme: Fme): FmePower {
  const ref = powerFeature(fme);
  const r = (off: number): bigint => ref.region.read64(ref.csrOffset + off);
  const status = r(FME_PWR_STATUS);
  const threshold = r(FME_PWR_THRESHOLD);
  const p: Omit<FmePower, 'hwmon'> = {
    consumedW: Number(fieldGet(PWR_CONSUMED, status)),
    maxW: Number(fieldGet(PWR_THRESHOLD1, threshold)),
    critW: Number(fieldGet(PWR_THRESHOLD2, threshold)),
    maxAlarm: (threshold & PWR_THRESHOLD1_STATUS) !== 0n,
    critAlarm: (threshold & PWR_THRESHOLD2_STATUS) !== 0n,
    xeonLimitW: limitW(r(FME_PWR_XEON_LIMIT), XEON_PWR_LIMIT, XEON_PWR_EN),
    fpgaLimitW: limitW(r(FME_PWR_FPGA_LIMIT), FPGA_PWR_LIMIT, FPGA_PWR_EN),
    latencyTolerance: (status & FME_LATENCY_TOLERANCE) !== 0n,
  };
  const micro = 1_000_000;
  return {
    ...p,
    hwmon: {
      power1_input: p.consumedW * micro,
      power1_max: p.maxW * micro,
      power1_crit: p.critW * micro,
      power1_max_alarm: Number(p.maxAlarm),
      power1_crit_alarm: Number(p.critAlarm),
      power1_xeon_limit: Math.round((p.xeonLimitW ?? 0) * micro),
      power1_fpga_limit: Math.round((p.fpgaLimitW ?? 0) * micro),
      power1_ltr: Number(p.latencyTolerance),
    },
  };
}

/**
 * Set the power thresholds (power1_max = threshold 1, power1_crit = threshold 2) in whole watts,
 * 0..127, each with a read-modify-write of its field as power_hwmon_write does. Returns the power
 * state read back.
 */
export function setFmePowerThresholds(fme: Fme, thresholds: { maxW?: number; critW?: number }): FmePower {
  const ref = powerFeature(fme);
  for (const [name, w] of Object.entries(thresholds)) {
    if (w !== undefined && !(Number.isInteger(w) && fieldFit(PWR_THRESHOLD1, w))) {
      throw new ArgumentError('EINVAL', `power threshold ${name} = ${String(w)} is not a whole number of watts in 0..${PWR_THRESHOLD_MAX} (FME_PWR_THRESHOLD holds 7 bits)`, { [name]: String(w) });
    }
  }
  const at = ref.csrOffset + FME_PWR_THRESHOLD;
  for (const [mask, w] of [[PWR_THRESHOLD1, thresholds.maxW], [PWR_THRESHOLD2, thresholds.critW]] as const) {
    if (w === undefined) continue;
    ref.region.write64(at, fieldSet(mask, ref.region.read64(at), w));
  }
  return readFmePower(fme);
}
