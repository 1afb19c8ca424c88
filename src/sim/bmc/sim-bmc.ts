// The sim card's BMC feature: a FeatureModel that puts the Altera SPI master in front of the MAX10
// BMC's SPI-AVMM bridge and register map, behind the window the card class uses:
//   N3000 (sim:n3000*): FME feature 0xD "N3000 Nios" (nios-spi-model.ts, dfl-n3000-nios.c);
//   D5005 class (sim:d5005): FME feature 0xE (spi-master-model.ts DflSpiWindowModel, spi-altera-dfl.c).
// The card plugs it as 'fme:0xd' or 'fme:0xe' (src/sim/defaults.ts, bmcFeatureKey); pass
// `simBmcFeature({...})` to a sim card to configure it.
import { thermalModelOf } from '../thermal-model.js';
import type { FeatureModel, FeatureModelFactory, SimContext } from '../feature-model.js';
import { FmeFeatureId } from '../../dfl/names.js';
import { AvalonBridge } from './avalon-bridge.js';
import { Max10Model, type Max10Board, type Max10Options } from './max10-model.js';
import { DflSpiWindowModel, SpiCoreModel } from './spi-master-model.js';
import { NiosSpiModel, type NiosOptions } from './nios-spi-model.js';

/** Register space of the BMC feature, DFH included. */
export const SIM_BMC_FEATURE_SIZE = 0x1000;

export interface SimBmcOptions extends Max10Options {
  /** Polls of the window's completion bit after a command (default 1). */
  indirectLatency?: number;
  /** SPI clock in Hz (default 12.5 MHz, m10_n3000_info.max_speed_hz); 0 = words take no device time. */
  spiHz?: number;
  /** The N3000 Nios firmware (feature 0xD only). */
  nios?: NiosOptions;
  /** Called with each model the card creates (tests inject faults and read counters through it). */
  onCreate?(bmc: SimBmc): void;
}

/** The card class of a sim variant. */
export function boardOf(variant: string): Max10Board {
  return variant === 'd5005' ? 'd5005' : 'n3000';
}

/** FME feature ID of the BMC's SPI window on a card class (0xD N3000 Nios, 0xE MAX10 SPI). */
export function bmcFeatureId(board: Max10Board): number {
  return board === 'd5005' ? FmeFeatureId.MAX10_SPI : FmeFeatureId.NIOS_SPI;
}

/** The sim card's featureModels key of its BMC ('fme:0xd' or 'fme:0xe'). */
export function bmcFeatureKey(variant: string): string {
  return `fme:0x${bmcFeatureId(boardOf(variant)).toString(16)}`;
}

export class SimBmc implements FeatureModel {
  readonly size = SIM_BMC_FEATURE_SIZE;
  readonly board: Max10Board;
  readonly max10: Max10Model;
  readonly bridge: AvalonBridge;
  readonly core: SpiCoreModel;
  /** The window the host drives: the Nios (0xD) or the 0xE indirect window. */
  readonly window: NiosSpiModel | DflSpiWindowModel;
  /** The Nios (N3000 only). */
  readonly nios: NiosSpiModel | undefined;

  constructor(ctx: Pick<SimContext, 'clock' | 'log'> & { variant?: string }, options: SimBmcOptions = {}) {
    this.board = options.board ?? boardOf(ctx.variant ?? 'n3000');
    this.max10 = new Max10Model(ctx.clock, { ...options, board: this.board });
    this.bridge = new AvalonBridge(this.max10);
    this.core = new SpiCoreModel(ctx.clock, this.bridge);
    if (options.spiHz !== undefined) this.core.spiHz = options.spiHz;
    if (this.board === 'n3000') {
      this.nios = new NiosSpiModel(ctx.clock, this.core, { linkSpeedMbps: options.linkSpeedMbps, indirectLatency: options.indirectLatency, ...options.nios });
      this.window = this.nios;
    } else {
      const w = new DflSpiWindowModel(this.core);
      if (options.indirectLatency !== undefined) w.indirectLatency = options.indirectLatency;
      this.window = w;
      this.nios = undefined;
    }
    this.max10.events.onFpgaReload = (page) => ctx.log('BMC: FPGA reload from page %d', page);
    this.max10.events.onBmcReboot = (sel) => ctx.log('BMC: rebooted with config select %d', sel);
  }

  read64(offset: number): bigint {
    return this.window.read64(offset);
  }

  write64(offset: number, value: bigint): void {
    this.window.write64(offset, value);
  }

  /** FLR resets the SPI master in the FPGA; the BMC is a separate chip and keeps running. */
  reset(): void {
    this.window.reset();
    this.max10.reset();
  }
}

/** A FeatureModelFactory for the card's BMC feature (0xD or 0xE by the card's variant). */
export function simBmcFeature(options: SimBmcOptions = {}): FeatureModelFactory {
  return (ctx) => {
    // The BMC's FPGA die sensor and the FME thermal feature measure the same die.
    const bmc = new SimBmc(ctx, { fpgaTemperature: () => thermalModelOf(ctx)?.temperatureC, ...options });
    bmcs.set(ctx, bmc);
    options.onCreate?.(bmc);
    return bmc;
  };
}

const bmcs = new WeakMap<SimContext, SimBmc>();

/** The BMC a card built for `ctx`, if any (control requests arm its faults through it). */
export function simBmcOf(ctx: SimContext): SimBmc | undefined {
  return bmcs.get(ctx);
}
