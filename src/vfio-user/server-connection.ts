// One client of a vfio-user server: negotiates VERSION, answers every command against the hosted
// Device, keeps the client's DMA windows (DmaTable) and interrupt eventfds, and undoes all of it
// when the client goes. `service()` is synchronous: it handles every complete message already
// readable on the socket and returns (the server calls it from its fd watcher; the fuzz harness
// calls it directly). Malformed, truncated or oversized messages get an error reply; fds that
// arrive with a message that does not keep them are closed at once.
import type { Device, IrqInfo } from '../device/device.js';
import { RegionIndex } from '../device/device.js';
import type { Interrupt } from '../device/interrupt.js';
import { closeQuietly, dup, eventfdWrite, unixSocketPair } from '../sys/libc.js';
import { SOCK_STREAM, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../sys/constants.js';
import { RegionError, VfiokitError } from '../errors.js';
import { logger } from '../util/log.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import {
  buildErrorReply, Command, commandName, Errno, errnoName, FLAG_NO_REPLY, HEADER_SIZE, encodeHeader, isReply,
  TYPE_REPLY, TYPE_COMMAND, VFIO_USER_MAJOR, VFIO_USER_MINOR, VfioUserConnectionError, VfioUserFormatError,
  type Header, type Message, MAX_MAX_MSG_FDS, malformed, truncated,
} from './protocol.js';
import { decodeVersion, encodeVersion, type Capabilities } from './capabilities.js';
import {
  decodeDmaMap, decodeDmaUnmap, decodeDeviceInfo, encodeDeviceInfo, decodeIrqInfo, encodeIrqInfo, decodeIrqSet,
  decodeRegionAccess, decodeWriteMulti, encodeWriteMultiReply, decodeIoFdsRequest, encodeIoFdsReply,
  decodeDeviceFeature, encodeDmaAccess, decodeDmaAccess, DEVICE_FLAG_PCI, DEVICE_FLAG_RESET, DEVICE_INFO_SIZE,
  DMA_UNMAP_FLAG_ALL, DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, IRQ_INFO_EVENTFD, IRQ_INFO_MASKABLE, IRQ_INFO_NORESIZE,
  IRQ_INFO_AUTOMASKED, IRQ_INFO_SIZE, IRQ_SET_ACTION_MASK, IRQ_SET_ACTION_TRIGGER, IRQ_SET_ACTION_UNMASK,
  IRQ_SET_DATA_BOOL, IRQ_SET_DATA_EVENTFD, IRQ_SET_DATA_NONE, IRQ_SET_DATA_TYPE_MASK, IRQ_SET_ACTION_TYPE_MASK,
  REGION_ACCESS_SIZE, DMA_ACCESS_SIZE,
} from './messages.js';
import { decodeRegionInfoRequest, encodeRegionInfoReply, REGION_FLAG_READ, REGION_FLAG_WRITE, REGION_FLAG_MMAP, CAP_SPARSE_MMAP, type RegionCap } from './region-info.js';
import { DmaTable, DmaRequestError, errnoOf } from './server-dma.js';
import { MessageSocket } from './unix-socket.js';

const log = logger('vfio-user:server');

/**
 * Optional method of a hosted Device whose region `index` is memory another process may mmap: the
 * fd to pass (the server sends a dup), the offset to mmap it at, and the areas that may be mapped
 * (absent: the whole region). The server then sets REGION_FLAG_MMAP, passes the fd and adds a
 * SPARSE_MMAP capability (vfio-user.rst "VFIO_USER_DEVICE_GET_REGION_INFO").
 */
export interface MmapSource {
  mmapSource(index: number): { fd: number; offset: bigint; areas?: { offset: bigint; size: bigint }[] } | undefined;
}

function mmapSourceOf(device: Device): MmapSource['mmapSource'] | undefined {
  const f = (device as Partial<MmapSource>).mmapSource;
  return typeof f === 'function' ? f.bind(device) : undefined;
}

