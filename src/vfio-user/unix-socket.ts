// Message framing for vfio-user over a UNIX stream socket, with fds passed as SCM_RIGHTS.
// - MessageSocket.send: one sendmsg per message (fds ride with its first byte), partial writes
//   and EAGAIN finished with poll(POLLOUT) up to a deadline.
// - MessageSocket.receive: reads whatever is available (non-blocking recvmsg) into a linear
//   buffer and cuts complete messages out of it. Fds go to the message holding the LAST byte of
//   the read that brought them: a Linux stream read may start with earlier sends' bytes but stops
//   right after the skb carrying fds (net/unix/af_unix.c unix_stream_read_generic: "if (scm.fp)
//   break"), and the fds ride on the first skb of the sendmsg, so that byte is the sender's.
// The msghdr, iovec and control buffers are allocated once per socket (the hot path allocates
// nothing but the message it returns).
import type { VfiokitErrorCode } from '../error-codes.js';
import koffi from 'koffi';
import { addressOf, closeQuietly, CmsghdrType, IovecType, libc, MsghdrType } from '../sys/libc.js';
import {
  MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, SCM_RIGHTS, SOL_SOCKET,
} from '../sys/constants.js';
import { SysError } from '../sys/sys-error.js';
import {
  decodeHeader, Errno, HEADER_SIZE, VfioUserConnectionError, VfioUserFormatError, type Header, type Message, oversized,
} from './protocol.js';

const MSGHDR_SIZE = koffi.sizeof(MsghdrType);
const IOV_SIZE = koffi.sizeof(IovecType);
const CMSG_HDR = koffi.sizeof(CmsghdrType);
const OFF_IOV = koffi.offsetof(MsghdrType, 'msg_iov');
const OFF_IOVLEN = koffi.offsetof(MsghdrType, 'msg_iovlen');
const OFF_CONTROL = koffi.offsetof(MsghdrType, 'msg_control');
const OFF_CONTROLLEN = koffi.offsetof(MsghdrType, 'msg_controllen');
const OFF_FLAGS = koffi.offsetof(MsghdrType, 'msg_flags');
const EAGAIN = koffi.os.errno.EAGAIN;
const EINTR = koffi.os.errno.EINTR;
const cmsgAlign = (n: number): number => (n + 7) & ~7;

/** Default time a send may wait for the peer to drain its socket buffer. */
export const SEND_TIMEOUT_MS = 10_000;

/** What `receive` found. */
export type ReceiveResult =
  | { kind: 'message'; message: Message }
  | { kind: 'again' }
  | { kind: 'closed' }
  /** A header the stream cannot carry: answer with `error.errno`. Its payload (if any) is skipped. */
  | { kind: 'refused'; header: Header | undefined; error: VfioUserFormatError; fds: number[] };

export interface MessageSocketOptions {
  /** Largest payload accepted (bytes after the header); bigger messages are refused with E2BIG and skipped. */
  maxPayload: number;
  /** Fds accepted per message (more are closed). */
  maxFds: number;
  /** Name for errors ("vfio-user:/run/card.sock"). */
  name: string;
}

export class MessageSocket {
  readonly fd: number;
  readonly name: string;
  maxPayload: number;
  maxFds: number;
  #closed = false;
  // receive buffer [#start, #end) of unparsed bytes; #pos = absolute stream offset of #buf[0]
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #pos = 0;
  /** Fds received, by the stream offset of the last byte of the read that brought them; `lost` when the kernel dropped some (MSG_CTRUNC). */
  #fdMarks: { at: number; fds: number[]; lost: boolean }[] = [];
  /** Bytes of an oversized message still to skip. */
  #skip = 0;
  // preallocated msghdr + iovec + control
  #msg = Buffer.alloc(MSGHDR_SIZE + IOV_SIZE);
  #msgAddress: bigint;
  #control: Buffer;
  #pollfd = Buffer.alloc(8);

