// libc through koffi: the raw bindings (`libc`) and small typed wrappers that read errno right
// after a failing call and throw SysError (src/sys/sys-error.ts). Pointers are bigint everywhere
// (koffi 3 returns pointers as bigint); MAP_FAILED is detected; ssize_t/off_t results are numbers.
// Facts this relies on are in /work/shared/reference/js-mmio.md (fixed ioctl prototype, views).
import koffi from 'koffi';
import { constants as bufferConstants } from 'node:buffer';
import { ArgumentError } from '../errors.js';
import { SysError, type SysErrorContext } from './sys-error.js';
import {
  AF_UNIX, EFD_CLOEXEC, EFD_NONBLOCK, F_ADD_SEALS, F_GET_SEALS, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_CLOEXEC, O_NONBLOCK, MAP_FAILED, MAP_SHARED, MFD_CLOEXEC,
  MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_TRUNC, PROT_READ, PROT_WRITE, SCM_MAX_FD, SCM_RIGHTS, SOCK_CLOEXEC,
  SOCK_STREAM, SOL_SOCKET, UNIX_PATH_MAX, _SC_PAGESIZE,
} from './constants.js';

/** Anything koffi passes as `void *`: a buffer (by address, no copy), an address, or NULL. */
export type PointerArg = Uint8Array | ArrayBufferView | ArrayBuffer | bigint | number | null;

const lib = koffi.load('libc.so.6');

/** The raw libc functions (no errno handling). Each also has `.async(..., cb)` (runs on a worker thread). */
export const libc = {
  open: lib.func('int open(const char *path, int flags, ...)'),
  close: lib.func('int close(int fd)'),
  /** Fixed prototype (not variadic): faster and callable async (reference/js-mmio.md). */
  ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
  fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
  dup: lib.func('int dup(int fd)'),
  lseek: lib.func('int64_t lseek(int fd, int64_t offset, int whence)'),
  mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
  munmap: lib.func('int munmap(void *addr, size_t length)'),
  mlock: lib.func('int mlock(void *addr, size_t length)'),
  munlock: lib.func('int munlock(void *addr, size_t length)'),
  pread: lib.func('intptr_t pread(int fd, void *buf, size_t count, int64_t offset)'),
  pwrite: lib.func('intptr_t pwrite(int fd, void *buf, size_t count, int64_t offset)'),
  read: lib.func('intptr_t read(int fd, void *buf, size_t count)'),
  write: lib.func('intptr_t write(int fd, void *buf, size_t count)'),
  eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
  memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
  ftruncate: lib.func('int ftruncate(int fd, int64_t length)'),
  flock: lib.func('int flock(int fd, int operation)'),
  poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  epoll_create1: lib.func('int epoll_create1(int flags)'),
  epoll_ctl: lib.func('int epoll_ctl(int epfd, int op, int fd, void *event)'),
  epoll_wait: lib.func('int epoll_wait(int epfd, void *events, int maxevents, int timeout)'),
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  socketpair: lib.func('int socketpair(int domain, int type, int protocol, void *sv)'),
  bind: lib.func('int bind(int fd, void *addr, uint32_t addrlen)'),
  listen: lib.func('int listen(int fd, int backlog)'),
  accept4: lib.func('int accept4(int fd, void *addr, void *addrlen, int flags)'),
  connect: lib.func('int connect(int fd, void *addr, uint32_t addrlen)'),
  shutdown: lib.func('int shutdown(int fd, int how)'),
  getsockopt: lib.func('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)'),
  sendmsg: lib.func('intptr_t sendmsg(int fd, void *msg, int flags)'),
  recvmsg: lib.func('intptr_t recvmsg(int fd, void *msg, int flags)'),
  pipe2: lib.func('int pipe2(void *fds, int flags)'),
  getpid: lib.func('int getpid()'),
  sched_yield: lib.func('int sched_yield()'),
  sysconf: lib.func('long sysconf(int name)'),
};

// ---- struct layouts (LP64 Linux). Golden-tested in test/sys/structs.test.ts. ----

