// VFIO_USER_DEVICE_GET_REGION_INFO: struct vfio_region_info (32 bytes) followed by its capability
// chain (vfio-user.rst "VFIO region capabilities", linux/vfio.h; reference/vfio-uapi.md
// "Capability chains"). Every cap starts {u16 id, u16 version, u32 next}; cap_offset and next
// count from the start of the region info struct; next = 0 ends the chain.
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import { malformed, truncated } from './protocol.js';

/** VFIO_REGION_INFO_FLAG_* (linux/vfio.h). */
export const REGION_FLAG_READ = 1 << 0;
export const REGION_FLAG_WRITE = 1 << 1;
export const REGION_FLAG_MMAP = 1 << 2;
export const REGION_FLAG_CAPS = 1 << 3;

/** Region capability ids (VFIO_REGION_INFO_CAP_*). */
export const CAP_SPARSE_MMAP = 1;
export const CAP_TYPE = 2;
export const CAP_MSIX_MAPPABLE = 3;

export const REGION_INFO_SIZE = 32;
export const CAP_HEADER_SIZE = 8;
/** Bound on the chain length a decoder walks (a cycle guard on top of "next must grow"). */
export const MAX_CAPS = 64;
/** Bound on sparse areas we accept in one cap. */
export const MAX_SPARSE_AREAS = 1024;

export interface SparseArea {
  offset: bigint;
  size: bigint;
}

export type RegionCap =
  | { id: typeof CAP_SPARSE_MMAP; version: number; areas: SparseArea[] }
  | { id: typeof CAP_TYPE; version: number; type: number; subtype: number }
  | { id: typeof CAP_MSIX_MAPPABLE; version: number }
  | { id: number; version: number; raw: Uint8Array };

export interface RegionInfoMessage {
  argsz: number;
  flags: number;
  index: number;
  capOffset: number;
  size: bigint;
  /** Offset to give mmap() for this region (and the base of its sparse areas). */
  offset: bigint;
  caps: RegionCap[];
}

/** The 32-byte request: argsz (max reply payload) and index; all else zero. */
export function encodeRegionInfoRequest(index: number, argsz: number): Uint8Array {
  const out = new Uint8Array(REGION_INFO_SIZE);
  putLe32(out, 0, argsz);
  putLe32(out, 8, index);
  return out;
}

export function decodeRegionInfoRequest(p: Uint8Array): { argsz: number; index: number } {
  if (p.length < REGION_INFO_SIZE) throw truncated('DEVICE_GET_REGION_INFO', REGION_INFO_SIZE, p.length);
  const argsz = getLe32(p, 0);
  if (argsz < REGION_INFO_SIZE) throw malformed('DEVICE_GET_REGION_INFO', `argsz ${argsz} is smaller than the 32-byte struct`, { argsz });
  return { argsz, index: getLe32(p, 8) };
}

function capBody(cap: RegionCap): Uint8Array {
  if ('areas' in cap) {
    const body = new Uint8Array(8 + cap.areas.length * 16);
    putLe32(body, 0, cap.areas.length);
    cap.areas.forEach((a, i) => {
      putLe64(body, 8 + i * 16, a.offset);
      putLe64(body, 16 + i * 16, a.size);
    });
    return body;
  }
  if ('subtype' in cap) {
    const body = new Uint8Array(8);
    putLe32(body, 0, cap.type);
    putLe32(body, 4, cap.subtype);
    return body;
  }
  if ('raw' in cap) return cap.raw;
  return new Uint8Array(0);
}

/**
 * Encode a reply. argsz says the full size; when the client's `maxArgsz` is too small for the
 * caps, only the 32-byte struct comes back with cap_offset 0 and no CAPS flag (as the kernel and
 * libvfio-user do), so the client asks again with the larger size.
 */
