// The Port of the sim card: the Port header (reference/dfl.md "Port header"; dfl.h PORT_HDR_*)
// with the soft-reset handshake the kernel's __afu_port_disable/enable rely on
// (drivers/fpga/dfl-afu-main.c), the Port error feature 0x10 (dfl-afu-error.c registers) and the
// UINT feature 0x12 (user interrupt capability).
//
// PORT_CTRL[4] (soft reset ACK) follows PORT_CTRL[0] after `resetAckDelayUs` on the card's clock,
// evaluated lazily at each read, so a synchronous poll sees it change on a VirtualClock (time
// advances while the host spins) and on the real clock alike. Asserting reset resets the AFU.
// Fault: 'reset-ack' keeps the ACK from ever rising.
import type { SimBlock } from './register-file.js';
import type { Clock } from '../util/clock.js';
import { DfhReg } from '../dfl/regs/dfh.js';
import { PORT_CAP, PORT_CTRL, PORT_ERROR_CAP, PORT_STS, PORT_UINT_CAP, PortErrorReg, PortReg } from '../dfl/regs/fiu.js';
import { fieldPrep } from '../util/bitfield.js';
import { parseGuid, PORT_GUID } from '../dfl/guid.js';

export interface PortState {
  readonly number: number;
  /** True while PORT_CTRL[0] is set. */
  readonly inReset: boolean;
}

/** What the card's thermal management tells the port (the FME thermal model, src/sim/thermal-model.ts). */
export interface PortThrottle {
  /** PORT_STS[11:8] as the temperature calls for it now. */
  readonly powerState: number;
  /** Latched PORT_STS AP1_EVT / AP2_EVT bits. */
  readonly events: bigint;
  /** Write-1-to-clear of those bits. */
  clearEvents(bits: bigint): void;
}

export interface PortHeaderOptions {
  number: number;
  clock: Clock;
  nextAfu: number;
  mmioSizeKiB: number;
  userInterrupts: number;
  resetAckDelayUs: number;
  /** Called when the port enters reset (the AFU resets with it). */
  onReset: () => void;
  /** Fault knob: the ACK never rises. */
  ackNever: () => boolean;
  /** The card's thermal management, if it has one. */
  throttle?: () => PortThrottle | undefined;
}

export class PortHeaderBlock implements SimBlock, PortState {
  readonly number: number;
  readonly #o: PortHeaderOptions;
  readonly #guid = parseGuid(PORT_GUID);
  readonly #cap: bigint;
  #reset = false;
  #latency = false;
  /** ACK before the last change, the value it moves to, and when it gets there (ms). */
  #ackFrom = false;
  #ackTo = false;
  #ackAt = 0;
  /** Writes to PORT_CTRL (tests check the sequence). */
  ctrlWrites = 0;
  /**
   * A power state forced on the AFU (0 normal, 1 AP1, 2 AP2, 6 AP6 = fully throttled; dfl.h
   * PORT_STS_PWR_STATE_*), set by tests and the 'ap6' fault; PORT_STS[11:8] shows the more
   * throttled of this and the thermal management's. The kernel refuses to clear port errors in
   * AP6 (dfl-afu-error.c).
   */
  powerState = 0;

  constructor(options: PortHeaderOptions) {
    this.#o = options;
    this.number = options.number;
    this.#cap = fieldPrep(PORT_CAP.PORT_NUM, options.number) | fieldPrep(PORT_CAP.MMIO_SIZE, options.mmioSizeKiB) | fieldPrep(PORT_CAP.SUPP_INT_NUM, options.userInterrupts);
  }

  get inReset(): boolean {
    return this.#reset;
  }