export const IovecType = koffi.struct('vfiokit_iovec', { iov_base: 'void *', iov_len: 'size_t' });
export const MsghdrType = koffi.struct('vfiokit_msghdr', {
  msg_name: 'void *',
  msg_namelen: 'uint32_t',
  msg_iov: 'void *',
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
});
export const CmsghdrType = koffi.struct('vfiokit_cmsghdr', { cmsg_len: 'size_t', cmsg_level: 'int', cmsg_type: 'int' });
export const SockaddrUnType = koffi.struct('vfiokit_sockaddr_un', { sun_family: 'uint16_t', sun_path: koffi.array('uint8_t', UNIX_PATH_MAX) });
/** struct epoll_event is __attribute__((packed)) on x86-64 only. */
export const EpollEventType = process.arch === 'x64'
  ? koffi.pack('vfiokit_epoll_event', { events: 'uint32_t', data: 'uint64_t' })
  : koffi.struct('vfiokit_epoll_event', { events: 'uint32_t', data: 'uint64_t' });
export const PollfdType = koffi.struct('vfiokit_pollfd', { fd: 'int', events: 'int16_t', revents: 'int16_t' });

const CMSG_HDR = koffi.sizeof(CmsghdrType);
const cmsgAlign = (n: number): number => (n + 7) & ~7;
/** CMSG_SPACE(n): bytes of control buffer for n bytes of ancillary data. */
export const cmsgSpace = (n: number): number => CMSG_HDR + cmsgAlign(n);
/** CMSG_LEN(n): cmsg_len for n bytes of ancillary data. */
export const cmsgLen = (n: number): number => CMSG_HDR + n;

// ---- errno plumbing ----

function fail(call: string, context?: SysErrorContext): never {
  throw new SysError(call, koffi.errno(), context);
}

/** Address of a buffer's first byte (no copy; the buffer must stay alive while the address is used). */
export function addressOf(buffer: ArrayBufferView | ArrayBuffer): bigint {
  return koffi.address(buffer) as bigint;
}

/** Normalise a koffi uint64/pointer result to bigint. */
export function toBigint(value: number | bigint | null): bigint {
  if (value === null) return 0n;
  return typeof value === 'bigint' ? value : BigInt(value);
}

// ---- files ----

export function open(path: string, flags: number, mode = 0): number {
  const fd = libc.open(path, flags, 'int', mode) as number;
  if (fd < 0) fail('open', { path });
  return fd;
}

export function close(fd: number): void {
  if (libc.close(fd) < 0) fail('close', { fd });
}

/** close() for cleanup paths: never throws (the fd is gone either way on Linux). */
export function closeQuietly(fd: number | undefined): void {
  if (fd !== undefined && fd >= 0) libc.close(fd);
}

export function dup(fd: number): number {
  const r = libc.dup(fd) as number;
  if (r < 0) fail('dup', { fd });
  return r;
}

/** Set or clear FD_CLOEXEC (clear it to let a child process inherit the fd across exec). */
export function setCloexec(fd: number, on: boolean): void {
  const flags = libc.fcntl(fd, F_GETFD, 'int', 0) as number;
  if (flags < 0) fail('fcntl(F_GETFD)', { fd });
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if ((libc.fcntl(fd, F_SETFD, 'int', next) as number) < 0) fail('fcntl(F_SETFD)', { fd });
}

/** Set O_NONBLOCK on the fd (shared by every dup of the open file). */
export function setNonblocking(fd: number): void {
  const flags = libc.fcntl(fd, F_GETFL, 'int', 0) as number;
  if (flags < 0) fail('fcntl(F_GETFL)', { fd });
  if ((flags & O_NONBLOCK) !== 0) return;
  if ((libc.fcntl(fd, F_SETFL, 'int', flags | O_NONBLOCK) as number) < 0) fail('fcntl(F_SETFL)', { fd });
}

export function lseek(fd: number, offset: number, whence: number): number {
  const r = Number(libc.lseek(fd, offset, whence));
  if (r < 0) fail('lseek', { fd });
  return r;
}

/** F_GET_SEALS of `fd`: its seals, or undefined when the file cannot carry seals (not shmem/hugetlbfs). */
export function fileSeals(fd: number): number | undefined {
  const r = libc.fcntl(fd, F_GET_SEALS, 'int', 0) as number;
  return r < 0 ? undefined : r;
}

