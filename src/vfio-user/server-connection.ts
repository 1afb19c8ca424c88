// One client of a vfio-user server: the connection loop. It negotiates VERSION, dispatches every
// command to its handler - DMA windows (DmaTable, server-dma.ts), regions (ServedRegions,
// server-regions.ts), interrupts (ServedIrqs, server-irqs.ts) - sends server-initiated
// DMA_READ/DMA_WRITE, and undoes all of it when the client goes. `service()` is synchronous: it handles every complete message already
// readable on the socket and returns (the server calls it from its fd watcher; the fuzz harness
// calls it directly). Malformed, truncated or oversized messages get an error reply; fds that
// arrive with a message that does not keep them are closed at once.
import type { Device } from '../device/device.js';
import { closeQuietly, unixSocketPair } from '../sys/libc.js';
import { SOCK_STREAM, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../sys/constants.js';
import { logger } from '../util/log.js';
import { VfiokitError } from '../errors.js';
import {
  buildCommand, buildErrorReply, buildReply, Command, commandName, Errno, errnoName, FLAG_ERROR, FLAG_NO_REPLY, isReply,
  VFIO_USER_MAJOR, VFIO_USER_MINOR, VfioUserConnectionError, VfioUserFormatError,
  type Header, type Message, MAX_MAX_MSG_FDS, malformed, REGION_BATCH_MAX_ENTRIES, VendorCommand,
} from './protocol.js';
import { decodeVersion, encodeVersion, type Capabilities } from './capabilities.js';
import {
  decodeDmaMap, decodeDmaUnmap, decodeDeviceInfo, decodeIrqInfo, decodeRegionAccess, decodeWriteMulti, encodeWriteMultiReply,
  decodeIoFdsRequest, encodeIoFdsReply, decodeDeviceFeature, encodeDmaAccess, decodeDmaAccess, decodeRegionBatch, encodeRegionBatchReply,
} from './messages.js';
import { DeviceFeatureFlags, DeviceInfoFlags, IrqInfoFlags, PciIrqIndex, UnmapDmaFlags, vfio_irq_info } from '../sys/uapi/linux-vfio.js';
import { flagSet } from '../sys/uapi/struct.js';
import { vfio_user_device_info, vfio_user_dma_region_access, vfio_user_dma_unmap, vfio_user_region_access } from '../sys/uapi/vfio-user.js';
import { decodeRegionInfoRequest } from './region-info.js';
import { DmaTable, DmaRequestError, errnoOf } from './server-dma.js';
import { ServedIrqs } from './server-irqs.js';
import { ServedRegions } from './server-regions.js';
import { Refusal, refuse } from './server-refusal.js';
import { MessageSocket } from './unix-socket.js';

export type { MmapSource } from './server-regions.js';

const log = logger('vfio-user:server');
const internalLog = logger('vfio-user:server:internal');

/** What the server offers in its VERSION reply. */
export interface ServerLimits {
  maxMsgFds: number;
  maxDataXferSize: number;
  pgsizes: number;
  maxDmaMaps: number;
  /** Offer twin-socket mode when the client supports it (server-to-client DMA_READ/WRITE on their own socket). */
  twinSocket: boolean;
}

/** Time the server waits for a client's reply to DMA_READ/DMA_WRITE. */
export const DMA_REPLY_TIMEOUT_MS = 5000;

export class ServerConnection {
  readonly socket: MessageSocket;
  readonly device: Device;
  readonly limits: ServerLimits;
  readonly dma: DmaTable;
  #negotiated = false;
  #client: Capabilities | undefined;
  #twin: MessageSocket | undefined;
  /** Entries per REGION_BATCH agreed in VERSION (0: not offered, the command is unknown). */
  #batchEntries = 0;
  /** A server-initiated DMA round trip is waiting for its reply (no nested one may start). */
  #inRoundTrip = false;
  #closed = false;
  #nextId = 1;
  /** Messages handled so far. */
  handled = 0;
  /**
   * Handler failures that were not a refusal of the client's input (not a VfiokitError): bugs in
   * the server or the device model. The client gets EIO, the connection goes on, and they are
   * kept here (the last 16) and logged, so a fuzzer or a test can tell them from an honest EIO.
   */
  readonly internalErrors: Error[] = [];
  /** Every internal error so far (internalErrors keeps only the last 16). */
  internalErrorCount = 0;
  readonly #regions: ServedRegions;
  readonly #irqs: ServedIrqs;
  readonly #onClose: (() => void) | undefined;

  readonly #onInternalError: ((err: Error, command: string) => void) | undefined;

  constructor(fd: number, device: Device, limits: ServerLimits, options: { name: string; onClose?: () => void; onInternalError?: (err: Error, command: string) => void }) {
    this.device = device;
    this.limits = limits;
    this.socket = new MessageSocket(fd, {
      name: options.name,
      maxPayload: limits.maxDataXferSize + Math.max(vfio_user_region_access.size, vfio_user_dma_region_access.size) + 4096,
      maxFds: limits.maxMsgFds,
    });
    // Windows without an fd reach the device as remote memory read and written with DMA_READ/WRITE.
    this.dma = new DmaTable(device.dma, limits.pgsizes & -limits.pgsizes || 4096, limits.maxDmaMaps, {
      read: (iova, length) => this.dmaRead(iova, length),
      write: (iova, data) => this.dmaWrite(iova, data),
    });
    this.#regions = new ServedRegions(device);
    this.#irqs = new ServedIrqs(device, options.name);
    this.#onClose = options.onClose;
    this.#onInternalError = options.onInternalError;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** VERSION has been negotiated. */
  get negotiated(): boolean {
    return this.#negotiated;
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
      if (!(err instanceof VfiokitError) && !(err instanceof Refusal)) {
        this.internalErrorCount++;
        this.internalErrors.push(err as Error);
        if (this.internalErrors.length > 16) this.internalErrors.shift();
        internalLog('%s: %s id %d failed inside the server (a bug; the client gets EIO): %s', this.socket.name, commandName(header.command), header.id, (err as Error)?.stack ?? String(err));
        this.#onInternalError?.(err as Error, commandName(header.command));
      }
      log('%s: %s id %d refused with %s: %s', this.socket.name, commandName(header.command), header.id, errnoName(errno), (err as Error).message);
      if ((header.flags & FLAG_NO_REPLY) === 0) this.#sendSafe(buildErrorReply(header, errno));
      return;
    }
    for (const fd of message.fds) closeQuietly(fd);
    if ((header.flags & FLAG_NO_REPLY) === 0) this.#sendSafe(buildReply(header, reply.payload), reply.fds ?? []);
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
        if ((req.flags & UnmapDmaFlags.GET_DIRTY_BITMAP) !== 0) refuse(Errno.ENOTSUP, 'DMA_UNMAP GET_DIRTY_BITMAP: dirty page tracking is not supported');
        if ((req.flags & UnmapDmaFlags.ALL) !== 0) this.dma.unmapAll();
        else this.dma.unmap(req.addr, req.size);
        return { payload: p.slice(0, vfio_user_dma_unmap.size) };
      }
      case Command.DEVICE_GET_INFO: {
        expectNoFds();
        const req = decodeDeviceInfo(p);
        if (req.argsz < vfio_user_device_info.size) refuse(Errno.EINVAL, `DEVICE_GET_INFO argsz ${req.argsz} < ${vfio_user_device_info.size}`);
        return { payload: vfio_user_device_info.encode({ flags: this.device.resettable ? flagSet(DeviceInfoFlags.RESET, DeviceInfoFlags.PCI) : flagSet(DeviceInfoFlags.PCI), num_regions: this.#regions.count(), num_irqs: this.device.irqCount }) };
      }
      case Command.DEVICE_GET_REGION_INFO: {
        expectNoFds();
        const req = decodeRegionInfoRequest(p);
        return this.#regions.infoReply(req);
      }
      case Command.DEVICE_GET_REGION_IO_FDS: {
        expectNoFds();
        const req = decodeIoFdsRequest(p);
        this.#regions.info(req.index);
        return { payload: encodeIoFdsReply(req.index, [], req.argsz) };
      }
      case Command.DEVICE_GET_IRQ_INFO: {
        expectNoFds();
        const req = decodeIrqInfo(p);
        if (req.argsz < vfio_irq_info.size) refuse(Errno.EINVAL, `DEVICE_GET_IRQ_INFO argsz ${req.argsz} < ${vfio_irq_info.size}`);
        const info = this.#irqs.info(req.index);
        const { EVENTFD, MASKABLE, AUTOMASKED, NORESIZE } = IrqInfoFlags;
        const flags = flagSet(info.eventfd && EVENTFD, MASKABLE, info.automasked && AUTOMASKED, req.index === PciIrqIndex.MSIX_IRQ_INDEX && NORESIZE);
        return { payload: vfio_irq_info.encode({ flags, index: req.index, count: info.count }) };
      }
      case Command.DEVICE_SET_IRQS:
        this.#irqs.set(p, fds.splice(0)); // closes the fds it does not keep
        return none;
      case Command.REGION_READ: {
        expectNoFds();
        const a = decodeRegionAccess(p, false, this.limits.maxDataXferSize);
        const head = vfio_user_region_access.size;
        const out = new Uint8Array(head + a.count);
        out.set(p.subarray(0, head));
        this.#regions.access(a.region, a.offset, a.count, out.subarray(head), false);
        return { payload: out };
      }
      case Command.REGION_WRITE: {
        expectNoFds();
        const a = decodeRegionAccess(p, true, this.limits.maxDataXferSize);
        this.#regions.access(a.region, a.offset, a.count, a.data!, true);
        return { payload: p.slice(0, vfio_user_region_access.size) };
      }
      case Command.REGION_WRITE_MULTI: {
        expectNoFds();
        const writes = decodeWriteMulti(p);
        let done = 0;
        for (const w of writes) {
          this.#regions.access(w.region, w.offset, w.data.length, w.data, true);
          done++;
        }
        return { payload: encodeWriteMultiReply(done) };
      }
      case VendorCommand.REGION_BATCH: {
        if (!this.#batchEntries) refuse(Errno.EINVAL, `unknown command ${h.command} (REGION_BATCH was not negotiated)`);
        expectNoFds();
        const b = decodeRegionBatch(p);
        return { payload: encodeRegionBatchReply(this.#regions.batch(b.region, b.count, b.entries, this.#batchEntries)) };
      }
      case Command.DEVICE_RESET:
        expectNoFds();
        if (p.length !== 0) refuse(Errno.EINVAL, `DEVICE_RESET carries ${p.length} payload bytes (none expected)`);
        this.device.reset();
        return none;
      case Command.DEVICE_FEATURE: {
        expectNoFds();
        const f = decodeDeviceFeature(p);
        return refuse(Errno.ENOTTY, `DEVICE_FEATURE ${f.flags & DeviceFeatureFlags.MASK}: no device features are supported (no migration)`);
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
    if (c.regionBatch && c.regionBatch.maxEntries > 0) this.#batchEntries = Math.min(c.regionBatch.maxEntries, REGION_BATCH_MAX_ENTRIES);
    let twinFds: number[] | undefined;
    if (this.limits.twinSocket && c.twinSocket?.supported) {
      const [ours, theirs] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
      this.#twin = new MessageSocket(ours, { name: `${this.socket.name} (twin)`, maxPayload: c.maxDataXferSize + 4096 + vfio_user_dma_region_access.size, maxFds: 0 });
      twinFds = [theirs];
    }
    const payload = encodeVersion(VFIO_USER_MAJOR, minor, {
      maxMsgFds: this.limits.maxMsgFds,
      maxDataXferSize: this.limits.maxDataXferSize,
      pgsizes: this.limits.pgsizes,
      maxDmaMaps: this.limits.maxDmaMaps,
      // The reply's capabilities are a subset of the client's (vfio-user.rst "Version").
      ...(c.writeMultiple ? { writeMultiple: true } : {}),
      ...(this.#batchEntries ? { regionBatch: { maxEntries: this.#batchEntries } } : {}),
      ...(c.twinSocket?.supported ? { twinSocket: twinFds ? { supported: true, fdIndex: 0 } : { supported: false } } : {}),
    });
    this.#negotiated = true;
    log('%s: negotiated %d.%d, client max_data_xfer_size %d, twin socket %s', this.socket.name, VFIO_USER_MAJOR, minor, c.maxDataXferSize, twinFds ? 'yes' : 'no');
    return twinFds ? { payload, fds: twinFds } : { payload };
  }

  // ---- server-initiated DMA (client memory without an fd) ----

  /**
   * Read `length` bytes of client memory at `iova` with DMA_READ messages (split by the client's
   * max_data_xfer_size). The payload is {u64 address, u64 count, data}, data at offset 16, as
   * libvfio-user (vfio_user_dma_region_access) and QEMU 11.1's vfio-user-pci send and accept it:
   * checked against QEMU's real client, which answers with the data at 16 too (its early
   * VFIOUserDMARW declared a u32 count; the bytes on the wire are the spec's).
   */
  dmaRead(iova: bigint, length: number): Uint8Array {
    this.#checkWindow(iova, length);
    const out = new Uint8Array(length);
    const max = this.#client!.maxDataXferSize;
    for (let at = 0; at < length; at += max) {
      const n = Math.min(max, length - at);
      const reply = this.#dmaRoundTrip(Command.DMA_READ, encodeDmaAccess(iova + BigInt(at), n));
      const a = decodeDmaAccess(reply, true, max, 'DMA_READ reply');
      if (a.addr !== iova + BigInt(at) || a.count !== n) throw malformed('DMA_READ reply', `reply is for 0x${a.addr.toString(16)}+${a.count}, asked 0x${(iova + BigInt(at)).toString(16)}+${n}`);
      out.set(a.data!, at);
    }
    return out;
  }

  /** Write `data` to client memory at `iova` with DMA_WRITE messages. QEMU answers with a bare header (hw/vfio-user/pci.c vfio_user_dma_write). */
  dmaWrite(iova: bigint, data: Uint8Array): void {
    this.#checkWindow(iova, data.length);
    const max = this.#client!.maxDataXferSize;
    for (let at = 0; at < data.length; at += max) {
      const n = Math.min(max, data.length - at);
      this.#dmaRoundTrip(Command.DMA_WRITE, encodeDmaAccess(iova + BigInt(at), n, data.subarray(at, at + n)));
    }
  }

  #checkWindow(iova: bigint, length: number): void {
    if (!this.#negotiated || this.#closed) throw new VfioUserConnectionError('EVFIO_USER_DISCONNECTED', `${this.socket.name}: no client connected for DMA`);
    const w = this.dma.find(iova, length);
    if (!w) throw new DmaRequestError(Errno.EFAULT, 'EFAULT', `DMA 0x${iova.toString(16)}+${length} is outside every client DMA mapping`);
  }

  #dmaRoundTrip(command: number, payload: Uint8Array): Uint8Array {
    if (this.#inRoundTrip) {
      throw new DmaRequestError(Errno.EBUSY, 'EBUSY', `${commandName(command)} while another DMA message waits for its reply (a device access made from inside a DMA round trip)`);
    }
    const sock = this.#twin ?? this.socket;
    const id = this.#nextId = (this.#nextId + 1) & 0xffff;
    const out = buildCommand(id, command, payload);
    this.#inRoundTrip = true;
    try {
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
          if ((m.header.flags & FLAG_ERROR) !== 0) throw new DmaRequestError(m.header.error || Errno.EIO, errnoName(m.header.error || Errno.EIO), `the client refused ${commandName(command)}: ${errnoName(m.header.error)}`);
          return m.payload;
        }
        // A command on the shared socket is served now, not after the reply: a client such as
        // QEMU may be blocked on its answer while holding what it needs to answer us
        // (hw/vfio-user/proxy.c vfio_user_send_wait under the BQL; the DMA handler runs in a BH).
        if (sock === this.socket && !isReply(m.header)) this.#dispatch(m);
        else for (const fd of m.fds) closeQuietly(fd);
        if (this.#closed) throw new VfioUserConnectionError('EVFIO_USER_DISCONNECTED', `${this.socket.name}: the client went away during ${commandName(command)}`);
      }
    } finally {
      this.#inRoundTrip = false;
    }
  }

  /** Drop every DMA window, IRQ eventfd and the socket(s). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#irqs.close();
    this.dma.unmapAll();
    this.#twin?.close();
    this.socket.close();
    this.#onClose?.();
  }
}

