// The hosted Device's regions as the server serves them: region info (cached per connection; PCI
// config space served as region 7 even when the device reports none), the GET_REGION_INFO reply
// with the fd and sparse areas of mmappable memory, and REGION_READ/WRITE against the device.
import type { Device } from '../device/device.js';
import { RegionIndex } from '../device/device.js';
import { RegionError, VfiokitError } from '../errors.js';
import { dup } from '../sys/libc.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import { Errno, malformed, oversized } from './protocol.js';
import { BatchFormatProblem, parseAccessBatch, runAccessBatch, type AccessBatchResult } from '../mmio/access-batch.js';
import { RegionInfoCap, RegionInfoFlags } from '../sys/uapi/linux-vfio.js';
import { flagSet } from '../sys/uapi/struct.js';
import { encodeRegionInfoReply, type RegionCap } from './region-info.js';
import { errnoOf } from './server-dma.js';
import { Refusal, refuse } from './server-refusal.js';

/**
 * Optional method of a hosted Device whose region `index` is memory another process may mmap: the
 * fd to pass (the server sends a dup), the offset to mmap it at, and the areas that may be mapped
 * (absent: the whole region). The server then sets REGION_FLAG_MMAP, passes the fd and adds a
 * SPARSE_MMAP capability (vfio-user.rst "VFIO_USER_DEVICE_GET_REGION_INFO").
 */
export interface MmapSource {
  mmapSource(index: number): { fd: number; offset: bigint; areas?: { offset: bigint; size: bigint }[] } | undefined;
}

/** Accesses one REGION_BATCH may make before it stops with BUDGET (the server stays responsive). */
export const REGION_BATCH_BUDGET = 1 << 22;

/** A device region access failed: the refusal a client gets (bugs are rethrown as they are). */
function refuseDeviceError(err: unknown): never {
  if (err instanceof Refusal) throw err;
  if (err instanceof RegionError) refuse(Errno.EINVAL, err.message);
  if (err instanceof VfiokitError) refuse(errnoOf(err) === Errno.EINVAL ? Errno.EIO : errnoOf(err), err.message);
  throw err;
}

function mmapSourceOf(device: Device): MmapSource['mmapSource'] | undefined {
  const f = (device as Partial<MmapSource>).mmapSource;
  return typeof f === 'function' ? f.bind(device) : undefined;
}

/** PCI config space size served as region 7 when the device reports none (PCIe: 4 KiB). */
const CONFIG_SPACE_SIZE = 4096;

export interface ServedRegionInfo {
  size: number;
  readable: boolean;
  writable: boolean;
}

export class ServedRegions {
  readonly #device: Device;
  /** Region info per index, cached for the connection (a device's regions do not change size). */
  #infoCache: (ServedRegionInfo | undefined)[] = [];

  constructor(device: Device) {
    this.#device = device;
  }

  /** Regions served: the device's, and at least up to the config region. */
  count(): number {
    return Math.max(this.#device.regionCount, RegionIndex.CONFIG + 1);
  }

  info(index: number): ServedRegionInfo {
    const cached = this.#infoCache[index];
    if (cached) return cached;
    const info = this.#queryInfo(index);
    this.#infoCache[index] = { size: info.size, readable: info.readable, writable: info.writable };
    return info;
  }

  #queryInfo(index: number): ServedRegionInfo {
    const device = this.#device;
    if (index >= this.count()) refuse(Errno.EINVAL, `region ${index} does not exist (the device has ${this.count()})`);
    if (index === RegionIndex.CONFIG) {
      const size = index < device.regionCount ? device.regionInfo(index).size : 0;
      return { size: size || CONFIG_SPACE_SIZE, readable: true, writable: true };
    }
    if (index >= device.regionCount) return { size: 0, readable: false, writable: false };
    return device.regionInfo(index);
  }

