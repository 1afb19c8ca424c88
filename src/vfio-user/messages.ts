// Payload codecs of every vfio-user command (offsets from the end of the 16-byte header), per the
// protocol specification (vfio-user.rst) and the linux/vfio.h structs it reuses (vfio-uapi.md).
// Decoders check the payload length against the fixed part and the variable part it announces,
// and throw VfioUserFormatError (EINVAL truncated/malformed, E2BIG oversized).
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import { malformed, oversized, truncated } from './protocol.js';
import { BatchStop, type AccessBatchResult, type BatchStopCode } from '../mmio/access-batch.js';

// ---- VFIO_USER_DMA_MAP / DMA_UNMAP (vfio-user.rst; libvfio-user struct vfio_user_dma_map) ----

/** DMA_MAP flags (VFIO_USER_F_DMA_REGION_READ/WRITE). */
export const DMA_FLAG_READ = 1 << 0;
export const DMA_FLAG_WRITE = 1 << 1;
/** DMA_UNMAP flags (VFIO_DMA_UNMAP_FLAG_*: a different namespace from the map flags). */
export const DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
export const DMA_UNMAP_FLAG_ALL = 1 << 1;

export const DMA_MAP_SIZE = 32;
export const DMA_UNMAP_SIZE = 24;

export interface DmaMapRequest {
  argsz: number;
  flags: number;
  /** Offset into the passed fd (0 without an fd). */
  offset: bigint;
  /** The DMA address (IOVA) the device uses. */
  address: bigint;
  size: bigint;
}

export function encodeDmaMap(m: Omit<DmaMapRequest, 'argsz'> & { argsz?: number }): Uint8Array {
  const out = new Uint8Array(DMA_MAP_SIZE);
  putLe32(out, 0, m.argsz ?? DMA_MAP_SIZE);
  putLe32(out, 4, m.flags);
  putLe64(out, 8, m.offset);
  putLe64(out, 16, m.address);
  putLe64(out, 24, m.size);
  return out;
}

export function decodeDmaMap(p: Uint8Array): DmaMapRequest {
  if (p.length < DMA_MAP_SIZE) throw truncated('DMA_MAP', DMA_MAP_SIZE, p.length);
  const m = { argsz: getLe32(p, 0), flags: getLe32(p, 4), offset: getLe64(p, 8), address: getLe64(p, 16), size: getLe64(p, 24) };
  if (m.argsz < DMA_MAP_SIZE) throw malformed('DMA_MAP', `argsz ${m.argsz} is smaller than the 32-byte struct`, { argsz: m.argsz });
  if ((m.flags & ~(DMA_FLAG_READ | DMA_FLAG_WRITE)) !== 0) throw malformed('DMA_MAP', `unknown flags 0x${m.flags.toString(16)} (only READ 1 and WRITE 2 are defined)`, { flags: m.flags });
  return m;
}

export interface DmaUnmapRequest {
  argsz: number;
  flags: number;
  address: bigint;
  size: bigint;
}

export function encodeDmaUnmap(m: Omit<DmaUnmapRequest, 'argsz'> & { argsz?: number }): Uint8Array {
  const out = new Uint8Array(DMA_UNMAP_SIZE);
  putLe32(out, 0, m.argsz ?? DMA_UNMAP_SIZE);
  putLe32(out, 4, m.flags);
  putLe64(out, 8, m.address);
  putLe64(out, 16, m.size);
  return out;
}

export function decodeDmaUnmap(p: Uint8Array): DmaUnmapRequest {
  if (p.length < DMA_UNMAP_SIZE) throw truncated('DMA_UNMAP', DMA_UNMAP_SIZE, p.length);
  const m = { argsz: getLe32(p, 0), flags: getLe32(p, 4), address: getLe64(p, 8), size: getLe64(p, 16) };
  if (m.argsz < DMA_UNMAP_SIZE) throw malformed('DMA_UNMAP', `argsz ${m.argsz} is smaller than the 24-byte struct`, { argsz: m.argsz });
  if ((m.flags & ~(DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | DMA_UNMAP_FLAG_ALL)) !== 0) throw malformed('DMA_UNMAP', `unknown flags 0x${m.flags.toString(16)} (GET_DIRTY_BITMAP 1, ALL 2)`, { flags: m.flags });
  if ((m.flags & DMA_UNMAP_FLAG_ALL) !== 0 && (m.address !== 0n || m.size !== 0n)) {
    throw malformed('DMA_UNMAP', 'flag ALL needs address 0 and size 0', { address: m.address, size: m.size });
  }
  return m;
}

