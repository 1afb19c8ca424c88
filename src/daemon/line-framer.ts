// Framing of the daemon's JSON-RPC stream: one JSON text per line, "\n"-terminated (JSON.stringify
// never emits a raw newline, so a message cannot contain one). A line may be at most `maxBytes`
// long; a longer one is refused without buffering it (the framer drops the connection's input).
import { RpcError, RpcErrorCode } from './rpc-errors.js';

export const DEFAULT_MAX_REQUEST_BYTES = 1 << 20;

export class LineFramer {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #pending = 0;

  constructor(maxBytes = DEFAULT_MAX_REQUEST_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of an unfinished line held so far (0: between messages). */
  get pending(): number {
    return this.#pending;
  }

  /** Complete lines in `chunk` (plus what came before); throws REQUEST_TOO_LARGE past the limit. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.#take(chunk.subarray(start, nl));
      lines.push(Buffer.concat(this.#parts).toString('utf8'));
      this.#parts = [];
      this.#pending = 0;
      start = nl + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
    return lines;
  }

  #take(piece: Buffer): void {
    if (this.#pending + piece.length > this.#maxBytes) {
      this.#parts = [];
      throw new RpcError(RpcErrorCode.REQUEST_TOO_LARGE, 'EREQUEST_TOO_LARGE',
        `request longer than ${this.#maxBytes} bytes; send one JSON-RPC request per line, each under the limit (file contents go by path, not inline)`,
        { limit: this.#maxBytes });
    }
    this.#parts.push(piece);
    this.#pending += piece.length;
  }
}

const BIGINT_MARK = '\u0000bigint:';
const BIGINT_QUOTED = /"\\u0000bigint:(-?\d+)"/g;

/** One message as a line. Bigints (bbs_id, 64-bit registers) go as exact JSON integers, which Python's json reads as int. */
export function encodeLine(message: unknown): string {
  const text = JSON.stringify(message, (_k, v: unknown) => (typeof v === 'bigint' ? BIGINT_MARK + v.toString() : v));
  return text.replace(BIGINT_QUOTED, '$1') + '\n';
}
