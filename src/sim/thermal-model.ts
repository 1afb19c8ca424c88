// The FME thermal management feature (0x1) of the sim card, device side (drivers/fpga/
// dfl-fme-main.c fme_thermal_mgmt; src/dfl/regs/fme-thermal.ts): the FPGA temperature sensor, the
// FIM's thresholds and the alarms the hardware computes from them. The kernel only reads this
// feature, so every register is read-only to the host; the temperature is set from the sim side
// (the sim URL's fpgaTemp=, `vfiokit serve --control` {"fpgaTemp": C}, or thermalModelOf(ctx)).
// An alarm bit reads 1 while its threshold is enabled and the temperature has reached it.
import { ArgumentError } from '../errors.js';
import { fieldFit, fieldPrep } from '../util/bitfield.js';
import {
  FME_THERM_CAP, FME_THERM_RDSENSOR_FMT1, FME_THERM_THRESHOLD, FPGA_TEMPERATURE, TEMP_THRESHOLD1, TEMP_THRESHOLD1_EN, TEMP_THRESHOLD1_POLICY,
  TEMP_THRESHOLD1_STATUS, TEMP_THRESHOLD2, TEMP_THRESHOLD2_EN, TEMP_THRESHOLD2_STATUS, THERM_NO_THROTTLE, TRIP_THRESHOLD,
} from '../dfl/regs/fme-thermal.js';
import type { FeatureModel, FeatureModelFactory } from './feature-model.js';
import { modelRegistry } from './model-registry.js';

export interface ThermalModelOptions {
  /** FPGA temperature at power-up, degrees C (default 56). */
  temperatureC?: number;
  /** Threshold 1 (throttle), 2 (100% throttle) and the trip point, degrees C (defaults 90, 100, 105). */
  threshold1C?: number;
  threshold2C?: number;
  tripC?: number;
  /** Threshold 1 policy: 'AP1' (50% throttle) or 'AP2' (90%, default). */
  policy?: 'AP1' | 'AP2';
  /** The hardware does not throttle by the thresholds (FME_THERM_CAP[0]); the kernel then shows temp1_input only. */
  noThrottle?: boolean;
}

/** The FPGA temperature reading is 7 bits wide (FPGA_TEMPERATURE). */
export function checkCelsius(what: string, c: number): number {
  if (!Number.isInteger(c) || !fieldFit(FPGA_TEMPERATURE, c)) {
    throw new ArgumentError('EARG_SIM_THERMAL', `${what} ${String(c)} is not a whole number of degrees C in 0..127 (the 7-bit field of FME_THERM_RDSENSOR_FMT1 / FME_THERM_THRESHOLD)`, { what, value: String(c) });
  }
  return c;
}

export class ThermalModel implements FeatureModel {
  readonly size = 0x1000;
  temperatureC: number;
  readonly #threshold: bigint;
  readonly #cap: bigint;
  readonly #t1: number;
  readonly #t2: number;

  constructor(options: ThermalModelOptions = {}) {
    this.temperatureC = checkCelsius('fpga temperature', options.temperatureC ?? 56);
    this.#t1 = checkCelsius('threshold 1', options.threshold1C ?? 90);
    this.#t2 = checkCelsius('threshold 2', options.threshold2C ?? 100);
    const trip = checkCelsius('trip threshold', options.tripC ?? 105);
    this.#threshold = fieldPrep(TEMP_THRESHOLD1, this.#t1) | TEMP_THRESHOLD1_EN | fieldPrep(TEMP_THRESHOLD2, this.#t2) | TEMP_THRESHOLD2_EN |
      fieldPrep(TRIP_THRESHOLD, trip) | (options.policy === 'AP1' ? TEMP_THRESHOLD1_POLICY : 0n);
    this.#cap = options.noThrottle ? THERM_NO_THROTTLE : 0n;
  }

  /** Set the FPGA temperature the sensor reports (degrees C, 0..127). */
  setTemperature(c: number): void {
    this.temperatureC = checkCelsius('fpga temperature', c);
  }

  read64(offset: number): bigint {
    switch (offset) {
      case FME_THERM_THRESHOLD: {
        const status = (this.temperatureC >= this.#t1 ? TEMP_THRESHOLD1_STATUS : 0n) | (this.temperatureC >= this.#t2 ? TEMP_THRESHOLD2_STATUS : 0n);
        return this.#threshold | status;
      }
      case FME_THERM_RDSENSOR_FMT1: return fieldPrep(FPGA_TEMPERATURE, this.temperatureC);
      case FME_THERM_CAP: return this.#cap;
      default: return 0n;
    }
  }

  write64(): void {
    // Read-only: the kernel never writes the thermal feature (fme_thermal_mgmt has no write op).
  }

  /** FLR does not cool the chip down: the reading stays; nothing else is state. */
  reset(): void {}
}

const registry = modelRegistry<ThermalModel, ThermalModelOptions>((options) => new ThermalModel(options));

/** A factory for the thermal model with these options (the sim URL's fpgaTemp=, tests). */
export const createThermalModelFactory = registry.factory;

export const thermalModelFactory: FeatureModelFactory = registry.factory();

/** The thermal model a card built for `ctx`, if any (control requests and tests set the temperature through it). */
export const thermalModelOf = registry.of;
