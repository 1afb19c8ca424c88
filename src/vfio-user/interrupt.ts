// One interrupt vector of a vfio-user device: an eventfd we pass to the server with SET_IRQS; the
// server writes it when the device raises the vector. Readiness comes through the fd watcher, so
// waiting never blocks the event loop.
import type { Interrupt } from '../device/interrupt.js';
import { DeviceError, TimeoutError } from '../errors.js';
import { closeQuietly, createEventfd, eventfdRead } from '../sys/libc.js';
import { watchFd } from './fd-watcher.js';

type Waiter = { resolve: (n: number) => void; reject: (e: Error) => void; cleanup: () => void };

export class EventfdVector implements Interrupt {
  readonly index: number;
  readonly vector: number;
  readonly fd: number;
  #count = 0;
  #listeners = new Set<(events: number) => void>();
  #waiters = new Set<Waiter>();
  #unwatch: () => void;
  #closed = false;
  readonly #label: string;

  constructor(index: number, vector: number, label: string) {
    this.index = index;
    this.vector = vector;
    this.#label = label;
    this.fd = createEventfd();
    this.#unwatch = watchFd(this.fd, () => this.#drain());
  }

  get count(): number {
    return this.#count;
  }

  #drain(): void {
    if (this.#closed) return;
    const events = eventfdRead(this.fd);
    if (events === 0) return;
    this.#count += events;
    for (const w of [...this.#waiters]) {
      w.cleanup();
      w.resolve(events);
    }
    for (const l of [...this.#listeners]) l(events);
  }

  wait(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        waiter.cleanup();
        reject(new DeviceError('ECANCELED', `${this.#label}: wait cancelled`));
      };
      const waiter: Waiter = {
        resolve, reject,
        cleanup: () => {
          this.#waiters.delete(waiter);
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      if (options.signal?.aborted) return onAbort();
      this.#waiters.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          waiter.cleanup();
          reject(new TimeoutError('EIRQ_TIMEOUT', `${this.#label}: no interrupt within ${options.timeoutMs} ms; check that the device was told to raise it (and that vector ${this.vector} is enabled)`, { index: this.index, vector: this.vector, timeoutMs: options.timeoutMs }));
        }, options.timeoutMs);
      }
    });
  }

  onEvent(listener: (events: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #closedError(): DeviceError {
    return new DeviceError('EIRQ_CLOSED', `${this.#label}: the interrupt was disabled or the device closed; enable it again`, { index: this.index, vector: this.vector });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch();
    for (const w of [...this.#waiters]) {
      w.cleanup();
      w.reject(this.#closedError());
    }
    this.#listeners.clear();
    closeQuietly(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
