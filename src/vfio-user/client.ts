// VfioUserDevice: the Device of a device served over vfio-user (`vfio-user:/path/to.sock`).
// Region accesses are synchronous (the Region API is): each is a blocking round trip on the
// socket through the FFI (send, poll, recvmsg). While it waits, and whenever it is idle (fd
// watcher), the client answers the server's DMA_READ/DMA_WRITE for its DMA windows - on the twin
// socket when the server set one up (vfio-user.rst "Socket", twin_socket), else on the main one.
import type { Device, IrqInfo, PciIdentity, RegionInfo } from '../device/device.js';
import { RegionIndex } from '../device/device.js';
import type { Interrupt } from '../device/interrupt.js';
import type { DmaAccess as DmaAccessRights, DmaMapper, DmaMemory, IovaRange } from '../dma/mapper.js';
import { ArgumentError, DeviceError } from '../errors.js';
import { MappedRegion } from '../mmio/mapped-region.js';
import type { Region } from '../mmio/region.js';
import { RemoteRegion } from './remote-region.js';
import { closeQuietly, connectUnix, libc, pageSize, socket } from '../sys/libc.js';
import { AF_UNIX, POLLIN, SOCK_CLOEXEC, SOCK_STREAM } from '../sys/constants.js';
import { SysError } from '../sys/sys-error.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import { realClock, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { decodeVersion, encodeVersion, type Capabilities } from './capabilities.js';
import { watchFd } from './fd-watcher.js';
import { EventfdInterrupt } from '../device/eventfd-interrupt.js';
import {
  decodeDeviceInfo, decodeDmaAccess, decodeIrqInfo, DMA_ACCESS_SIZE, DMA_FLAG_READ, DMA_FLAG_WRITE, encodeDeviceInfo,
  encodeDmaMap, encodeDmaUnmap, encodeIrqInfo, encodeIrqSet, IRQ_INFO_AUTOMASKED, IRQ_INFO_EVENTFD, IRQ_INFO_MASKABLE,
  IRQ_SET_ACTION_TRIGGER, IRQ_SET_DATA_EVENTFD, IRQ_SET_DATA_NONE, REGION_ACCESS_SIZE, DEVICE_FLAG_RESET,
  decodeWriteMultiReply,
} from './messages.js';
import {
  buildErrorReply, Command, commandName, encodeHeader, Errno, FLAG_ERROR, HEADER_SIZE, isReply, TYPE_COMMAND,
  TYPE_REPLY, VFIO_USER_MAJOR, VFIO_USER_MINOR, VfioUserConnectionError, VfioUserRemoteError, malformed,
  type Header, type Message, DEFAULT_MAX_DATA_XFER_SIZE, FLAG_NO_REPLY, MAX_MAX_MSG_FDS, MAX_MAX_DATA_XFER_SIZE,
} from './protocol.js';
import { decodeRegionInfoReply, encodeRegionInfoRequest, REGION_FLAG_MMAP, REGION_FLAG_READ, REGION_FLAG_WRITE, sparseAreas } from './region-info.js';
import { MessageSocket } from './unix-socket.js';
import { SparseRegion, type MappedArea } from './sparse-region.js';

const log = logger('vfio-user:client');

export interface VfioUserClientOptions {
  /** How long to wait for each reply (default 10 s; a reset may take long on real devices). */
  replyTimeoutMs?: number;
  /** Largest data transfer we accept from the server (default 1 MiB). */
  maxDataXferSize?: number;
  /** Ask for twin-socket mode (default true). */
  twinSocket?: boolean;
  /** Clock for polls on this device (default: the real clock; a served device runs on real time). */
  clock?: Clock;
  /** Re-read the socket this long (microseconds) before sleeping in poll() for a reply (default 20). */
  spinUs?: number;
}

export const DEFAULT_CLIENT_SPIN_US = 20;