/** F_ADD_SEALS (the memfd must have been created with MFD_ALLOW_SEALING). */
export function addSeals(fd: number, seals: number): void {
  if ((libc.fcntl(fd, F_ADD_SEALS, 'int', seals) as number) < 0) fail('fcntl(F_ADD_SEALS)', { fd });
}

export function ftruncate(fd: number, length: number): void {
  if (libc.ftruncate(fd, length) < 0) fail('ftruncate', { fd });
}

export function flock(fd: number, operation: number): void {
  if (libc.flock(fd, operation) < 0) fail('flock', { fd });
}

function checkBuffer(call: string, buf: Uint8Array, length: number | undefined): number {
  const n = length ?? buf.byteLength;
  if (!Number.isInteger(n) || n < 0 || n > buf.byteLength) {
    throw new ArgumentError('EARG_LENGTH', `${call}: length ${String(n)} does not fit the ${buf.byteLength}-byte buffer; pass 0..${buf.byteLength}`, { call, length: n, bufferLength: buf.byteLength });
  }
  return n;
}

export function read(fd: number, buf: Uint8Array, length?: number): number {
  const n = Number(libc.read(fd, buf, checkBuffer('read', buf, length)));
  if (n < 0) fail('read', { fd });
  return n;
}

export function write(fd: number, buf: Uint8Array, length?: number): number {
  const n = Number(libc.write(fd, buf, checkBuffer('write', buf, length)));
  if (n < 0) fail('write', { fd });
  return n;
}

export function pread(fd: number, buf: Uint8Array, offset: number, length?: number): number {
  const n = Number(libc.pread(fd, buf, checkBuffer('pread', buf, length), offset));
  if (n < 0) fail('pread', { fd });
  return n;
}

export function pwrite(fd: number, buf: Uint8Array, offset: number, length?: number): number {
  const n = Number(libc.pwrite(fd, buf, checkBuffer('pwrite', buf, length), offset));
  if (n < 0) fail('pwrite', { fd });
  return n;
}

// ---- ioctl ----

function ioctlContext(fd: number, request: number | bigint, what: string | undefined): SysErrorContext {
  return { fd, what: what ?? `request 0x${request.toString(16)}` };
}

/** ioctl(fd, request, arg) with a struct buffer, an integer argument, or null. Returns the result (>= 0). */
export function ioctl(fd: number, request: number | bigint, arg: PointerArg = null, what?: string): number {
  const r = libc.ioctl(fd, request, arg) as number;
  if (r < 0) fail('ioctl', ioctlContext(fd, request, what));
  return r;
}

/** ioctl on a worker thread (for calls that block: e.g. a reset that takes a while). errno is per call. */
export function ioctlAsync(fd: number, request: number | bigint, arg: PointerArg = null, what?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    libc.ioctl.async(fd, request, arg, (err: unknown, r: number) => {
      if (err) reject(err);
      else if (r < 0) reject(new SysError('ioctl', koffi.errno(), ioctlContext(fd, request, what)));
      else resolve(r);
    });
  });
}

// ---- memory ----

let pageSizeCache = 0;
/** The system page size (sysconf(_SC_PAGESIZE)). */
export function pageSize(): number {
  if (pageSizeCache === 0) pageSizeCache = Number(libc.sysconf(_SC_PAGESIZE));
  return pageSizeCache;
}

/** mmap; throws SysError on MAP_FAILED. Returns the address as bigint. */
export function mmap(addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number, context?: SysErrorContext): bigint {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new ArgumentError('EARG_LENGTH', `mmap: length ${String(length)} must be a positive integer (bytes)`, { length });
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % pageSize() !== 0) {
    throw new ArgumentError('EARG_OFFSET', `mmap: offset ${String(offset)} must be a non-negative multiple of the page size (${pageSize()})`, { offset, pageSize: pageSize() });
  }
  const address = toBigint(libc.mmap(addr, length, prot, flags, fd, offset) as bigint | number | null);
  if (address === MAP_FAILED) fail('mmap', { fd, ...context });
  return address;
}

