// Card events, OPAE's fpgaRegisterEvent(FPGA_EVENT_ERROR) and (FPGA_EVENT_POWER_THERMAL) for
// vfiokit: an async iterator and listeners over
//   'error'          the FME global errors (FME feature 0x4) or a port's errors (port feature
//                    0x10), decoded. Driven by the feature's MSI-X vector when the card has one
//                    (FME_ERROR_CAP / PORT_ERROR_CAP or a DFH v1 MSI-X parameter: dfl.c
//                    parse_feature_irqs; the kernel hands the same vectors to userspace through
//                    DFL_FPGA_FME_ERR_SET_IRQ / DFL_FPGA_PORT_ERR_SET_IRQ), else by polling the
//                    error registers for a change.
//   'power-thermal'  an FME thermal alarm (temp1_max_alarm, temp1_crit_alarm) or power alarm
//                    (power1_max_alarm, power1_crit_alarm) tripped or cleared. Always polled: the
//                    FME thermal and power features have no interrupt (dfl-fme-main.c registers no
//                    IRQ for fme_thermal_mgmt / fme_power_mgmt; only hwmon attributes to read).
// Polls are timers on the event loop (never a blocking loop); close() releases the vectors and
// timers. Events not yet taken by an iterator are queued up to `queueLimit`, then the oldest are
// dropped and counted (`dropped`). Arming an error vector replaces an eventfd the program armed
// on the same vector itself (VFIO_DEVICE_SET_IRQS semantics); close() closes the eventfd but
// leaves the vector enabled, as disabling MSI-X would take every other vector of the device with it.
// A register read that fails ends the stream with that error; a listener that throws throws out
// of the timer or interrupt callback, as an EventEmitter listener would.
import type { Card } from './card.js';
import type { Interrupt } from '../device/interrupt.js';
import { IrqIndex } from '../device/device.js';
import { ArgumentError, VfiokitError } from '../errors.js';
import { logger } from '../util/log.js';
import { readFmeErrors, fmeErrorDriver, type FmeErrors } from './fme-errors.js';
import { portErrorDriver } from './port.js';
import { readFmeThermal, fmeThermalDriver } from './thermal.js';
import { readFmePower, fmePowerDriver } from './power.js';

const log = logger('afu:events');

/** How an event was noticed. */
export type EventSource = 'interrupt' | 'poll';

export interface FmeErrorEvent {
  type: 'error';
  source: 'fme';
  errors: FmeErrors;
  via: EventSource;
}

export interface PortErrorEvent {
  type: 'error';
  source: 'port';
  port: number;
  /** PORT_ERROR and PORT_FIRST_ERROR. */
  errors: bigint;
  firstError: bigint;
  via: EventSource;
}

export type PowerThermalAlarm = 'temp-max' | 'temp-crit' | 'power-max' | 'power-crit';

export interface PowerThermalEvent {
  type: 'power-thermal';
  /** temp1_max_alarm, temp1_crit_alarm, power1_max_alarm, power1_crit_alarm. */
  alarm: PowerThermalAlarm;
  /** True when the alarm tripped, false when it cleared. */
  tripped: boolean;
  /** The reading and the threshold it was compared with (degrees C or W). */
  value: number;
  threshold: number;
  via: 'poll';
}

export type CardEvent = FmeErrorEvent | PortErrorEvent | PowerThermalEvent;

export interface CardEventOptions {
  /** Poll period of the alarm bits (and of error registers without an interrupt), ms (default 1000). */
  pollMs?: number;
  /** Use the error features' MSI-X vectors when the card has them (default true). */
  interrupts?: boolean;
  /** Stop watching when aborted. */
  signal?: AbortSignal;
  /** Events kept for iterators before the oldest are dropped (default 1024). */
  queueLimit?: number;
}

type Listener<E> = (event: E) => void;
type ListenerMap = { error: Listener<FmeErrorEvent | PortErrorEvent>; 'power-thermal': Listener<PowerThermalEvent> };

