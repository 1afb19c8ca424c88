import type { FlashProgress, SecureUpdate } from '../../src/afu/bmc/secure-update.js';
// Test rig: the sim BMC feature behind a TrappedRegion at a feature offset, as the card maps it:
// the N3000's Nios window (feature 0xD, its Nios already initialised unless `options.nios` says
// otherwise) or, with `board: 'd5005'`, the 0xE window.
import createDebug from 'debug';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { VirtualClock, type Clock } from '../../src/util/clock.js';
import { SimBmc, type SimBmcOptions } from '../../src/sim/bmc/sim-bmc.js';
import { SpiAvmmTransport, type SpiAvmmOptions } from '../../src/afu/bmc/spi-avmm-transport.js';
import { NiosRegBus } from '../../src/afu/bmc/nios-regbus.js';
import { DflIndirectRegBus } from '../../src/afu/bmc/spi-regbus.js';

export const FEATURE_OFFSET = 0x3000;

/** The sim BMC window behind a trapped region at FEATURE_OFFSET. */
export function bmcWindow<C extends Clock = VirtualClock>(options: SimBmcOptions = {}, clock: C = new VirtualClock() as unknown as C) {
  const bmc = new SimBmc({ clock, log: createDebug('vfiokit:test:bmc') }, { ...options, nios: { initDone: true, ...options.nios } });
  const region = new TrappedRegion('test BAR0', 0x10000, {
    read32: () => 0,
    write32: () => {},
    read64: (off) => (off > FEATURE_OFFSET && off < FEATURE_OFFSET + bmc.size ? bmc.read64(off - FEATURE_OFFSET) : 0n),
    write64: (off, v) => { if (off > FEATURE_OFFSET && off < FEATURE_OFFSET + bmc.size) bmc.write64(off - FEATURE_OFFSET, v); },
  }, { clock });
  const bus = bmc.board === 'n3000' ? new NiosRegBus(region, FEATURE_OFFSET) : new DflIndirectRegBus(region, FEATURE_OFFSET);
  return { clock, bmc, region, bus };
}

export function bmcRig<C extends Clock = VirtualClock>(options: SimBmcOptions = {}, transport: SpiAvmmOptions = {}, clock: C = new VirtualClock() as unknown as C) {
  const w = bmcWindow(options, clock);
  const host = new SpiAvmmTransport(w.bus, transport);
  return { ...w, host };
}

/** Collects a flash's progress events and the distinct states they pass through, in order. */
export function collectFlashProgress(): { states: string[]; events: FlashProgress[]; onProgress: (p: FlashProgress) => void } {
  const states: string[] = [];
  const events: FlashProgress[] = [];
  return {
    states,
    events,
    onProgress(p) {
      events.push(p);
      if (states[states.length - 1] !== p.state) states.push(p.state);
    },
  };
}

/**
 * Flash `image` and ask for a cancel once READY passes 30% written. Resolves with whether the
 * cancel was asked and what the flash ended with (its error, or its result).
 */
export async function flashCancelledWhileReady(su: SecureUpdate, image: Uint8Array): Promise<{ asked: boolean; outcome: unknown }> {
  let asked = false;
  const outcome = await su.flash(image, {
    onProgress: (p) => {
      if (p.state === 'READY' && p.progress > 30 && !asked) {
        asked = true;
        void su.cancel();
      }
    },
  }).catch((e: unknown) => e);
  return { asked, outcome };
}
