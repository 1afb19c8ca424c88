// One client of the daemon: reads newline-delimited JSON-RPC 2.0 requests, runs each (several may
// be in flight: a flash and the get_status polls beside it), writes responses and progress
// notifications. Whatever the client sends, it gets a typed JSON-RPC error and the daemon goes on;
// a client that is gone only loses its replies (a flash it started runs to the end).
import type { Socket } from 'node:net';
import createDebug from 'debug';
import type { ManagementApi } from '../manage/api.js';
import type { PeerCred } from '../sys/peer-cred.js';
import { encodeLine, LineFramer } from './line-framer.js';
import { bindParams, methods, type CallContext } from './methods.js';
import { RpcError, RpcErrorCode } from './rpc-errors.js';

const log = createDebug('vfiokit:daemon');

export interface ConnectionLimits {
  /** Longest request line (bytes). */
  maxRequestBytes: number;
  /** A started line must be finished within this (ms), else REQUEST_TIMEOUT and the connection closes. */
  requestTimeoutMs: number;
  /** Requests running at once on one connection (more wait, and the socket is not read meanwhile). */
  maxInFlight: number;
  /** Replies queued for a client that does not read; past this it is dropped. */
  maxQueuedBytes: number;
}

export interface DaemonShared {
  api: ManagementApi;
  daemonUid: number;
  operations: CallContext['operations'];
}

type RequestId = string | number | null;

export class Connection {
  readonly peer: PeerCred;
  readonly #socket: Socket;
  readonly #shared: DaemonShared;
  readonly #limits: ConnectionLimits;
  readonly #framer: LineFramer;
  readonly #session = { initialized: false };
  #inFlight = 0;
  /** Complete request lines waiting for an in-flight slot. */
  readonly #queue: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(socket: Socket, peer: PeerCred, shared: DaemonShared, limits: ConnectionLimits) {
    this.#socket = socket;
    this.peer = peer;
    this.#shared = shared;
    this.#limits = limits;
    this.#framer = new LineFramer(limits.maxRequestBytes);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => log('%s: socket error %s', this.who, err.message));
    socket.on('close', () => {
      this.#closed = true;
      clearTimeout(this.#timer);
      log('%s: disconnected (%d request(s) still running)', this.who, this.#inFlight);
    });
  }

  get who(): string {
    return `uid=${this.peer.uid} gid=${this.peer.gid} pid=${this.peer.pid}`;
  }

  #onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.#framer.push(chunk);
    } catch (err) {
      this.#refuseAndClose(err as RpcError);
      return;
    }
    for (const line of lines) if (line.trim() !== '') this.#queue.push(line);
    this.#drain();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#framer.pending > 0 && !this.#closed) {
      this.#timer = setTimeout(() => this.#refuseAndClose(new RpcError(RpcErrorCode.REQUEST_TIMEOUT, 'EREQUEST_TIMEOUT',
        `request not finished within ${this.#limits.requestTimeoutMs} ms (${this.#framer.pending} bytes and no newline); send each request as one line`,
        { timeoutMs: this.#limits.requestTimeoutMs })), this.#limits.requestTimeoutMs);
    }
  }

  /** Start queued requests up to the in-flight limit; stop reading the socket while some wait. */
  #drain(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#limits.maxInFlight && !this.#closed) {
      this.#inFlight++;
      void this.#handle(this.#queue.shift()!).finally(() => {
        this.#inFlight--;
        this.#drain();
      });
    }
    if (this.#queue.length > 0) this.#socket.pause();
    else if (!this.#closed && this.#socket.isPaused()) this.#socket.resume();
  }

  #refuseAndClose(err: RpcError): void {
    log('%s: %s; closing', this.who, err.message);
    this.#send({ jsonrpc: '2.0', id: null, error: err.toRpc() });
    this.#socket.end();
    this.#socket.pause();
  }

  async #handle(line: string): Promise<void> {
    let id: RequestId = null;
    try {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch (err) {
        throw new RpcError(RpcErrorCode.PARSE_ERROR, 'EPARSE', `request is not JSON: ${(err as Error).message}`);
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
        throw new RpcError(RpcErrorCode.INVALID_REQUEST, 'EINVAL', Array.isArray(msg) ? 'batches are not supported: send one request per line' : 'a request is a JSON object');
      }
      const req = msg as Record<string, unknown>;
      if (typeof req.id === 'string' || (typeof req.id === 'number' && Number.isFinite(req.id))) id = req.id;
      else if (req.id !== undefined && req.id !== null) throw new RpcError(RpcErrorCode.INVALID_REQUEST, 'EINVAL', 'id must be a string or a number');
      if (req.jsonrpc !== '2.0') throw new RpcError(RpcErrorCode.INVALID_REQUEST, 'EINVAL', 'jsonrpc must be "2.0"');
      if (typeof req.method !== 'string') throw new RpcError(RpcErrorCode.INVALID_REQUEST, 'EINVAL', 'method must be a string');
      const method = Object.hasOwn(methods, req.method) ? methods[req.method] : undefined;
      if (!method) {
        throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, 'ENOSYS', `no method "${req.method.slice(0, 64)}"; the methods are ${Object.keys(methods).join(', ')}`, { method: req.method.slice(0, 64) });
      }
      const params = bindParams(req.method, method.params, req.params, this.peer);
      const ctx: CallContext = {
        ...this.#shared,
        peer: this.peer,
        session: this.#session,
        progress: (update) => this.#send({ jsonrpc: '2.0', method: 'progress', params: { request: id, ...update } }),
      };
      const result = await method.call(ctx, params);
      const last = result === null || (typeof result === 'number' && result < 0) ? this.#shared.api.lastError() : undefined;
      log('%s: %s(%s) -> %s%s', this.who, req.method, encodeLine(params).trimEnd(), encodeLine(result ?? null).trimEnd(), last ? ` (${last.code}: ${last.message})` : '');
      if (id !== null) this.#send({ jsonrpc: '2.0', id, result: result ?? null });
    } catch (err) {
      const e = err instanceof RpcError ? err : new RpcError(RpcErrorCode.INTERNAL_ERROR, 'EINTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`);
      log('%s: refused: %s', this.who, e.message);
      this.#send({ jsonrpc: '2.0', id, error: e.toRpc() });
    }
  }

  #send(message: unknown): void {
    if (this.#closed || this.#socket.destroyed || !this.#socket.writable) return;
    if (this.#socket.writableLength > this.#limits.maxQueuedBytes) {
      log('%s: %d bytes of replies unread (limit %d); dropping the client', this.who, this.#socket.writableLength, this.#limits.maxQueuedBytes);
      this.#socket.destroy();
      return;
    }
    this.#socket.write(encodeLine(message));
  }

  close(): void {
    this.#socket.destroy();
  }
}
