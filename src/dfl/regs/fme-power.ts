// FME power management, private feature 0x2 (drivers/fpga/dfl-fme-main.c fme_power_mgmt), offsets
// from the feature's register block. Shared by the host decoder (src/afu/power.ts) and the sim's
// device model (src/sim/power-model.ts).
import { bit64, genmask64 } from '../../util/bitfield.js';

/** FME_PWR_STATUS: power consumed (W) and the latency tolerance reporting bit (power1_ltr). */
export const FME_PWR_STATUS = 0x8;
export const PWR_CONSUMED = genmask64(17, 0);
export const FME_LATENCY_TOLERANCE = bit64(18);

/** FME_PWR_THRESHOLD: two thresholds in W (the kernel writes them: power1_max, power1_crit) and their alarms. */
export const FME_PWR_THRESHOLD = 0x10;
export const PWR_THRESHOLD1 = genmask64(6, 0);
export const PWR_THRESHOLD2 = genmask64(14, 8);
/** The largest threshold the fields hold (W); the kernel clamps writes to 0..PWR_THRESHOLD_MAX. */
export const PWR_THRESHOLD_MAX = 0x7f;
export const PWR_THRESHOLD1_STATUS = bit64(16);
export const PWR_THRESHOLD2_STATUS = bit64(17);

/** FME_PWR_XEON_LIMIT / FME_PWR_FPGA_LIMIT: limit in 0.1 W, valid when the enable bit is set. */
export const FME_PWR_XEON_LIMIT = 0x18;
export const XEON_PWR_LIMIT = genmask64(14, 0);
export const XEON_PWR_EN = bit64(15);
export const FME_PWR_FPGA_LIMIT = 0x20;
export const FPGA_PWR_LIMIT = genmask64(14, 0);
export const FPGA_PWR_EN = bit64(15);
