// Port: one accelerator port of a card (reference/dfl.md "Port header"; dfl-afu-main.c). Reset
// follows the kernel exactly (__afu_port_disable / __afu_port_enable): disable sets PORT_CTRL[0]
// and polls PORT_CTRL[4] = 1 every 10 us for up to 1 ms; enable clears PORT_CTRL[0] and polls
// PORT_CTRL[4] = 0 the same way. Disables nest: only the first disable asserts reset and only the
// enable that brings the count back to 0 releases it. The count lives on the card (the kernel
// keeps it in the port's dfl_feature_platform_data), so a re-walk of the card after PR, and a
// fresh Card.discover() of the same device, see the same count.
import type { Device } from '../device/device.js';
import type { Feature } from '../dfl/feature.js';
import { PORT_CAP, PORT_CTRL, PORT_ERROR_MASK_ALL, PORT_STS, PortErrorReg, PortPowerState, PortReg } from '../dfl/regs/fiu.js';
import { fieldGet } from '../util/bitfield.js';
import { clearBits64, setBits64, waitBits64 } from '../mmio/bits.js';
import { PortFeatureId } from '../dfl/names.js';
import { FiuId } from '../dfl/regs/dfh.js';
import { Fiu } from './fiu.js';
import { DeviceError, VfiokitError } from '../errors.js';
import { hex } from '../util/bytes.js';
import { logger } from '../util/log.js';
import type { FeatureRef } from './feature-ref.js';
import { registerBlockDriver } from './feature-driver.js';
import { PortResetError } from './errors.js';

const log = logger('afu:port');

/** The port error feature driver (dfl-afu-main.c port_feature_drvs port_err_ops): its instance is the feature's FeatureRef. */
export const portErrorDriver = registerBlockDriver('port-error', FiuId.PORT, PortFeatureId.ERROR);

/** Poll interval and timeout of the soft-reset handshake (dfl-afu-main.c RST_POLL_INVL / RST_POLL_TIMEOUT). */
export const PORT_RESET_POLL_US = 10;
export const PORT_RESET_TIMEOUT_US = 1000;

export interface PortCapabilities {
  raw: bigint;
  portNumber: number;
  /** AFU MMIO size in KiB (PORT_CAP[23:8]). */
  mmioSizeKiB: number;
  /** AFU user interrupts (PORT_CAP[35:32]). */
  interruptCount: number;
}

export interface PortStatus {
  raw: bigint;
  powerState: number;
  ap1Event: boolean;
  ap2Event: boolean;
}

export interface ClearedPortErrors {
  /** PORT_ERROR before clearing. */
  errors: bigint;
  /** PORT_FIRST_ERROR before clearing. */
  firstError: bigint;
}

/** Where the disable counts of a card's ports live, keyed by port header location (Card owns one). */
export type PortDisableCounts = Map<string, number>;

export class Port extends Fiu {
  /** PORT_CAP[1:0]. */
  readonly number: number;
  readonly #counts: PortDisableCounts;

  /** `counts`: the card's disable counts (a Port on its own counts alone). */
  constructor(device: Device, feature: Feature, counts: PortDisableCounts = new Map()) {
    super(device, feature);
    this.#counts = counts;
    this.number = Number(fieldGet(PORT_CAP.PORT_NUM, this.region.read64(this.offset + PortReg.CAP)));
  }

  get capabilities(): PortCapabilities {
    const raw = this.region.read64(this.offset + PortReg.CAP);
    return { raw, portNumber: Number(fieldGet(PORT_CAP.PORT_NUM, raw)), mmioSizeKiB: Number(fieldGet(PORT_CAP.MMIO_SIZE, raw)), interruptCount: Number(fieldGet(PORT_CAP.SUPP_INT_NUM, raw)) };
  }

