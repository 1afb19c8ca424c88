// The sim card's FME private feature 0xE (MAX10 SPI): a FeatureModel that puts the Altera SPI
// master registers in front of the MAX10 BMC's SPI-AVMM bridge and register map. Register it for
// 'fme:0xe' (src/sim/defaults.ts) or pass `simBmcFeature({...})` to a sim card.
import type { FeatureModel, FeatureModelFactory, SimContext } from '../feature-model.js';
import { AvalonBridge } from './avalon-bridge.js';
import { Max10Model, type Max10Options } from './max10-model.js';
import { SpiMasterModel } from './spi-master-model.js';

/** Register space of feature 0xE, DFH included. */
export const SIM_BMC_FEATURE_SIZE = 0x1000;

export interface SimBmcOptions extends Max10Options {
  /** Polls of INDIRECT_ADDR that still show the command bit (default 1). */
  indirectLatency?: number;
  /** Called with each model the card creates (tests inject faults and read counters through it). */
  onCreate?(bmc: SimBmc): void;
}

export class SimBmc implements FeatureModel {
  readonly size = SIM_BMC_FEATURE_SIZE;
  readonly max10: Max10Model;
  readonly bridge: AvalonBridge;
  readonly spi: SpiMasterModel;

  constructor(ctx: Pick<SimContext, 'clock' | 'log'>, options: SimBmcOptions = {}) {
    this.max10 = new Max10Model(ctx.clock, options);
    this.bridge = new AvalonBridge(this.max10);
    this.spi = new SpiMasterModel(this.bridge);
    if (options.indirectLatency !== undefined) this.spi.indirectLatency = options.indirectLatency;
    this.max10.events.onFpgaReload = (page) => ctx.log('BMC: FPGA reload from page %d', page);
    this.max10.events.onBmcReboot = (page) => ctx.log('BMC: rebooted from page %d', page);
  }

  read64(offset: number): bigint {
    return this.spi.read64(offset);
  }

  write64(offset: number, value: bigint): void {
    this.spi.write64(offset, value);
  }

  /** FLR resets the SPI master in the FPGA; the BMC is a separate chip and keeps running. */
  reset(): void {
    this.spi.reset();
    this.max10.reset();
  }
}

/** A FeatureModelFactory for FME feature 0xE. */
export function simBmcFeature(options: SimBmcOptions = {}): FeatureModelFactory {
  return (ctx) => {
    const bmc = new SimBmc(ctx, options);
    options.onCreate?.(bmc);
    return bmc;
  };
}