  #ack(): boolean {
    return this.#o.clock.now() >= this.#ackAt ? this.#ackTo : this.#ackFrom;
  }

  read64(rel: number): bigint {
    switch (rel) {
      case DfhReg.GUID_L: return this.#guid.low;
      case DfhReg.GUID_H: return this.#guid.high;
      case DfhReg.NEXT_AFU: return BigInt(this.#o.nextAfu);
      case PortReg.CAP: return this.#cap;
      case PortReg.CTRL:
        return (this.#reset ? PORT_CTRL.SFTRST : 0n) | (this.#latency ? PORT_CTRL.LATENCY : 0n) | (this.#ack() ? PORT_CTRL.SFTRST_ACK : 0n);
      // PORT_STS[11:8] power state and [13:12] the AP2/AP1 events (dfl.h PORT_STS_*); the states
      // order by throttling (AP6 > AP2 > AP1 > normal).
      case PortReg.STS: {
        const thermal = this.#o.throttle?.();
        return fieldPrep(PORT_STS.PWR_STATE, Math.max(this.powerState, thermal?.powerState ?? 0)) | (thermal?.events ?? 0n);
      }
      default: return 0n;
    }
  }

  write64(rel: number, value: bigint): void {
    if (rel === PortReg.STS) {
      // Only the event bits are writable: 1 clears (dfl-afu-main.c ap1_event_store / ap2_event_store).
      this.#o.throttle?.()?.clearEvents(value & (PORT_STS.AP1_EVT | PORT_STS.AP2_EVT));
      return;
    }
    if (rel !== PortReg.CTRL) return;
    this.ctrlWrites++;
    this.#latency = (value & PORT_CTRL.LATENCY) !== 0n;
    const reset = (value & PORT_CTRL.SFTRST) !== 0n;
    if (reset === this.#reset) return;
    this.#ackFrom = this.#ack();
    this.#reset = reset;
    this.#ackTo = reset && !this.#o.ackNever();
    this.#ackAt = this.#o.clock.now() + this.#o.resetAckDelayUs / 1000;
    if (reset) this.#o.onReset();
  }

  /** Device reset (FLR): out of reset, ACK low. */
  reset(): void {
    this.#reset = false;
    this.#latency = false;
    this.#ackFrom = this.#ackTo = false;
    this.#ackAt = 0;
  }
}

/**
 * Port error feature 0x10: PORT_ERROR / PORT_FIRST_ERROR latch injected errors and are cleared
 * by writing 1s (the host writes back the value it read, dfl-afu-error.c); PORT_ERROR_MASK
 * suppresses the error interrupt.
 */
export class PortErrorBlock implements SimBlock {
  mask = 0n;
  errors = 0n;
  firstError = 0n;
  readonly #cap: bigint;
  readonly #raise: () => void;

  constructor(vector: number, raise: () => void) {
    this.#cap = PORT_ERROR_CAP.SUPP_INT | fieldPrep(PORT_ERROR_CAP.INT_VECT, vector);
    this.#raise = raise;
  }

  /** Latch error bits (hardware detected them). Signals the error interrupt for unmasked bits. */
  inject(bits: bigint): void {
    if (this.errors === 0n) this.firstError = bits;
    this.errors |= bits;
    if ((bits & ~this.mask) !== 0n) this.#raise();
  }

  read64(rel: number): bigint {
    switch (rel) {
      case PortErrorReg.MASK: return this.mask;
      case PortErrorReg.ERROR: return this.errors;
      case PortErrorReg.FIRST_ERROR: return this.firstError;
      case PortErrorReg.CAP: return this.#cap;
      default: return 0n;
    }
  }

  write64(rel: number, value: bigint): void {
    if (rel === PortErrorReg.MASK) this.mask = value;
    else if (rel === PortErrorReg.ERROR) this.errors &= ~value;
    else if (rel === PortErrorReg.FIRST_ERROR) this.firstError &= ~value;
  }

  reset(): void {
    this.mask = this.errors = this.firstError = 0n;
  }
}

/** UINT feature 0x12: PORT_UINT_CAP (+0x08) [11:0] vector count, [23:12] first vector. */
export class PortUintBlock implements SimBlock {
  readonly #cap: bigint;
  constructor(firstVector: number, count: number) {
    this.#cap = fieldPrep(PORT_UINT_CAP.INT_NUM, count) | fieldPrep(PORT_UINT_CAP.FST_VECT, firstVector);
  }
  read64(rel: number): bigint {
    return rel === PORT_UINT_CAP.OFFSET ? this.#cap : 0n;
  }
  write64(): void {}
}