  get status(): PortStatus {
    const raw = this.region.read64(this.offset + PortReg.STS);
    return { raw, powerState: Number(fieldGet(PORT_STS.PWR_STATE, raw)), ap1Event: (raw & PORT_STS.AP1_EVT) !== 0n, ap2Event: (raw & PORT_STS.AP2_EVT) !== 0n };
  }

  /**
   * Clear the latched thermal throttling events, PORT_STS[12] (AP1) and [13] (AP2), by writing 1s
   * as dfl-afu-main.c ap1_event_store / ap2_event_store do. The power state itself follows the
   * card's temperature and is not written. Returns the status read back.
   */
  clearPowerEvents(events: { ap1?: boolean; ap2?: boolean } = { ap1: true, ap2: true }): PortStatus {
    const bits = (events.ap1 ? PORT_STS.AP1_EVT : 0n) | (events.ap2 ? PORT_STS.AP2_EVT : 0n);
    if (bits !== 0n) this.region.write64(this.offset + PortReg.STS, bits);
    return this.status;
  }

  /** PORT_CTRL as read now. */
  get control(): { raw: bigint; softReset: boolean; softResetAck: boolean; latencyTolerance: boolean } {
    const raw = this.region.read64(this.offset + PortReg.CTRL);
    return { raw, softReset: (raw & PORT_CTRL.SFTRST) !== 0n, softResetAck: (raw & PORT_CTRL.SFTRST_ACK) !== 0n, latencyTolerance: (raw & PORT_CTRL.LATENCY) !== 0n };
  }