/** What the server offers in its VERSION reply. */
export interface ServerLimits {
  maxMsgFds: number;
  maxDataXferSize: number;
  pgsizes: number;
  maxDmaMaps: number;
  /** Offer twin-socket mode when the client supports it (server-to-client DMA_READ/WRITE on their own socket). */
  twinSocket: boolean;
}

/** PCI config space size served as region 7 when the device reports none (PCIe: 4 KiB). */
const CONFIG_SPACE_SIZE = 4096;
/** Time the server waits for a client's reply to DMA_READ/DMA_WRITE. */
export const DMA_REPLY_TIMEOUT_MS = 5000;

class Refusal extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}
const refuse = (errno: number, message: string): never => {
  throw new Refusal(errno, message);
};

interface IrqVector {
  clientFd: number;
  masked: boolean;
  pending: boolean;
}

export class ServerConnection {
  readonly socket: MessageSocket;
  readonly device: Device;
  readonly limits: ServerLimits;
  readonly dma: DmaTable;
  #negotiated = false;
  #client: Capabilities | undefined;
  #twin: MessageSocket | undefined;
  #closed = false;
  #nextId = 1;
  /** Messages handled so far. */
  handled = 0;
  /** Per IRQ index: vector -> client's eventfd state. */
  #irqs = new Map<number, Map<number, IrqVector>>();
  /** Per IRQ index: the hosted device's armed interrupts and our subscriptions. */
  #armed = new Map<number, { interrupts: Interrupt[]; unsubscribe: (() => void)[] }>();
  /** Commands that arrived on the main socket while we waited for a DMA reply there. */
  #deferred: Message[] = [];
  readonly #onClose: (() => void) | undefined;

  constructor(fd: number, device: Device, limits: ServerLimits, options: { name: string; onClose?: () => void }) {
    this.device = device;
    this.limits = limits;
    this.socket = new MessageSocket(fd, {
      name: options.name,
      maxPayload: limits.maxDataXferSize + Math.max(REGION_ACCESS_SIZE, DMA_ACCESS_SIZE) + 4096,
      maxFds: limits.maxMsgFds,
    });
    this.dma = new DmaTable(device.dma, limits.pgsizes & -limits.pgsizes || 4096, limits.maxDmaMaps);
    this.#onClose = options.onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get clientCapabilities(): Capabilities | undefined {
    return this.#client;
  }

  get twinSocket(): boolean {
    return this.#twin !== undefined;
  }