export function munmap(address: bigint, length: number): void {
  if (libc.munmap(address, length) < 0) fail('munmap', { what: `0x${address.toString(16)} +${length}` });
}

export function mlock(address: bigint, length: number): void {
  if (libc.mlock(address, length) < 0) fail('mlock', { what: `0x${address.toString(16)} +${length}` });
}

export function munlock(address: bigint, length: number): void {
  if (libc.munlock(address, length) < 0) fail('munlock', { what: `0x${address.toString(16)} +${length}` });
}

/** One mmap; `unmap()` (or dispose) is idempotent. */
export interface Mapping extends Disposable {
  readonly address: bigint;
  readonly size: number;
  readonly offset: number;
  readonly fd: number;
  readonly unmapped: boolean;
  unmap(): void;
}

/** mmap(NULL, size, prot, flags, fd, offset) with an idempotent unmap. */
export function mmapFd(
  fd: number, size: number, offset = 0, prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED, context?: SysErrorContext,
): Mapping {
  const address = mmap(null, size, prot, flags, fd, offset, context);
  let unmapped = false;
  const unmap = (): void => {
    if (unmapped) return;
    unmapped = true;
    munmap(address, size);
  };
  return {
    address, size, offset, fd,
    get unmapped() { return unmapped; },
    unmap,
    [Symbol.dispose]: unmap,
  };
}

/**
 * A plain (non-shared) external ArrayBuffer over `size` bytes at `address`, without copying.
 * Touching it after munmap is a SIGSEGV, not an exception: owners must drop it before unmapping.
 */
export function viewOf(address: bigint, size: number): ArrayBuffer {
  if (!Number.isSafeInteger(size) || size < 0 || size > bufferConstants.MAX_LENGTH) {
    throw new ArgumentError('EARG_LENGTH', `viewOf: size ${String(size)} must be 0..${bufferConstants.MAX_LENGTH} bytes; map and view large regions in windows`, { size, limit: bufferConstants.MAX_LENGTH });
  }
  if (address === 0n || address === MAP_FAILED) {
    throw new ArgumentError('EARG_ADDRESS', `viewOf: address 0x${address.toString(16)} is not a mapping`, { address: `0x${address.toString(16)}` });
  }
  return koffi.view(address, size);
}

/** memfd_create + ftruncate(size). The fd is closed again if the size cannot be set. */
export function createMemfd(name: string, size: number, flags = MFD_CLOEXEC): number {
  const fd = libc.memfd_create(name, flags) as number;
  if (fd < 0) fail('memfd_create', { path: `memfd:${name}` });
  try {
    if (size > 0) ftruncate(fd, size);
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
  return fd;
}

// ---- eventfd ----

const eventfdCell = new BigUint64Array(1);
const eventfdBytes = new Uint8Array(eventfdCell.buffer);

/** eventfd(initval, flags); default non-blocking and close-on-exec. */
export function createEventfd(initval = 0, flags = EFD_CLOEXEC | EFD_NONBLOCK): number {
  const fd = libc.eventfd(initval, flags) as number;
  if (fd < 0) fail('eventfd');
  return fd;
}

/** Add `n` (default 1) to the eventfd counter. */
export function eventfdWrite(fd: number, n: number | bigint = 1): void {
  eventfdCell[0] = BigInt(n);
  if (Number(libc.write(fd, eventfdBytes, 8)) !== 8) fail('write(eventfd)', { fd });
}

/** Read and reset the eventfd counter; 0 when it is zero on a non-blocking eventfd (EAGAIN). */
export function eventfdRead(fd: number): number {
  const n = Number(libc.read(fd, eventfdBytes, 8));
  if (n === 8) return Number(eventfdCell[0]);
  const errno = koffi.errno();
  if (errno === koffi.os.errno.EAGAIN) return 0;
  throw new SysError('read(eventfd)', errno, { fd });
}

// ---- poll / epoll ----

export function epollCreate(flags: number): number {
  const fd = libc.epoll_create1(flags) as number;
  if (fd < 0) fail('epoll_create1');
  return fd;
}

const epollEventBuf = Buffer.alloc(koffi.sizeof(EpollEventType));
/** epoll_ctl with an event mask and a 64-bit user datum (we store the fd). */
export function epollCtl(epfd: number, op: number, fd: number, events: number, data: bigint | number = fd): void {
  koffi.encode(epollEventBuf, 0, EpollEventType, { events: events >>> 0, data: BigInt(data) });
  if (libc.epoll_ctl(epfd, op, fd, epollEventBuf) < 0) fail('epoll_ctl', { fd, what: `epfd ${epfd} op ${op}` });
}

/** poll() one fd; returns revents (0 on timeout). */
export function pollFd(fd: number, events: number, timeoutMs: number): number {
  const buf = Buffer.alloc(koffi.sizeof(PollfdType));
  buf.writeInt32LE(fd, 0);
  buf.writeInt16LE(events, 4);
  const r = libc.poll(buf, 1, timeoutMs) as number;
  if (r < 0) fail('poll', { fd });
  return r === 0 ? 0 : buf.readUInt16LE(6);
}

// ---- UNIX sockets ----

export function socket(domain: number, type: number, protocol = 0): number {
  const fd = libc.socket(domain, type, protocol) as number;
  if (fd < 0) fail('socket');
  return fd;
}

/** socketpair(AF_UNIX, type | SOCK_CLOEXEC): two connected fds. */
export function unixSocketPair(type = SOCK_STREAM, flags = SOCK_CLOEXEC): [number, number] {
  const sv = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, type | flags, 0, sv) < 0) fail('socketpair');
  return [sv[0]!, sv[1]!];
}

