// VfioUserDevice: the Device of a device served over vfio-user (`vfio-user:/path/to.sock`): its
// regions (trapped REGION_READ/WRITE round trips, or mmapped from the fd the server passes), config
// space, interrupts (eventfds handed over with SET_IRQS), reset, and its DMA mapper. Region
// accesses are synchronous (the Region API is): each is a blocking round trip on the request
// channel (client-channel.ts), which also answers the server's DMA_READ/DMA_WRITE meanwhile.
import { checkIrqIndex, checkIrqRange, checkOpen, checkRegionExists, checkRegionIndex, checkReset } from '../device/checks.js';
import type { Device, DeviceCapabilities, IrqInfo, PciIdentity, RegionInfo } from '../device/device.js';
import { RegionIndex } from '../device/device.js';
import type { Interrupt } from '../device/interrupt.js';
import type { DmaMapper } from '../dma/mapper.js';
import { ArgumentError, DeviceError } from '../errors.js';
import { MappedRegion } from '../mmio/mapped-region.js';
import type { Region } from '../mmio/region.js';
import { RemoteRegion } from './remote-region.js';
import { closeQuietly, connectUnix, pageSize, socket } from '../sys/libc.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../sys/constants.js';
import { SysError } from '../sys/sys-error.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import { realClock, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import type { Capabilities } from './capabilities.js';
import { EventfdInterrupt } from '../device/eventfd-interrupt.js';
import { decodeWriteMultiReply, encodeRegionAccess, encodeRegionBatch, decodeRegionBatchReply, REGION_BATCH_HEAD_SIZE } from './messages.js';
import type { AccessBatch, AccessBatchResult } from '../mmio/access-batch.js';
import { DeviceInfoFlags, IrqSetFlags, encodeIrqSet } from '../sys/uapi/linux-vfio.js';
import { flagSet } from '../sys/uapi/struct.js';
import { vfio_user_region_access } from '../sys/uapi/vfio-user.js';
import { Command, VendorCommand, encodeHeader, Errno, HEADER_SIZE, TYPE_COMMAND, type Message, DEFAULT_MAX_DATA_XFER_SIZE, MAX_MAX_MSG_FDS, VfioUserRemoteError } from './protocol.js';
import { SparseRegion, type MappedArea } from './sparse-region.js';
import { RequestChannel } from './client-channel.js';
import { ClientDmaWindows } from './client-dma-windows.js';
import { ClientDmaMapper } from './client-dma-mapper.js';
import { negotiateVersion } from './client-version.js';
import { identityOf, queryDeviceInfo, queryIrq, queryRegion, type ClientRegionState } from './client-probe.js';

const REGION_ACCESS_SIZE = vfio_user_region_access.size;

const log = logger('vfio-user:client');

