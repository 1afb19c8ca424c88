// The FME thermal management feature (0x1) read as drivers/fpga/dfl-fme-main.c reads it
// (thermal_hwmon_read, temp1_max_policy_show): the FPGA temperature, and when the hardware
// throttles by thresholds (FME_THERM_CAP[0] clear, fme_thermal_throttle_support) the thresholds,
// their alarms and the threshold-1 policy. `hwmon` carries the values under the names and units
// the kernel's dfl_fme_thermal hwmon device shows (millidegrees C; the same attributes visible).
import type { Fme } from './fme.js';
import { registerBlockDriver } from './feature-driver.js';
import { FiuId } from '../dfl/regs/dfh.js';
import { FmeFeatureId } from '../dfl/names.js';
import { DeviceError } from '../errors.js';
import { fieldGet } from '../util/bitfield.js';
import {
  FME_THERM_CAP, FME_THERM_RDSENSOR_FMT1, FME_THERM_THRESHOLD, FPGA_TEMPERATURE, TEMP_THRESHOLD1, TEMP_THRESHOLD1_EN, TEMP_THRESHOLD1_POLICY,
  TEMP_THRESHOLD1_STATUS, TEMP_THRESHOLD2, TEMP_THRESHOLD2_EN, TEMP_THRESHOLD2_STATUS, THERM_NO_THROTTLE, TRIP_THRESHOLD,
} from '../dfl/regs/fme-thermal.js';

export interface FmeThermalThresholds {
  /** temp1_max: threshold 1, degrees C, and whether the hardware enabled it (TEMP_THRESHOLD1_EN). */
  maxC: number;
  maxEnabled: boolean;
  /** temp1_crit: threshold 2 (100% throttling). */
  critC: number;
  critEnabled: boolean;
  /** temp1_emergency: the trip threshold that shuts the FPGA down. */
  emergencyC: number;
  /** temp1_max_alarm / temp1_crit_alarm: the threshold has been reached. */
  maxAlarm: boolean;
  critAlarm: boolean;
  /** temp1_max_policy: what threshold 1 does: 'AP1' 50% throttling (1) or 'AP2' 90% (0). */
  maxPolicy: 'AP1' | 'AP2';
}

export interface FmeThermal {
  /** temp1_input in degrees C. */
  temperatureC: number;
  /** FME_THERM_CAP[0] clear: the hardware throttles by the thresholds (else only the temperature exists). */
  throttleSupported: boolean;
  thresholds?: FmeThermalThresholds;
  /** The kernel's hwmon attributes (temp1_*; millidegrees C, alarms and policy 0/1). */
  hwmon: Record<string, number>;
}

/** Read the FME thermal feature. Throws DeviceError EFME_NO_THERMAL when the FME has none. */
/** The thermal management feature driver (dfl-fme-main.c fme_thermal_mgmt): its instance is the feature's FeatureRef. */
export const fmeThermalDriver = registerBlockDriver('thermal', FiuId.FME, FmeFeatureId.THERMAL);

export function readFmeThermal(fme: Fme): FmeThermal {
  const ref = fme.instance(fmeThermalDriver);
  if (!ref) throw new DeviceError('EFME_NO_THERMAL', 'the FME has no thermal management feature (FME private feature 0x1); read the FPGA temperature through the BMC sensors instead ((await openBmc(device)).sensors())', {});
  const r = (off: number): bigint => ref.region.read64(ref.csrOffset + off);
  const temperatureC = Number(fieldGet(FPGA_TEMPERATURE, r(FME_THERM_RDSENSOR_FMT1)));
  const throttleSupported = fieldGet(THERM_NO_THROTTLE, r(FME_THERM_CAP)) === 0n;
  const hwmon: Record<string, number> = { temp1_input: temperatureC * 1000 };
  if (!throttleSupported) return { temperatureC, throttleSupported, hwmon };
  const v = r(FME_THERM_THRESHOLD);
  const thresholds: FmeThermalThresholds = {
    maxC: Number(fieldGet(TEMP_THRESHOLD1, v)),
    maxEnabled: (v & TEMP_THRESHOLD1_EN) !== 0n,
    critC: Number(fieldGet(TEMP_THRESHOLD2, v)),
    critEnabled: (v & TEMP_THRESHOLD2_EN) !== 0n,
    emergencyC: Number(fieldGet(TRIP_THRESHOLD, v)),
    maxAlarm: (v & TEMP_THRESHOLD1_STATUS) !== 0n,
    critAlarm: (v & TEMP_THRESHOLD2_STATUS) !== 0n,
    maxPolicy: (v & TEMP_THRESHOLD1_POLICY) !== 0n ? 'AP1' : 'AP2',
  };
  Object.assign(hwmon, {
    temp1_max: thresholds.maxC * 1000,
    temp1_crit: thresholds.critC * 1000,
    temp1_emergency: thresholds.emergencyC * 1000,
    temp1_max_alarm: Number(thresholds.maxAlarm),
    temp1_crit_alarm: Number(thresholds.critAlarm),
    temp1_max_policy: thresholds.maxPolicy === 'AP1' ? 1 : 0,
  });
  return { temperatureC, throttleSupported, thresholds, hwmon };
}
