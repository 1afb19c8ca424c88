// MSI-X vectors of the simulated card. Arming a vector creates a real eventfd (EFD_NONBLOCK |
// EFD_CLOEXEC); the card signals it with a real eventfd write, as the kernel's vfio-pci does from
// its interrupt handler. Because the signalling side is in this process, the Interrupt drains the
// eventfd on the next turn of the event loop after each signal (a nonblocking read of the
// counter) and delivers the count to wait() and onEvent() listeners asynchronously.
import type { Interrupt } from '../device/interrupt.js';
import { ArgumentError, DeviceError, TimeoutError, VfiokitError } from '../errors.js';
import { closeQuietly, createEventfd, eventfdRead, eventfdWrite } from '../sys/libc.js';
import { logger } from '../util/log.js';

const log = logger('sim:irq');

interface Waiter {
  resolve: (events: number) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

export class SimInterrupt implements Interrupt {
  readonly index: number;
  readonly vector: number;
  readonly #name: string;
  #fd: number;
  #count = 0;
  #listeners = new Set<(events: number) => void>();
  #waiters = new Set<Waiter>();
  #drainQueued = false;
  #onClose: () => void;

  constructor(name: string, index: number, vector: number, onClose: () => void) {
    this.#name = name;
    this.index = index;
    this.vector = vector;
    this.#fd = createEventfd();
    this.#onClose = onClose;
  }

  get fd(): number {
    return this.#fd;
  }

  get count(): number {
    return this.#count;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Device side: signal the vector (eventfd write), then deliver on the next event-loop turn. */
  signal(): void {
    if (this.#fd < 0) return;
    eventfdWrite(this.#fd, 1);
    if (this.#drainQueued) return;
    this.#drainQueued = true;
    setImmediate(() => {
      this.#drainQueued = false;
      this.#drain();
    });
  }

  #drain(): void {
    if (this.#fd < 0) return;
    const events = eventfdRead(this.#fd);
    if (events <= 0) return;
    this.#count += events;
    for (const w of [...this.#waiters]) {
      w.cleanup();
      w.resolve(events);
    }
    for (const l of [...this.#listeners]) {
      try {
        l(events);
      } catch (err) {
        log('%s vector %d: listener threw: %s', this.#name, this.vector, (err as Error)?.stack ?? String(err));
      }
    }
  }

  wait(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    if (this.#fd < 0) return Promise.reject(this.#closedError());
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        waiter.cleanup();
        reject(new VfiokitError('ECANCELED', `${this.#name}: wait for MSI-X vector ${this.vector} was cancelled`, { vector: this.vector }));
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => {
          this.#waiters.delete(waiter);
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      this.#waiters.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          waiter.cleanup();
          reject(new TimeoutError('ETIMEDOUT', `${this.#name}: MSI-X vector ${this.vector} did not fire within ${options.timeoutMs} ms; check that the device was told to interrupt (e.g. the AFU's IRQ enable bit)`, { vector: this.vector, timeoutMs: options.timeoutMs }));
        }, options.timeoutMs);
      }
    });
  }

  onEvent(listener: (events: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #closedError(): DeviceError {
    return new DeviceError('EIRQ_CLOSED', `${this.#name}: MSI-X vector ${this.vector} is disarmed; enable interrupts again to wait on it`, { vector: this.vector });
  }

  close(): void {
    if (this.#fd < 0) return;
    closeQuietly(this.#fd);
    this.#fd = -1;
    const err = this.#closedError();
    for (const w of [...this.#waiters]) {
      w.cleanup();
      w.reject(err);
    }
    this.#listeners.clear();
    this.#onClose();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The card's vector table: which vectors are armed, and with which eventfd. */
export class SimInterrupts {
  readonly #name: string;
  readonly #vectors: (SimInterrupt | undefined)[];

  constructor(name: string, vectors: number) {
    this.#name = name;
    this.#vectors = new Array(vectors).fill(undefined);
  }

  /** Arm start..start+count-1 (re-arming a vector replaces its eventfd, as VFIO_DEVICE_SET_IRQS does). */
  enable(index: number, start: number, count: number): SimInterrupt[] {
    const n = this.#vectors.length;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > n) {
      throw new ArgumentError('EARG_IRQ_RANGE', `${this.#name}: MSI-X vectors ${start}..${start + count - 1} are not inside 0..${n - 1}`, { start, count, vectors: n });
    }
    const out: SimInterrupt[] = [];
    try {
      for (let v = start; v < start + count; v++) {
        this.#vectors[v]?.close();
        const irq: SimInterrupt = new SimInterrupt(this.#name, index, v, () => {
          if (this.#vectors[v] === irq) this.#vectors[v] = undefined;
        });
        this.#vectors[v] = irq;
        out.push(irq);
      }
    } catch (err) {
      for (const irq of out) irq.close();
      throw err;
    }
    return out;
  }

  /** Signal `vector`; false when it is not armed. */
  signal(vector: number): boolean {
    const irq = this.#vectors[vector];
    if (!irq) return false;
    irq.signal();
    return true;
  }

  disableAll(): void {
    for (const irq of this.#vectors) irq?.close();
  }
}