// ---- VFIO_USER_DEVICE_GET_INFO (struct vfio_user_device_info, 16 bytes) ----

/** VFIO_DEVICE_FLAGS_* (linux/vfio.h). */
export const DEVICE_FLAG_RESET = 1 << 0;
export const DEVICE_FLAG_PCI = 1 << 1;
export const DEVICE_INFO_SIZE = 16;

export interface DeviceInfo {
  argsz: number;
  flags: number;
  numRegions: number;
  numIrqs: number;
}

export function encodeDeviceInfo(d: DeviceInfo): Uint8Array {
  const out = new Uint8Array(DEVICE_INFO_SIZE);
  putLe32(out, 0, d.argsz);
  putLe32(out, 4, d.flags);
  putLe32(out, 8, d.numRegions);
  putLe32(out, 12, d.numIrqs);
  return out;
}

export function decodeDeviceInfo(p: Uint8Array): DeviceInfo {
  if (p.length < DEVICE_INFO_SIZE) throw truncated('DEVICE_GET_INFO', DEVICE_INFO_SIZE, p.length);
  return { argsz: getLe32(p, 0), flags: getLe32(p, 4), numRegions: getLe32(p, 8), numIrqs: getLe32(p, 12) };
}

// ---- VFIO_USER_DEVICE_GET_IRQ_INFO (struct vfio_irq_info, 16 bytes) ----

/** VFIO_IRQ_INFO_* (linux/vfio.h). */
export const IRQ_INFO_EVENTFD = 1 << 0;
export const IRQ_INFO_MASKABLE = 1 << 1;
export const IRQ_INFO_AUTOMASKED = 1 << 2;
export const IRQ_INFO_NORESIZE = 1 << 3;
export const IRQ_INFO_SIZE = 16;

export interface IrqInfoMessage {
  argsz: number;
  flags: number;
  index: number;
  count: number;
}

export function encodeIrqInfo(i: IrqInfoMessage): Uint8Array {
  const out = new Uint8Array(IRQ_INFO_SIZE);
  putLe32(out, 0, i.argsz);
  putLe32(out, 4, i.flags);
  putLe32(out, 8, i.index);
  putLe32(out, 12, i.count);
  return out;
}

export function decodeIrqInfo(p: Uint8Array): IrqInfoMessage {
  if (p.length < IRQ_INFO_SIZE) throw truncated('DEVICE_GET_IRQ_INFO', IRQ_INFO_SIZE, p.length);
  return { argsz: getLe32(p, 0), flags: getLe32(p, 4), index: getLe32(p, 8), count: getLe32(p, 12) };
}

// ---- VFIO_USER_DEVICE_SET_IRQS (struct vfio_irq_set, 20 bytes + data) ----

/** VFIO_IRQ_SET_* (linux/vfio.h). */
export const IRQ_SET_DATA_NONE = 1 << 0;
export const IRQ_SET_DATA_BOOL = 1 << 1;
export const IRQ_SET_DATA_EVENTFD = 1 << 2;
export const IRQ_SET_ACTION_MASK = 1 << 3;
export const IRQ_SET_ACTION_UNMASK = 1 << 4;
export const IRQ_SET_ACTION_TRIGGER = 1 << 5;
export const IRQ_SET_DATA_TYPE_MASK = IRQ_SET_DATA_NONE | IRQ_SET_DATA_BOOL | IRQ_SET_DATA_EVENTFD;
export const IRQ_SET_ACTION_TYPE_MASK = IRQ_SET_ACTION_MASK | IRQ_SET_ACTION_UNMASK | IRQ_SET_ACTION_TRIGGER;
export const IRQ_SET_SIZE = 20;

export interface IrqSet {
  argsz: number;
  flags: number;
  index: number;
  start: number;
  count: number;
  /** DATA_BOOL: one byte per vector. Eventfds travel as SCM_RIGHTS, not in the payload. */
  bools?: Uint8Array;
}