/** Encode a sockaddr_un. A path starting with "\0" is in the abstract namespace. */
export function sockaddrUn(path: string): { addr: Buffer; length: number } {
  const bytes = Buffer.from(path, 'utf8');
  const abstract = bytes[0] === 0;
  if (bytes.length === 0 || bytes.length > (abstract ? UNIX_PATH_MAX : UNIX_PATH_MAX - 1)) {
    throw new ArgumentError('EARG_PATH', `UNIX socket path "${path}" is ${bytes.length} bytes; it must be 1..${UNIX_PATH_MAX - 1} bytes (use a shorter directory)`, { path, limit: UNIX_PATH_MAX - 1 });
  }
  const addr = Buffer.alloc(koffi.sizeof(SockaddrUnType));
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return { addr, length: 2 + bytes.length + (abstract ? 0 : 1) };
}

export function bindUnix(fd: number, path: string): void {
  const { addr, length } = sockaddrUn(path);
  if (libc.bind(fd, addr, length) < 0) fail('bind', { path, fd });
}

export function listen(fd: number, backlog = 16): void {
  if (libc.listen(fd, backlog) < 0) fail('listen', { fd });
}

export function accept(fd: number, flags = SOCK_CLOEXEC): number {
  const r = libc.accept4(fd, null, null, flags) as number;
  if (r < 0) fail('accept4', { fd });
  return r;
}

export function connectUnix(fd: number, path: string): void {
  const { addr, length } = sockaddrUn(path);
  if (libc.connect(fd, addr, length) < 0) fail('connect', { path, fd });
}

export function shutdown(fd: number, how: number): void {
  if (libc.shutdown(fd, how) < 0) fail('shutdown', { fd });
}

/** One buffer: the msghdr followed by its iovec array (so both live exactly as long as the call). */
function buildMsghdr(iov: readonly Uint8Array[], control: Buffer | null): Buffer {
  const msgSize = koffi.sizeof(MsghdrType);
  const iovSize = koffi.sizeof(IovecType);
  const msg = Buffer.alloc(msgSize + iovSize * iov.length);
  for (let i = 0; i < iov.length; i++) {
    koffi.encode(msg, msgSize + i * iovSize, IovecType, { iov_base: addressOf(iov[i]!), iov_len: iov[i]!.byteLength });
  }
  koffi.encode(msg, 0, MsghdrType, {
    msg_name: null,
    msg_namelen: 0,
    msg_iov: iov.length ? addressOf(msg) + BigInt(msgSize) : null,
    msg_iovlen: iov.length,
    msg_control: control ? addressOf(control) : null,
    msg_controllen: control ? control.length : 0,
    msg_flags: 0,
  });
  return msg;
}

