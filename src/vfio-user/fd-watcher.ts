// FdWatcher: readiness of raw fds (sockets, eventfds) delivered to the event loop without blocking
// it. One poll() per process runs off the main thread (koffi's async call on the libuv pool) over
// every watched fd plus a wake-up eventfd; when it returns, the callbacks of the ready fds run on
// the main thread, then the poll is armed again. Watching or unwatching wakes the pending poll so
// the set is rebuilt. With nothing watched no poll is pending, so the process can exit.
import { libc, createEventfd, eventfdRead, eventfdWrite, closeQuietly, addressOf } from '../sys/libc.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL } from '../sys/constants.js';
import { logger } from '../util/log.js';

const log = logger('vfio-user:watch');

/** Called with poll revents (POLLIN, POLLHUP, POLLERR...). Must consume the readiness (read until EAGAIN). */
export type ReadyCallback = (revents: number) => void;

const POLLFD_SIZE = 8;

class Watcher {
  #callbacks = new Map<number, ReadyCallback>();
  #wakeFd = -1;
  #pending = false;
  /** True while ready callbacks run: the poll is re-armed after them, so kicks wait. */
  #dispatching = false;
  #buffer = Buffer.alloc(POLLFD_SIZE);
  #fds: number[] = [];
  /** The callback each polled fd had when the poll was armed (an fd number may be reused meanwhile). */
  #armedCallbacks: (ReadyCallback | undefined)[] = [];

  /** Set at process exit: end the pending poll and arm no more. */
  #exiting = false;

  constructor() {
    // An in-flight poll() would keep process.exit() waiting for the pool thread forever (the
    // FFI waits for pending async calls at teardown): wake it on the way out.
    process.once('exit', () => {
      this.#exiting = true;
      if (this.#pending && this.#wakeFd >= 0) eventfdWrite(this.#wakeFd, 1);
    });
  }

  watch(fd: number, callback: ReadyCallback): () => void {
    this.#callbacks.set(fd, callback);
    this.#kick();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      if (this.#callbacks.get(fd) === callback) this.#callbacks.delete(fd);
      this.#kick();
    };
  }

  get watching(): number {
    return this.#callbacks.size;
  }

  /** Make the pending poll return (or start one) so the fd set is rebuilt. */
  #kick(): void {
    if (this.#dispatching) return;
    if (this.#pending) {
      eventfdWrite(this.#wakeFd, 1);
      return;
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#exiting) return;
    if (this.#callbacks.size === 0) {
      if (this.#wakeFd >= 0) {
        closeQuietly(this.#wakeFd);
        this.#wakeFd = -1;
      }
      return;
    }
    if (this.#wakeFd < 0) this.#wakeFd = createEventfd();
    this.#fds = [this.#wakeFd, ...this.#callbacks.keys()];
    this.#armedCallbacks = [undefined, ...this.#callbacks.values()];
    if (this.#buffer.length < this.#fds.length * POLLFD_SIZE) this.#buffer = Buffer.alloc(this.#fds.length * POLLFD_SIZE * 2);
    const buf = this.#buffer;
    this.#fds.forEach((fd, i) => {
      buf.writeInt32LE(fd, i * POLLFD_SIZE);
      buf.writeInt16LE(POLLIN, i * POLLFD_SIZE + 4);
      buf.writeInt16LE(0, i * POLLFD_SIZE + 6);
    });
    this.#pending = true;
    const fds = this.#fds;
    const armed = this.#armedCallbacks;
    libc.poll.async(addressOf(buf), fds.length, -1, (err: unknown, result: number) => {
      this.#pending = false;
      this.#dispatching = true;
      if (err) {
        log('poll failed: %s', String(err));
      } else if (result > 0) {
        const ready: [number, number, ReadyCallback | undefined][] = [];
        for (let i = 0; i < fds.length; i++) {
          const revents = buf.readUInt16LE(i * POLLFD_SIZE + 6);
          if (revents !== 0) ready.push([fds[i]!, revents, armed[i]]);
        }
        for (const [fd, revents, armedCb] of ready) {
          if (fd === this.#wakeFd) {
            eventfdRead(fd);
            continue;
          }
          // Only the watch the poll was armed for: if the fd was unwatched (and its number reused
          // by a new watch) while the poll ran, these revents (often POLLNVAL) are the old file's.
          const cb = this.#callbacks.get(fd);
          if (!cb || cb !== armedCb) continue;
          try {
            cb(revents);
          } catch (e) {
            log('callback for fd %d threw: %s', fd, (e as Error)?.stack ?? String(e));
          }
          // An fd that reports POLLNVAL was closed behind our back: stop watching it.
          if ((revents & POLLNVAL) !== 0 && this.#callbacks.get(fd) === cb) this.#callbacks.delete(fd);
        }
      }
      this.#dispatching = false;
      this.#arm();
    });
  }
}

const watcher = new Watcher();

/** Call `callback` on the event loop whenever `fd` is readable or hung up. Returns unwatch (idempotent). */
export function watchFd(fd: number, callback: ReadyCallback): () => void {
  return watcher.watch(fd, callback);
}

/** Number of fds being watched (tests). */
export function watchedFdCount(): number {
  return watcher.watching;
}

export const POLL_GONE = POLLHUP | POLLERR | POLLNVAL;
