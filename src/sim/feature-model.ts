// The hook by which device-side models of FME/Port private features (the PR engine, the BMC
// behind SPI-AVMM, ...) plug into the simulated card. The card owns the DFH at offset 0 of each
// feature and forwards every other access inside the feature's span to its model.
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

export interface SimContext {
  /** The card's clock (a VirtualClock in tests): schedule delays and timeouts on it. */
  readonly clock: Clock;
  readonly log: Logger;
  /** Replace the AFU behind `port` by one whose GUID is `afuGuid` (PR success). */
  loadAfu(port: number, afuGuid: string): void;
  /** True while PORT_CTRL[0] (soft reset) of `port` is set. */
  portInReset(port: number): boolean;
  /** Signal MSI-X `vector` of the card (written to the vector's eventfd when armed). */
  raiseInterrupt(vector: number): void;
  /** The card's PR interface ID (PR_INTFC_ID_H:L as a UUID string): a PR engine model reports it. */
  readonly prInterfaceId: string;
  /** Which card this is, e.g. 'n3000'. */
  readonly variant: string;
}

export interface FeatureModel {
  /** Bytes of register space the feature spans, DFH included (a multiple of 8, usually 0x1000). */
  readonly size: number;
  /** Read the 64-bit register at `offset` (relative to the feature's DFH, never 0). */
  read64(offset: number): bigint;
  write64(offset: number, value: bigint): void;
  /** Device-level reset (FLR) of the card. */
  reset?(): void;
}

/** Builds a model for one card instance. */
export type FeatureModelFactory = (ctx: SimContext) => FeatureModel;
