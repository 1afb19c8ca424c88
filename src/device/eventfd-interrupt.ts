// EventfdInterrupt: the Interrupt every transport hands out (vfio: the kernel signals the eventfd
// given to VFIO_DEVICE_SET_IRQS; vfio-user: the server signals an fd passed with SCM_RIGHTS; sim:
// the device model writes it). Delivery goes through src/sys/eventfd-watcher.ts, off the JS thread.
//
// The eventfd is watched only while someone listens (a pending wait() or an onEvent listener), so
// an armed but unobserved interrupt does not keep the process alive. Signals that arrive while
// nobody listens stay in the eventfd counter and are delivered to the next wait() or listener:
// no interrupt is lost.
import { DeviceError, TimeoutError } from '../errors.js';
import { closeQuietly, createEventfd, eventfdWrite } from '../sys/libc.js';
import { eventfdWatcher, type EventfdWatch, type EventfdWatcher } from '../sys/eventfd-watcher.js';
import type { Interrupt } from './interrupt.js';

export interface EventfdInterruptOptions {
  /** IRQ index (IrqIndex.MSIX...). */
  index: number;
  vector: number;
  /** An existing eventfd; by default a new non-blocking, close-on-exec one is created. */
  fd?: number;
  /** Close the fd on close() (default true; false when the caller keeps owning it). */
  ownsFd?: boolean;
  /** Human-readable name for errors, e.g. "vfio:0000:3b:00.0 MSI-X". */
  name?: string;
  /** The watcher to use (default: this thread's). */
  watcher?: EventfdWatcher;
}

interface Waiter {
  resolve(count: number): void;
  reject(e: Error): void;
}

export class EventfdInterrupt implements Interrupt {
  readonly index: number;
  readonly vector: number;
  readonly fd: number;
  readonly name: string;
  #count = 0;
  #closed = false;
  #ownsFd: boolean;
  #listeners = new Set<(events: number) => void>();
  #waiters = new Set<Waiter>();
  #watch: EventfdWatch | undefined;
  #watcher: EventfdWatcher;

  constructor(options: EventfdInterruptOptions) {
    this.index = options.index;
    this.vector = options.vector;
    this.fd = options.fd ?? createEventfd();
    this.#ownsFd = options.ownsFd ?? true;
    this.name = options.name ?? `irq index ${options.index} vector ${options.vector}`;
    this.#watcher = options.watcher ?? eventfdWatcher();
  }

  /** Events delivered so far (to waiters and listeners). */
  get count(): number {
    return this.#count;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Signal the eventfd from this process (a device model raising the interrupt, or a test). */
  signal(n = 1): void {
    this.#assertOpen('signal');
    eventfdWrite(this.fd, n);
  }

  wait(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError('wait'));
    const { timeoutMs, signal } = options;
    if (signal?.aborted) return Promise.reject(this.#abortError(signal));
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => settle(() => reject(this.#abortError(signal!)));
      const waiter: Waiter = {
        resolve: (count) => settle(() => resolve(count)),
        reject: (e) => settle(() => reject(e)),
      };
      const settle = (fn: () => void): void => {
        if (!this.#waiters.delete(waiter)) return;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#updateWatch();
        fn();
      };
      this.#waiters.add(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => settle(() => reject(new TimeoutError(
          'EIRQ_TIMEOUT',
          `${this.name} (eventfd ${this.fd}): no interrupt within ${timeoutMs} ms; check that the device raises it and that the vector is enabled`,
          { index: this.index, vector: this.vector, fd: this.fd, timeoutMs },
        ))), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.#updateWatch();
      } catch (e) {
        waiter.reject(e as Error);
      }
    });
  }

  onEvent(listener: (events: number) => void): () => void {
    this.#assertOpen('onEvent');
    this.#listeners.add(listener);
    this.#updateWatch();
    return () => {
      if (this.#listeners.delete(listener)) this.#updateWatch();
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = this.#closedError('wait');
    for (const w of [...this.#waiters]) w.reject(err);
    this.#listeners.clear();
    this.#updateWatch();
    if (this.#ownsFd) closeQuietly(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #deliver(count: number): void {
    this.#count += count;
    for (const w of [...this.#waiters]) w.resolve(count);
    for (const l of [...this.#listeners]) {
      try {
        l(count);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  #updateWatch(): void {
    const wanted = !this.#closed && (this.#waiters.size > 0 || this.#listeners.size > 0);
    if (wanted && !this.#watch) {
      this.#watch = this.#watcher.watch(this.fd, (count) => this.#deliver(count), (e) => this.#watcherFailed(e));
    } else if (!wanted && this.#watch) {
      this.#watch.close();
      this.#watch = undefined;
    }
  }

  /** The watcher failed: pending waits learn why; listeners go on through a fresh watch. */
  #watcherFailed(e: Error): void {
    this.#watch = undefined;
    for (const w of [...this.#waiters]) w.reject(e);
    if (this.#listeners.size > 0 && !this.#closed) {
      try {
        this.#updateWatch();
      } catch (again) {
        queueMicrotask(() => {
          throw again;
        });
      }
    }
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw this.#closedError(what);
  }

  #closedError(what: string): DeviceError {
    return new DeviceError('EIRQ_CLOSED', `${this.name} (eventfd ${this.fd}): ${what} on a closed interrupt; enable the interrupts again`, { index: this.index, vector: this.vector });
  }

  #abortError(signal: AbortSignal): Error {
    const reason: unknown = signal.reason;
    return reason instanceof Error ? reason : new DeviceError('EIRQ_ABORTED', `${this.name}: wait aborted`, { index: this.index, vector: this.vector });
  }
}