const oneBit = (v: number): boolean => v !== 0 && (v & (v - 1)) === 0;

export function encodeIrqSet(s: Omit<IrqSet, 'argsz'>): Uint8Array {
  const data = s.bools ?? new Uint8Array(0);
  const out = new Uint8Array(IRQ_SET_SIZE + data.length);
  putLe32(out, 0, out.length);
  putLe32(out, 4, s.flags);
  putLe32(out, 8, s.index);
  putLe32(out, 12, s.start);
  putLe32(out, 16, s.count);
  out.set(data, IRQ_SET_SIZE);
  return out;
}

export function decodeIrqSet(p: Uint8Array): IrqSet {
  if (p.length < IRQ_SET_SIZE) throw truncated('DEVICE_SET_IRQS', IRQ_SET_SIZE, p.length);
  const s: IrqSet = { argsz: getLe32(p, 0), flags: getLe32(p, 4), index: getLe32(p, 8), start: getLe32(p, 12), count: getLe32(p, 16) };
  const data = s.flags & IRQ_SET_DATA_TYPE_MASK;
  const action = s.flags & IRQ_SET_ACTION_TYPE_MASK;
  if ((s.flags & ~(IRQ_SET_DATA_TYPE_MASK | IRQ_SET_ACTION_TYPE_MASK)) !== 0) throw malformed('DEVICE_SET_IRQS', `unknown flags 0x${s.flags.toString(16)}`, { flags: s.flags });
  if (!oneBit(data)) throw malformed('DEVICE_SET_IRQS', `flags 0x${s.flags.toString(16)} must name exactly one of DATA_NONE, DATA_BOOL, DATA_EVENTFD`, { flags: s.flags });
  if (!oneBit(action)) throw malformed('DEVICE_SET_IRQS', `flags 0x${s.flags.toString(16)} must name exactly one of ACTION_MASK, ACTION_UNMASK, ACTION_TRIGGER`, { flags: s.flags });
  if (s.start + s.count > 0xffffffff) throw malformed('DEVICE_SET_IRQS', `start ${s.start} + count ${s.count} overflows`, { start: s.start, count: s.count });
  if (data === IRQ_SET_DATA_BOOL) {
    if (p.length < IRQ_SET_SIZE + s.count) throw truncated('DEVICE_SET_IRQS bool data', IRQ_SET_SIZE + s.count, p.length);
    s.bools = p.slice(IRQ_SET_SIZE, IRQ_SET_SIZE + s.count);
  }
  if (s.argsz < IRQ_SET_SIZE) throw malformed('DEVICE_SET_IRQS', `argsz ${s.argsz} is smaller than the 20-byte struct`, { argsz: s.argsz });
  return s;
}

// ---- VFIO_USER_REGION_READ / REGION_WRITE (struct vfio_user_region_access, 16 bytes + data) ----

export const REGION_ACCESS_SIZE = 16;

export interface RegionAccess {
  offset: bigint;
  region: number;
  count: number;
  /** Write request / read reply data. */
  data?: Uint8Array;
}

export function encodeRegionAccess(a: RegionAccess): Uint8Array {
  const data = a.data;
  const out = new Uint8Array(REGION_ACCESS_SIZE + (data ? data.length : 0));
  putLe64(out, 0, a.offset);
  putLe32(out, 8, a.region);
  putLe32(out, 12, a.count);
  if (data) out.set(data, REGION_ACCESS_SIZE);
  return out;
}

/**
 * Decode a region access. `withData`: the payload must carry exactly `count` data bytes (a write
 * request or a read reply); otherwise it must carry none. `maxCount` caps count (E2BIG).
 */
