// VfioUserServer: hosts a Device on a UNIX socket for one vfio-user client at a time (the
// protocol dedicates a socket per client/server connection; vfio-user.rst "Socket"). Clients that
// connect while one is served are accepted and answered EBUSY to their first message (then
// closed), so they learn the device is busy instead of waiting in the listen backlog for a reply
// that never comes; vfiokit's client retries until its connect deadline. A client must send VERSION
// within the handshake timeout, or it is dropped: one that connects and never speaks cannot hold
// the device. The socket
// file is created with mode 0600 (or the given mode/owner) before anyone can connect. Accept and
// message handling run from the fd watcher, so the event loop stays free for the hosted device's
// timers and interrupts. On client disconnect every DMA mapping and IRQ eventfd is dropped and
// the server accepts the next client (vfio-user.rst "Client Disconnection").
import { EventEmitter } from 'node:events';
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import type { Device } from '../device/device.js';
import { ArgumentError, DeviceError } from '../errors.js';
import { accept, bindUnix, closeQuietly, connectUnix, listen, socket } from '../sys/libc.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../sys/constants.js';
import { isSysError } from '../sys/sys-error.js';
import { logger } from '../util/log.js';
import { watchFd } from './fd-watcher.js';
import { buildErrorReply, DEFAULT_MAX_DATA_XFER_SIZE, DEFAULT_MAX_DMA_MAPS, DEFAULT_PGSIZES, Errno, MAX_MAX_MSG_FDS } from './protocol.js';
import { ServerConnection, type ServerLimits } from './server-connection.js';
import { MessageSocket } from './unix-socket.js';
import { AdaptiveSpin } from './adaptive-spin.js';

const log = logger('vfio-user:server');

export interface ServerOptions extends Partial<ServerLimits> {
  /** Socket file mode (default 0o600). */
  mode?: number;
  /** chown the socket file to this uid/gid. */
  owner?: { uid: number; gid: number };
  /** Remove a stale socket file nobody listens on (default true). */
  replaceStale?: boolean;
  /** Busy-read the client up to this many microseconds after each message (default 50; 0 = never). */
  spinUs?: number;
  /** Adapt the busy-read window to whether it pays (default true; src/vfio-user/adaptive-spin.ts). False: always spinUs. */
  spinAdaptive?: boolean;
  /** Drop a client that has not sent VERSION this long after connecting (default 10 s). */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Connections answered EBUSY at once; more are closed without an answer. */
const MAX_BUSY_REFUSALS = 16;

export const DEFAULT_SPIN_US = 50;

export interface VfioUserServerEvents {
  connect: [ServerConnection];
  disconnect: [ServerConnection];
  /** Something a client did that the operator should see (a refused or dropped connection). */
  notice: [string];
  error: [Error];
}

export class VfioUserServer extends EventEmitter<VfioUserServerEvents> {
  readonly device: Device;
  readonly path: string;
  readonly limits: ServerLimits;
  #listenFd = -1;
  #unwatchListen: (() => void) | undefined;
  #connection: ServerConnection | undefined;
  #unwatchConnection: (() => void) | undefined;
  #closed = false;
  #served = 0;
  #handshakeTimer: NodeJS.Timeout | undefined;
  readonly #handshakeTimeoutMs: number;
  /** Connections being answered EBUSY (fd -> cleanup). */
  #busy = new Map<number, () => void>();
  /** Busy-read window after each message (see #serviceBurst). */
  readonly spin: AdaptiveSpin;

