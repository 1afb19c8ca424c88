// The FME power management feature (0x2) of the sim card, device side (drivers/fpga/
// dfl-fme-main.c fme_power_mgmt; src/dfl/regs/fme-power.ts): the power the FPGA consumes, the two
// thresholds the kernel writes (power1_max, power1_crit: power_hwmon_write updates one field of
// FME_PWR_THRESHOLD with a read-modify-write), the alarms the hardware computes from them, and the
// Xeon / FPGA power limits (read-only). The consumption is set from the sim side (the sim URL's
// fpgaPower=, `vfiokit serve --control` {"fpgaPower": W}, or powerModelOf(ctx)). An alarm bit
// reads 1 while the consumption has reached its threshold.
import { ArgumentError } from '../errors.js';
import { fieldFit, fieldGet, fieldPrep } from '../util/bitfield.js';
import {
  FME_LATENCY_TOLERANCE, FME_PWR_FPGA_LIMIT, FME_PWR_STATUS, FME_PWR_THRESHOLD, FME_PWR_XEON_LIMIT, FPGA_PWR_EN, FPGA_PWR_LIMIT,
  PWR_CONSUMED, PWR_THRESHOLD1, PWR_THRESHOLD1_STATUS, PWR_THRESHOLD2, PWR_THRESHOLD2_STATUS, XEON_PWR_EN, XEON_PWR_LIMIT,
} from '../dfl/regs/fme-power.js';
import type { FeatureModel, FeatureModelFactory } from './feature-model.js';
import { modelRegistry } from './model-registry.js';

export interface PowerModelOptions {
  /** Power consumed at power-up, W (default 48). */
  consumedW?: number;
  /** Thresholds at power-up, W (defaults 70 and 90); the host may rewrite them. */
  threshold1W?: number;
  threshold2W?: number;
  /** FPGA power limit in 0.1 W (default 600 = 60.0 W, enabled); undefined Xeon limit = not enabled. */
  fpgaLimitDeciW?: number;
  xeonLimitDeciW?: number;
  /** Latency tolerance reporting (FME_PWR_STATUS[18], power1_ltr). */
  latencyTolerance?: boolean;
}

/** The consumption reading is 18 bits wide (PWR_CONSUMED). */
export function checkWatts(what: string, w: number, mask = PWR_CONSUMED): number {
  if (!Number.isInteger(w) || !fieldFit(mask, w)) {
    throw new ArgumentError('EARG_SIM_POWER', `${what} ${String(w)} is not a whole number of watts in 0..${String(fieldGet(mask, mask))}`, { what, value: String(w) });
  }
  return w;
}

export class PowerModel implements FeatureModel {
  readonly size = 0x1000;
  consumedW: number;
  readonly #limits: { xeon: bigint; fpga: bigint };
  readonly #ltr: boolean;
  readonly #initialThreshold: bigint;
  /** FME_PWR_THRESHOLD's threshold fields (the status bits are computed). */
  #threshold: bigint;

  constructor(options: PowerModelOptions = {}) {
    this.consumedW = checkWatts('fpga power', options.consumedW ?? 48);
    this.#threshold = this.#initialThreshold =
      fieldPrep(PWR_THRESHOLD1, checkWatts('power threshold 1', options.threshold1W ?? 70, PWR_THRESHOLD1)) |
      fieldPrep(PWR_THRESHOLD2, checkWatts('power threshold 2', options.threshold2W ?? 90, PWR_THRESHOLD2));
    const limit = (mask: bigint, en: bigint, deciW: number | undefined): bigint => (deciW === undefined ? 0n : fieldPrep(mask, checkWatts('power limit (0.1 W)', deciW, mask)) | en);
    this.#limits = { xeon: limit(XEON_PWR_LIMIT, XEON_PWR_EN, options.xeonLimitDeciW), fpga: limit(FPGA_PWR_LIMIT, FPGA_PWR_EN, options.fpgaLimitDeciW ?? 600) };
    this.#ltr = options.latencyTolerance ?? false;
  }

  /** Set the power the FPGA consumes (W). */
  setConsumption(w: number): void {
    this.consumedW = checkWatts('fpga power', w);
  }

  read64(offset: number): bigint {
    switch (offset) {
      case FME_PWR_STATUS: return fieldPrep(PWR_CONSUMED, this.consumedW) | (this.#ltr ? FME_LATENCY_TOLERANCE : 0n);
      case FME_PWR_THRESHOLD: {
        const w = BigInt(this.consumedW);
        return this.#threshold | (w >= fieldGet(PWR_THRESHOLD1, this.#threshold) ? PWR_THRESHOLD1_STATUS : 0n) | (w >= fieldGet(PWR_THRESHOLD2, this.#threshold) ? PWR_THRESHOLD2_STATUS : 0n);
      }
      case FME_PWR_XEON_LIMIT: return this.#limits.xeon;
      case FME_PWR_FPGA_LIMIT: return this.#limits.fpga;
      default: return 0n;
    }
  }

  write64(offset: number, value: bigint): void {
    // Only the threshold fields are writable; the status bits the kernel writes back are ignored.
    if (offset === FME_PWR_THRESHOLD) this.#threshold = value & (PWR_THRESHOLD1 | PWR_THRESHOLD2);
  }

  /** FLR: the thresholds return to the FIM's power-up values. */
  reset(): void {
    this.#threshold = this.#initialThreshold;
  }
}

const registry = modelRegistry<PowerModel, PowerModelOptions>((options) => new PowerModel(options));

/** A factory for the power model with these options (the sim URL's fpgaPower=, tests). */
export const createPowerModelFactory = registry.factory;

export const powerModelFactory: FeatureModelFactory = registry.factory();

/** The power model a card built for `ctx`, if any (control requests and tests set the consumption through it). */
export const powerModelOf = registry.of;