  /** The DEVICE_GET_REGION_INFO reply; with the fd to pass (a dup the caller closes after sending) when the region is mappable. */
  infoReply(req: { argsz: number; index: number }): { payload: Uint8Array; fds?: number[] } {
    const info = this.info(req.index);
    const source = req.index < this.#device.regionCount && info.size > 0 ? mmapSourceOf(this.#device)?.(req.index) : undefined;
    const flags = flagSet(info.readable && RegionInfoFlags.READ, info.writable && RegionInfoFlags.WRITE, !!source && RegionInfoFlags.MMAP);
    if (!source) return { payload: encodeRegionInfoReply({ flags, index: req.index, size: BigInt(info.size), offset: BigInt(req.index) << 40n, caps: [] }, req.argsz) };
    const caps: RegionCap[] = source.areas ? [{ id: RegionInfoCap.SPARSE_MMAP, version: 1, areas: source.areas }] : [];
    // A dup goes out (and is closed after sending); the device keeps its own fd.
    return { payload: encodeRegionInfoReply({ flags, index: req.index, size: BigInt(info.size), offset: source.offset, caps }, req.argsz), fds: [dup(source.fd)] };
  }

  /** Read or write `count` bytes of a region at `offset` into/from `data`. */
  access(index: number, offset64: bigint, count: number, data: Uint8Array, write: boolean): void {
    const info = this.info(index);
    if (offset64 + BigInt(count) > BigInt(info.size)) refuse(Errno.EINVAL, `region ${index}: ${count} bytes at 0x${offset64.toString(16)} run past its size 0x${info.size.toString(16)}`);
    if (write ? !info.writable : !info.readable) refuse(Errno.EINVAL, `region ${index} is not ${write ? 'writable' : 'readable'}`);
    if (count === 0) return;
    const offset = Number(offset64);
    try {
      if (index === RegionIndex.CONFIG) return this.#configAccess(offset, count, data, write);
      const region = this.#device.region(index);
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
      refuseDeviceError(err);
    }
  }

  /**
   * Run a REGION_BATCH on region `index`: every entry is checked before any runs (a refusal
   * touches nothing), then they run in order on the device's region, at most
   * REGION_BATCH_BUDGET accesses. A device error mid-batch is refused as a single access would
   * be; the accesses before it have happened, as they would have one message at a time.
   */
  batch(index: number, count: number, entries: Uint8Array, maxEntries: number): AccessBatchResult {
    const info = this.info(index);
    if (index === RegionIndex.CONFIG || index >= this.#device.regionCount) refuse(Errno.EINVAL, `REGION_BATCH on region ${index}: batches run on device regions (BARs), not config space`);
    if (!info.readable || !info.writable) refuse(Errno.EINVAL, `REGION_BATCH: region ${index} is not readable and writable`);
    const parsed = parseAccessBatch(entries, count, info.size, maxEntries);
    if (parsed instanceof BatchFormatProblem) throw parsed.oversized ? oversized('REGION_BATCH entries', count, maxEntries) : malformed('REGION_BATCH', parsed.problem, { region: index, count });
    const region = this.#device.region(index);
    try {
      return runAccessBatch(parsed, region, REGION_BATCH_BUDGET);
    } catch (err) {
      return refuseDeviceError(err);
    }
  }

  #configAccess(offset: number, count: number, data: Uint8Array, write: boolean): void {
    const device = this.#device;
    let at = 0;
    while (at < count) {
      const o = offset + at;
      const width: 1 | 2 | 4 = (o & 3) === 0 && count - at >= 4 ? 4 : (o & 1) === 0 && count - at >= 2 ? 2 : 1;
      if (write) {
        const v = width === 4 ? getLe32(data, at) : width === 2 ? data[at]! | (data[at + 1]! << 8) : data[at]!;
        device.configWrite(o, width, v);
      } else {
        const v = device.configRead(o, width);
        if (width === 4) putLe32(data, at, v);
        else for (let i = 0; i < width; i++) data[at + i] = (v >>> (8 * i)) & 0xff;
      }
      at += width;
    }
  }
}
