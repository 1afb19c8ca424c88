// `vfiokit daemon`: one long-lived process that owns the cards (the DPDK "primary") and serves the
// management API as JSON-RPC 2.0 over a UNIX stream socket, one JSON text per line (docs/daemon.md).
// Authorization: the socket file's mode and owner (0600 by default: only the daemon's user; a
// group given gets 0660), then per connection the kernel's SO_PEERCRED (uid, gid, pid), which the
// daemon logs with every call (DEBUG=vfiokit:daemon) and uses for per-user rules (methods.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import createDebug from 'debug';
import { ManagementApi } from '../manage/api.js';
import { peerCred } from '../sys/peer-cred.js';
import { VfiokitError } from '../errors.js';
import { Connection, type ConnectionLimits, type DaemonShared } from './connection.js';
import { DEFAULT_MAX_REQUEST_BYTES, encodeLine } from './line-framer.js';
import { RpcError, RpcErrorCode } from './rpc-errors.js';

const log = createDebug('vfiokit:daemon');

export interface DaemonOptions extends Partial<ConnectionLimits> {
  /** Socket file mode (default 0600; 0660 when `gid` is given). */
  mode?: number;
  /** Group that may connect (chgrp of the socket file). */
  gid?: number;
  /** Clients at once (default 64). */
  maxClients?: number;
  /** The API instance (default: a new one). */
  api?: ManagementApi;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
  requestTimeoutMs: 10_000,
  maxInFlight: 16,
  maxQueuedBytes: 4 << 20,
};

/** Is something listening on `path`? (a stale socket file from a killed daemon is not). */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const s = connect(path);
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
  });
}

export class Daemon {
  readonly socketPath: string;
  readonly api: ManagementApi;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #limits: ConnectionLimits;
  readonly #maxClients: number;
  readonly #shared: DaemonShared;

  private constructor(socketPath: string, options: DaemonOptions) {
    this.socketPath = socketPath;
    this.api = options.api ?? new ManagementApi();
    this.#limits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k in DEFAULT_LIMITS && v !== undefined)) };
    this.#maxClients = options.maxClients ?? 64;
    this.#shared = { api: this.api, daemonUid: process.getuid?.() ?? 0, operations: new Map() };
    this.#server = createServer({ allowHalfOpen: false }, (socket) => this.#accept(socket));
  }

  /** Create the socket (mode set before anyone can connect) and start serving. */
  static async listen(socketPath: string, options: DaemonOptions = {}): Promise<Daemon> {
    const d = new Daemon(socketPath, options);
    const mode = options.mode ?? (options.gid !== undefined ? 0o660 : 0o600);
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
    let existing;
    try {
      existing = lstatSync(socketPath);
    } catch { /* none */ }
    if (existing) {
      if (!existing.isSocket()) throw new VfiokitError('EEXIST', `${socketPath} exists and is not a socket; choose another --socket path`, { path: socketPath });
      if (await socketInUse(socketPath)) throw new VfiokitError('EADDRINUSE', `a daemon already listens on ${socketPath}; stop it first or use another --socket`, { path: socketPath });
      unlinkSync(socketPath); // stale, from a daemon that died
    }
    // bind() creates the file with mode ~umask: a umask of 0177 makes it 0600 from the first moment.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        d.#server.once('error', reject);
        d.#server.listen(socketPath, () => { d.#server.off('error', reject); resolve(); });
      });
    } finally {
      process.umask(umask);
    }
    if (options.gid !== undefined) chownSync(socketPath, -1, options.gid);
    chmodSync(socketPath, mode);
    log('listening on %s (mode %s%s)', socketPath, mode.toString(8), options.gid !== undefined ? `, group ${options.gid}` : '');
    return d;
  }

  #accept(socket: Socket): void {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    let peer;
    try {
      if (typeof fd !== 'number' || fd < 0) throw new Error('no fd for the accepted socket');
      peer = peerCred(fd);
    } catch (err) {
      log('SO_PEERCRED failed (%s); refusing the client', (err as Error).message);
      socket.destroy();
      return;
    }
    if (this.#connections.size >= this.#maxClients) {
      const e = new RpcError(RpcErrorCode.SERVER_BUSY, 'EBUSY', `${this.#connections.size} clients connected (limit ${this.#maxClients}); try again later`);
      log('uid=%d pid=%d refused: %s', peer.uid, peer.pid, e.message);
      socket.end(encodeLine({ jsonrpc: '2.0', id: null, error: e.toRpc() }));
      return;
    }
    const c = new Connection(socket, peer, this.#shared, this.#limits);
    this.#connections.add(c);
    socket.on('close', () => this.#connections.delete(c));
    log('%s: connected', c.who);
  }

  get clients(): number {
    return this.#connections.size;
  }

  /** Long operations still running (flash, pr, reboot) by device. */
  get operations(): ReadonlyMap<string, { method: string; uid: number; pid: number }> {
    return this.#shared.operations;
  }

  /** Stop accepting, drop clients, remove the socket file; with `cleanup`, close the cards too. */
  async close(options: { cleanup?: boolean } = {}): Promise<void> {
    for (const c of this.#connections) c.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (options.cleanup !== false) await this.api.cleanupEal();
    log('stopped');
  }
}