export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;
/** Region info argsz asked first (room for a sparse cap with a dozen areas). */
const REGION_INFO_ARGSZ = 512;
/**
 * IOVA space offered to DmaBuffer allocations. vfio-user has no IOVA range query, so we offer what
 * an x86 IOMMU gives (48 bits) minus page 0 and the MSI window 0xfee00000-0xfeefffff that VFIO's
 * IOVA_RANGE cap excludes; a server backed by a real IOMMU can then map every IOVA we choose.
 */
const IOVA_RANGES: readonly IovaRange[] = [
  { start: 0x1_0000n, end: 0xfedf_ffffn },
  { start: 0xfef0_0000n, end: (1n << 48n) - 1n },
];

interface ClientDmaWindow {
  iova: bigint;
  size: number;
  memory: DmaMemory;
  access: DmaAccessRights;
}

interface RegionState {
  info: RegionInfo;
  /** mmap offset the server gave (and fd, when mappable). */
  offset: bigint;
  fd: number;
  region?: Region;
}

export class VfioUserDevice implements Device {
  readonly url: string;
  readonly transport = 'vfio-user';
  readonly bdf = undefined;
  readonly clock: Clock;
  readonly path: string;
  identity!: PciIdentity;
  regionCount = 0;
  irqCount = 0;
  /** Capabilities the server stated in its VERSION reply. */
  server!: Capabilities;
  /** Negotiated minor version. */
  minor = 0;
  readonly dma: DmaMapper;
  #sock: MessageSocket;
  #twin: MessageSocket | undefined;
  #unwatch: (() => void) | undefined;
  #timeoutMs: number;
  #spinMs: number;
  #maxXfer: number;
  #nextId = 0;
  #regions: RegionState[] = [];
  #irqs: IrqInfo[] = [];
  #deviceFlags = 0;
  #vectors = new Map<number, EventfdInterrupt[]>();
  #windows: ClientDmaWindow[] = [];
  #closed = false;
  // hot path: a preallocated REGION_READ/WRITE request (header + 16 + 8 bytes of data)
  #rw = new Uint8Array(HEADER_SIZE + REGION_ACCESS_SIZE + 8);
  #pollfds = Buffer.alloc(16);

  constructor(path: string, options: VfioUserClientOptions = {}) {
    this.path = path;
    this.url = `vfio-user:${path}`;
    this.clock = options.clock ?? realClock;
    this.#timeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.#spinMs = (options.spinUs ?? DEFAULT_CLIENT_SPIN_US) / 1000;
    this.#maxXfer = options.maxDataXferSize ?? DEFAULT_MAX_DATA_XFER_SIZE;
    const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    try {
      connectUnix(fd, path);
    } catch (err) {
      closeQuietly(fd);
      if (err instanceof SysError && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) {
        throw new DeviceError(err.code, `no vfio-user server at ${path} (${err.code}); start one, e.g. \`vfiokit serve sim:n3000 --socket ${path}\``, { path });
      }
      throw err;
    }
    this.#sock = new MessageSocket(fd, { name: this.url, maxPayload: this.#maxXfer + 4096, maxFds: MAX_MAX_MSG_FDS });
    this.dma = this.#mapper();
    try {
      this.#negotiate(options.twinSocket ?? true);
      this.#probe();
      // Answer server-initiated DMA while idle.
      const serviced = this.#twin ?? this.#sock;
      this.#unwatch = watchFd(serviced.fd, () => this.#serviceIdle());
    } catch (err) {
      this.close();
      throw err;
    }
  }

  // ---- round trips ----

  /** Send a command and wait for its reply, answering server commands meanwhile. Returns the reply. */
  #call(command: number, payload: Uint8Array | null, fds: readonly number[] = [], context = ''): Message {
    if (this.#closed) throw new DeviceError('EDEVICE_CLOSED', `${this.url} is closed; open it again`);
    const id = this.#nextId = (this.#nextId + 1) & 0xffff;
    const size = HEADER_SIZE + (payload ? payload.length : 0);
    const out = new Uint8Array(size);
    encodeHeader(out, { id, command, size, flags: TYPE_COMMAND, error: 0 });
    if (payload) out.set(payload, HEADER_SIZE);
    this.#send(out, fds, command);
    return this.#await(id, command, context);
  }