  /** Handle every complete message readable now. Returns false once the connection is closed. */
  service(): boolean {
    if (this.#closed) return false;
    for (;;) {
      const deferred = this.#deferred.shift();
      if (deferred) {
        this.#dispatch(deferred);
        continue;
      }
      const r = this.socket.receive();
      if (r.kind === 'again') return true;
      if (r.kind === 'closed') {
        log('%s: client disconnected', this.socket.name);
        this.close();
        return false;
      }
      if (r.kind === 'refused') {
        for (const fd of r.fds) closeQuietly(fd);
        log('%s: refused message: %s', this.socket.name, r.error.message);
        this.#sendSafe(buildErrorReply(r.header ?? { id: 0, command: 0 }, r.error.errno));
        continue;
      }
      this.#dispatch(r.message);
      if (this.#closed) return false;
    }
  }

  #dispatch(message: Message): void {
    this.handled++;
    const { header } = message;
    if (isReply(header)) {
      // A reply we are not waiting for (a late DMA reply): drop it.
      for (const fd of message.fds) closeQuietly(fd);
      log('%s: unexpected reply id %d (%s) dropped', this.socket.name, header.id, commandName(header.command));
      return;
    }
    let reply: { payload: Uint8Array; fds?: number[] };
    try {
      // Handlers that keep fds take them out of message.fds (splice); whatever is left is closed.
      reply = this.#handle(header, message.payload, message.fds);
    } catch (err) {
      for (const fd of message.fds) closeQuietly(fd);
      const errno = err instanceof Refusal ? err.errno : err instanceof VfioUserFormatError ? err.errno : errnoOf(err);
      log('%s: %s id %d refused with %s: %s', this.socket.name, commandName(header.command), header.id, errnoName(errno), (err as Error).message);
      if ((header.flags & FLAG_NO_REPLY) === 0) this.#sendSafe(buildErrorReply(header, errno));
      return;
    }
    for (const fd of message.fds) closeQuietly(fd);
    if ((header.flags & FLAG_NO_REPLY) === 0) {
      const out = new Uint8Array(HEADER_SIZE + reply.payload.length);
      encodeHeader(out, { id: header.id, command: header.command, size: out.length, flags: TYPE_REPLY, error: 0 });
      out.set(reply.payload, HEADER_SIZE);
      this.#sendSafe(out, reply.fds ?? []);
    }
    // Fds we pass (the twin socket's client end) are copies in the peer now: close ours.
    for (const fd of reply.fds ?? []) closeQuietly(fd);
  }

  #sendSafe(bytes: Uint8Array, fds: number[] = []): void {
    try {
      this.socket.send(bytes, fds);
    } catch (err) {
      log('%s: send failed (%s): dropping the client', this.socket.name, (err as Error).message);
      this.close();
    }
  }