export interface VfioUserClientOptions {
  /** How long to wait for each reply (default 10 s; a reset may take long on real devices). */
  replyTimeoutMs?: number;
  /** Largest data transfer we accept from the server (default 1 MiB). */
  maxDataXferSize?: number;
  /** Ask for twin-socket mode (default true). */
  twinSocket?: boolean;
  /** Offer vfiokit's vendor REGION_BATCH (default true; false: one message per register access, as with other servers). */
  regionBatch?: boolean;
  /** Clock for polls on this device (default: the real clock; a served device runs on real time). */
  clock?: Clock;
  /** Re-read the socket up to this long (microseconds) before sleeping in poll() for a reply (default 20). */
  spinUs?: number;
  /** Adapt the spin window to whether it pays (default true; adaptive-spin.ts). False: always spinUs. */
  spinAdaptive?: boolean;
  /**
   * How long to keep trying to get the device (default 10 s): while the server's listen backlog is
   * full, and while it answers EBUSY because it serves another client.
   */
  connectTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Pause between connection attempts to a full or busy server. */
const CONNECT_RETRY_MS = 20;

export const DEFAULT_CLIENT_SPIN_US = 20;

export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;

/**
 * A connected (non-blocking) socket to `path`. While the server's listen backlog is full
 * (connect: EAGAIN on a non-blocking AF_UNIX socket, net/unix/af_unix.c unix_stream_connect) it
 * tries again until `deadline`, then says so instead of blocking forever.
 */
function connectBefore(path: string, deadline: number, timeoutMs: number): number {
  for (;;) {
    const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
    try {
      connectUnix(fd, path);
      return fd;
    } catch (err) {
      closeQuietly(fd);
      if (err instanceof SysError && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) {
        throw new DeviceError(err.code, `no vfio-user server at ${path} (${err.code}); start a vfio-user server on that socket first (VfioUserServer)`, { path, server: 'vfio-user' });
      }
      if (!(err instanceof SysError && err.code === 'EAGAIN')) throw err;
      if (performance.now() + CONNECT_RETRY_MS >= deadline) {
        throw new DeviceError('EVFIO_USER_CONNECT_TIMEOUT', `vfio-user:${path}: the server accepted no connection within ${timeoutMs} ms: its listen backlog is full (the server process is stopped, hung, or flooded with connections); check the process listening on ${path}`, { path, timeoutMs });
      }
      realClock.spin(CONNECT_RETRY_MS);
    }
  }
}

export class VfioUserDevice implements Device {
  readonly url: string;
  readonly transport = 'vfio-user';
  readonly bdf = undefined;
  /** A function served by another process: not reachable through this host's sysfs. */
  readonly capabilities: DeviceCapabilities = {};
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
  #channel!: RequestChannel;
  readonly #windows: ClientDmaWindows;
  #regions: ClientRegionState[] = [];
  #irqs: IrqInfo[] = [];
  #deviceFlags = 0;
  #vectors = new Map<number, EventfdInterrupt[]>();
  #closed = false;
  // hot path: a preallocated REGION_READ/WRITE request (header + 16 + 8 bytes of data)
  #rw = new Uint8Array(HEADER_SIZE + REGION_ACCESS_SIZE + 8);

