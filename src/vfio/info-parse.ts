// Parsing of the info buffers the kernel fills (region info, type1 IOMMU info) with their
// capability chains. Pure functions over bytes (fuzzed in test/fuzz/vfio-info.fuzz.ts): chains
// that loop or point outside the buffer end the walk; areas outside the region are dropped.
import type { IovaRange } from '../dma/mapper.js';
import type { RegionInfo } from '../device/device.js';
import {
  IommuInfoFlags, RegionInfoFlags, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, VFIO_REGION_INFO_CAP_SPARSE_MMAP, VFIO_REGION_INFO_CAP_TYPE, capChain,
  decodeDmaAvail, decodeIommuInfo, decodeIovaRanges, decodeRegionInfo, decodeRegionType, decodeSparseMmap, layouts,
} from './uapi.js';

/** RegionInfo as the Device reports it, plus what only the kernel transport needs. */
export interface ParsedRegionInfo extends RegionInfo {
  fdOffset: bigint;
  type?: { type: number; subtype: number };
  msixMappable: boolean;
}

/** Largest region size a JS number offset can address (2^53). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function parseRegionInfo(buf: Uint8Array, index: number): ParsedRegionInfo {
  const r = decodeRegionInfo(buf);
  const size = r.size > MAX_SAFE ? 0 : Number(r.size);
  let mmapAreas: { offset: number; size: number }[] | undefined;
  let type: { type: number; subtype: number } | undefined;
  let msixMappable = false;
  if ((r.flags & RegionInfoFlags.CAPS) && r.capOffset >= layouts.vfio_region_info.size) {
    for (const cap of capChain(buf, r.capOffset)) {
      if (cap.id === VFIO_REGION_INFO_CAP_SPARSE_MMAP && cap.offset + layouts.vfio_region_info_cap_sparse_mmap.size <= buf.length) {
        mmapAreas = decodeSparseMmap(buf, cap.offset)
          .filter((a) => a.size > 0n && a.offset + a.size <= BigInt(size))
          .map((a) => ({ offset: Number(a.offset), size: Number(a.size) }));
      } else if (cap.id === VFIO_REGION_INFO_CAP_TYPE && cap.offset + layouts.vfio_region_info_cap_type.size <= buf.length) {
        type = decodeRegionType(buf, cap.offset);
      } else if (cap.id === VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
        msixMappable = true;
      }
    }
  }
  return {
    index,
    size,
    readable: (r.flags & RegionInfoFlags.READ) !== 0,
    writable: (r.flags & RegionInfoFlags.WRITE) !== 0,
    mappable: (r.flags & RegionInfoFlags.MMAP) !== 0,
    ...(mmapAreas ? { mmapAreas } : {}),
    fdOffset: r.offset,
    ...(type ? { type } : {}),
    msixMappable,
  };
}

export interface Type1Info {
  /** Bitmap of IOMMU page sizes (bit n = 2^n bytes supported). */
  iovaPgsizes: bigint;
  iovaRanges: IovaRange[];
  /** Mappings still available when the info was read (DMA_AVAIL); undefined when not reported. */
  dmaAvail: number | undefined;
}

/** Kernels before 5.4 report no ranges: assume 39 bits, the narrowest Intel VT-d address width. */
export const DEFAULT_IOVA_RANGES: readonly IovaRange[] = [{ start: 0n, end: (1n << 39n) - 1n }];

export function parseType1Info(buf: Uint8Array): Type1Info {
  const info = decodeIommuInfo(buf);
  let iovaRanges: IovaRange[] | undefined;
  let dmaAvail: number | undefined;
  if ((info.flags & IommuInfoFlags.CAPS) && info.capOffset >= layouts.vfio_iommu_type1_info.size) {
    for (const cap of capChain(buf, info.capOffset)) {
      if (cap.id === VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE && cap.offset + layouts.vfio_iommu_type1_info_cap_iova_range.size <= buf.length) {
        iovaRanges = decodeIovaRanges(buf, cap.offset).filter((x) => x.end >= x.start);
      } else if (cap.id === VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL && cap.offset + layouts.vfio_iommu_type1_info_dma_avail.size <= buf.length) {
        dmaAvail = decodeDmaAvail(buf, cap.offset);
      }
    }
  }
  const pgsizes = info.flags & IommuInfoFlags.PGSIZES && info.iovaPgsizes !== 0n ? info.iovaPgsizes : 4096n;
  return { iovaPgsizes: pgsizes, iovaRanges: iovaRanges ?? DEFAULT_IOVA_RANGES.map((r) => ({ ...r })), dmaAvail };
}