export function decodeRegionAccess(p: Uint8Array, withData: boolean, maxCount: number, what = withData ? 'REGION_WRITE' : 'REGION_READ'): RegionAccess {
  if (p.length < REGION_ACCESS_SIZE) throw truncated(what, REGION_ACCESS_SIZE, p.length);
  const a: RegionAccess = { offset: getLe64(p, 0), region: getLe32(p, 8), count: getLe32(p, 12) };
  if (a.count > maxCount) throw oversized(`${what} count`, a.count, maxCount);
  const expect = REGION_ACCESS_SIZE + (withData ? a.count : 0);
  if (p.length < expect) throw truncated(`${what} data`, expect, p.length);
  if (p.length > expect) throw malformed(what, `payload is ${p.length} bytes, ${expect} expected for count ${a.count}`, { count: a.count, length: p.length });
  if (withData) a.data = p.subarray(REGION_ACCESS_SIZE, expect);
  return a;
}

// ---- VFIO_USER_DMA_READ / DMA_WRITE (struct vfio_user_dma_region_access, 16 bytes + data) ----
// libvfio-user: {u64 addr, u64 count, data[]}; the reply to DMA_WRITE is the 16-byte head only
// (libvfio-user vfu_dma_transfer checks reply addr and count against the request).

export const DMA_ACCESS_SIZE = 16;

export interface DmaAccess {
  address: bigint;
  count: number;
  data?: Uint8Array;
}

export function encodeDmaAccess(a: DmaAccess): Uint8Array {
  const data = a.data;
  const out = new Uint8Array(DMA_ACCESS_SIZE + (data ? data.length : 0));
  putLe64(out, 0, a.address);
  putLe64(out, 8, BigInt(a.count));
  if (data) out.set(data, DMA_ACCESS_SIZE);
  return out;
}

export function decodeDmaAccess(p: Uint8Array, withData: boolean, maxCount: number, what = withData ? 'DMA_WRITE' : 'DMA_READ'): DmaAccess {
  if (p.length < DMA_ACCESS_SIZE) throw truncated(what, DMA_ACCESS_SIZE, p.length);
  const count64 = getLe64(p, 8);
  if (count64 > BigInt(maxCount)) throw oversized(`${what} count`, Number(count64), maxCount);
  const a: DmaAccess = { address: getLe64(p, 0), count: Number(count64) };
  const expect = DMA_ACCESS_SIZE + (withData ? a.count : 0);
  if (p.length < expect) throw truncated(`${what} data`, expect, p.length);
  if (p.length > expect) throw malformed(what, `payload is ${p.length} bytes, ${expect} expected for count ${a.count}`, { count: a.count, length: p.length });
  if (withData) a.data = p.subarray(DMA_ACCESS_SIZE, expect);
  return a;
}

// ---- VFIO_USER_REGION_WRITE_MULTI (QEMU hw/vfio-user/protocol.h VFIOUserWRMulti) ----

/** Data bytes per coalesced write (VFIO_USER_MULTI_DATA) and writes per message (VFIO_USER_MULTI_MAX). */
export const MULTI_DATA = 8;
export const MULTI_MAX = 200;
export const MULTI_ENTRY_SIZE = 24;

export interface MultiWrite {
  offset: bigint;
  region: number;
  /** 1..8 bytes. */
  data: Uint8Array;
}

/** Start a REGION_WRITE_MULTI payload for `count` writes; fill entries with putMultiWrite64/32. */
export function allocWriteMulti(count: number): Uint8Array {
  const out = new Uint8Array(8 + count * MULTI_ENTRY_SIZE);
  putLe32(out, 0, count);
  return out;
}

/** Entry `i` of a payload from allocWriteMulti: a 64-bit write of `value` at `offset` of `region`. */
export function putMultiWrite64(out: Uint8Array, i: number, offset: number, region: number, value: bigint): void {
  const at = 8 + i * MULTI_ENTRY_SIZE;
  putLe32(out, at, offset);
  putLe32(out, at + 8, region);
  out[at + 12] = 8;
  putLe64(out, at + 16, value);
}

/** Entry `i`: a write of `data` (1..8 bytes) at `offset` of `region`. */
export function putMultiWrite(out: Uint8Array, i: number, offset: number, region: number, data: Uint8Array): void {
  const at = 8 + i * MULTI_ENTRY_SIZE;
  putLe32(out, at, offset);
  putLe32(out, at + 8, region);
  out[at + 12] = data.length;
  out.set(data, at + 16);
}