const fmeErrorBits = (e: FmeErrors): bigint[] => [e.fmeErrors, e.pcie0Errors, e.pcie1Errors, e.nonFatalErrors, e.catFatalErrors];

export class CardEvents implements AsyncIterable<CardEvent>, Disposable {
  readonly #card: Card;
  readonly #pollMs: number;
  readonly #queueLimit: number;
  readonly #listeners = { error: new Set<ListenerMap['error']>(), 'power-thermal': new Set<ListenerMap['power-thermal']>() };
  readonly #queue: CardEvent[] = [];
  readonly #takers: { resolve: (r: IteratorResult<CardEvent>) => void; reject: (e: unknown) => void }[] = [];
  readonly #irqs: Interrupt[] = [];
  readonly #polled: (() => void)[] = [];
  readonly #alarms = new Map<PowerThermalAlarm, boolean>();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.close();
  #timer: NodeJS.Timeout | undefined;
  #failure: unknown;
  #closed = false;
  /** Events dropped because no iterator took them in time. */
  dropped = 0;
  /** Which sources are interrupt driven ('fme', 'port0', ...) and which are polled. */
  readonly sources: Record<string, EventSource> = {};

  constructor(card: Card, options: CardEventOptions = {}) {
    const pollMs = options.pollMs ?? 1000;
    if (!(Number.isFinite(pollMs) && pollMs >= 1)) throw new ArgumentError('EINVAL', `card events: pollMs ${String(pollMs)} is not a number of milliseconds >= 1`, { pollMs });
    const queueLimit = options.queueLimit ?? 1024;
    if (!(Number.isInteger(queueLimit) && queueLimit >= 1)) throw new ArgumentError('EINVAL', `card events: queueLimit ${String(queueLimit)} is not a positive integer`, { queueLimit });
    this.#card = card;
    this.#pollMs = pollMs;
    this.#queueLimit = queueLimit;
    this.#signal = options.signal;
    try {
      this.#watchErrors(options.interrupts ?? true);
      this.#watchAlarms();
    } catch (err) {
      this.close();
      throw err;
    }
    if (options.signal?.aborted) this.close();
    else options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    // The first poll runs on the next turn of the event loop, so listeners added right after
    // construction hear of alarms that are already tripped.
    if (!this.#closed && this.#polled.length) this.#schedule(0);
  }

  /** Call `listener` on each event of `type`; returns the unsubscribe function. */
  on<T extends keyof ListenerMap>(type: T, listener: ListenerMap[T]): () => void {
    const set = this.#listeners[type] as Set<ListenerMap[T]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** The next event (for one-shot waits); rejects when watching failed or was closed first. */
  next(): Promise<IteratorResult<CardEvent>> {
    const e = this.#queue.shift();
    if (e) return Promise.resolve({ value: e, done: false });
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.#takers.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<CardEvent> {
    return { next: () => this.next(), return: async () => { this.close(); return { value: undefined, done: true }; } };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stop watching: release the vectors and the poll timer; pending iterators end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    for (const irq of this.#irqs) irq.close();
    for (const t of this.#takers.splice(0)) {
      if (this.#failure !== undefined) t.reject(this.#failure);
      else t.resolve({ value: undefined, done: true });
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #emit(event: CardEvent): void {
    if (this.#closed) return;
    log('%s: %s %o', this.#card.device.url, event.type, event);
    for (const l of this.#listeners[event.type]) (l as Listener<CardEvent>)(event);
    const taker = this.#takers.shift();
    if (taker) return taker.resolve({ value: event, done: false });
    if (this.#queue.length >= this.#queueLimit) {
      this.#queue.shift();
      this.dropped++;
    }
    this.#queue.push(event);
  }

  #fail(err: unknown): void {
    if (this.#closed) return;
    log('%s: watching failed: %s', this.#card.device.url, (err as Error).message);
    this.#failure = err;
    this.close();
  }

  /** Arm the feature's MSI-X vector, or undefined when it has none or the device cannot deliver it. */
  #vector(irq: { firstVector: number } | undefined): Interrupt | undefined {
    if (!irq) return undefined;
    const device = this.#card.device;
    if (device.irqCount <= IrqIndex.MSIX || irq.firstVector >= device.irqInfo(IrqIndex.MSIX).count) return undefined;
    const [armed] = device.enableInterrupts(IrqIndex.MSIX, irq.firstVector, 1);
    this.#irqs.push(armed!);
    return armed;
  }

  /** One error source: on its interrupt, or polled for a change of its registers. */
  #errorSource(name: string, irq: { firstVector: number } | undefined, useIrq: boolean, read: () => bigint[], event: (via: EventSource) => CardEvent): void {
    const armed = useIrq ? this.#vector(irq) : undefined;
    this.sources[name] = armed ? 'interrupt' : 'poll';
    if (armed) {
      armed.onEvent(() => this.#guard(() => this.#emit(event('interrupt'))));
      return;
    }
    let last = read().join(',');
    this.#polled.push(() => {
      const bits = read();
      const now = bits.join(',');
      if (now !== last && bits.some((b) => b !== 0n)) this.#emit(event('poll'));
      last = now;
    });
  }

  #watchErrors(useIrq: boolean): void {
    const fme = this.#card.fme;
    const fmeRef = fme?.instance(fmeErrorDriver);
    if (fme && fmeRef) {
      this.#errorSource('fme', fmeRef.irq, useIrq, () => fmeErrorBits(readFmeErrors(fme)), (via) => ({ type: 'error', source: 'fme', errors: readFmeErrors(fme), via }));
    }
    for (const port of this.#card.ports) {
      const ref = port.instance(portErrorDriver);
      if (!ref) continue;
      this.#errorSource(`port${port.number}`, ref.irq, useIrq, () => [port.readErrors().errors], (via) => ({ type: 'error', source: 'port', port: port.number, ...port.readErrors(), via }));
    }
  }

  #watchAlarms(): void {
    const fme = this.#card.fme;
    if (!fme) return;
    const check = (alarm: PowerThermalAlarm, tripped: boolean, value: number, threshold: number): void => {
      const was = this.#alarms.get(alarm) ?? false;
      this.#alarms.set(alarm, tripped);
      if (was !== tripped) this.#emit({ type: 'power-thermal', alarm, tripped, value, threshold, via: 'poll' });
    };
    if (fme.instance(fmeThermalDriver)) {
      this.sources.thermal = 'poll';
      this.#polled.push(() => {
        const t = readFmeThermal(fme);
        if (!t.thresholds) return; // no throttling thresholds: no alarms (fme_thermal_throttle_support)
        check('temp-max', t.thresholds.maxAlarm, t.temperatureC, t.thresholds.maxC);
        check('temp-crit', t.thresholds.critAlarm, t.temperatureC, t.thresholds.critC);
      });
    }
    if (fme.instance(fmePowerDriver)) {
      this.sources.power = 'poll';
      this.#polled.push(() => {
        const p = readFmePower(fme);
        check('power-max', p.maxAlarm, p.consumedW, p.maxW);
        check('power-crit', p.critAlarm, p.consumedW, p.critW);
      });
    }
  }

  /** Run `fn`; a typed error (a failed register read) ends the stream, anything else is thrown on. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof VfiokitError)) throw err;
      this.#fail(err);
    }
  }

  #pollOnce(): void {
    this.#guard(() => { for (const poll of this.#polled) poll(); });
  }

  #schedule(delayMs = this.#pollMs): void {
    this.#timer = setTimeout(() => {
      this.#pollOnce();
      if (!this.#closed) this.#schedule();
    }, delayMs);
  }
}

/** Watch `card` for error and power/thermal events (fpgaRegisterEvent ERROR / POWER_THERMAL). */
export function watchCardEvents(card: Card, options?: CardEventOptions): CardEvents {
  return new CardEvents(card, options);
}