  #handle(h: Header, p: Uint8Array, fds: number[]): { payload: Uint8Array; fds?: number[] } {
    const none = { payload: new Uint8Array(0) };
    if (h.command === Command.VERSION) return this.#version(p, fds);
    if (!this.#negotiated) refuse(Errno.EINVAL, `${commandName(h.command)} before VERSION negotiation`);
    const expectNoFds = (): void => {
      if (fds.length > 0) refuse(Errno.EINVAL, `${commandName(h.command)} carries ${fds.length} fds it has no use for`);
    };
    switch (h.command) {
      case Command.DMA_MAP: {
        const req = decodeDmaMap(p);
        if (fds.length > 1) refuse(Errno.EINVAL, `DMA_MAP with ${fds.length} fds (at most 1)`);
        this.dma.map(req, fds.splice(0)[0] ?? -1); // the table owns the fd from here, even on failure
        return none;
      }
      case Command.DMA_UNMAP: {
        expectNoFds();
        const req = decodeDmaUnmap(p);
        if ((req.flags & DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) !== 0) refuse(Errno.ENOTSUP, 'DMA_UNMAP GET_DIRTY_BITMAP: dirty page tracking is not supported');
        if ((req.flags & DMA_UNMAP_FLAG_ALL) !== 0) this.dma.unmapAll();
        else this.dma.unmap(req.address, req.size);
        return { payload: p.slice(0, 24) };
      }
      case Command.DEVICE_GET_INFO: {
        expectNoFds();
        const req = decodeDeviceInfo(p);
        if (req.argsz < DEVICE_INFO_SIZE) refuse(Errno.EINVAL, `DEVICE_GET_INFO argsz ${req.argsz} < 16`);
        return { payload: encodeDeviceInfo({ argsz: DEVICE_INFO_SIZE, flags: DEVICE_FLAG_RESET | DEVICE_FLAG_PCI, numRegions: this.#regionCount(), numIrqs: this.device.irqCount }) };
      }
      case Command.DEVICE_GET_REGION_INFO: {
        expectNoFds();
        const req = decodeRegionInfoRequest(p);
        const info = this.#regionInfo(req.index);
        let flags = (info.readable ? REGION_FLAG_READ : 0) | (info.writable ? REGION_FLAG_WRITE : 0);
        const source = req.index < this.device.regionCount && info.size > 0 ? mmapSourceOf(this.device)?.(req.index) : undefined;
        if (!source) return { payload: encodeRegionInfoReply({ flags, index: req.index, size: BigInt(info.size), offset: BigInt(req.index) << 40n, caps: [] }, req.argsz) };
        flags |= REGION_FLAG_MMAP;
        const caps: RegionCap[] = source.areas ? [{ id: CAP_SPARSE_MMAP, version: 1, areas: source.areas }] : [];
        // A dup goes out (and is closed here after sending); the device keeps its own fd.
        return { payload: encodeRegionInfoReply({ flags, index: req.index, size: BigInt(info.size), offset: source.offset, caps }, req.argsz), fds: [dup(source.fd)] };
      }
      case Command.DEVICE_GET_REGION_IO_FDS: {
        expectNoFds();
        const req = decodeIoFdsRequest(p);
        this.#regionInfo(req.index);
        return { payload: encodeIoFdsReply(req.index, [], req.argsz) };
      }
      case Command.DEVICE_GET_IRQ_INFO: {
        expectNoFds();
        const req = decodeIrqInfo(p);
        if (req.argsz < IRQ_INFO_SIZE) refuse(Errno.EINVAL, `DEVICE_GET_IRQ_INFO argsz ${req.argsz} < 16`);
        const info = this.#irqInfo(req.index);
        const flags = (info.eventfd ? IRQ_INFO_EVENTFD : 0) | IRQ_INFO_MASKABLE | (info.automasked ? IRQ_INFO_AUTOMASKED : 0) | (req.index === 2 ? IRQ_INFO_NORESIZE : 0);
        return { payload: encodeIrqInfo({ argsz: IRQ_INFO_SIZE, flags, index: req.index, count: info.count }) };
      }
      case Command.DEVICE_SET_IRQS:
        this.#setIrqs(p, fds.splice(0)); // closes the fds it does not keep
        return none;
      case Command.REGION_READ: {
        expectNoFds();
        const a = decodeRegionAccess(p, false, this.limits.maxDataXferSize);
        const out = new Uint8Array(REGION_ACCESS_SIZE + a.count);
        out.set(p.subarray(0, REGION_ACCESS_SIZE));
        this.#regionAccess(a.region, a.offset, a.count, out.subarray(REGION_ACCESS_SIZE), false);
        return { payload: out };
      }
      case Command.REGION_WRITE: {
        expectNoFds();
        const a = decodeRegionAccess(p, true, this.limits.maxDataXferSize);
        this.#regionAccess(a.region, a.offset, a.count, a.data!, true);
        return { payload: p.slice(0, REGION_ACCESS_SIZE) };
      }
      case Command.REGION_WRITE_MULTI: {
        expectNoFds();
        const writes = decodeWriteMulti(p);
        let done = 0;
        for (const w of writes) {
          this.#regionAccess(w.region, w.offset, w.data.length, w.data, true);
          done++;
        }
        return { payload: encodeWriteMultiReply(done) };
      }
      case Command.DEVICE_RESET:
        expectNoFds();
        if (p.length !== 0) refuse(Errno.EINVAL, `DEVICE_RESET carries ${p.length} payload bytes (none expected)`);
        this.device.reset();
        return none;
      case Command.DEVICE_FEATURE: {
        expectNoFds();
        const f = decodeDeviceFeature(p);
        return refuse(Errno.ENOTTY, `DEVICE_FEATURE ${f.flags & 0xffff}: no device features are supported (no migration)`);
      }
      case Command.DMA_READ:
      case Command.DMA_WRITE:
        return refuse(Errno.EINVAL, `${commandName(h.command)} goes from server to client, not to the server`);
      case Command.MIG_DATA_READ:
      case Command.MIG_DATA_WRITE:
        return refuse(Errno.ENOTSUP, 'migration is not supported by this server');
      default:
        return refuse(Errno.EINVAL, `unknown command ${h.command}`);
    }
  }

  #version(p: Uint8Array, fds: number[]): { payload: Uint8Array; fds?: number[] } {
    if (this.#negotiated) refuse(Errno.EINVAL, 'VERSION sent twice');
    if (fds.length > 0) refuse(Errno.EINVAL, `VERSION carries ${fds.length} fds`);
    const v = decodeVersion(p);
    if (v.major !== VFIO_USER_MAJOR) refuse(Errno.ENOTSUP, `client major version ${v.major}; this server speaks ${VFIO_USER_MAJOR}.x`);
    const c = v.capabilities;
    if (c.maxMsgFds > MAX_MAX_MSG_FDS * 16) refuse(Errno.EINVAL, `client max_msg_fds ${c.maxMsgFds} is unreasonable`);
    this.#client = c;
    const minor = Math.min(v.minor, VFIO_USER_MINOR);
    let twinFds: number[] | undefined;
    if (this.limits.twinSocket && c.twinSocket?.supported) {
      const [ours, theirs] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
      this.#twin = new MessageSocket(ours, { name: `${this.socket.name} (twin)`, maxPayload: c.maxDataXferSize + 4096 + DMA_ACCESS_SIZE, maxFds: 0 });
      twinFds = [theirs];
    }
    const payload = encodeVersion(VFIO_USER_MAJOR, minor, {
      maxMsgFds: this.limits.maxMsgFds,
      maxDataXferSize: this.limits.maxDataXferSize,
      pgsizes: this.limits.pgsizes,
      maxDmaMaps: this.limits.maxDmaMaps,
      // The reply's capabilities are a subset of the client's (vfio-user.rst "Version").
      ...(c.writeMultiple ? { writeMultiple: true } : {}),
      ...(c.twinSocket?.supported ? { twinSocket: twinFds ? { supported: true, fdIndex: 0 } : { supported: false } } : {}),
    });
    this.#negotiated = true;
    log('%s: negotiated %d.%d, client max_data_xfer_size %d, twin socket %s', this.socket.name, VFIO_USER_MAJOR, minor, c.maxDataXferSize, twinFds ? 'yes' : 'no');
    return twinFds ? { payload, fds: twinFds } : { payload };
  }

  #regionCount(): number {
    return Math.max(this.device.regionCount, RegionIndex.CONFIG + 1);
  }

  /** Region info per index, cached for the connection (a device's regions do not change size). */
  #infoCache: ({ size: number; readable: boolean; writable: boolean } | undefined)[] = [];

  #regionInfo(index: number): { size: number; readable: boolean; writable: boolean } {
    const cached = this.#infoCache[index];
    if (cached) return cached;
    const info = this.#queryRegionInfo(index);
    this.#infoCache[index] = { size: info.size, readable: info.readable, writable: info.writable };
    return info;
  }

  #queryRegionInfo(index: number): { size: number; readable: boolean; writable: boolean } {
    if (index >= this.#regionCount()) refuse(Errno.EINVAL, `region ${index} does not exist (the device has ${this.#regionCount()})`);
    if (index === RegionIndex.CONFIG) {
      const size = index < this.device.regionCount ? this.device.regionInfo(index).size : 0;
      return { size: size || CONFIG_SPACE_SIZE, readable: true, writable: true };
    }
    if (index >= this.device.regionCount) return { size: 0, readable: false, writable: false };
    return this.device.regionInfo(index);
  }

  #irqInfo(index: number): IrqInfo {
    if (index >= this.device.irqCount) refuse(Errno.EINVAL, `IRQ index ${index} does not exist (the device has ${this.device.irqCount})`);
    return this.device.irqInfo(index);
  }