  #send(bytes: Uint8Array, fds: readonly number[], command: number): void {
    try {
      this.#sock.send(bytes, fds, this.#timeoutMs);
    } catch (err) {
      if (err instanceof VfioUserConnectionError) this.#fail(`sending ${commandName(command)} failed (${err.message})`);
      throw err;
    }
  }

  #await(id: number, command: number, context: string): Message {
    const sock = this.#sock;
    const twin = this.#twin;
    let deadline = 0;
    let spinUntil = 0;
    for (;;) {
      const r = sock.receive();
      if (r.kind === 'message') {
        const m = r.message;
        if (isReply(m.header)) {
          if (m.header.id === id && m.header.command === command) {
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
        this.#fail(`the server sent a malformed message (${r.error.message})`);
      }
      if (r.kind === 'closed') this.#fail(`the server closed the connection while waiting for the ${commandName(command)} reply`);
      if (twin) this.#serviceTwin();
      const now = performance.now();
      if (deadline === 0) {
        deadline = now + this.#timeoutMs;
        spinUntil = now + this.#spinMs;
      }
      // A register round trip is a few microseconds: re-read for a moment before sleeping in poll.
      if (now < spinUntil) continue;
      const left = deadline - now;
      if (left <= 0) this.#fail(`no ${commandName(command)} reply within ${this.#timeoutMs} ms (the server is stuck)`, 'EVFIO_USER_TIMEOUT');
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

  #fail(problem: string, code = 'EVFIO_USER_DISCONNECTED'): never {
    const err = new VfioUserConnectionError(code, `${this.url}: ${problem}; the device is unusable now: restart the server and open it again`, { path: this.path });
    this.close();
    throw err;
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
      reply = this.#dmaAccess(h, m.payload);
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

  /** Perform a server DMA_READ/DMA_WRITE on our memory; returns the whole reply message. */
  #dmaAccess(h: Header, payload: Uint8Array): Uint8Array {
    if (h.command !== Command.DMA_READ && h.command !== Command.DMA_WRITE) {
      throw malformed(commandName(h.command), 'the server may only send DMA_READ/DMA_WRITE to a client');
    }
    const write = h.command === Command.DMA_WRITE;
    const a = decodeDmaAccess(payload, write, this.#maxXfer);
    const end = a.address + BigInt(a.count);
    const w = this.#windows.find((x) => a.address >= x.iova && end <= x.iova + BigInt(x.size));
    if (!w || (write ? !w.access.write : !w.access.read)) return buildErrorReply(h, Errno.EFAULT);
    const at = Number(a.address - w.iova);
    const out = new Uint8Array(HEADER_SIZE + DMA_ACCESS_SIZE + (write ? 0 : a.count));
    encodeHeader(out, { id: h.id, command: h.command, size: out.length, flags: TYPE_REPLY, error: 0 });
    out.set(payload.subarray(0, DMA_ACCESS_SIZE), HEADER_SIZE);
    if (write) w.memory.bytes.set(a.data!, at);
    else out.set(w.memory.bytes.subarray(at, at + a.count), HEADER_SIZE + DMA_ACCESS_SIZE);
    return out;
  }

  // ---- setup ----

  #negotiate(twin: boolean): void {
    const payload = encodeVersion(VFIO_USER_MAJOR, VFIO_USER_MINOR, {
      maxMsgFds: MAX_MAX_MSG_FDS,
      maxDataXferSize: this.#maxXfer,
      writeMultiple: true,
      ...(twin ? { twinSocket: { supported: true } } : {}),
    });
    const m = this.#call(Command.VERSION, payload, [], 'version negotiation');
    let v;
    try {
      v = decodeVersion(m.payload);
    } catch (err) {
      for (const fd of m.fds) closeQuietly(fd);
      throw err;
    }
    const fds = m.fds;
    try {
      if (v.major !== VFIO_USER_MAJOR || v.minor > VFIO_USER_MINOR) {
        throw new DeviceError('EVFIO_USER_VERSION', `${this.url}: the server answered version ${v.major}.${v.minor}; this client speaks ${VFIO_USER_MAJOR}.0..${VFIO_USER_MINOR}`, { major: v.major, minor: v.minor });
      }
      const c = v.capabilities;
      if (c.maxDataXferSize === 0 || c.maxDataXferSize > MAX_MAX_DATA_XFER_SIZE) throw malformed('VERSION reply', `max_data_xfer_size ${c.maxDataXferSize} is not in 1..${MAX_MAX_DATA_XFER_SIZE}`);
      if (c.pgsizes === 0 || c.pgsizes % 4096 !== 0) throw malformed('VERSION reply', `pgsizes 0x${c.pgsizes.toString(16)} has no page size of 4 KiB or more`);
      if (c.twinSocket?.supported && twin) {
        const idx = c.twinSocket.fdIndex;
        if (idx === undefined || idx >= fds.length) throw malformed('VERSION reply', `twin_socket is supported but fd_index ${String(idx)} names none of the ${fds.length} fds passed; closing (spec: inconsistent reply)`);
        const tfd = fds.splice(idx, 1)[0]!;
        this.#twin = new MessageSocket(tfd, { name: `${this.url} (twin)`, maxPayload: this.#maxXfer + 4096, maxFds: 0 });
      }
      this.server = c;
      this.minor = v.minor;
      log('%s: version %d.%d, server max_data_xfer_size %d max_msg_fds %d pgsizes 0x%s max_dma_maps %d twin %s', this.url, v.major, v.minor, c.maxDataXferSize, c.maxMsgFds, c.pgsizes.toString(16), c.maxDmaMaps, this.#twin ? 'yes' : 'no');
    } finally {
      for (const fd of fds) closeQuietly(fd);
    }
  }

  #probe(): void {
    const info = decodeDeviceInfo(this.#call(Command.DEVICE_GET_INFO, encodeDeviceInfo({ argsz: 16, flags: 0, numRegions: 0, numIrqs: 0 }), [], 'device info').payload);
    if (info.numRegions > 64 || info.numIrqs > 64) throw malformed('DEVICE_GET_INFO reply', `${info.numRegions} regions / ${info.numIrqs} IRQ indexes is not a PCI device`);
    this.#deviceFlags = info.flags;
    this.regionCount = info.numRegions;
    this.irqCount = info.numIrqs;
    for (let i = 0; i < info.numRegions; i++) this.#regions.push(this.#queryRegion(i));
    for (let i = 0; i < info.numIrqs; i++) {
      const r = decodeIrqInfo(this.#call(Command.DEVICE_GET_IRQ_INFO, encodeIrqInfo({ argsz: 16, flags: 0, index: i, count: 0 }), [], `IRQ index ${i}`).payload);
      this.#irqs.push({ index: i, count: r.count, eventfd: (r.flags & IRQ_INFO_EVENTFD) !== 0, maskable: (r.flags & IRQ_INFO_MASKABLE) !== 0, automasked: (r.flags & IRQ_INFO_AUTOMASKED) !== 0 });
    }
    const cfg = this.#regions[RegionIndex.CONFIG];
    if (!cfg || cfg.info.size < 64) throw new DeviceError('EVFIO_USER_NO_CONFIG', `${this.url}: the server has no PCI config region (index 7); this client drives PCI devices only`);
    const head = this.#readRegion(RegionIndex.CONFIG, 0n, 64);
    this.identity = {
      vendor: head[0]! | (head[1]! << 8),
      device: head[2]! | (head[3]! << 8),
      revision: head[8]!,
      classCode: head[9]! | (head[10]! << 8) | (head[11]! << 16),
      subsystemVendor: head[0x2c]! | (head[0x2d]! << 8),
      subsystemDevice: head[0x2e]! | (head[0x2f]! << 8),
    };
  }

  #queryRegion(index: number): RegionState {
    let argsz = REGION_INFO_ARGSZ;
    for (let attempt = 0; ; attempt++) {
      const m = this.#call(Command.DEVICE_GET_REGION_INFO, encodeRegionInfoRequest(index, argsz), [], `region ${index} info`);
      let keep = -1;
      try {
        const r = decodeRegionInfoReply(m.payload);
        if (r.argsz > m.payload.length && attempt === 0 && r.argsz <= 65536) {
          argsz = r.argsz;
          continue; // caps did not fit: ask again with the size the server needs
        }
        const mappable = (r.flags & REGION_FLAG_MMAP) !== 0 && m.fds.length > 0;
        if (mappable) keep = m.fds[0]!;
        const areas = sparseAreas(r);
        const info: RegionInfo = {
          index,
          size: Number(r.size),
          readable: (r.flags & REGION_FLAG_READ) !== 0,
          writable: (r.flags & REGION_FLAG_WRITE) !== 0,
          mappable,
          ...(mappable && areas ? { mmapAreas: areas.map((a) => ({ offset: Number(a.offset), size: Number(a.size) })) } : {}),
        };
        return { info, offset: r.offset, fd: keep };
      } finally {
        for (const fd of m.fds) if (fd !== keep) closeQuietly(fd);
      }
    }
  }

  // ---- regions ----

  regionInfo(index: number): RegionInfo {
    return { ...this.#regionState(index).info };
  }

  #regionState(index: number): RegionState {
    const r = this.#regions[index];
    if (!r) throw new ArgumentError('EARG_REGION', `${this.url}: region ${index} does not exist (the device has ${this.regionCount})`, { index });
    return r;
  }

  region(index: number): Region {
    if (this.#closed) throw new DeviceError('EDEVICE_CLOSED', `${this.url} is closed; open it again`);
    const state = this.#regionState(index);
    if (state.region && !state.region.closed) return state.region;
    if (state.info.size === 0) throw new ArgumentError('EARG_REGION', `${this.url}: region ${index} has size 0 (the device has no such region)`, { index });
    const name = `${this.url} region ${index}`;
    const info = state.info;
    const trapped = new RemoteRegion(name, info.size, index, {
      read32: (o) => this.#read32(index, o),
      read64: (o) => this.#read64(index, o),
      write32: (o, v) => this.#write(index, o, 4, v, 0n),
      write64: (o, v) => this.#write(index, o, 8, 0, v),
    }, { clock: this.clock, ...(this.server.writeMultiple ? { writeMulti: (payload: Uint8Array, count: number) => this.#writeMulti(payload, count) } : {}) });
    state.region = info.mappable && state.fd >= 0 ? this.#mapAreas(state, name, trapped) : trapped;
    return state.region;
  }

  /** mmap the region's (sparse) areas from the fd the server passed; the rest stays trapped. */
  /** One REGION_WRITE_MULTI; the reply says how many writes completed (all, or an error). */
  #writeMulti(payload: Uint8Array, count: number): void {
    const m = this.#call(Command.REGION_WRITE_MULTI, payload, [], `${count} coalesced writes`);
    const done = decodeWriteMultiReply(m.payload);
    if (done !== count) this.#fail(`REGION_WRITE_MULTI completed ${done} of ${count} writes`);
  }

  #mapAreas(state: RegionState, name: string, trapped: RemoteRegion): Region {
    const info = state.info;
    const areas = info.mmapAreas ?? [{ offset: 0, size: info.size }];
    const page = BigInt(pageSize());
    const mapped: MappedArea[] = [];
    try {
      for (const a of areas) {
        const fileOffset = state.offset + BigInt(a.offset);
        if (a.size <= 0 || a.size % 4 !== 0 || fileOffset % page !== 0n || fileOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
          log('%s: sparse area 0x%s+0x%s cannot be mmapped (alignment); it stays trapped', name, a.offset.toString(16), a.size.toString(16));
          continue;
        }
        const whole = a.offset === 0 && a.size === info.size;
        mapped.push({ offset: a.offset, size: a.size, region: MappedRegion.mapFd(whole ? name : `${name} [0x${a.offset.toString(16)}]`, state.fd, a.size, Number(fileOffset), { writable: info.writable, clock: this.clock }) });
      }
    } catch (err) {
      for (const m of mapped) m.region.close();
      trapped.close();
      throw err;
    }
    if (mapped.length === 0) return trapped;
    if (mapped.length === 1 && mapped[0]!.offset === 0 && mapped[0]!.size === info.size) {
      trapped.close();
      return mapped[0]!.region;
    }
    return new SparseRegion(name, trapped, mapped);
  }

  #rwRoundTrip(command: number, index: number, offset: number, count: number): Message {
    const out = this.#rw;
    const size = HEADER_SIZE + REGION_ACCESS_SIZE + (command === Command.REGION_WRITE ? count : 0);
    const id = this.#nextId = (this.#nextId + 1) & 0xffff;
    encodeHeader(out, { id, command, size, flags: TYPE_COMMAND, error: 0 });
    putLe32(out, 16, offset);
    putLe32(out, 20, 0);
    putLe32(out, 24, index);
    putLe32(out, 28, count);
    if (this.#closed) throw new DeviceError('EDEVICE_CLOSED', `${this.url} is closed; open it again`);
    this.#send(size === out.length ? out : out.subarray(0, size), [], command);
    return this.#await(id, command, `region ${index} offset 0x${offset.toString(16)}`);
  }

  #read32(index: number, offset: number): number {
    const m = this.#rwRoundTrip(Command.REGION_READ, index, offset, 4);
    if (m.payload.length !== REGION_ACCESS_SIZE + 4) this.#fail(`REGION_READ reply of ${m.payload.length} bytes for 4 requested`);
    return getLe32(m.payload, REGION_ACCESS_SIZE);
  }

  #read64(index: number, offset: number): bigint {
    const m = this.#rwRoundTrip(Command.REGION_READ, index, offset, 8);
    if (m.payload.length !== REGION_ACCESS_SIZE + 8) this.#fail(`REGION_READ reply of ${m.payload.length} bytes for 8 requested`);
    return getLe64(m.payload, REGION_ACCESS_SIZE);
  }

  #write(index: number, offset: number, width: 4 | 8, v32: number, v64: bigint): void {
    const out = this.#rw;
    if (width === 4) putLe32(out, HEADER_SIZE + REGION_ACCESS_SIZE, v32);
    else putLe64(out, HEADER_SIZE + REGION_ACCESS_SIZE, v64);
    this.#rwRoundTrip(Command.REGION_WRITE, index, offset, width);
  }

  /** Read `length` bytes of a region with REGION_READ, split by the server's max_data_xfer_size. */
  #readRegion(index: number, offset: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const max = this.server.maxDataXferSize;
    for (let at = 0; at < length; at += max) {
      const n = Math.min(max, length - at);
      const req = new Uint8Array(REGION_ACCESS_SIZE);
      putLe64(req, 0, offset + BigInt(at));
      putLe32(req, 8, index);
      putLe32(req, 12, n);
      const m = this.#call(Command.REGION_READ, req, [], `region ${index}`);
      if (m.payload.length !== REGION_ACCESS_SIZE + n) this.#fail(`REGION_READ reply of ${m.payload.length} bytes for ${n} requested`);
      out.set(m.payload.subarray(REGION_ACCESS_SIZE), at);
    }
    return out;
  }

  #writeRegion(index: number, offset: bigint, data: Uint8Array): void {
    const max = this.server.maxDataXferSize;
    for (let at = 0; at < data.length; at += max) {
      const n = Math.min(max, data.length - at);
      const req = new Uint8Array(REGION_ACCESS_SIZE + n);
      putLe64(req, 0, offset + BigInt(at));
      putLe32(req, 8, index);
      putLe32(req, 12, n);
      req.set(data.subarray(at, at + n), REGION_ACCESS_SIZE);
      this.#call(Command.REGION_WRITE, req, [], `region ${index}`);
    }
  }

  /** Bulk read of a region in as few messages as max_data_xfer_size allows. */
  readRegion(index: number, offset: number, length: number): Uint8Array {
    this.#checkSpan(index, offset, length);
    return this.#readRegion(index, BigInt(offset), length);
  }

  writeRegion(index: number, offset: number, data: Uint8Array): void {
    this.#checkSpan(index, offset, data.length);
    this.#writeRegion(index, BigInt(offset), data);
  }

  #checkSpan(index: number, offset: number, length: number): void {
    const info = this.#regionState(index).info;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || offset + length > info.size) {
      throw new ArgumentError('EARG_SPAN', `${this.url}: ${length} bytes at ${offset} are outside region ${index} (size ${info.size})`, { index, offset, length });
    }
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    this.#checkConfig(offset, width);
    const b = this.#readRegion(RegionIndex.CONFIG, BigInt(offset), width);
    return width === 1 ? b[0]! : width === 2 ? b[0]! | (b[1]! << 8) : getLe32(b, 0);
  }

  configWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#checkConfig(offset, width);
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * width)) throw new ArgumentError('EARG_VALUE', `config write of ${value} does not fit ${width} bytes`, { offset, width, value });
    const b = new Uint8Array(width);
    for (let i = 0; i < width; i++) b[i] = (value >>> (8 * i)) & 0xff;
    this.#writeRegion(RegionIndex.CONFIG, BigInt(offset), b);
  }

  #checkConfig(offset: number, width: number): void {
    const size = this.#regions[RegionIndex.CONFIG]!.info.size;
    if ((width !== 1 && width !== 2 && width !== 4) || !Number.isInteger(offset) || offset < 0 || offset % width !== 0 || offset + width > size) {
      throw new ArgumentError('EARG_CONFIG', `${this.url}: config access of ${width} bytes at ${offset} is misaligned or outside the ${size}-byte config space`, { offset, width });
    }
  }

  // ---- interrupts ----

  irqInfo(index: number): IrqInfo {
    const info = this.#irqs[index];
    if (!info) throw new ArgumentError('EARG_IRQ', `${this.url}: IRQ index ${index} does not exist (the device has ${this.irqCount})`, { index });
    return { ...info };
  }

  enableInterrupts(index: number, start: number, count: number): Interrupt[] {
    const info = this.irqInfo(index);
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > info.count) {
      throw new ArgumentError('EARG_IRQ', `${this.url}: vectors ${start}..${start + count - 1} are outside IRQ index ${index}'s ${info.count}`, { index, start, count });
    }
    const fresh: EventfdInterrupt[] = [];
    try {
      for (let i = 0; i < count; i++) fresh.push(new EventfdInterrupt({ index, vector: start + i, name: `${this.url} IRQ ${index} vector ${start + i}` }));
      // Several messages when the server takes fewer fds per message than we have vectors.
      const per = Math.max(1, this.server.maxMsgFds);
      for (let at = 0; at < count; at += per) {
        const n = Math.min(per, count - at);
        this.#call(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER, index, start: start + at, count: n }), fresh.slice(at, at + n).map((v) => v.fd), `IRQ ${index} vectors ${start + at}..${start + at + n - 1}`);
      }
    } catch (err) {
      for (const v of fresh) v.close();
      throw err;
    }
    const list = (this.#vectors.get(index) ?? []).filter((v) => v.vector < start || v.vector >= start + count || (v.close(), false));
    this.#vectors.set(index, [...list, ...fresh]);
    return fresh;
  }

  disableInterrupts(index: number): void {
    this.irqInfo(index);
    const list = this.#vectors.get(index) ?? [];
    this.#vectors.delete(index);
    try {
      if (!this.#closed) this.#call(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_NONE | IRQ_SET_ACTION_TRIGGER, index, start: 0, count: 0 }), [], `disable IRQ ${index}`);
    } finally {
      for (const v of list) v.close();
    }
  }

  reset(): void {
    if ((this.#deviceFlags & DEVICE_FLAG_RESET) === 0) throw new DeviceError('ENOTSUP', `${this.url}: the server does not support DEVICE_RESET (no VFIO_DEVICE_FLAGS_RESET)`);
    this.#call(Command.DEVICE_RESET, null, [], 'device reset');
  }

  // ---- DMA ----

  #mapper(): DmaMapper {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      iovaRanges: (): IovaRange[] => IOVA_RANGES.map((r) => ({ ...r })),
      get pageSize(): number {
        const p = self.server?.pgsizes ?? 4096;
        return p & -p;
      },
      get mappingsAvailable(): number {
        return Math.max(0, (self.server?.maxDmaMaps ?? 65535) - self.#windows.length);
      },
      map: (memory, iova, access) => self.#dmaMap(memory, iova, access),
      unmap: (iova, size) => self.#dmaUnmap(iova, size),
    };
  }

  #dmaMap(memory: DmaMemory, iova: bigint, access: DmaAccessRights): void {
    const page = this.dma.pageSize;
    if (iova % BigInt(page) !== 0n || memory.size % page !== 0 || memory.size === 0) {
      throw new ArgumentError('EARG_DMA_ALIGN', `${this.url}: DMA map of ${memory.size} bytes at IOVA 0x${iova.toString(16)} must be page (${page}) aligned and sized`, { iova, size: memory.size });
    }
    if (this.dma.mappingsAvailable <= 0) throw new DeviceError('ENOSPC', `${this.url}: the server allows ${this.server.maxDmaMaps} DMA mappings (max_dma_maps); unmap some first`);
    const flags = (access.read ? DMA_FLAG_READ : 0) | (access.write ? DMA_FLAG_WRITE : 0);
    const withFd = memory.fd >= 0 && this.server.maxMsgFds >= 1;
    this.#call(Command.DMA_MAP, encodeDmaMap({ flags, offset: withFd ? BigInt(memory.fdOffset) : 0n, address: iova, size: BigInt(memory.size) }), withFd ? [memory.fd] : [], `DMA map 0x${iova.toString(16)}+0x${memory.size.toString(16)}`);
    this.#windows.push({ iova, size: memory.size, memory, access: { ...access } });
  }

  #dmaUnmap(iova: bigint, size: number): void {
    // Once the connection is gone the server has dropped every mapping of ours (vfio-user.rst
    // "Client Disconnection"): nothing is left to unmap, and the memory is ours again.
    if (this.#closed) return;
    const i = this.#windows.findIndex((w) => w.iova === iova && w.size === size);
    if (i < 0) throw new ArgumentError('EARG_DMA_UNMAP', `${this.url}: no DMA mapping of ${size} bytes at IOVA 0x${iova.toString(16)}`, { iova, size });
    try {
      // The server releases its references (in-flight DMA included) before it replies.
      this.#call(Command.DMA_UNMAP, encodeDmaUnmap({ flags: 0, address: iova, size: BigInt(size) }), [], `DMA unmap 0x${iova.toString(16)}`);
    } catch (err) {
      if (!(err instanceof VfioUserConnectionError)) throw err;
      log('%s: DMA unmap 0x%s after the connection failed: the server dropped it', this.url, iova.toString(16));
    }
    this.#windows.splice(i, 1);
  }

  // ---- lifetime ----

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch?.();
    for (const list of this.#vectors.values()) for (const v of list) v.close();
    this.#vectors.clear();
    for (const r of this.#regions) {
      r.region?.close();
      if (r.fd >= 0) closeQuietly(r.fd);
      r.fd = -1;
    }
    this.#windows = [];
    this.#twin?.close();
    this.#sock.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