  constructor(fd: number, options: MessageSocketOptions) {
    this.fd = fd;
    this.name = options.name;
    this.maxPayload = options.maxPayload;
    this.maxFds = options.maxFds;
    this.#control = Buffer.alloc(CMSG_HDR + cmsgAlign(4 * 253));
    this.#msgAddress = addressOf(this.#msg);
    this.#msg.writeBigUInt64LE(this.#msgAddress + BigInt(MSGHDR_SIZE), OFF_IOV);
    this.#msg.writeBigUInt64LE(1n, OFF_IOVLEN);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes already received and not yet returned as messages. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Send one message (header + payload as given) with `fds`; finishes partial writes. */
  send(parts: Uint8Array | readonly Uint8Array[], fds: readonly number[] = [], timeoutMs = SEND_TIMEOUT_MS): void {
    if (this.#closed) throw this.#gone('send on a closed connection');
    const list = parts instanceof Uint8Array ? [parts] : parts;
    let total = 0;
    for (const p of list) total += p.length;
    // One contiguous buffer keeps the sendmsg to one iovec and lets a partial write resume simply.
    const data = list.length === 1 ? list[0]! : concat(list, total);
    let sent = 0;
    let first = true;
    let deadline = 0;
    while (sent < total) {
      const n = this.#sendOnce(data, sent, total - sent, first ? fds : []);
      if (n > 0) {
        sent += n;
        first = false;
        continue;
      }
      if (n === -EINTR) continue;
      if (n !== -EAGAIN) throw this.#gone(`sendmsg failed: ${new SysError('sendmsg', -n, { fd: this.fd }).code}`);
      if (deadline === 0) deadline = performance.now() + timeoutMs;
      const left = deadline - performance.now();
      if (left <= 0) throw this.#gone(`the peer did not read for ${timeoutMs} ms (send timed out)`);
      const revents = this.poll(POLLOUT, Math.ceil(left));
      if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0 && (revents & POLLOUT) === 0) throw this.#gone('the peer closed the connection');
    }
  }

  #sendOnce(data: Uint8Array, offset: number, length: number, fds: readonly number[]): number {
    const msg = this.#msg;
    msg.writeBigUInt64LE(addressOf(data) + BigInt(offset), MSGHDR_SIZE);
    msg.writeBigUInt64LE(BigInt(length), MSGHDR_SIZE + 8);
    if (fds.length > 0) {
      const control = this.#control;
      const len = CMSG_HDR + 4 * fds.length;
      control.writeBigUInt64LE(BigInt(len), 0);
      control.writeInt32LE(SOL_SOCKET, 8);
      control.writeInt32LE(SCM_RIGHTS, 12);
      for (let i = 0; i < fds.length; i++) control.writeInt32LE(fds[i]!, CMSG_HDR + 4 * i);
      msg.writeBigUInt64LE(addressOf(control), OFF_CONTROL);
      msg.writeBigUInt64LE(BigInt(cmsgAlign(len)), OFF_CONTROLLEN);
    } else {
      msg.writeBigUInt64LE(0n, OFF_CONTROL);
      msg.writeBigUInt64LE(0n, OFF_CONTROLLEN);
    }
    const n = Number(libc.sendmsg(this.fd, this.#msgAddress, MSG_NOSIGNAL | MSG_DONTWAIT));
    return n >= 0 ? n : -koffi.errno();
  }

  /** poll() this socket; returns revents (0 on timeout). */
  poll(events: number, timeoutMs: number): number {
    const p = this.#pollfd;
    p.writeInt32LE(this.fd, 0);
    p.writeInt16LE(events, 4);
    p.writeInt16LE(0, 6);
    const r = libc.poll(p, 1, timeoutMs) as number;
    if (r < 0) {
      const errno = koffi.errno();
      if (errno === EINTR) return 0;
      throw new SysError('poll', errno, { fd: this.fd });
    }
    return r === 0 ? 0 : p.readUInt16LE(6);
  }

  /** Read what is available without blocking and return the next complete message, if any. */
  receive(): ReceiveResult {
    for (;;) {
      const parsed = this.#parse();
      if (parsed) return parsed;
      const n = this.#recvOnce();
      if (n === 0) return { kind: 'closed' };
      if (n < 0) {
        if (n === -EINTR) continue;
        if (n === -EAGAIN) return { kind: 'again' };
        return { kind: 'closed' };
      }
    }
  }

  /**
   * Block (poll) until a complete message arrives or `timeoutMs` passes. Throws
   * VfioUserConnectionError on close or timeout.
   */
  receiveBlocking(timeoutMs: number, what: string): ReceiveResult & { kind: 'message' | 'refused' } {
    let deadline = 0;
    for (;;) {
      const r = this.receive();
      if (r.kind === 'message' || r.kind === 'refused') return r;
      if (r.kind === 'closed') throw this.#gone(`the server closed the connection while ${what}`);
      if (deadline === 0) deadline = performance.now() + timeoutMs;
      const left = deadline - performance.now();
      if (left <= 0) throw this.#gone(`no reply within ${timeoutMs} ms while ${what}`, 'EVFIO_USER_TIMEOUT');
      this.poll(POLLIN, Math.ceil(left));
    }
  }

  #recvOnce(): number {
    if (this.#start === this.#end) {
      this.#pos += this.#start;
      this.#start = this.#end = 0;
    }
    if (this.#buf.length - this.#end < 4096) {
      // compact, then grow if still short
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#pos += this.#start;
        this.#end -= this.#start;
        this.#start = 0;
      }
      if (this.#buf.length - this.#end < 4096) {
        const bigger = new Uint8Array(this.#buf.length * 2);
        bigger.set(this.#buf.subarray(0, this.#end));
        this.#buf = bigger;
      }
    }
    const msg = this.#msg;
    const room = this.#buf.length - this.#end;
    msg.writeBigUInt64LE(addressOf(this.#buf) + BigInt(this.#end), MSGHDR_SIZE);
    msg.writeBigUInt64LE(BigInt(room), MSGHDR_SIZE + 8);
    const control = this.#control;
    msg.writeBigUInt64LE(addressOf(control), OFF_CONTROL);
    msg.writeBigUInt64LE(BigInt(control.length), OFF_CONTROLLEN);
    msg.writeInt32LE(0, OFF_FLAGS);
    const n = Number(libc.recvmsg(this.fd, this.#msgAddress, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    if (n < 0) return -koffi.errno();
    const controlLength = Number(msg.readBigUInt64LE(OFF_CONTROLLEN));
    // MSG_CTRUNC: fds were sent but the kernel could not install (all of) them here - we are out of
    // descriptors (RLIMIT_NOFILE) - and dropped them (net/core/scm.c scm_detach_fds). The message
    // they rode on must be refused, not taken as one that carried no fd.
    const lost = (msg.readInt32LE(OFF_FLAGS) & MSG_CTRUNC) !== 0;
    if (controlLength > 0 || lost) {
      const fds: number[] = [];
      let off = 0;
      while (off + CMSG_HDR <= controlLength) {
        const len = Number(control.readBigUInt64LE(off));
        if (len < CMSG_HDR || off + len > controlLength) break;
        if (control.readInt32LE(off + 8) === SOL_SOCKET && control.readInt32LE(off + 12) === SCM_RIGHTS) {
          for (let p = off + CMSG_HDR; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
        }
        off += cmsgAlign(len);
      }
      if (fds.length > 0 || lost) this.#fdMarks.push({ at: this.#pos + this.#end + Math.max(0, n - 1), fds, lost });
    }
    this.#end += n;
    return n;
  }

  /** Cut the next message out of the buffer, or undefined when more bytes are needed. */
  #parse(): ReceiveResult | undefined {
    if (this.#skip > 0) {
      const drop = Math.min(this.#skip, this.#end - this.#start);
      this.#start += drop;
      this.#skip -= drop;
      this.#dropFdsBefore(this.#pos + this.#start);
      if (this.#skip > 0) return undefined;
    }
    const have = this.#end - this.#start;
    if (have < HEADER_SIZE) return undefined;
    const at = this.#pos + this.#start;
    let header: Header;
    try {
      header = decodeHeader(this.#buf, this.#start);
    } catch (err) {
      // A size below 16 or an unknown type: the header is all we can consume.
      this.#start += HEADER_SIZE;
      return { kind: 'refused', header: undefined, error: err as VfioUserFormatError, fds: this.#takeFds(at, this.#pos + this.#start).fds };
    }
    const payloadSize = header.size - HEADER_SIZE;
    if (payloadSize > this.maxPayload) {
      this.#start += HEADER_SIZE;
      this.#skip = payloadSize;
      return { kind: 'refused', header, error: oversized(`message (command ${header.command})`, header.size, this.maxPayload + HEADER_SIZE), fds: this.#takeFds(at, this.#pos + this.#start).fds };
    }
    if (have < header.size) {
      if (this.#buf.length - this.#start < header.size) {
        // make room for the whole message
        const bigger = new Uint8Array(Math.max(this.#buf.length, header.size + 4096));
        bigger.set(this.#buf.subarray(this.#start, this.#end));
        this.#pos += this.#start;
        this.#end -= this.#start;
        this.#start = 0;
        this.#buf = bigger;
      }
      return undefined;
    }
    const payload = this.#buf.slice(this.#start + HEADER_SIZE, this.#start + header.size);
    this.#start += header.size;
    const { fds, lost } = this.#takeFds(at, this.#pos + this.#start);
    if (lost) {
      const error = new VfioUserFormatError('EVFIO_USER_FDS_LOST', Errno.EMFILE, `${this.name}: the fds passed with message ${header.id} (command ${header.command}) were dropped by the kernel (MSG_CTRUNC): this process is out of file descriptors (raise ulimit -n, or unmap DMA windows)`);
      return { kind: 'refused', header, error, fds };
    }
    if (fds.length > this.maxFds) {
      for (const fd of fds.splice(this.maxFds)) closeQuietly(fd);
    }
    return { kind: 'message', message: { header, payload, fds } };
  }

  #takeFds(from: number, to: number): { fds: number[]; lost: boolean } {
    if (this.#fdMarks.length === 0) return { fds: [], lost: false };
    const out: number[] = [];
    let lost = false;
    while (this.#fdMarks.length > 0 && this.#fdMarks[0]!.at < to) {
      const mark = this.#fdMarks.shift()!;
      if (mark.at >= from) {
        out.push(...mark.fds);
        lost ||= mark.lost;
      } else for (const fd of mark.fds) closeQuietly(fd);
    }
    return { fds: out, lost };
  }

  #dropFdsBefore(to: number): void {
    while (this.#fdMarks.length > 0 && this.#fdMarks[0]!.at < to) for (const fd of this.#fdMarks.shift()!.fds) closeQuietly(fd);
  }

  #gone(problem: string, code: VfiokitErrorCode = 'EVFIO_USER_DISCONNECTED'): VfioUserConnectionError {
    return new VfioUserConnectionError(code, `${this.name}: ${problem}; the server may have exited or been killed: restart it and open the device again`, { socket: this.name });
  }

  /** Close the socket and every fd received but not handed out. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const mark of this.#fdMarks) for (const fd of mark.fds) closeQuietly(fd);
    this.#fdMarks = [];
    closeQuietly(this.fd);
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export { POLLIN, POLLOUT, POLLHUP, POLLERR };