  /** Read or write `count` bytes of a region at `offset` into/from `data`. */
  #regionAccess(index: number, offset64: bigint, count: number, data: Uint8Array, write: boolean): void {
    const info = this.#regionInfo(index);
    if (offset64 + BigInt(count) > BigInt(info.size)) refuse(Errno.EINVAL, `region ${index}: ${count} bytes at 0x${offset64.toString(16)} run past its size 0x${info.size.toString(16)}`);
    if (write ? !info.writable : !info.readable) refuse(Errno.EINVAL, `region ${index} is not ${write ? 'writable' : 'readable'}`);
    if (count === 0) return;
    const offset = Number(offset64);
    try {
      if (index === RegionIndex.CONFIG) return this.#configAccess(offset, count, data, write);
      const region = this.device.region(index);
      // Single register accesses (nearly every message) go straight to read/write32/64.
      if (count === 8 && (offset & 7) === 0) {
        if (write) region.write64(offset, getLe64(data, 0));
        else putLe64(data, 0, region.read64(offset));
      } else if (count === 4 && (offset & 3) === 0) {
        if (write) region.write32(offset, getLe32(data, 0));
        else putLe32(data, 0, region.read32(offset));
      } else if ((offset & 7) === 0 && (count & 7) === 0) {
        if (write) region.writeBlock(offset, data, 64);
        else region.readBlock(offset, count, 64, data);
      } else if ((offset & 3) === 0 && (count & 3) === 0) {
        if (write) region.writeBlock(offset, data, 32);
        else region.readBlock(offset, count, 32, data);
      } else if (!write && (offset & 3) + count <= 4) {
        const word = region.read32(offset & ~3);
        for (let i = 0; i < count; i++) data[i] = (word >>> (((offset & 3) + i) * 8)) & 0xff;
      } else {
        refuse(Errno.EINVAL, `region ${index}: ${count}-byte ${write ? 'write' : 'read'} at 0x${offset.toString(16)}: registers take aligned 32/64-bit accesses (sub-dword reads within one dword are allowed)`);
      }
    } catch (err) {
      if (err instanceof Refusal) throw err;
      if (err instanceof RegionError) refuse(Errno.EINVAL, err.message);
      if (err instanceof VfiokitError) refuse(errnoOf(err) === Errno.EINVAL ? Errno.EIO : errnoOf(err), err.message);
      throw err;
    }
  }

  #configAccess(offset: number, count: number, data: Uint8Array, write: boolean): void {
    let at = 0;
    while (at < count) {
      const o = offset + at;
      const width: 1 | 2 | 4 = (o & 3) === 0 && count - at >= 4 ? 4 : (o & 1) === 0 && count - at >= 2 ? 2 : 1;
      if (write) {
        const v = width === 4 ? getLe32(data, at) : width === 2 ? data[at]! | (data[at + 1]! << 8) : data[at]!;
        this.device.configWrite(o, width, v);
      } else {
        const v = this.device.configRead(o, width);
        if (width === 4) putLe32(data, at, v);
        else for (let i = 0; i < width; i++) data[at + i] = (v >>> (8 * i)) & 0xff;
      }
      at += width;
    }
  }

  // ---- interrupts ----

  #setIrqs(p: Uint8Array, fds: number[]): void {
    let kept = false;
    try {
      const s = decodeIrqSet(p);
      const info = this.#irqInfo(s.index);
      const data = s.flags & IRQ_SET_DATA_TYPE_MASK;
      const action = s.flags & IRQ_SET_ACTION_TYPE_MASK;
      if (data !== IRQ_SET_DATA_EVENTFD && fds.length > 0) refuse(Errno.EINVAL, `SET_IRQS without DATA_EVENTFD carries ${fds.length} fds`);
      if (data === IRQ_SET_DATA_NONE && action === IRQ_SET_ACTION_TRIGGER && s.count === 0) {
        if (s.start !== 0) refuse(Errno.EINVAL, 'SET_IRQS disable-all needs start 0');
        this.#disarm(s.index);
        return;
      }
      if (s.count === 0 || s.start + s.count > info.count) refuse(Errno.EINVAL, `SET_IRQS vectors ${s.start}..${s.start + s.count - 1} are outside index ${s.index}'s ${info.count} vectors`);
      if (data === IRQ_SET_DATA_EVENTFD) {
        if (action !== IRQ_SET_ACTION_TRIGGER) refuse(Errno.ENOTSUP, 'SET_IRQS: mask/unmask eventfds are not supported; use DATA_NONE/BOOL with MASK/UNMASK');
        if (fds.length !== 0 && fds.length !== s.count) refuse(Errno.EINVAL, `SET_IRQS DATA_EVENTFD for ${s.count} vectors carries ${fds.length} fds (count, or 0 to de-assign)`);
        kept = true;
        this.#assign(s.index, s.start, s.count, fds, info);
        return;
      }
      const vectors = this.#irqs.get(s.index);
      for (let i = 0; i < s.count; i++) {
        if (data === IRQ_SET_DATA_BOOL && s.bools![i] === 0) continue;
        const v = vectors?.get(s.start + i);
        if (!v) continue;
        if (action === IRQ_SET_ACTION_TRIGGER) this.#signal(v, 1);
        else if (action === IRQ_SET_ACTION_MASK) v.masked = true;
        else if (action === IRQ_SET_ACTION_UNMASK) {
          v.masked = false;
          if (v.pending) {
            v.pending = false;
            this.#signal(v, 1);
          }
        }
      }
    } finally {
      if (!kept) for (const fd of fds) closeQuietly(fd);
    }
  }

  /** Assign (or with no fds, de-assign) the client's eventfds to vectors start..start+count-1 and re-arm the device. */
  #assign(index: number, start: number, count: number, fds: number[], info: IrqInfo): void {
    let vectors = this.#irqs.get(index);
    if (!vectors) this.#irqs.set(index, (vectors = new Map()));
    for (let i = 0; i < count; i++) {
      const old = vectors.get(start + i);
      if (old) closeQuietly(old.clientFd);
      const fd = fds[i];
      if (fd === undefined || fd < 0) vectors.delete(start + i);
      else vectors.set(start + i, { clientFd: fd, masked: false, pending: false });
    }
    this.#rearm(index, info);
  }

  #rearm(index: number, info: IrqInfo): void {
    this.#unsubscribe(index);
    const vectors = this.#irqs.get(index);
    if (!vectors || vectors.size === 0) {
      try { this.device.disableInterrupts(index); } catch { /* nothing was armed */ }
      return;
    }
    const top = Math.max(...vectors.keys()) + 1;
    try { this.device.disableInterrupts(index); } catch { /* nothing was armed */ }
    let interrupts: Interrupt[];
    try {
      interrupts = this.device.enableInterrupts(index, 0, Math.min(top, info.count));
    } catch (err) {
      refuse(errnoOf(err), `the device cannot arm IRQ index ${index}: ${(err as Error).message}`);
      return;
    }
    const unsubscribe = interrupts.map((irq) => irq.onEvent((events) => {
      const v = this.#irqs.get(index)?.get(irq.vector);
      if (v) this.#signal(v, events);
    }));
    this.#armed.set(index, { interrupts, unsubscribe });
  }

  #signal(v: IrqVector, events: number): void {
    if (v.masked) {
      v.pending = true;
      return;
    }
    try {
      eventfdWrite(v.clientFd, Math.max(1, events));
    } catch (err) {
      log('%s: signalling eventfd %d failed: %s', this.socket.name, v.clientFd, (err as Error).message);
    }
  }

  #unsubscribe(index: number): void {
    const armed = this.#armed.get(index);
    if (!armed) return;
    for (const u of armed.unsubscribe) u();
    this.#armed.delete(index);
  }

  #disarm(index: number): void {
    this.#unsubscribe(index);
    const vectors = this.#irqs.get(index);
    if (vectors) for (const v of vectors.values()) closeQuietly(v.clientFd);
    this.#irqs.delete(index);
    try { this.device.disableInterrupts(index); } catch { /* nothing was armed */ }
  }

  // ---- server-initiated DMA (client memory without an fd) ----

  /** Read `length` bytes of client memory at `iova` with DMA_READ messages (split by the client's max_data_xfer_size). */
  dmaRead(iova: bigint, length: number): Uint8Array {
    this.#checkWindow(iova, length);
    const out = new Uint8Array(length);
    const max = this.#client!.maxDataXferSize;
    for (let at = 0; at < length; at += max) {
      const n = Math.min(max, length - at);
      const reply = this.#dmaRoundTrip(Command.DMA_READ, encodeDmaAccess({ address: iova + BigInt(at), count: n }));
      const a = decodeDmaAccess(reply, true, max, 'DMA_READ reply');
      if (a.address !== iova + BigInt(at) || a.count !== n) throw malformed('DMA_READ reply', `reply is for 0x${a.address.toString(16)}+${a.count}, asked 0x${(iova + BigInt(at)).toString(16)}+${n}`);
      out.set(a.data!, at);
    }
    return out;
  }

  /** Write `data` to client memory at `iova` with DMA_WRITE messages. */
  dmaWrite(iova: bigint, data: Uint8Array): void {
    this.#checkWindow(iova, data.length);
    const max = this.#client!.maxDataXferSize;
    for (let at = 0; at < data.length; at += max) {
      const n = Math.min(max, data.length - at);
      const reply = this.#dmaRoundTrip(Command.DMA_WRITE, encodeDmaAccess({ address: iova + BigInt(at), count: n, data: data.subarray(at, at + n) }));
      if (reply.length < DMA_ACCESS_SIZE) throw truncated('DMA_WRITE reply', DMA_ACCESS_SIZE, reply.length);
    }
  }

  #checkWindow(iova: bigint, length: number): void {
    if (!this.#negotiated || this.#closed) throw new VfioUserConnectionError('EVFIO_USER_DISCONNECTED', `${this.socket.name}: no client connected for DMA`);
    const w = this.dma.find(iova, length);
    if (!w) throw new DmaRequestError(Errno.EFAULT, 'EFAULT', `DMA 0x${iova.toString(16)}+${length} is outside every client DMA mapping`);
  }

  #dmaRoundTrip(command: number, payload: Uint8Array): Uint8Array {
    const sock = this.#twin ?? this.socket;
    const id = this.#nextId = (this.#nextId + 1) & 0xffff;
    const out = new Uint8Array(HEADER_SIZE + payload.length);
    encodeHeader(out, { id, command, size: out.length, flags: TYPE_COMMAND, error: 0 });
    out.set(payload, HEADER_SIZE);
    sock.send(out);
    for (;;) {
      const r = sock.receiveBlocking(DMA_REPLY_TIMEOUT_MS, `waiting for the client's ${commandName(command)} reply`);
      if (r.kind === 'refused') {
        for (const fd of r.fds) closeQuietly(fd);
        throw r.error;
      }
      const m = r.message;
      if (isReply(m.header) && m.header.id === id && m.header.command === command) {
        for (const fd of m.fds) closeQuietly(fd);
        if ((m.header.flags & 0x20) !== 0) throw new DmaRequestError(m.header.error || Errno.EIO, errnoName(m.header.error || Errno.EIO), `the client refused ${commandName(command)}: ${errnoName(m.header.error)}`);
        return m.payload;
      }
      if (sock === this.socket && !isReply(m.header)) this.#deferred.push(m);
      else for (const fd of m.fds) closeQuietly(fd);
    }
  }

  /** Drop every DMA window, IRQ eventfd and the socket(s). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const index of [...this.#irqs.keys()]) this.#disarm(index);
    this.dma.unmapAll();
    for (const m of this.#deferred) for (const fd of m.fds) closeQuietly(fd);
    this.#deferred = [];
    this.#twin?.close();
    this.socket.close();
    this.#onClose?.();
  }
}

