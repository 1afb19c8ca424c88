// EventfdWatcher: eventfds (interrupts from the kernel, a device model, a vfio-user server)
// delivered to JS callbacks without blocking the event loop.
//
// One epoll fd per thread plus a control eventfd. A koffi ASYNC epoll_wait runs on a worker
// thread of the libuv pool; when it returns, the callback (on the JS thread) reads each ready
// eventfd (resetting its counter) and calls its listener with the count, then issues the next
// epoll_wait. When nothing is watched any more, writing the control eventfd ends the in-flight
// epoll_wait and the loop stops, so the process can exit. While something is watched, the
// pending epoll_wait keeps the process alive (like a listening socket) and occupies one libuv
// pool thread (UV_THREADPOOL_SIZE, default 4).
import koffi from 'koffi';
import { ArgumentError } from '../errors.js';
import { logger } from '../util/log.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_EVENT_DATA_OFFSET, EPOLL_EVENT_SIZE, EPOLLIN } from './constants.js';
import { closeQuietly, createEventfd, epollCreate, epollCtl, eventfdRead, eventfdWrite, libc, setNonblocking } from './libc.js';
import { SysError } from './sys-error.js';

const log = logger('irq');

/** Events read per epoll_wait. */
const MAX_EVENTS = 64;

export interface EventfdWatch {
  readonly fd: number;
  /** Stop watching (idempotent). Does not close the fd. */
  close(): void;
}

type Listener = (count: number) => void;

export class EventfdWatcher {
  #epfd = -1;
  #control = -1;
  #watches = new Map<number, Listener>();
  /** Told when the watcher itself fails (epoll_wait error): the watch is over, re-watch to go on. */
  #errorHandlers = new Map<number, (error: Error) => void>();
  #events = Buffer.alloc(MAX_EVENTS * EPOLL_EVENT_SIZE);
  /** An epoll_wait is in flight on the pool thread. */
  #running = false;
  /** Number of epoll_wait calls completed (for tests and diagnostics). */
  #waits = 0;

  /** True while an epoll_wait is in flight (something is, or was until just now, watched). */
  get running(): boolean {
    return this.#running;
  }

  get watching(): number {
    return this.#watches.size;
  }

  get waits(): number {
    return this.#waits;
  }

  /**
   * Call `onEvent(count)` each time the eventfd is signalled; count is the counter value read
   * (the number of signals coalesced since the last read). The fd is made non-blocking.
   */
  watch(fd: number, onEvent: Listener, onError?: (error: Error) => void): EventfdWatch {
    if (!Number.isInteger(fd) || fd < 0) {
      throw new ArgumentError('EARG_FD', `watchEventfd: fd ${String(fd)} is not a file descriptor`, { fd });
    }
    if (this.#watches.has(fd)) {
      throw new ArgumentError('EARG_FD', `watchEventfd: fd ${fd} is already watched; close the first watch or share its listener`, { fd });
    }
    this.#open();
    setNonblocking(fd);
    epollCtl(this.#epfd, EPOLL_CTL_ADD, fd, EPOLLIN, fd);
    this.#watches.set(fd, onEvent);
    if (onError) this.#errorHandlers.set(fd, onError);
    this.#start();
    let closed = false;
    return {
      fd,
      close: () => {
        if (closed) return;
        closed = true;
        this.#unwatch(fd, onEvent);
      },
    };
  }

  #open(): void {
    if (this.#epfd >= 0) return;
    const epfd = epollCreate(EPOLL_CLOEXEC);
    try {
      this.#control = createEventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      epollCtl(epfd, EPOLL_CTL_ADD, this.#control, EPOLLIN, this.#control);
    } catch (e) {
      closeQuietly(this.#control);
      this.#control = -1;
      closeQuietly(epfd);
      throw e;
    }
    this.#epfd = epfd;
    // process.exit() joins libuv's pool threads: one blocked in epoll_wait would hang the exit.
    // Waking it through the control eventfd lets the thread finish (nothing is re-armed then).
    process.once('exit', () => {
      if (this.#running) eventfdWrite(this.#control, 1);
    });
  }

  #unwatch(fd: number, listener: Listener): void {
    if (this.#watches.get(fd) !== listener) return;
    this.#watches.delete(fd);
    this.#errorHandlers.delete(fd);
    // The fd may already be closed (then epoll dropped it itself): ignore EBADF/ENOENT.
    libc.epoll_ctl(this.#epfd, EPOLL_CTL_DEL, fd, null);
    if (this.#watches.size === 0 && this.#running) eventfdWrite(this.#control, 1);
  }

  #start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#wait();
  }

  #wait(): void {
    libc.epoll_wait.async(this.#epfd, this.#events, MAX_EVENTS, -1, (err: unknown, n: number) => this.#onWake(err, n));
  }

  #onWake(err: unknown, n: number): void {
    this.#waits++;
    if (err || n < 0) {
      const errno = koffi.errno();
      if (!err && errno === koffi.os.errno.EINTR) {
        this.#wait();
        return;
      }
      this.#fail((err as Error | undefined) ?? new SysError('epoll_wait', errno, { fd: this.#epfd }));
      return;
    }
    const events = this.#events;
    for (let i = 0; i < n; i++) {
      const fd = events.readInt32LE(i * EPOLL_EVENT_SIZE + EPOLL_EVENT_DATA_OFFSET);
      if (fd === this.#control) {
        eventfdRead(fd);
        continue;
      }
      const listener = this.#watches.get(fd);
      if (!listener) continue;
      let count = 0;
      try {
        count = eventfdRead(fd);
      } catch (e) {
        // Not an eventfd or no longer open: stop watching it and report.
        this.#unwatch(fd, listener);
        log('fd %d dropped from the watch: %s', fd, (e as Error).message);
        continue;
      }
      if (count === 0) continue;
      try {
        listener(count);
      } catch (e) {
        // One listener must not stop delivery to the others: surface it like an EventEmitter would.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    if (this.#watches.size > 0) {
      this.#wait();
    } else {
      this.#running = false;
      log('nothing watched: event loop stopped');
    }
  }

  /**
   * epoll_wait itself failed (its fd closed behind our back, out of memory): no crash. Every watch
   * ends and its owner is told through onError (EventfdInterrupt rejects its waiters and re-arms
   * on a fresh epoll fd); the broken epoll fd and control eventfd are dropped, and the next
   * watch() opens new ones.
   */
  #fail(e: Error): void {
    this.#running = false;
    log('epoll_wait failed, every watch ends: %s', e.message);
    const handlers = [...this.#errorHandlers.values()];
    const unhandled = this.#watches.size - handlers.length;
    this.#watches.clear();
    this.#errorHandlers.clear();
    closeQuietly(this.#control);
    closeQuietly(this.#epfd);
    this.#control = -1;
    this.#epfd = -1;
    if (unhandled > 0) log('%d watch(es) without an error handler ended', unhandled);
    for (const handler of handlers) handler(e);
  }
}

let defaultWatcher: EventfdWatcher | undefined;

/** The watcher of this thread (created on first use). */
export function eventfdWatcher(): EventfdWatcher {
  defaultWatcher ??= new EventfdWatcher();
  return defaultWatcher;
}

/** Watch an eventfd on this thread's watcher: `onEvent(count)` on every signal. */
export function watchEventfd(fd: number, onEvent: (count: number) => void, onError?: (error: Error) => void): EventfdWatch {
  return eventfdWatcher().watch(fd, onEvent, onError);
}
