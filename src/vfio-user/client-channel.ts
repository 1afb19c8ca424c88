// The client's request channel: one command out, its reply back, as a blocking round trip on the
// socket through the FFI (send, poll, recvmsg). While it waits, and whenever it is idle (fd
// watcher), it answers the server's DMA_READ/DMA_WRITE for the client's DMA windows - on the twin
// socket when the server set one up (vfio-user.rst "Socket", twin_socket), else on the main one.
import { DeviceError } from '../errors.js';
import { closeQuietly, libc } from '../sys/libc.js';
import { POLLIN } from '../sys/constants.js';
import { logger } from '../util/log.js';
import type { ClientDmaWindows } from './client-dma-windows.js';
import { watchFd } from './fd-watcher.js';
import {
  buildErrorReply, Command, commandName, encodeHeader, Errno, FLAG_ERROR, FLAG_NO_REPLY, HEADER_SIZE, isReply,
  TYPE_COMMAND, VfioUserConnectionError, VfioUserRemoteError, type Message,
} from './protocol.js';
import { MessageSocket } from './unix-socket.js';
import { AdaptiveSpin } from './adaptive-spin.js';
import type { VfiokitErrorCode } from '../error-codes.js';

const log = logger('vfio-user:client');

export interface RequestChannelOptions {
  /** `vfio-user:<path>`, named in every message. */
  url: string;
  /** The socket path (error details). */
  path: string;
  /** How long to wait for each reply. */
  timeoutMs: number;
  /** Re-read the socket up to this long (microseconds) before sleeping in poll() for a reply. */
  spinUs: number;
  /** Adapt that window to whether it pays (default true; adaptive-spin.ts). */
  spinAdaptive?: boolean;
  /** Largest data transfer the client accepts (sizes the receive buffers). */
  maxXfer: number;
  /** Most fds one message may carry to us. */
  maxFds: number;
  /** Called once the connection has failed, before the error is thrown: the owner closes everything. */
  onFail: () => void;
}

export class RequestChannel {
  readonly url: string;
  readonly #path: string;
  readonly #sock: MessageSocket;
  #twin: MessageSocket | undefined;
  #unwatch: (() => void) | undefined;
  readonly #timeoutMs: number;
  readonly #spin: AdaptiveSpin;
  readonly #maxXfer: number;
  readonly #windows: ClientDmaWindows;
  readonly #onFail: () => void;
  #nextId = 0;
  #closed = false;
  /** Commands sent so far (each a round trip): benchmarks and tests count messages with it. */
  commandsSent = 0;
  #pollfds = Buffer.alloc(16);

  /** Takes ownership of the connected socket `fd`. */
  constructor(fd: number, windows: ClientDmaWindows, options: RequestChannelOptions) {
    this.url = options.url;
    this.#path = options.path;
    this.#timeoutMs = options.timeoutMs;
    this.#spin = new AdaptiveSpin(options.spinUs, options.spinAdaptive ?? true);
    this.#maxXfer = options.maxXfer;
    this.#onFail = options.onFail;
    this.#windows = windows;
    this.#sock = new MessageSocket(fd, { name: this.url, maxPayload: this.#maxXfer + 4096, maxFds: options.maxFds });
  }

  get hasTwin(): boolean {
    return this.#twin !== undefined;
  }

  /** Use `fd` (the server's twin socket end, from the VERSION reply) for server-to-client commands. */
  attachTwin(fd: number): void {
    this.#twin = new MessageSocket(fd, { name: `${this.url} (twin)`, maxPayload: this.#maxXfer + 4096, maxFds: 0 });
  }

  /** Answer server-initiated DMA while idle (fd watcher on the twin socket, or the main one). */
  watchIdle(): void {
    const serviced = this.#twin ?? this.#sock;
    this.#unwatch = watchFd(serviced.fd, () => this.#serviceIdle());
  }

  stopWatching(): void {
    this.#unwatch?.();
  }

  /** The next message id (16 bits, wrapping). */
  nextId(): number {
    return this.#nextId = (this.#nextId + 1) & 0xffff;
  }

