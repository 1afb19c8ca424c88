// Payload codecs of the vfio-user commands (the bytes after the 16-byte header). The layouts,
// constants and flags are the struct tables of src/sys/uapi (vfio-user.ts, and linux-vfio.ts for
// the linux/vfio.h structs the protocol reuses); this file adds what a peer's bytes must be
// checked for. Decoders check the payload length against the fixed part and the variable part
// it announces, and throw VfioUserFormatError (EINVAL truncated/malformed, E2BIG oversized).
import {
  DeviceFeatureFlags, IrqSetFlags, UnmapDmaFlags, vfio_device_feature, vfio_irq_info, vfio_irq_set,
} from '../sys/uapi/linux-vfio.js';
import { getLe64, putLe64 } from '../util/bytes.js';
import { u64, type Decoded, type Fields, type Inputs, type Scalars, type Struct } from '../sys/uapi/struct.js';
import {
  DmaMapFlags, WriteMulti, vfio_user_device_info, vfio_user_dma_map, vfio_user_dma_region_access, vfio_user_dma_unmap,
  vfio_user_region_access, vfio_user_region_io_fds_request, vfio_user_sub_region_ioeventfd, vfio_user_wr_multi,
  vfiokit_region_batch, vfiokit_region_batch_reply,
  vfio_user_wr_one,
} from '../sys/uapi/vfio-user.js';
import { malformed, oversized, truncated } from './protocol.js';
import { BatchStop, type AccessBatchResult, type BatchStopCode } from '../mmio/access-batch.js';

/** Decode the fixed part of a payload, which must hold at least the struct. */
function fixed<F extends Fields>(s: Struct<F>, p: Uint8Array, what: string): Scalars<F> {
  if (p.length < s.size) throw truncated(what, s.size, p.length);
  return s.decode(p);
}

/** argsz (the sender's buffer) must cover the struct. */
function checkArgsz(what: string, argsz: number, s: { size: number }): void {
  if (argsz < s.size) throw malformed(what, `argsz ${argsz} is smaller than the ${s.size}-byte struct`, { argsz });
}

const oneBit = (v: number): boolean => v !== 0 && (v & (v - 1)) === 0;

/** A struct head followed by `data` (region and DMA accesses). */
function encodeWithData<F extends Fields>(s: Struct<F>, values: Inputs<F>, data?: Uint8Array): Uint8Array {
  const out = s.encode(values, s.size + (data ? data.length : 0));
  if (data) out.set(data, s.size);
  return out;
}

/** The data after a head of `head` bytes that announced `count`: exactly `count` bytes when `withData`, none otherwise. */
function dataAfter(p: Uint8Array, head: number, count: number, withData: boolean, what: string): Uint8Array | undefined {
  const expect = head + (withData ? count : 0);
  if (p.length < expect) throw truncated(`${what} data`, expect, p.length);
  if (p.length > expect) throw malformed(what, `payload is ${p.length} bytes, ${expect} expected for count ${count}`, { count, length: p.length });
  return withData ? p.subarray(head, expect) : undefined;
}

// ---- VFIO_USER_DMA_MAP / DMA_UNMAP (vfio_user_dma_map, vfio_user_dma_unmap) ----

export type DmaMapRequest = Decoded<typeof vfio_user_dma_map>;

export function decodeDmaMap(p: Uint8Array): DmaMapRequest {
  const m = fixed(vfio_user_dma_map, p, 'DMA_MAP');
  checkArgsz('DMA_MAP', m.argsz, vfio_user_dma_map);
  if ((m.flags & ~(DmaMapFlags.READ | DmaMapFlags.WRITE)) !== 0) throw malformed('DMA_MAP', `unknown flags 0x${m.flags.toString(16)} (only READ 1 and WRITE 2 are defined)`, { flags: m.flags });
  return m;
}

export type DmaUnmapRequest = Decoded<typeof vfio_user_dma_unmap>;