  constructor(path: string, options: VfioUserClientOptions = {}) {
    this.path = path;
    this.url = `vfio-user:${path}`;
    this.clock = options.clock ?? realClock;
    const maxXfer = options.maxDataXferSize ?? DEFAULT_MAX_DATA_XFER_SIZE;
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const deadline = performance.now() + connectTimeoutMs;
    this.#windows = new ClientDmaWindows(maxXfer);
    const channelFor = (fd: number): RequestChannel => new RequestChannel(fd, this.#windows, {
      url: this.url,
      path,
      timeoutMs: options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
      spinUs: options.spinUs ?? DEFAULT_CLIENT_SPIN_US,
      spinAdaptive: options.spinAdaptive ?? true,
      maxXfer,
      maxFds: MAX_MAX_MSG_FDS,
      onFail: () => this.close(),
    });
    // A server serving another client answers our VERSION with EBUSY: try again until the deadline.
    for (;;) {
      this.#channel = channelFor(connectBefore(path, deadline, connectTimeoutMs));
      try {
        const v = negotiateVersion(this.#channel, maxXfer, options.twinSocket ?? true, options.regionBatch ?? true);
        this.server = v.server;
        this.minor = v.minor;
        break;
      } catch (err) {
        this.#channel.close();
        if (!(err instanceof VfioUserRemoteError) || err.errno !== Errno.EBUSY) throw err;
        if (performance.now() + CONNECT_RETRY_MS >= deadline) {
          throw new DeviceError('EBUSY', `${this.url}: the server is serving another client (it serves one at a time) and stayed busy for ${connectTimeoutMs} ms; wait until that client disconnects, or serve the device on another socket`, { path, connectTimeoutMs });
        }
        log('%s: the server is busy with another client; trying again', this.url);
        realClock.spin(CONNECT_RETRY_MS);
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.dma = new ClientDmaMapper(this.#channel, this.#windows, {
      get server(): Capabilities | undefined {
        return self.server;
      },
      get closed(): boolean {
        return self.#closed;
      },
    });
    try {
      this.#probe();
      this.#channel.watchIdle();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** The server offers DEVICE_RESET (VFIO_DEVICE_FLAGS_RESET in its DEVICE_GET_INFO reply). */
  get resettable(): boolean {
    return (this.#deviceFlags & DeviceInfoFlags.RESET) !== 0;
  }

  /** Commands sent to the server so far (every one a round trip; DMA replies not counted). */
  get commandsSent(): number {
    return this.#channel.commandsSent;
  }

  // ---- setup ----

  #probe(): void {
    const info = queryDeviceInfo(this.#channel);
    this.#deviceFlags = info.flags;
    this.regionCount = info.num_regions;
    this.irqCount = info.num_irqs;
    for (let i = 0; i < info.num_regions; i++) this.#regions.push(queryRegion(this.#channel, i));
    for (let i = 0; i < info.num_irqs; i++) this.#irqs.push(queryIrq(this.#channel, i));
    const cfg = this.#regions[RegionIndex.CONFIG];
    if (!cfg || cfg.info.size < 64) throw new DeviceError('EVFIO_USER_NO_CONFIG', `${this.url}: the server has no PCI config region (index 7); this client drives PCI devices only`);
    this.identity = identityOf(this.#readRegion(RegionIndex.CONFIG, 0n, 64));
  }

  // ---- regions ----

  regionInfo(index: number): RegionInfo {
    return { ...this.#regionState(index).info };
  }

  #regionState(index: number): ClientRegionState {
    checkRegionIndex(this.url, index, this.regionCount);
    return this.#regions[index]!;
  }

  region(index: number): Region {
    checkOpen(this.url, this.#closed, `region(${index})`);
    const state = this.#regionState(index);
    if (state.region && !state.region.closed) return state.region;
    checkRegionExists(this.url, index, state.info.size);
    const name = `${this.url} region ${index}`;
    const info = state.info;
    const trapped = new RemoteRegion(name, info.size, index, {
      read32: (o) => this.#read32(index, o),
      read64: (o) => this.#read64(index, o),
      write32: (o, v) => this.#write(index, o, 4, v, 0n),
      write64: (o, v) => this.#write(index, o, 8, 0, v),
    }, {
      clock: this.clock,
      ...(this.server.writeMultiple ? { writeMulti: (payload: Uint8Array, count: number) => this.#writeMulti(payload, count) } : {}),
      ...(this.server.regionBatch ? { batch: { maxEntries: this.server.regionBatch.maxEntries, maxBytes: this.server.maxDataXferSize - REGION_BATCH_HEAD_SIZE, send: (i: number, b: AccessBatch) => this.#regionBatch(i, b) } } : {}),
    });
    state.region = info.mappable && state.fd >= 0 ? this.#mapAreas(state, name, trapped) : trapped;
    return state.region;
  }

  /** One REGION_WRITE_MULTI; the reply says how many writes completed (all, or an error). */
  #writeMulti(payload: Uint8Array, count: number): void {
    const m = this.#channel.call(Command.REGION_WRITE_MULTI, payload, [], `${count} coalesced writes`);
    const done = decodeWriteMultiReply(m.payload);
    if (done !== count) this.#channel.fail(`REGION_WRITE_MULTI completed ${done} of ${count} writes`);
  }

  /** One REGION_BATCH round trip (vfiokit's vendor command, negotiated in VERSION). */
  #regionBatch(index: number, batch: AccessBatch): AccessBatchResult {
    const m = this.#channel.call(VendorCommand.REGION_BATCH, encodeRegionBatch(index, batch.entries, batch.bytes), [], `region ${index}, ${batch.entries} batched accesses`);
    try {
      return decodeRegionBatchReply(m.payload, batch.entries, batch.polls);
    } catch (err) {
      return this.#channel.fail(`the server's REGION_BATCH reply is malformed (${(err as Error).message})`);
    }
  }

  /** mmap the region's (sparse) areas from the fd the server passed; the rest stays trapped. */
  #mapAreas(state: ClientRegionState, name: string, trapped: RemoteRegion): Region {
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
    const id = this.#channel.nextId();
    encodeHeader(out, { id, command, size, flags: TYPE_COMMAND, error: 0 });
    vfio_user_region_access.write(out, HEADER_SIZE, { offset, region: index, count });
    return this.#channel.exchange(size === out.length ? out : out.subarray(0, size), command, id, `region ${index} offset 0x${offset.toString(16)}`);
  }

  #read32(index: number, offset: number): number {
    const m = this.#rwRoundTrip(Command.REGION_READ, index, offset, 4);
    if (m.payload.length !== REGION_ACCESS_SIZE + 4) this.#channel.fail(`REGION_READ reply of ${m.payload.length} bytes for 4 requested`);
    return getLe32(m.payload, REGION_ACCESS_SIZE);
  }

  #read64(index: number, offset: number): bigint {
    const m = this.#rwRoundTrip(Command.REGION_READ, index, offset, 8);
    if (m.payload.length !== REGION_ACCESS_SIZE + 8) this.#channel.fail(`REGION_READ reply of ${m.payload.length} bytes for 8 requested`);
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
      const m = this.#channel.call(Command.REGION_READ, encodeRegionAccess(index, offset + BigInt(at), n), [], `region ${index}`);
      if (m.payload.length !== REGION_ACCESS_SIZE + n) this.#channel.fail(`REGION_READ reply of ${m.payload.length} bytes for ${n} requested`);
      out.set(m.payload.subarray(REGION_ACCESS_SIZE), at);
    }
    return out;
  }

  #writeRegion(index: number, offset: bigint, data: Uint8Array): void {
    const max = this.server.maxDataXferSize;
    for (let at = 0; at < data.length; at += max) {
      const n = Math.min(max, data.length - at);
      this.#channel.call(Command.REGION_WRITE, encodeRegionAccess(index, offset + BigInt(at), n, data.subarray(at, at + n)), [], `region ${index}`);
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
    checkIrqIndex(this.url, index, this.irqCount);
    return { ...this.#irqs[index]! };
  }

  enableInterrupts(index: number, start: number, count: number): Interrupt[] {
    checkOpen(this.url, this.#closed, 'enableInterrupts');
    const info = this.irqInfo(index);
    checkIrqRange(this.url, info, start, count);
    const fresh: EventfdInterrupt[] = [];
    try {
      for (let i = 0; i < count; i++) fresh.push(new EventfdInterrupt({ index, vector: start + i, name: `${this.url} IRQ ${index} vector ${start + i}` }));
      // Several messages when the server takes fewer fds per message than we have vectors.
      const per = Math.max(1, this.server.maxMsgFds);
      for (let at = 0; at < count; at += per) {
        const n = Math.min(per, count - at);
        this.#channel.call(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_EVENTFD, IrqSetFlags.ACTION_TRIGGER), index, start + at, n), fresh.slice(at, at + n).map((v) => v.fd), `IRQ ${index} vectors ${start + at}..${start + at + n - 1}`);
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
      if (!this.#closed) this.#channel.call(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_NONE, IrqSetFlags.ACTION_TRIGGER), index, 0, 0), [], `disable IRQ ${index}`);
    } finally {
      for (const v of list) v.close();
    }
  }

  reset(): void {
    checkOpen(this.url, this.#closed, 'reset');
    checkReset(this.url, this.resettable);
    this.#channel.call(Command.DEVICE_RESET, null, [], 'device reset');
  }

  // ---- lifetime ----

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.stopWatching();
    for (const list of this.#vectors.values()) for (const v of list) v.close();
    this.#vectors.clear();
    for (const r of this.#regions) {
      r.region?.close();
      if (r.fd >= 0) closeQuietly(r.fd);
      r.fd = -1;
    }
    this.#windows.clear();
    this.#channel.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
