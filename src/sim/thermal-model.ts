// The FME thermal management feature (0x1) of the sim card, device side (drivers/fpga/
// dfl-fme-main.c fme_thermal_mgmt; src/dfl/regs/fme-thermal.ts): the FPGA temperature sensor, the
// FIM's thresholds and the alarms the hardware computes from them. The kernel only reads this
// feature, so every register is read-only to the host; the temperature is set from the sim side
// (the sim URL's fpgaTemp=, `vfiokit serve --control` {"fpgaTemp": C}, or thermalModelOf(ctx)).
// An alarm bit reads 1 while its threshold is enabled and the temperature has reached it.
//
// The throttling the thresholds stand for reaches the port (PortThrottle, read by the port
// header's PORT_STS): at threshold 1 the AFU goes to AP1 (50%) or AP2 (90%) as TEMP_THRESHOLD1_POLICY
// says, at threshold 2 to AP6 (100%; dfl.h PORT_STS_PWR_STATE_*, dfl-fme-main.c
// fme_thermal_mgmt_init's comment), and the threshold-1 state's event (PORT_STS_AP1_EVT /
// AP2_EVT) latches until the host writes it back (dfl-afu-main.c ap1_event_store). A card whose
// hardware does not throttle (FME_THERM_CAP[0]) leaves the port at normal.
import { ArgumentError } from '../errors.js';
import { fieldFit, fieldPrep } from '../util/bitfield.js';
import {
  FME_THERM_CAP, FME_THERM_RDSENSOR_FMT1, FME_THERM_THRESHOLD, FPGA_TEMPERATURE, TEMP_THRESHOLD1, TEMP_THRESHOLD1_EN, TEMP_THRESHOLD1_POLICY,
  TEMP_THRESHOLD1_STATUS, TEMP_THRESHOLD2, TEMP_THRESHOLD2_EN, TEMP_THRESHOLD2_STATUS, THERM_NO_THROTTLE, TRIP_THRESHOLD,
} from '../dfl/regs/fme-thermal.js';
import type { FeatureModel, FeatureModelFactory } from './feature-model.js';
import { modelRegistry } from './model-registry.js';
import { PORT_STS, PortPowerState } from '../dfl/regs/fiu.js';
import type { PortThrottle } from './port-model.js';

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

export class ThermalModel implements FeatureModel, PortThrottle {
  readonly size = 0x1000;
  temperatureC: number;
  readonly #threshold: bigint;
  readonly #cap: bigint;
  readonly #t1: number;
  readonly #t2: number;
  /** The power state threshold 1 puts the AFU in (TEMP_THRESHOLD1_POLICY: 1 = AP1, 0 = AP2). */
  readonly #t1State: number;
  /** Latched PORT_STS AP1_EVT / AP2_EVT bits. */
  #events = 0n;

  constructor(options: ThermalModelOptions = {}) {
    this.temperatureC = checkCelsius('fpga temperature', options.temperatureC ?? 56);
    this.#t1 = checkCelsius('threshold 1', options.threshold1C ?? 90);
    this.#t2 = checkCelsius('threshold 2', options.threshold2C ?? 100);
    const trip = checkCelsius('trip threshold', options.tripC ?? 105);
    this.#threshold = fieldPrep(TEMP_THRESHOLD1, this.#t1) | TEMP_THRESHOLD1_EN | fieldPrep(TEMP_THRESHOLD2, this.#t2) | TEMP_THRESHOLD2_EN |
      fieldPrep(TRIP_THRESHOLD, trip) | (options.policy === 'AP1' ? TEMP_THRESHOLD1_POLICY : 0n);
    this.#cap = options.noThrottle ? THERM_NO_THROTTLE : 0n;
    this.#t1State = options.policy === 'AP1' ? PortPowerState.AP1 : PortPowerState.AP2;
    this.#latch();
  }

  /** Set the FPGA temperature the sensor reports (degrees C, 0..127). */
  setTemperature(c: number): void {
    this.temperatureC = checkCelsius('fpga temperature', c);
    this.#latch();
  }

  get #throttles(): boolean {
    return this.#cap === 0n;
  }

  /** The port's power state the temperature calls for now (PORT_STS[11:8]). */
  get powerState(): number {
    if (!this.#throttles || this.temperatureC < this.#t1) return PortPowerState.NORMAL;
    return this.temperatureC >= this.#t2 ? PortPowerState.AP6 : this.#t1State;
  }

  /** PORT_STS AP1_EVT / AP2_EVT as latched. */
  get events(): bigint {
    return this.#events;
  }

  /** The host wrote these PORT_STS event bits (write 1 to clear; dfl-afu-main.c ap1_event_store). */
  clearEvents(bits: bigint): void {
    this.#events &= ~bits;
  }

  /** Reaching threshold 1 passes through its state on the way up: that state's event latches. */
  #latch(): void {
    if (this.#throttles && this.temperatureC >= this.#t1) this.#events |= this.#t1State === PortPowerState.AP1 ? PORT_STS.AP1_EVT : PORT_STS.AP2_EVT;
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