  constructor(device: Device, path: string, options: ServerOptions = {}) {
    super();
    this.device = device;
    this.path = path;
    this.limits = {
      maxMsgFds: options.maxMsgFds ?? MAX_MAX_MSG_FDS,
      maxDataXferSize: options.maxDataXferSize ?? DEFAULT_MAX_DATA_XFER_SIZE,
      pgsizes: options.pgsizes ?? DEFAULT_PGSIZES,
      maxDmaMaps: options.maxDmaMaps ?? DEFAULT_MAX_DMA_MAPS,
      twinSocket: options.twinSocket ?? true,
    };
    this.spin = new AdaptiveSpin(options.spinUs ?? DEFAULT_SPIN_US, options.spinAdaptive ?? true);
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!Number.isInteger(this.#handshakeTimeoutMs) || this.#handshakeTimeoutMs <= 0) throw new ArgumentError('EARG_TIMEOUT', `handshake timeout ${String(options.handshakeTimeoutMs)} ms is not a positive integer`);
    this.#listen(options);
  }

  /** The connected client, if any. */
  get connection(): ServerConnection | undefined {
    return this.#connection;
  }

  /** Clients served so far (including the current one). */
  get clientsServed(): number {
    return this.#served;
  }

  #listen(options: ServerOptions): void {
    const mode = options.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new ArgumentError('EARG_MODE', `socket mode ${String(mode)} is not a permission mode 0..0o777`);
    this.#removeStale(options.replaceStale ?? true);
    const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
    // bind creates the file with (0777 & ~umask): narrow the umask so it is never wider than `mode`.
    const oldUmask = process.umask(0o777 & ~mode);
    try {
      bindUnix(fd, this.path);
    } catch (err) {
      closeQuietly(fd);
      throw err;
    } finally {
      process.umask(oldUmask);
    }
    try {
      chmodSync(this.path, mode);
      if (options.owner) chownSync(this.path, options.owner.uid, options.owner.gid);
      listen(fd, 4);
    } catch (err) {
      closeQuietly(fd);
      try { unlinkSync(this.path); } catch { /* already gone */ }
      throw err;
    }
    this.#listenFd = fd;
    this.#unwatchListen = watchFd(fd, () => this.#accept());
    log('serving %s on %s (mode %s)', this.device.url, this.path, mode.toString(8));
  }

  #removeStale(replace: boolean): void {
    let isSocket = false;
    try {
      isSocket = lstatSync(this.path).isSocket();
    } catch {
      return; // nothing there
    }
    if (!isSocket) throw new DeviceError('EEXIST', `${this.path} exists and is not a socket; remove it or choose another --socket path`, { path: this.path });
    const probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    try {
      connectUnix(probe, this.path);
      throw new DeviceError('EADDRINUSE', `another server is listening on ${this.path}; stop it or choose another --socket path`, { path: this.path });
    } catch (err) {
      if (!isSysError(err, 'ECONNREFUSED')) throw err;
    } finally {
      closeQuietly(probe);
    }
    if (!replace) throw new DeviceError('EEXIST', `stale socket ${this.path} exists; remove it`, { path: this.path });
    unlinkSync(this.path);
  }

