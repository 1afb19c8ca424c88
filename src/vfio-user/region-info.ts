// VFIO_USER_DEVICE_GET_REGION_INFO: struct vfio_region_info (32 bytes) followed by its capability
// chain (vfio-user.rst "VFIO region capabilities", linux/vfio.h; reference/vfio-uapi.md
// "Capability chains"). Every cap starts {u16 id, u16 version, u32 next}; cap_offset and next
// count from the start of the region info struct; next = 0 ends the chain.
import { RegionInfoCap, RegionInfoFlags, vfio_info_cap_header, vfio_region_info, vfio_region_info_cap_sparse_mmap, vfio_region_info_cap_type, vfio_region_sparse_mmap_area } from '../sys/uapi/linux-vfio.js';
import { flagSet, type Decoded, type FlagOf } from '../sys/uapi/struct.js';
import { malformed, truncated } from './protocol.js';

const REGION_INFO_SIZE = vfio_region_info.size;
const CAP_HEADER_SIZE = vfio_info_cap_header.size;
/** Cap bodies after their header: sparse {nr_areas, reserved, areas[]}, type {type, subtype}. */
const SPARSE_AREAS_AT = vfio_region_info_cap_sparse_mmap.offsets.areas - CAP_HEADER_SIZE;
const AREA_SIZE = vfio_region_sparse_mmap_area.size;
const TYPE_BODY_SIZE = vfio_region_info_cap_type.size - CAP_HEADER_SIZE;
/** Bound on the chain length a decoder walks (a cycle guard on top of "next must grow"). */
export const MAX_CAPS = 64;
/** Bound on sparse areas we accept in one cap. */
export const MAX_SPARSE_AREAS = 1024;

export interface SparseArea {
  offset: bigint;
  size: bigint;
}

export type RegionCap =
  | { id: typeof RegionInfoCap.SPARSE_MMAP; version: number; areas: SparseArea[] }
  | { id: typeof RegionInfoCap.TYPE; version: number; type: number; subtype: number }
  | { id: typeof RegionInfoCap.MSIX_MAPPABLE; version: number }
  | { id: number; version: number; raw: Uint8Array };

/** vfio_region_info (cap_offset: where the chain starts; offset: what to give mmap(), the base of sparse areas) and its caps. */
export type RegionInfoMessage = Decoded<typeof vfio_region_info> & { caps: RegionCap[] };

/** The 32-byte request: argsz (max reply payload) and index; all else zero. */
export function encodeRegionInfoRequest(index: number, argsz: number): Uint8Array {
  const out = vfio_region_info.encode({ index });
  vfio_region_info.put(out, 'argsz', argsz);
  return out;
}

export function decodeRegionInfoRequest(p: Uint8Array): { argsz: number; index: number } {
  if (p.length < REGION_INFO_SIZE) throw truncated('DEVICE_GET_REGION_INFO', REGION_INFO_SIZE, p.length);
  const { argsz, index } = vfio_region_info.decode(p);
  if (argsz < REGION_INFO_SIZE) throw malformed('DEVICE_GET_REGION_INFO', `argsz ${argsz} is smaller than the 32-byte struct`, { argsz });
  return { argsz, index };
}