export function decodeDmaUnmap(p: Uint8Array): DmaUnmapRequest {
  const m = fixed(vfio_user_dma_unmap, p, 'DMA_UNMAP');
  checkArgsz('DMA_UNMAP', m.argsz, vfio_user_dma_unmap);
  if ((m.flags & ~(UnmapDmaFlags.GET_DIRTY_BITMAP | UnmapDmaFlags.ALL)) !== 0) throw malformed('DMA_UNMAP', `unknown flags 0x${m.flags.toString(16)} (GET_DIRTY_BITMAP 1, ALL 2)`, { flags: m.flags });
  if ((m.flags & UnmapDmaFlags.ALL) !== 0 && (m.addr !== 0n || m.size !== 0n)) {
    throw malformed('DMA_UNMAP', 'flag ALL needs address 0 and size 0', { address: m.addr, size: m.size });
  }
  return m;
}

// ---- VFIO_USER_DEVICE_GET_INFO (vfio_user_device_info), DEVICE_GET_IRQ_INFO (vfio_irq_info) ----

export const decodeDeviceInfo = (p: Uint8Array): Decoded<typeof vfio_user_device_info> => fixed(vfio_user_device_info, p, 'DEVICE_GET_INFO');
export const decodeIrqInfo = (p: Uint8Array): Decoded<typeof vfio_irq_info> => fixed(vfio_irq_info, p, 'DEVICE_GET_IRQ_INFO');

// ---- VFIO_USER_DEVICE_SET_IRQS (vfio_irq_set + data; linux-vfio.ts encodeIrqSet) ----

export type IrqSet = Decoded<typeof vfio_irq_set> & {
  /** DATA_BOOL: one byte per vector. Eventfds travel as SCM_RIGHTS, not in the payload. */
  bools?: Uint8Array;
};

export function decodeIrqSet(p: Uint8Array): IrqSet {
  const s: IrqSet = fixed(vfio_irq_set, p, 'DEVICE_SET_IRQS');
  const data = s.flags & IrqSetFlags.DATA_TYPE_MASK;
  const action = s.flags & IrqSetFlags.ACTION_TYPE_MASK;
  if ((s.flags & ~(IrqSetFlags.DATA_TYPE_MASK | IrqSetFlags.ACTION_TYPE_MASK)) !== 0) throw malformed('DEVICE_SET_IRQS', `unknown flags 0x${s.flags.toString(16)}`, { flags: s.flags });
  if (!oneBit(data)) throw malformed('DEVICE_SET_IRQS', `flags 0x${s.flags.toString(16)} must name exactly one of DATA_NONE, DATA_BOOL, DATA_EVENTFD`, { flags: s.flags });
  if (!oneBit(action)) throw malformed('DEVICE_SET_IRQS', `flags 0x${s.flags.toString(16)} must name exactly one of ACTION_MASK, ACTION_UNMASK, ACTION_TRIGGER`, { flags: s.flags });
  if (s.start + s.count > 0xffffffff) throw malformed('DEVICE_SET_IRQS', `start ${s.start} + count ${s.count} overflows`, { start: s.start, count: s.count });
  const at = vfio_irq_set.offsets.data;
  if (data === IrqSetFlags.DATA_BOOL) {
    if (p.length < at + s.count) throw truncated('DEVICE_SET_IRQS bool data', at + s.count, p.length);
    s.bools = p.slice(at, at + s.count);
  }
  checkArgsz('DEVICE_SET_IRQS', s.argsz, vfio_irq_set);
  return s;
}

// ---- VFIO_USER_REGION_READ / REGION_WRITE (vfio_user_region_access + data) ----

export type RegionAccess = Decoded<typeof vfio_user_region_access> & {
  /** Write request / read reply data. */
  data?: Uint8Array;
};

