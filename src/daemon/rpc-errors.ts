// JSON-RPC 2.0 error codes the daemon answers with (https://www.jsonrpc.org/specification, section
// 5.1: -32700..-32600 are the spec's own; -32000..-32099 are "server error" codes we define).
// A management API failure is not a JSON-RPC error: the call ran and its result is the seed API's
// -errno or null, as a local call returns it. These codes mean the request itself was refused.
import { VfiokitError } from '../errors.js';
import type { VfiokitErrorCode } from '../error-codes.js';

export const RpcErrorCode = {
  /** The line is not JSON. */
  PARSE_ERROR: -32700,
  /** JSON, but not a JSON-RPC 2.0 request object (or a batch, which the daemon does not take). */
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  /** Missing, extra or wrongly typed parameters. */
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** A request line longer than the limit (the connection is closed: the stream cannot resync). */
  REQUEST_TOO_LARGE: -32001,
  /** A request line started but not finished within the limit (slow client; connection closed). */
  REQUEST_TIMEOUT: -32002,
  /** The peer (SO_PEERCRED uid) may not do this (another user's flash, the daemon's log file, a file it cannot read). */
  PERMISSION_DENIED: -32003,
  /** Too many clients connected. */
  SERVER_BUSY: -32004,
} as const;

export type RpcErrorCodeValue = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/** A refused request: `rpcCode` goes on the wire, `code` (an E... name) and details in error.data. */
export class RpcError extends VfiokitError {
  readonly rpcCode: RpcErrorCodeValue;

  constructor(rpcCode: RpcErrorCodeValue, code: VfiokitErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.rpcCode = rpcCode;
  }

  /** The JSON-RPC error object. */
  toRpc(): { code: number; message: string; data: Record<string, unknown> } {
    return { code: this.rpcCode, message: this.message, data: { code: this.code, ...this.details } };
  }
}
