// FME thermal management, private feature 0x1 (drivers/fpga/dfl-fme-main.c fme_thermal_mgmt),
// offsets from the feature's register block. Shared by the host decoder (src/afu/thermal.ts) and
// the sim's device model (src/sim/thermal-model.ts).
import { bit64, genmask64 } from '../../util/bitfield.js';

/** FME_THERM_THRESHOLD: hardware thresholds (degrees C), their enables, alarm status and policy. */
export const FME_THERM_THRESHOLD = 0x8;
/** temp1_max: threshold 1 (50% or 90% throttling, see POLICY). */
export const TEMP_THRESHOLD1 = genmask64(6, 0);
export const TEMP_THRESHOLD1_EN = bit64(7);
/** temp1_crit: threshold 2 (100% throttling). */
export const TEMP_THRESHOLD2 = genmask64(14, 8);
export const TEMP_THRESHOLD2_EN = bit64(15);
/** temp1_emergency: the trip threshold that shuts the FPGA down. */
export const TRIP_THRESHOLD = genmask64(30, 24);
/** temp1_max_alarm: threshold 1 reached. */
export const TEMP_THRESHOLD1_STATUS = bit64(32);
/** temp1_crit_alarm: threshold 2 reached. */
export const TEMP_THRESHOLD2_STATUS = bit64(33);
/** temp1_max_policy: 0 AP2 (90% throttle), 1 AP1 (50% throttle). */
export const TEMP_THRESHOLD1_POLICY = bit64(44);

/** FME_THERM_RDSENSOR_FMT1: the FPGA temperature in degrees C. */
export const FME_THERM_RDSENSOR_FMT1 = 0x10;
export const FPGA_TEMPERATURE = genmask64(6, 0);

/** FME_THERM_CAP: [0] set when the hardware does not throttle by the thresholds. */
export const FME_THERM_CAP = 0x20;
export const THERM_NO_THROTTLE = bit64(0);