/** A REGION_READ/REGION_WRITE payload: the access head, then `data` (a write request, a read reply). */
export function encodeRegionAccess(region: number, offset: bigint, count: number, data?: Uint8Array): Uint8Array {
  return encodeWithData(vfio_user_region_access, { offset, region, count }, data);
}

/**
 * Decode a region access. `withData`: the payload must carry exactly `count` data bytes (a write
 * request or a read reply); otherwise it must carry none. `maxCount` caps count (E2BIG).
 */
export function decodeRegionAccess(p: Uint8Array, withData: boolean, maxCount: number, what = withData ? 'REGION_WRITE' : 'REGION_READ'): RegionAccess {
  const a: RegionAccess = fixed(vfio_user_region_access, p, what);
  if (a.count > maxCount) throw oversized(`${what} count`, a.count, maxCount);
  const data = dataAfter(p, vfio_user_region_access.size, a.count, withData, what);
  return data ? { ...a, data } : a;
}

// ---- VFIO_USER_DMA_READ / DMA_WRITE (vfio_user_dma_region_access + data) ----
// The reply to DMA_WRITE is the 16-byte head only (libvfio-user vfu_dma_transfer checks reply
// addr and count against the request).

export interface DmaAccess {
  addr: bigint;
  count: number;
  data?: Uint8Array;
}

export function encodeDmaAccess(addr: bigint, count: number, data?: Uint8Array): Uint8Array {
  return encodeWithData(vfio_user_dma_region_access, { addr, count: BigInt(count) }, data);
}

export function decodeDmaAccess(p: Uint8Array, withData: boolean, maxCount: number, what = withData ? 'DMA_WRITE' : 'DMA_READ'): DmaAccess {
  const { addr, count: count64 } = fixed(vfio_user_dma_region_access, p, what);
  if (count64 > BigInt(maxCount)) throw oversized(`${what} count`, Number(count64), maxCount);
  const count = Number(count64);
  const data = dataAfter(p, vfio_user_dma_region_access.size, count, withData, what);
  return data ? { addr, count, data } : { addr, count };
}

// ---- VFIO_USER_REGION_WRITE_MULTI (QEMU VFIOUserWRMulti: u64 wr_cnt, VFIOUserWROne wrs[]) ----

export interface MultiWrite {
  offset: bigint;
  region: number;
  /** 1..8 bytes. */
  data: Uint8Array;
}

const wrAt = (i: number): number => vfio_user_wr_multi.offsets.wrs + i * vfio_user_wr_one.size;

/** Start a REGION_WRITE_MULTI payload for `count` writes; fill entries with putMultiWrite64/putMultiWrite. */
export function allocWriteMulti(count: number): Uint8Array {
  return vfio_user_wr_multi.encode({ wr_cnt: BigInt(count) }, wrAt(count));
}

/** Entry `i` of a payload from allocWriteMulti: a 64-bit write of `value` at `offset` of `region`. */
export function putMultiWrite64(out: Uint8Array, i: number, offset: number, region: number, value: bigint): void {
  const at = wrAt(i);
  vfio_user_wr_one.write(out, at, { offset, region, count: u64.size });
  u64.put(out, at + vfio_user_wr_one.offsets.data, value);
}

/** Entry `i`: a write of `data` (1..8 bytes) at `offset` of `region`. */
export function putMultiWrite(out: Uint8Array, i: number, offset: number, region: number, data: Uint8Array): void {
  vfio_user_wr_one.write(out, wrAt(i), { offset, region, count: data.length, data });
}