  /** Send a command and wait for its reply, answering server commands meanwhile. Returns the reply. */
  call(command: number, payload: Uint8Array | null, fds: readonly number[] = [], context = ''): Message {
    if (this.#closed) throw new DeviceError('EDEVICE_CLOSED', `${this.url} is closed; open it again`);
    const id = this.nextId();
    const size = HEADER_SIZE + (payload ? payload.length : 0);
    const out = new Uint8Array(size);
    encodeHeader(out, { id, command, size, flags: TYPE_COMMAND, error: 0 });
    if (payload) out.set(payload, HEADER_SIZE);
    this.#send(out, fds, command);
    return this.#await(id, command, context);
  }

  /** Send a whole command message the caller encoded (with id from nextId()) and wait for its reply. */
  exchange(bytes: Uint8Array, command: number, id: number, context: string): Message {
    if (this.#closed) throw new DeviceError('EDEVICE_CLOSED', `${this.url} is closed; open it again`);
    this.#send(bytes, [], command);
    return this.#await(id, command, context);
  }

  /** The connection is unusable: close the owner and throw. */
  fail(problem: string, code: VfiokitErrorCode = 'EVFIO_USER_DISCONNECTED'): never {
    const err = new VfioUserConnectionError(code, `${this.url}: ${problem}; the device is unusable now: restart the server and open it again`, { path: this.#path });
    this.#onFail();
    throw err;
  }

  #send(bytes: Uint8Array, fds: readonly number[], command: number): void {
    this.commandsSent++;
    try {
      this.#sock.send(bytes, fds, this.#timeoutMs);
    } catch (err) {
      if (err instanceof VfioUserConnectionError) this.fail(`sending ${commandName(command)} failed (${err.message})`);
      throw err;
    }
  }

  #await(id: number, command: number, context: string): Message {
    const sock = this.#sock;
    const twin = this.#twin;
    let deadline = 0;
    let spinUntil = 0;
    /** 'spin' while inside a non-empty window, 'missed' once it ran out, else 'none'. */
    let spin: 'none' | 'spin' | 'missed' = 'none';
    for (;;) {
      const r = sock.receive();
      if (r.kind === 'message') {
        const m = r.message;
        if (isReply(m.header)) {
          if (m.header.id === id && m.header.command === command) {
            if (spin === 'spin') this.#spin.hit();
            if ((m.header.flags & FLAG_ERROR) !== 0) {
              for (const fd of m.fds) closeQuietly(fd);
              throw new VfioUserRemoteError(command, m.header.error || Errno.EIO, context);
            }
            return m;
          }
          for (const fd of m.fds) closeQuietly(fd);
          log('%s: dropped a reply to id %d (%s) while waiting for id %d', this.url, m.header.id, commandName(m.header.command), id);
        } else {
          this.#serveCommand(sock, m);
        }
        continue;
      }
      if (r.kind === 'refused') {
        for (const fd of r.fds) closeQuietly(fd);
        this.fail(`the server sent a malformed message (${r.error.message})`);
      }
      if (r.kind === 'closed') this.fail(`the server closed the connection while waiting for the ${commandName(command)} reply`);
      if (twin) this.#serviceTwin();
      const now = performance.now();
      if (deadline === 0) {
        deadline = now + this.#timeoutMs;
        const window = this.#spin.next();
        spinUntil = now + window;
        if (window > 0) spin = 'spin';
      }
      // A register round trip is a few microseconds: re-read for a moment before sleeping in poll.
      if (now < spinUntil) {
        this.#spin.pause();
        continue;
      }
      if (spin === 'spin') {
        this.#spin.miss();
        spin = 'missed';
      }
      const left = deadline - now;
      if (left <= 0) this.fail(`no ${commandName(command)} reply within ${this.#timeoutMs} ms: the server holds the connection but does not answer (a device operation that hangs, or a stopped server process)`, 'EVFIO_USER_TIMEOUT');
      this.#pollBoth(Math.ceil(left));
    }
  }

  #pollBoth(timeoutMs: number): void {
    const p = this.#pollfds;
    p.writeInt32LE(this.#sock.fd, 0);
    p.writeInt16LE(POLLIN, 4);
    p.writeInt16LE(0, 6);
    const n = this.#twin ? 2 : 1;
    if (this.#twin) {
      p.writeInt32LE(this.#twin.fd, 8);
      p.writeInt16LE(POLLIN, 12);
      p.writeInt16LE(0, 14);
    }
    libc.poll(p, n, timeoutMs);
  }

  #serviceTwin(): void {
    const twin = this.#twin;
    if (!twin) return;
    for (;;) {
      const r = twin.receive();
      if (r.kind === 'again') return;
      if (r.kind === 'closed') {
        // Server-to-client commands have nowhere to come from now; stop polling the dead socket.
        log('%s: the server closed the twin socket', this.url);
        if (this.#twin === twin) {
          this.#twin = undefined;
          twin.close();
        }
        return;
      }
      if (r.kind === 'refused') {
        for (const fd of r.fds) closeQuietly(fd);
        try {
          twin.send(buildErrorReply(r.header ?? { id: 0, command: 0 }, r.error.errno));
        } catch {
          return; // the twin socket is failing; the main socket reports it
        }
        continue;
      }
      if (isReply(r.message.header)) {
        for (const fd of r.message.fds) closeQuietly(fd);
        continue;
      }
      this.#serveCommand(twin, r.message);
    }
  }

  /** Fd watcher: the server sent something while we were idle. */
  #serviceIdle(): void {
    if (this.#closed) return;
    try {
      if (this.#twin) return this.#serviceTwin();
      for (;;) {
        const r = this.#sock.receive();
        if (r.kind === 'again') return;
        if (r.kind === 'closed') {
          log('%s: the server went away while idle', this.url);
          this.#unwatch?.();
          return;
        }
        if (r.kind === 'refused') {
          for (const fd of r.fds) closeQuietly(fd);
          continue;
        }
        if (isReply(r.message.header)) {
          for (const fd of r.message.fds) closeQuietly(fd);
          continue;
        }
        this.#serveCommand(this.#sock, r.message);
      }
    } catch (err) {
      log('%s: idle service failed: %s', this.url, (err as Error).message);
    }
  }

  /** Answer DMA_READ / DMA_WRITE from the server against our DMA windows. */
  #serveCommand(sock: MessageSocket, m: Message): void {
    for (const fd of m.fds) closeQuietly(fd);
    const h = m.header;
    if ((h.flags & FLAG_NO_REPLY) !== 0 && h.command !== Command.DMA_WRITE) return;
    let reply: Uint8Array;
    try {
      reply = this.#windows.answer(h, m.payload);
    } catch (err) {
      const errno = (err as { errno?: number }).errno ?? Errno.EINVAL;
      reply = buildErrorReply(h, errno);
    }
    if ((h.flags & FLAG_NO_REPLY) !== 0) return;
    try {
      sock.send(reply);
    } catch (err) {
      // The connection is failing; the next receive on it reports that.
      log('%s: could not answer %s: %s', this.url, commandName(h.command), (err as Error).message);
    }
  }

  /** Stop watching and close the socket(s). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch?.();
    this.#twin?.close();
    this.#sock.close();
  }
}