/**
 * sendmsg with the bytes of `data` (one buffer or a gather list) and optional fds passed with
 * SCM_RIGHTS. Returns the bytes sent. MSG_NOSIGNAL is the caller's choice through `flags`.
 */
export function sendmsg(fd: number, data: Uint8Array | readonly Uint8Array[], fds: readonly number[] = [], flags = 0): number {
  if (fds.length > SCM_MAX_FD) {
    throw new ArgumentError('EARG_FDS', `sendmsg: ${fds.length} fds exceed SCM_MAX_FD (${SCM_MAX_FD}); send them in several messages`, { count: fds.length, limit: SCM_MAX_FD });
  }
  const iov = data instanceof Uint8Array ? [data] : data;
  let control: Buffer | null = null;
  if (fds.length > 0) {
    control = Buffer.alloc(cmsgSpace(4 * fds.length));
    koffi.encode(control, 0, CmsghdrType, { cmsg_len: cmsgLen(4 * fds.length), cmsg_level: SOL_SOCKET, cmsg_type: SCM_RIGHTS });
    for (let i = 0; i < fds.length; i++) control.writeInt32LE(fds[i]!, CMSG_HDR + 4 * i);
  }
  const msg = buildMsghdr(iov, control);
  const n = Number(libc.sendmsg(fd, msg, flags));
  if (n < 0) fail('sendmsg', { fd });
  return n;
}

export interface RecvResult {
  /** Bytes received (0 = the peer closed a stream socket). */
  bytes: number;
  /** fds received with SCM_RIGHTS (already installed in this process, close-on-exec). The caller owns them. */
  fds: number[];
  /** MSG_TRUNC: a datagram did not fit `into`. */
  truncated: boolean;
  /** More fds were sent than `maxFds` (MSG_CTRUNC); the extra ones were closed. */
  controlTruncated: boolean;
}

/** recvmsg into `into`, accepting up to `maxFds` fds (SCM_RIGHTS, with MSG_CMSG_CLOEXEC). */
export function recvmsg(fd: number, into: Uint8Array, maxFds = 0, flags = 0): RecvResult {
  const control = maxFds > 0 ? Buffer.alloc(cmsgSpace(4 * Math.min(maxFds, SCM_MAX_FD))) : null;
  const msg = buildMsghdr([into], control);
  const n = Number(libc.recvmsg(fd, msg, flags | MSG_CMSG_CLOEXEC));
  if (n < 0) fail('recvmsg', { fd });
  const hdr = koffi.decode(msg, MsghdrType) as { msg_controllen: number | bigint; msg_flags: number };
  const fds: number[] = [];
  if (control) {
    const controlLength = Number(hdr.msg_controllen);
    let off = 0;
    while (off + CMSG_HDR <= controlLength) {
      const c = koffi.decode(control, off, CmsghdrType) as { cmsg_len: number | bigint; cmsg_level: number; cmsg_type: number };
      const len = Number(c.cmsg_len);
      if (len < CMSG_HDR || off + len > controlLength) break;
      if (c.cmsg_level === SOL_SOCKET && c.cmsg_type === SCM_RIGHTS) {
        for (let p = off + CMSG_HDR; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
      }
      off += cmsgAlign(len);
    }
  }
  // CMSG_SPACE rounds up to 8 bytes, so the kernel may install one fd more than asked: close extras.
  let controlTruncated = (hdr.msg_flags & MSG_CTRUNC) !== 0;
  while (fds.length > maxFds) {
    closeQuietly(fds.pop());
    controlTruncated = true;
  }
  return { bytes: n, fds, truncated: (hdr.msg_flags & MSG_TRUNC) !== 0, controlTruncated };
}

/** pipe2(flags): [read end, write end]; default close-on-exec. */
export function pipe(flags = O_CLOEXEC): [number, number] {
  const fds = new Int32Array(2);
  if (libc.pipe2(fds, flags) < 0) fail('pipe2');
  return [fds[0]!, fds[1]!];
}

export function getpid(): number {
  return libc.getpid() as number;
}