export function encodeWriteMulti(writes: MultiWrite[]): Uint8Array {
  const out = new Uint8Array(8 + writes.length * MULTI_ENTRY_SIZE);
  putLe64(out, 0, BigInt(writes.length));
  writes.forEach((w, i) => {
    const at = 8 + i * MULTI_ENTRY_SIZE;
    putLe64(out, at, w.offset);
    putLe32(out, at + 8, w.region);
    putLe32(out, at + 12, w.data.length);
    out.set(w.data.subarray(0, MULTI_DATA), at + 16);
  });
  return out;
}

export function decodeWriteMulti(p: Uint8Array): MultiWrite[] {
  if (p.length < 8) throw truncated('REGION_WRITE_MULTI', 8, p.length);
  const n64 = getLe64(p, 0);
  if (n64 === 0n) throw malformed('REGION_WRITE_MULTI', 'wr_cnt is 0');
  if (n64 > BigInt(MULTI_MAX)) throw oversized('REGION_WRITE_MULTI wr_cnt', Number(n64 > 0xffffffffn ? 0xffffffffn : n64), MULTI_MAX);
  const n = Number(n64);
  const expect = 8 + n * MULTI_ENTRY_SIZE;
  if (p.length < expect) throw truncated('REGION_WRITE_MULTI writes', expect, p.length);
  if (p.length > expect) throw malformed('REGION_WRITE_MULTI', `payload is ${p.length} bytes, ${expect} expected for wr_cnt ${n}`);
  const writes: MultiWrite[] = [];
  for (let i = 0; i < n; i++) {
    const at = 8 + i * MULTI_ENTRY_SIZE;
    const count = getLe32(p, at + 12);
    if (count === 0 || count > MULTI_DATA) throw malformed('REGION_WRITE_MULTI', `write ${i} has count ${count}; 1..8 allowed`, { index: i, count });
    writes.push({ offset: getLe64(p, at), region: getLe32(p, at + 8), data: p.subarray(at + 16, at + 16 + count) });
  }
  return writes;
}

export function encodeWriteMultiReply(count: number): Uint8Array {
  const out = new Uint8Array(8);
  putLe64(out, 0, BigInt(count));
  return out;
}

export function decodeWriteMultiReply(p: Uint8Array): number {
  if (p.length < 8) throw truncated('REGION_WRITE_MULTI reply', 8, p.length);
  return Number(getLe64(p, 0) & 0xffffffffn);
}

// ---- REGION_BATCH (vfiokit vendor command, protocol.ts; entries: src/mmio/access-batch.ts) ----
// Request {u32 region, u32 count, entries[count]}; reply {u32 completed, u32 stop, u32 accesses,
// u32 polls, u64 values[polls]}: where and why the batch stopped, and the last value of each poll
// that ran.

export const REGION_BATCH_HEAD_SIZE = 8;
export const REGION_BATCH_REPLY_HEAD_SIZE = 16;

export interface RegionBatchRequest {
  region: number;
  count: number;
  /** The encoded entries. */
  entries: Uint8Array;
}

export function encodeRegionBatch(region: number, count: number, entries: Uint8Array): Uint8Array {
  const out = new Uint8Array(REGION_BATCH_HEAD_SIZE + entries.length);
  putLe32(out, 0, region);
  putLe32(out, 4, count);
  out.set(entries, REGION_BATCH_HEAD_SIZE);
  return out;
}

/** The head; the entries are checked against the region by parseAccessBatch. */
export function decodeRegionBatch(p: Uint8Array): RegionBatchRequest {
  if (p.length < REGION_BATCH_HEAD_SIZE) throw truncated('REGION_BATCH', REGION_BATCH_HEAD_SIZE, p.length);
  return { region: getLe32(p, 0), count: getLe32(p, 4), entries: p.subarray(REGION_BATCH_HEAD_SIZE) };
}

export function encodeRegionBatchReply(r: AccessBatchResult): Uint8Array {
  const out = new Uint8Array(REGION_BATCH_REPLY_HEAD_SIZE + 8 * r.values.length);
  putLe32(out, 0, r.completed);
  putLe32(out, 4, r.stop);
  putLe32(out, 8, r.accesses);
  putLe32(out, 12, r.values.length);
  for (let i = 0; i < r.values.length; i++) putLe64(out, REGION_BATCH_REPLY_HEAD_SIZE + 8 * i, r.values[i]!);
  return out;
}