  get #key(): string {
    return `${this.feature.bar}:${this.offset}`;
  }

  /** How many disable() calls are not yet matched by enable(). */
  get disableCount(): number {
    return this.#counts.get(this.#key) ?? 0;
  }

  set #count(n: number) {
    this.#counts.set(this.#key, n);
  }

  /** True while held in soft reset by this framework (disableCount > 0). */
  get disabled(): boolean {
    return this.disableCount > 0;
  }

  /**
   * Hold the port (and its AFU) in soft reset. Nested: only the first call touches the hardware.
   * On a timeout the port stays counted as disabled with PORT_CTRL[0] set (as the kernel leaves
   * it); call enable() to release it.
   */
  disable(): void {
    const count = this.disableCount;
    this.#count = count + 1;
    if (count !== 0) {
      log('port %d: disable nested (count %d)', this.number, count + 1);
      return;
    }
    setBits64(this.region, this.offset + PortReg.CTRL, PORT_CTRL.SFTRST);
    this.#waitAck(true);
    log('port %d: disabled (in soft reset)', this.number);
  }

  /** Undo one disable(); the last one releases the soft reset and waits for the ACK to drop. */
  enable(): void {
    const count = this.disableCount;
    if (count === 0) {
      throw new DeviceError('EPORT_NOT_DISABLED', `port ${this.number}: enable() without a matching disable(); the port is not held in reset by this program`, { port: this.number });
    }
    this.#count = count - 1;
    if (count !== 1) {
      log('port %d: enable nested (count %d)', this.number, count - 1);
      return;
    }
    clearBits64(this.region, this.offset + PortReg.CTRL, PORT_CTRL.SFTRST);
    this.#waitAck(false);
    log('port %d: enabled', this.number);
  }

  /** Reset the port and its AFU: disable then enable (dfl-afu-main.c __port_reset). No-op on the hardware while nested. */
  reset(): void {
    this.disable();
    this.enable();
  }

  #waitAck(asserted: boolean): void {
    const reg = this.offset + PortReg.CTRL;
    const r = waitBits64(this.region, reg, PORT_CTRL.SFTRST_ACK, asserted, { timeoutMs: PORT_RESET_TIMEOUT_US / 1000, intervalUs: PORT_RESET_POLL_US });
    if (!r.timedOut) return;
    const what = asserted ? 'disable' : 'enable';
    throw new PortResetError(
      asserted ? 'EPORT_DISABLE_TIMEOUT' : 'EPORT_ENABLE_TIMEOUT',
      `port ${this.number} ${what}: PORT_CTRL (BAR${this.feature.bar}+${hex(reg)}) bit 4 (soft reset ACK) did not become ${asserted ? 1 : 0} within ${PORT_RESET_TIMEOUT_US} us after ${asserted ? 'setting' : 'clearing'} bit 0 (last value ${hex(r.value, 16)}); ` +
        (asserted ? 'the AFU did not drain its outstanding requests: the port stays held in reset, call enable() to release it, then reset the device' : 'the port did not leave reset; reset the device (FLR) or reload the FPGA'),
      { register: 'PORT_CTRL', bar: this.feature.bar, offset: reg, bit: 4, expected: asserted ? 1 : 0, value: hex(r.value, 16), port: this.number, timeoutUs: PORT_RESET_TIMEOUT_US },
    );
  }

  /** PORT_ERROR and PORT_FIRST_ERROR as read now (port error feature 0x10). */
  readErrors(): ClearedPortErrors {
    const ref = this.#errorFeature();
    return { errors: ref.region.read64(ref.csrOffset + PortErrorReg.ERROR), firstError: ref.region.read64(ref.csrOffset + PortErrorReg.FIRST_ERROR) };
  }

  /**
   * Clear latched port errors as dfl-afu-error.c afu_port_err_clear does: hold the port in reset,
   * mask all errors, write PORT_ERROR and PORT_FIRST_ERROR back with the values read (write 1 to
   * clear), unmask, release the port. Returns what was cleared.
   */
  clearErrors(): ClearedPortErrors {
    const ref = this.#errorFeature();
    const base = ref.csrOffset;
    const r = ref.region;
    // afu_port_err_clear: "if device is still in AP6 power state, can not clear any error" (-EBUSY),
    // checked before the port is touched.
    const sts = this.status;
    if (sts.powerState === PortPowerState.AP6) {
      throw new DeviceError('EBUSY', `port ${this.number}: errors cannot be cleared while the port is in power state AP6 (PORT_STS[11:8] = 6 at BAR${this.feature.bar}+${hex(this.offset + PortReg.STS)}: 100% throttling); wait until the card cools down and the state returns to normal, then retry (dfl-afu-error.c afu_port_err_clear)`, { register: 'PORT_STS', bar: this.feature.bar, offset: this.offset + PortReg.STS, powerState: sts.powerState, port: this.number, errno: 'EBUSY' });
    }
    try {
      this.disable();
    } catch (err) {
      this.#releaseQuietly();
      throw err;
    }
    let cleared: ClearedPortErrors;
    try {
      r.write64(base + PortErrorReg.MASK, PORT_ERROR_MASK_ALL);
      const errors = r.read64(base + PortErrorReg.ERROR);
      r.write64(base + PortErrorReg.ERROR, errors);
      const firstError = r.read64(base + PortErrorReg.FIRST_ERROR);
      r.write64(base + PortErrorReg.FIRST_ERROR, firstError);
      cleared = { errors, firstError };
    } finally {
      try {
        r.write64(base + PortErrorReg.MASK, 0n);
      } finally {
        this.enable();
      }
    }
    if (cleared.errors !== 0n) log('port %d: cleared errors %s (first %s)', this.number, hex(cleared.errors), hex(cleared.firstError));
    return cleared;
  }

  #releaseQuietly(): void {
    try {
      this.enable();
    } catch (err) {
      if (!(err instanceof VfiokitError)) throw err;
      log('port %d: release after failed disable also failed: %s', this.number, err.message);
    }
  }

  #errorFeature(): FeatureRef {
    const ref = this.instance(portErrorDriver);
    if (!ref) {
      throw new DeviceError('EPORT_NO_ERROR_FEATURE', `port ${this.number} has no error feature (Port private feature 0x10); its errors cannot be read or cleared`, { port: this.number });
    }
    return ref;
  }
}
