// One DFH chain from any offset of a region, flat, as `opae.io walk --offset` does (opae-sdk
// binaries/opae.io/opae/io/utils.py dfh_walk / walk): read the DFH, report it, stop at EOL or a
// next offset of 0 (dfl.c parse_feature_list stops there too), else step by the next offset.
// Unlike the tree walk (walk.ts) it starts anywhere, so a private feature with no FIU before it
// is reported, not refused. It is bounded like the tree walk: the start and every next offset
// must be 64-bit aligned and inside the region, next offsets only go forward, and at most
// MAX_FEATURES headers are read.
import type { Region } from '../mmio/region.js';
import { hex } from '../util/bytes.js';
import { decodeDfh, featureTypeOf, type Dfh, type FeatureType } from './dfh.js';
import { DfhReg, DfhType, DEFAULT_FEATURE_SIZE, DFH_SIZE } from './regs/dfh.js';
import { dflError } from './errors.js';
import { formatGuid } from './guid.js';
import { fiuName, privateFeatureName } from './names.js';
import { MAX_FEATURES } from './walk.js';

export interface DfhChainOptions {
  /** Stop after this many headers (opae.io walk --count); default: to the end of the chain. */
  count?: number;
  /** Read the 128-bit GUID after each header (opae.io walk --show-uuid). */
  guid?: boolean;
  /** Read the 64-bit registers after each header up to the next one (opae.io walk --dump). */
  dump?: boolean;
  /** Give up with EDFL_TOO_MANY after this many headers (default MAX_FEATURES). */
  maxFeatures?: number;
}

export interface DfhChainEntry {
  bar: number;
  offset: number;
  dfh: Dfh;
  /** Tree type of DFH[63:60]; undefined for types the DFL spec does not define. */
  type: FeatureType | undefined;
  /** Name by ID, private features named under the last FIU seen in this chain. */
  name: string;
  /** GUID at +0x08/+0x10 (with options.guid; not for v0 private features, which have none). */
  guid?: string;
  /** The registers after the DFH (with options.dump): up to the next header, or 4 KiB for the last. */
  registers?: { offset: number; value: bigint }[];
}

export interface DfhChain {
  entries: DfhChainEntry[];
  /** Why the walk stopped: EOL, a next offset of 0, or the count. */
  end: 'eol' | 'next-zero' | 'count';
}

/** Walk the DFH chain of `region` (BAR `bar`) from `start`. Malformed chains are DflErrors naming the BAR and offset. */
export function walkDfhChain(region: Region, bar: number, start: number, options: DfhChainOptions = {}): DfhChain {
  const size = region.size;
  const max = options.maxFeatures ?? MAX_FEATURES;
  if (!Number.isSafeInteger(start) || start < 0 || start + DFH_SIZE > size) {
    throw dflError('EDFL_OUTSIDE', bar, start, `the offset is outside BAR${bar} (size ${hex(size)})`, { size });
  }
  if ((start & 7) !== 0) throw dflError('EDFL_MISALIGNED', bar, start, 'a DFH is a 64-bit register; the offset must be a multiple of 8');
  const entries: DfhChainEntry[] = [];
  let fiu: number | undefined;
  let offset = start;
  for (;;) {
    if (options.count !== undefined && entries.length >= options.count) return { entries, end: 'count' };
    if (entries.length >= max) {
      throw dflError('EDFL_TOO_MANY', bar, offset, `more than ${max} headers in one chain; the list does not end`, { limit: max });
    }
    const dfh = decodeDfh(region.read64(offset));
    const type = featureTypeOf(dfh.type);
    if (dfh.type === DfhType.FIU) fiu = dfh.id;
    const name = type === 'fiu' ? fiuName(dfh.id) : type === 'private' ? privateFeatureName(fiu, dfh.id) : `${type ?? 'type' + dfh.type}-${hex(dfh.id)}`;
    const entry: DfhChainEntry = { bar, offset, dfh, type, name };
    // FIUs, AFUs and BBBs carry a GUID in both DFH versions, private features only in v1 (walk.ts).
    if (options.guid && (type !== 'private' || dfh.version === 1) && offset + DfhReg.GUID_H + 8 <= size) {
      entry.guid = formatGuid(region.read64(offset + DfhReg.GUID_H), region.read64(offset + DfhReg.GUID_L));
    }
    if (options.dump) {
      const end = Math.min(size, offset + (dfh.next === 0 || dfh.eol ? DEFAULT_FEATURE_SIZE : dfh.next));
      entry.registers = [];
      for (let at = offset + DFH_SIZE; at + 8 <= end; at += 8) entry.registers.push({ offset: at, value: region.read64(at) });
    }
    entries.push(entry);
    if (dfh.eol) return { entries, end: 'eol' };
    if (dfh.next === 0) return { entries, end: 'next-zero' };
    if ((dfh.next & 7) !== 0) {
      throw dflError('EDFL_MISALIGNED', bar, offset, `next offset ${hex(dfh.next)} is not a multiple of 8; every DFH is a 64-bit register`, { next: dfh.next });
    }
    if (offset + dfh.next + DFH_SIZE > size) {
      throw dflError('EDFL_NEXT_OUTSIDE', bar, offset, `next offset ${hex(dfh.next)} points to ${hex(offset + dfh.next)}, outside BAR${bar} (size ${hex(size)})`, { next: dfh.next, target: offset + dfh.next, size });
    }
    offset += dfh.next;
  }
}