/** Decode a reply to a batch of `count` entries and `polls` polls; anything inconsistent is malformed. */
export function decodeRegionBatchReply(p: Uint8Array, count: number, polls: number): AccessBatchResult {
  if (p.length < REGION_BATCH_REPLY_HEAD_SIZE) throw truncated('REGION_BATCH reply', REGION_BATCH_REPLY_HEAD_SIZE, p.length);
  const completed = getLe32(p, 0);
  const stop = getLe32(p, 4);
  const n = getLe32(p, 12);
  if (stop > BatchStop.BUDGET) throw malformed('REGION_BATCH reply', `unknown stop code ${stop}`);
  if (stop === BatchStop.DONE ? completed !== count : completed >= count) throw malformed('REGION_BATCH reply', `${completed} of ${count} entries completed with stop code ${stop}`);
  if (n > polls || p.length !== REGION_BATCH_REPLY_HEAD_SIZE + 8 * n) throw malformed('REGION_BATCH reply', `${p.length} bytes with ${n} poll values for a batch of ${polls} polls`);
  const values = new BigUint64Array(n);
  for (let i = 0; i < n; i++) values[i] = getLe64(p, REGION_BATCH_REPLY_HEAD_SIZE + 8 * i);
  return { completed, stop: stop as BatchStopCode, accesses: getLe32(p, 8), values };
}

// ---- VFIO_USER_DEVICE_GET_REGION_IO_FDS (libvfio-user vfio_user_region_io_fds_request/reply) ----

export const IO_FDS_REQUEST_SIZE = 16;
export const IO_FD_SUB_REGION_SIZE = 40;
export const IO_FD_TYPE_IOEVENTFD = 0;
export const IO_FD_TYPE_IOREGIONFD = 1;
export const IO_FD_TYPE_IOEVENTFD_SHADOW = 2;

export interface IoFdsRequest {
  argsz: number;
  flags: number;
  index: number;
  count: number;
}

export interface IoFdSubRegion {
  offset: bigint;
  size: bigint;
  fdIndex: number;
  type: number;
  flags: number;
  /** datamatch (ioeventfd) or user_data (ioregionfd). */
  data: bigint;
}

export interface IoFdsReply extends IoFdsRequest {
  subRegions: IoFdSubRegion[];
}

export function encodeIoFdsRequest(r: IoFdsRequest): Uint8Array {
  const out = new Uint8Array(IO_FDS_REQUEST_SIZE);
  putLe32(out, 0, r.argsz);
  putLe32(out, 4, r.flags);
  putLe32(out, 8, r.index);
  putLe32(out, 12, r.count);
  return out;
}

export function decodeIoFdsRequest(p: Uint8Array): IoFdsRequest {
  if (p.length < IO_FDS_REQUEST_SIZE) throw truncated('DEVICE_GET_REGION_IO_FDS', IO_FDS_REQUEST_SIZE, p.length);
  const r = { argsz: getLe32(p, 0), flags: getLe32(p, 4), index: getLe32(p, 8), count: getLe32(p, 12) };
  if (r.flags !== 0) throw malformed('DEVICE_GET_REGION_IO_FDS', `flags 0x${r.flags.toString(16)} must be 0`);
  if (r.argsz < IO_FDS_REQUEST_SIZE) throw malformed('DEVICE_GET_REGION_IO_FDS', `argsz ${r.argsz} is smaller than the 16-byte struct`);
  return r;
}

/** Encode a reply; argsz is the full size, the sub-regions that fit in `maxArgsz` are included. */
export function encodeIoFdsReply(index: number, subRegions: IoFdSubRegion[], maxArgsz: number): Uint8Array {
  const full = IO_FDS_REQUEST_SIZE + subRegions.length * IO_FD_SUB_REGION_SIZE;
  const fits = maxArgsz >= full;
  const out = new Uint8Array(fits ? full : IO_FDS_REQUEST_SIZE);
  putLe32(out, 0, full);
  putLe32(out, 4, 0);
  putLe32(out, 8, index);
  putLe32(out, 12, subRegions.length);
  if (fits) {
    subRegions.forEach((s, i) => {
      const at = IO_FDS_REQUEST_SIZE + i * IO_FD_SUB_REGION_SIZE;
      putLe64(out, at, s.offset);
      putLe64(out, at + 8, s.size);
      putLe32(out, at + 16, s.fdIndex);
      putLe32(out, at + 20, s.type);
      putLe32(out, at + 24, s.flags);
      putLe32(out, at + 28, 0);
      putLe64(out, at + 32, s.data);
    });
  }
  return out;
}