  #accept(): void {
    if (this.#closed) return;
    for (;;) {
      let fd: number;
      try {
        fd = accept(this.#listenFd, SOCK_CLOEXEC | SOCK_NONBLOCK);
      } catch (err) {
        if (isSysError(err, 'EAGAIN')) return;
        if (isSysError(err, 'EMFILE') || isSysError(err, 'ENFILE')) {
          // Out of descriptors: the connection stays in the backlog (its client's connect deadline
          // reports it); stop the watcher spinning on it, and look again in a second.
          this.emit('notice', `cannot accept a client: out of file descriptors (${(err as Error).message})`);
          this.#unwatchListen?.();
          this.#unwatchListen = undefined;
          setTimeout(() => {
            if (!this.#closed && !this.#unwatchListen) this.#unwatchListen = watchFd(this.#listenFd, () => this.#accept());
          }, 1000).unref();
          return;
        }
        this.emit('error', err as Error);
        return;
      }
      if (this.#connection) this.#refuseBusy(fd);
      else this.#serve(fd);
    }
  }

  /** Answer the extra client's first message with EBUSY and close it (or close it at the handshake timeout). */
  #refuseBusy(fd: number): void {
    const current = this.#served;
    if (this.#busy.size >= MAX_BUSY_REFUSALS) {
      closeQuietly(fd);
      this.emit('notice', `a client connected while client ${current} is served and ${MAX_BUSY_REFUSALS} others wait for an answer: closed`);
      return;
    }
    const sock = new MessageSocket(fd, { name: `vfio-user server ${this.path} (busy)`, maxPayload: 4096, maxFds: 0 });
    let unwatch: (() => void) | undefined;
    const done = (): void => {
      clearTimeout(timer);
      unwatch?.();
      this.#busy.delete(fd);
      sock.close();
    };
    const timer = setTimeout(() => {
      this.emit('notice', `a client connected while client ${current} is served and sent nothing within ${this.#handshakeTimeoutMs} ms: closed`);
      done();
    }, this.#handshakeTimeoutMs);
    timer.unref();
    unwatch = watchFd(fd, () => {
      const r = sock.receive();
      if (r.kind === 'again') return;
      if (r.kind === 'message' || r.kind === 'refused') {
        const fds = r.kind === 'message' ? r.message.fds : r.fds;
        for (const f of fds) closeQuietly(f);
        const header = r.kind === 'message' ? r.message.header : r.header;
        try {
          sock.send(buildErrorReply(header ?? { id: 0, command: 0 }, Errno.EBUSY), [], 100);
        } catch { /* it left already */ }
        this.emit('notice', `a client connected while client ${current} is served: answered EBUSY`);
      }
      done();
    });
    this.#busy.set(fd, done);
  }

  #serve(fd: number): void {
    const n = ++this.#served;
    const conn = new ServerConnection(fd, this.device, this.limits, {
      name: `vfio-user server ${this.path} client ${this.#served}`,
      onClose: () => this.#dropped(conn),
      onInternalError: (err, command) => this.emit('notice', `internal error: ${command} from client ${n} failed inside the server (answered EIO): ${err.message}`),
    });
    this.#connection = conn;
    this.#unwatchConnection = watchFd(fd, () => this.#serviceBurst(conn));
    this.#handshakeTimer = setTimeout(() => {
      if (conn.closed || conn.negotiated) return;
      this.emit('notice', `client ${n} sent no VERSION within ${this.#handshakeTimeoutMs} ms: dropped`);
      conn.close();
    }, this.#handshakeTimeoutMs);
    this.#handshakeTimer.unref();
    log('%s: client %d connected', this.path, this.#served);
    this.emit('connect', conn);
  }

  /**
   * Handle what is readable, then keep reading for the spin window: a driver polling a register
   * sends its next request within microseconds, and catching it here saves the trip through the
   * watcher's poll thread (most of a round trip's cost). The window adapts (adaptive-spin.ts): it
   * closes when the client cannot answer in time (same core, loaded machine). Timers and other
   * events wait at most one window.
   */
  #serviceBurst(conn: ServerConnection): void {
    if (!conn.service()) return;
    let window = this.spin.next();
    if (window <= 0) return;
    let deadline = performance.now() + window;
    while (performance.now() < deadline) {
      const before = conn.handled;
      if (!conn.service()) return;
      if (conn.handled !== before) {
        this.spin.hit();
        window = this.spin.next();
        if (window <= 0) return;
        deadline = performance.now() + window;
      } else this.spin.pause();
    }
    this.spin.miss();
  }

  #dropped(conn: ServerConnection): void {
    if (this.#connection !== conn) return;
    clearTimeout(this.#handshakeTimer);
    this.#unwatchConnection?.();
    this.#unwatchConnection = undefined;
    this.#connection = undefined;
    this.emit('disconnect', conn);
    if (!this.#closed && !this.#unwatchListen) this.#unwatchListen = watchFd(this.#listenFd, () => this.#accept());
  }

  /** Stop listening, drop the client (unmapping its DMA), remove the socket file. The device stays open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection?.close();
    for (const done of [...this.#busy.values()]) done();
    this.#unwatchListen?.();
    closeQuietly(this.#listenFd);
    this.#listenFd = -1;
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