export function decodeWriteMulti(p: Uint8Array): MultiWrite[] {
  const n64 = fixed(vfio_user_wr_multi, p, 'REGION_WRITE_MULTI').wr_cnt;
  if (n64 === 0n) throw malformed('REGION_WRITE_MULTI', 'wr_cnt is 0');
  if (n64 > BigInt(WriteMulti.MAX)) throw oversized('REGION_WRITE_MULTI wr_cnt', Number(n64 > 0xffffffffn ? 0xffffffffn : n64), WriteMulti.MAX);
  const n = Number(n64);
  const expect = wrAt(n);
  if (p.length < expect) throw truncated('REGION_WRITE_MULTI writes', expect, p.length);
  if (p.length > expect) throw malformed('REGION_WRITE_MULTI', `payload is ${p.length} bytes, ${expect} expected for wr_cnt ${n}`);
  const writes: MultiWrite[] = [];
  for (let i = 0; i < n; i++) {
    const w = vfio_user_wr_one.decode(p, wrAt(i));
    if (w.count === 0 || w.count > WriteMulti.DATA) throw malformed('REGION_WRITE_MULTI', `write ${i} has count ${w.count}; 1..8 allowed`, { index: i, count: w.count });
    writes.push({ offset: w.offset, region: w.region, data: w.data.subarray(0, w.count) });
  }
  return writes;
}

/** The reply: wr_cnt = writes done. */
export const encodeWriteMultiReply = (count: number): Uint8Array => vfio_user_wr_multi.encode({ wr_cnt: BigInt(count) });

export function decodeWriteMultiReply(p: Uint8Array): number {
  return Number(fixed(vfio_user_wr_multi, p, 'REGION_WRITE_MULTI reply').wr_cnt & 0xffffffffn);
}

// ---- REGION_BATCH (vfiokit vendor command: vfiokit_region_batch / _reply in sys/uapi/vfio-user.ts;
// entries: src/mmio/access-batch.ts). The reply says where and why the batch stopped, and the last
// value of each poll that ran. ----

export const REGION_BATCH_HEAD_SIZE = vfiokit_region_batch.size;
export const REGION_BATCH_REPLY_HEAD_SIZE = vfiokit_region_batch_reply.size;

export interface RegionBatchRequest {
  region: number;
  count: number;
  /** The encoded entries. */
  entries: Uint8Array;
}

export function encodeRegionBatch(region: number, count: number, entries: Uint8Array): Uint8Array {
  return encodeWithData(vfiokit_region_batch, { region, count }, entries);
}

/** The head; the entries are checked against the region by parseAccessBatch. */
export function decodeRegionBatch(p: Uint8Array): RegionBatchRequest {
  const { region, count } = fixed(vfiokit_region_batch, p, 'REGION_BATCH');
  return { region, count, entries: p.subarray(REGION_BATCH_HEAD_SIZE) };
}

export function encodeRegionBatchReply(r: AccessBatchResult): Uint8Array {
  const out = vfiokit_region_batch_reply.encode({ completed: r.completed, stop: r.stop, accesses: r.accesses, polls: r.values.length }, REGION_BATCH_REPLY_HEAD_SIZE + 8 * r.values.length);
  for (let i = 0; i < r.values.length; i++) putLe64(out, REGION_BATCH_REPLY_HEAD_SIZE + 8 * i, r.values[i]!);
  return out;
}

/** Decode a reply to a batch of `count` entries and `polls` polls; anything inconsistent is malformed. */
export function decodeRegionBatchReply(p: Uint8Array, count: number, polls: number): AccessBatchResult {
  const { completed, stop, accesses, polls: n } = fixed(vfiokit_region_batch_reply, p, 'REGION_BATCH reply');
  if (stop > BatchStop.BUDGET) throw malformed('REGION_BATCH reply', `unknown stop code ${stop}`);
  if (stop === BatchStop.DONE ? completed !== count : completed >= count) throw malformed('REGION_BATCH reply', `${completed} of ${count} entries completed with stop code ${stop}`);
  if (n > polls || p.length !== REGION_BATCH_REPLY_HEAD_SIZE + 8 * n) throw malformed('REGION_BATCH reply', `${p.length} bytes with ${n} poll values for a batch of ${polls} polls`);
  const values = new BigUint64Array(n);
  for (let i = 0; i < n; i++) values[i] = getLe64(p, REGION_BATCH_REPLY_HEAD_SIZE + 8 * i);
  return { completed, stop: stop as BatchStopCode, accesses, values };
}