export function decodeIoFdsReply(p: Uint8Array): IoFdsReply {
  if (p.length < IO_FDS_REQUEST_SIZE) throw truncated('DEVICE_GET_REGION_IO_FDS reply', IO_FDS_REQUEST_SIZE, p.length);
  const r: IoFdsReply = { argsz: getLe32(p, 0), flags: getLe32(p, 4), index: getLe32(p, 8), count: getLe32(p, 12), subRegions: [] };
  if (p.length === IO_FDS_REQUEST_SIZE) return r; // argsz too small: only the head came back
  const stride = r.count === 0 ? IO_FD_SUB_REGION_SIZE : Math.floor((r.argsz - IO_FDS_REQUEST_SIZE) / r.count);
  if (stride < IO_FD_SUB_REGION_SIZE) throw malformed('DEVICE_GET_REGION_IO_FDS reply', `argsz ${r.argsz} leaves ${stride} bytes per sub-region, 40 needed`);
  const need = IO_FDS_REQUEST_SIZE + r.count * stride;
  if (p.length < need) throw truncated('DEVICE_GET_REGION_IO_FDS reply sub-regions', need, p.length);
  for (let i = 0; i < r.count; i++) {
    const at = IO_FDS_REQUEST_SIZE + i * stride;
    r.subRegions.push({ offset: getLe64(p, at), size: getLe64(p, at + 8), fdIndex: getLe32(p, at + 16), type: getLe32(p, at + 20), flags: getLe32(p, at + 24), data: getLe64(p, at + 32) });
  }
  return r;
}

// ---- VFIO_USER_DEVICE_FEATURE (struct vfio_device_feature: argsz, flags, data[]) ----

export const FEATURE_MASK = 0xffff;
export const FEATURE_GET = 1 << 16;
export const FEATURE_SET = 1 << 17;
export const FEATURE_PROBE = 1 << 18;
export const FEATURE_HEAD_SIZE = 8;
/** Feature indexes vfio-user defines (migration only). */
export const FEATURE_MIGRATION = 1;
export const FEATURE_MIG_DEVICE_STATE = 2;
export const FEATURE_DMA_LOGGING_START = 6;
export const FEATURE_DMA_LOGGING_STOP = 7;
export const FEATURE_DMA_LOGGING_REPORT = 8;

export interface DeviceFeature {
  argsz: number;
  flags: number;
  data: Uint8Array;
}

export function encodeDeviceFeature(f: DeviceFeature): Uint8Array {
  const out = new Uint8Array(FEATURE_HEAD_SIZE + f.data.length);
  putLe32(out, 0, f.argsz);
  putLe32(out, 4, f.flags);
  out.set(f.data, FEATURE_HEAD_SIZE);
  return out;
}

export function decodeDeviceFeature(p: Uint8Array): DeviceFeature {
  if (p.length < FEATURE_HEAD_SIZE) throw truncated('DEVICE_FEATURE', FEATURE_HEAD_SIZE, p.length);
  const f = { argsz: getLe32(p, 0), flags: getLe32(p, 4), data: p.subarray(FEATURE_HEAD_SIZE) };
  if ((f.flags & ~(FEATURE_MASK | FEATURE_GET | FEATURE_SET | FEATURE_PROBE)) !== 0) throw malformed('DEVICE_FEATURE', `unknown flags 0x${f.flags.toString(16)}`);
  if ((f.flags & FEATURE_GET) !== 0 && (f.flags & FEATURE_SET) !== 0 && (f.flags & FEATURE_PROBE) === 0) {
    throw malformed('DEVICE_FEATURE', 'GET and SET are mutually exclusive except with PROBE');
  }
  return f;
}