export function encodeRegionInfoReply(info: Omit<RegionInfoMessage, 'argsz' | 'capOffset'>, maxArgsz: number): Uint8Array {
  const bodies = info.caps.map(capBody);
  const full = REGION_INFO_SIZE + bodies.reduce((n, b) => n + CAP_HEADER_SIZE + b.length, 0);
  const withCaps = info.caps.length > 0 && maxArgsz >= full;
  const out = new Uint8Array(withCaps ? full : REGION_INFO_SIZE);
  putLe32(out, 0, full);
  putLe32(out, 4, (info.flags & ~REGION_FLAG_CAPS) | (withCaps ? REGION_FLAG_CAPS : 0));
  putLe32(out, 8, info.index);
  putLe32(out, 12, withCaps ? REGION_INFO_SIZE : 0);
  putLe64(out, 16, info.size);
  putLe64(out, 24, info.offset);
  if (withCaps) {
    let at = REGION_INFO_SIZE;
    info.caps.forEach((cap, i) => {
      const body = bodies[i]!;
      const next = i + 1 < info.caps.length ? at + CAP_HEADER_SIZE + body.length : 0;
      out[at] = cap.id & 0xff;
      out[at + 1] = (cap.id >>> 8) & 0xff;
      out[at + 2] = cap.version & 0xff;
      out[at + 3] = (cap.version >>> 8) & 0xff;
      putLe32(out, at + 4, next);
      out.set(body, at + CAP_HEADER_SIZE);
      at += CAP_HEADER_SIZE + body.length;
    });
  }
  return out;
}

/** Decode a reply and walk its capability chain (bounded, forward-only, inside the payload). */
export function decodeRegionInfoReply(p: Uint8Array): RegionInfoMessage {
  if (p.length < REGION_INFO_SIZE) throw truncated('DEVICE_GET_REGION_INFO reply', REGION_INFO_SIZE, p.length);
  const info: RegionInfoMessage = {
    argsz: getLe32(p, 0), flags: getLe32(p, 4), index: getLe32(p, 8), capOffset: getLe32(p, 12),
    size: getLe64(p, 16), offset: getLe64(p, 24), caps: [],
  };
  if ((info.flags & REGION_FLAG_CAPS) === 0 || info.capOffset === 0) return info;
  const end = Math.min(p.length, info.argsz);
  let at = info.capOffset;
  let previous = REGION_INFO_SIZE - 1;
  while (at !== 0) {
    if (info.caps.length >= MAX_CAPS) throw malformed('region info', `capability chain is longer than ${MAX_CAPS} entries`, { index: info.index });
    if (at <= previous) throw malformed('region info', `capability at 0x${at.toString(16)} points backwards (chain loop)`, { index: info.index, offset: at });
    if (at + CAP_HEADER_SIZE > end) throw truncated(`region info capability at 0x${at.toString(16)}`, at + CAP_HEADER_SIZE, end);
    const id = p[at]! | (p[at + 1]! << 8);
    const version = p[at + 2]! | (p[at + 3]! << 8);
    const next = getLe32(p, at + 4);
    const bodyEnd = next !== 0 ? next : end;
    if (bodyEnd > end) throw truncated(`region info capability ${id}`, bodyEnd, end);
    const body = p.subarray(at + CAP_HEADER_SIZE, Math.max(at + CAP_HEADER_SIZE, bodyEnd));
    if (id === CAP_SPARSE_MMAP) {
      if (body.length < 8) throw truncated('SPARSE_MMAP capability', 8, body.length);
      const n = getLe32(body, 0);
      if (n > MAX_SPARSE_AREAS) throw malformed('SPARSE_MMAP capability', `nr_areas ${n} is over ${MAX_SPARSE_AREAS}`, { nrAreas: n });
      if (body.length < 8 + n * 16) throw truncated('SPARSE_MMAP areas', 8 + n * 16, body.length);
      const areas: SparseArea[] = [];
      for (let i = 0; i < n; i++) areas.push({ offset: getLe64(body, 8 + i * 16), size: getLe64(body, 16 + i * 16) });
      for (const a of areas) {
        if (a.offset + a.size > info.size) throw malformed('SPARSE_MMAP capability', `area 0x${a.offset.toString(16)}+0x${a.size.toString(16)} runs past the region size 0x${info.size.toString(16)}`, { index: info.index });
      }
      info.caps.push({ id: CAP_SPARSE_MMAP, version, areas });
    } else if (id === CAP_TYPE) {
      if (body.length < 8) throw truncated('TYPE capability', 8, body.length);
      info.caps.push({ id: CAP_TYPE, version, type: getLe32(body, 0), subtype: getLe32(body, 4) });
    } else if (id === CAP_MSIX_MAPPABLE) {
      info.caps.push({ id: CAP_MSIX_MAPPABLE, version });
    } else {
      info.caps.push({ id, version, raw: body.slice() });
    }
    previous = at;
    at = next;
  }
  return info;
}

/** The sparse areas of a decoded reply, or undefined without a SPARSE_MMAP cap. */
export function sparseAreas(info: RegionInfoMessage): SparseArea[] | undefined {
  for (const cap of info.caps) if ('areas' in cap) return cap.areas;
  return undefined;
}
