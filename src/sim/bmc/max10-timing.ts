// The MAX10 BMC model's timings: how long the NIOS firmware takes for each phase of a secure
// update (handshake, staging erase, authentication, the copy at DPDK's measured 42,700 B/s,
// reboot), presets for the sim URL's bmcTiming=, and scaling for a card served on the real clock.
import { ArgumentError } from '../../errors.js';

export interface Max10Timing {
  /** NIOS reaction to a doorbell write. */
  handshakeMs: number;
  /** Erasing the staging area after an RSU request. */
  eraseMs: number;
  /** Authentication of the staged image. */
  authMs: number;
  /** Copy rate from staging to the target flash (DPDK IFPGA_N3000_COPY_SPEED: 42,700 B/s). */
  copyBytesPerSec: number;
  /** Minimum copy time. */
  copyMinMs: number;
  /** How long a stuck phase ('prepare-timeout', 'copy-timeout') lasts before the BMC gives up. */
  stuckMs: number;
  /** How long the 'busy' fault keeps another update running. */
  busyMs: number;
  /** The BMC abandons an update whose host went silent in READY for this long. */
  readyWatchdogMs: number;
  /** BMC reboot time. */
  rebootMs: number;
}

export const DEFAULT_TIMING: Max10Timing = {
  handshakeMs: 20,
  eraseMs: 15_000,
  authMs: 5_000,
  copyBytesPerSec: 42_700,
  copyMinMs: 2_000,
  stuckMs: 45 * 60 * 1000,
  busyMs: 30_000,
  readyWatchdogMs: 60 * 60 * 1000,
  rebootMs: 3_000,
};

/**
 * The model's timings with the card's normal operation sped up (scale < 1) or slowed down
 * (scale > 1): handshake, erase, authentication, copy (rate divided by `scale`), a competing
 * update ('busy') and reboot. The failure horizons (stuckMs, readyWatchdogMs) are NOT scaled: they
 * stand for "longer than the host's own timeouts" (RSU_PREP_TIMEOUT_MS, RSU_COMPLETE_TIMEOUT_MS),
 * which the host keeps at the kernel's values, so a stuck-phase fault still ends in the host's
 * timeout and an idle READY is still abandoned only after the host gave up.
 */
export function scaleTiming(timing: Max10Timing, scale: number): Max10Timing {
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new ArgumentError('EARG_BMC_TIME_SCALE', `BMC time scale ${String(scale)} is not a positive number; use e.g. 0.01 (100x faster) or 1 (the card's real timings)`, { scale });
  }
  return {
    handshakeMs: timing.handshakeMs * scale,
    eraseMs: timing.eraseMs * scale,
    authMs: timing.authMs * scale,
    copyBytesPerSec: timing.copyBytesPerSec / scale,
    copyMinMs: timing.copyMinMs * scale,
    stuckMs: timing.stuckMs,
    busyMs: timing.busyMs * scale,
    readyWatchdogMs: timing.readyWatchdogMs,
    rebootMs: timing.rebootMs * scale,
  };
}

/**
 * Named timing presets (the sim URL's bmcTiming=): 'realistic' is the N3000 as measured
 * (DEFAULT_TIMING: a 100 KB update takes ~22 s); 'fast' runs normal operation 100x faster (erase
 * 150 ms, authentication 50 ms, copy >= 20 ms), for a card served on the real clock.
 */
export const MAX10_TIMING_PRESETS = {
  realistic: DEFAULT_TIMING,
  fast: scaleTiming(DEFAULT_TIMING, 0.01),
} as const satisfies Record<string, Max10Timing>;
export type Max10TimingPreset = keyof typeof MAX10_TIMING_PRESETS;

/** Every timing must be a finite non-negative number, the copy rate a positive one. */
export function checkTiming(timing: Max10Timing): void {
  for (const [name, value] of Object.entries(timing)) {
    if (!Number.isFinite(value) || value < 0 || (name === 'copyBytesPerSec' && value === 0)) {
      throw new ArgumentError('EARG_BMC_TIMING', `BMC timing ${name} = ${String(value)} is not ${name === 'copyBytesPerSec' ? 'a positive' : 'a non-negative'} finite number`, { name, value });
    }
  }
}