/** A cap's bytes after its header (offsets in the body are the cap struct's minus the header). */
function capBody(cap: RegionCap): Uint8Array {
  if ('areas' in cap) {
    const body = new Uint8Array(SPARSE_AREAS_AT + cap.areas.length * AREA_SIZE);
    vfio_region_info_cap_sparse_mmap.put(body, 'nr_areas', cap.areas.length, -CAP_HEADER_SIZE);
    cap.areas.forEach((a, i) => vfio_region_sparse_mmap_area.write(body, SPARSE_AREAS_AT + i * AREA_SIZE, a));
    return body;
  }
  if ('subtype' in cap) {
    const body = new Uint8Array(TYPE_BODY_SIZE);
    vfio_region_info_cap_type.write(body, -CAP_HEADER_SIZE, { type: cap.type, subtype: cap.subtype });
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
export function encodeRegionInfoReply(info: Omit<RegionInfoMessage, 'argsz' | 'cap_offset'>, maxArgsz: number): Uint8Array {
  const bodies = info.caps.map(capBody);
  const full = REGION_INFO_SIZE + bodies.reduce((n, b) => n + CAP_HEADER_SIZE + b.length, 0);
  const withCaps = info.caps.length > 0 && maxArgsz >= full;
  const flags = flagSet<FlagOf<typeof RegionInfoFlags>>((info.flags & ~RegionInfoFlags.CAPS) as FlagOf<typeof RegionInfoFlags>, withCaps && RegionInfoFlags.CAPS);
  const out = vfio_region_info.encode({ flags, index: info.index, cap_offset: withCaps ? REGION_INFO_SIZE : 0, size: info.size, offset: info.offset }, withCaps ? full : REGION_INFO_SIZE);
  vfio_region_info.put(out, 'argsz', full);
  if (withCaps) {
    let at = REGION_INFO_SIZE;
    info.caps.forEach((cap, i) => {
      const body = bodies[i]!;
      const next = i + 1 < info.caps.length ? at + CAP_HEADER_SIZE + body.length : 0;
      vfio_info_cap_header.write(out, at, { id: cap.id, version: cap.version, next });
      out.set(body, at + CAP_HEADER_SIZE);
      at += CAP_HEADER_SIZE + body.length;
    });
  }
  return out;
}

/** Decode a reply and walk its capability chain (bounded, forward-only, inside the payload). */
export function decodeRegionInfoReply(p: Uint8Array): RegionInfoMessage {
  if (p.length < REGION_INFO_SIZE) throw truncated('DEVICE_GET_REGION_INFO reply', REGION_INFO_SIZE, p.length);
  const info: RegionInfoMessage = { ...vfio_region_info.decode(p), caps: [] };
  if ((info.flags & RegionInfoFlags.CAPS) === 0 || info.cap_offset === 0) return info;
  const end = Math.min(p.length, info.argsz);
  let at = info.cap_offset;
  let previous = REGION_INFO_SIZE - 1;
  while (at !== 0) {
    if (info.caps.length >= MAX_CAPS) throw malformed('region info', `capability chain is longer than ${MAX_CAPS} entries`, { index: info.index });
    if (at <= previous) throw malformed('region info', `capability at 0x${at.toString(16)} points backwards (chain loop)`, { index: info.index, offset: at });
    if (at + CAP_HEADER_SIZE > end) throw truncated(`region info capability at 0x${at.toString(16)}`, at + CAP_HEADER_SIZE, end);
    const { id, version, next } = vfio_info_cap_header.decode(p, at);
    const bodyEnd = next !== 0 ? next : end;
    if (bodyEnd > end) throw truncated(`region info capability ${id}`, bodyEnd, end);
    const body = p.subarray(at + CAP_HEADER_SIZE, Math.max(at + CAP_HEADER_SIZE, bodyEnd));
    if (id === RegionInfoCap.SPARSE_MMAP) {
      if (body.length < SPARSE_AREAS_AT) throw truncated('SPARSE_MMAP capability', SPARSE_AREAS_AT, body.length);
      const n = vfio_region_info_cap_sparse_mmap.get(p, 'nr_areas', at);
      if (n > MAX_SPARSE_AREAS) throw malformed('SPARSE_MMAP capability', `nr_areas ${n} is over ${MAX_SPARSE_AREAS}`, { nrAreas: n });
      if (body.length < SPARSE_AREAS_AT + n * AREA_SIZE) throw truncated('SPARSE_MMAP areas', SPARSE_AREAS_AT + n * AREA_SIZE, body.length);
      const areas: SparseArea[] = vfio_region_sparse_mmap_area.array(body, SPARSE_AREAS_AT, n);
      for (const a of areas) {
        if (a.offset + a.size > info.size) throw malformed('SPARSE_MMAP capability', `area 0x${a.offset.toString(16)}+0x${a.size.toString(16)} runs past the region size 0x${info.size.toString(16)}`, { index: info.index });
      }
      info.caps.push({ id: RegionInfoCap.SPARSE_MMAP, version, areas });
    } else if (id === RegionInfoCap.TYPE) {
      if (body.length < TYPE_BODY_SIZE) throw truncated('TYPE capability', TYPE_BODY_SIZE, body.length);
      const { type, subtype } = vfio_region_info_cap_type.decode(p, at);
      info.caps.push({ id: RegionInfoCap.TYPE, version, type, subtype });
    } else if (id === RegionInfoCap.MSIX_MAPPABLE) {
      info.caps.push({ id: RegionInfoCap.MSIX_MAPPABLE, version });
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