// ---- VFIO_USER_DEVICE_GET_REGION_IO_FDS (vfio_user_region_io_fds_request/reply) ----

export type IoFdsRequest = Decoded<typeof vfio_user_region_io_fds_request>;
export type IoFdSubRegion = Decoded<typeof vfio_user_sub_region_ioeventfd>;
export interface IoFdsReply extends IoFdsRequest {
  subRegions: IoFdSubRegion[];
}

export function decodeIoFdsRequest(p: Uint8Array): IoFdsRequest {
  const r = fixed(vfio_user_region_io_fds_request, p, 'DEVICE_GET_REGION_IO_FDS');
  if (r.flags !== 0) throw malformed('DEVICE_GET_REGION_IO_FDS', `flags 0x${r.flags.toString(16)} must be 0`);
  checkArgsz('DEVICE_GET_REGION_IO_FDS', r.argsz, vfio_user_region_io_fds_request);
  return r;
}

/** Encode a reply; argsz is the full size, the sub-regions that fit in `maxArgsz` are included. */
export function encodeIoFdsReply(index: number, subRegions: Omit<IoFdSubRegion, 'padding'>[], maxArgsz: number): Uint8Array {
  const head = vfio_user_region_io_fds_request.size;
  const full = head + subRegions.length * vfio_user_sub_region_ioeventfd.size;
  const fits = maxArgsz >= full;
  const out = vfio_user_region_io_fds_request.encode({ argsz: full, flags: 0, index, count: subRegions.length }, fits ? full : head);
  if (fits) subRegions.forEach((s, i) => vfio_user_sub_region_ioeventfd.write(out, head + i * vfio_user_sub_region_ioeventfd.size, s));
  return out;
}

export function decodeIoFdsReply(p: Uint8Array): IoFdsReply {
  const r: IoFdsReply = { ...fixed(vfio_user_region_io_fds_request, p, 'DEVICE_GET_REGION_IO_FDS reply'), subRegions: [] };
  const head = vfio_user_region_io_fds_request.size;
  const one = vfio_user_sub_region_ioeventfd.size;
  if (p.length === head) return r; // argsz too small: only the head came back
  const stride = r.count === 0 ? one : Math.floor((r.argsz - head) / r.count);
  if (stride < one) throw malformed('DEVICE_GET_REGION_IO_FDS reply', `argsz ${r.argsz} leaves ${stride} bytes per sub-region, ${one} needed`);
  const need = head + r.count * stride;
  if (p.length < need) throw truncated('DEVICE_GET_REGION_IO_FDS reply sub-regions', need, p.length);
  for (let i = 0; i < r.count; i++) r.subRegions.push(vfio_user_sub_region_ioeventfd.decode(p, head + i * stride));
  return r;
}

// ---- VFIO_USER_DEVICE_FEATURE (vfio_device_feature: argsz, flags, data[]) ----

export type DeviceFeature = Decoded<typeof vfio_device_feature> & { data: Uint8Array };

export function decodeDeviceFeature(p: Uint8Array): DeviceFeature {
  const f = { ...fixed(vfio_device_feature, p, 'DEVICE_FEATURE'), data: p.subarray(vfio_device_feature.size) };
  const { MASK, GET, SET, PROBE } = DeviceFeatureFlags;
  if ((f.flags & ~(MASK | GET | SET | PROBE)) !== 0) throw malformed('DEVICE_FEATURE', `unknown flags 0x${f.flags.toString(16)}`);
  if ((f.flags & GET) !== 0 && (f.flags & SET) !== 0 && (f.flags & PROBE) === 0) {
    throw malformed('DEVICE_FEATURE', 'GET and SET are mutually exclusive except with PROBE');
  }
  return f;
}
