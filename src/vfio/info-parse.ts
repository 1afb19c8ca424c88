// Parsing of the info buffers the kernel fills (region info, type1 IOMMU info) with their
// capability chains. Pure functions over bytes (fuzzed in test/fuzz/vfio-info.fuzz.ts): chains
// that loop or point outside the buffer end the walk; areas outside the region are dropped.
import type { IovaRange } from '../dma/mapper.js';
import type { RegionInfo } from '../device/device.js';
import {
  IommuCap, IommuInfoFlags, RegionInfoCap, RegionInfoFlags, capChain, vfio_iommu_type1_info, vfio_iommu_type1_info_cap_iova_range,
  vfio_iommu_type1_info_dma_avail, vfio_iova_range, vfio_region_info, vfio_region_info_cap_sparse_mmap,
  vfio_region_info_cap_type, vfio_region_sparse_mmap_area,
} from '../sys/uapi/linux-vfio.js';

/** RegionInfo as the Device reports it, plus what only the kernel transport needs. */
export interface ParsedRegionInfo extends RegionInfo {
  fdOffset: bigint;
  type?: { type: number; subtype: number };
  msixMappable: boolean;
}

/** Largest region size a JS number offset can address (2^53). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function parseRegionInfo(buf: Uint8Array, index: number): ParsedRegionInfo {
  const r = vfio_region_info.decode(buf);
  const size = r.size > MAX_SAFE ? 0 : Number(r.size);
  let mmapAreas: { offset: number; size: number }[] | undefined;
  let type: { type: number; subtype: number } | undefined;
  let msixMappable = false;
  if ((r.flags & RegionInfoFlags.CAPS) && r.cap_offset >= vfio_region_info.size) {
    for (const cap of capChain(buf, r.cap_offset)) {
      const sparse = vfio_region_info_cap_sparse_mmap;
      if (cap.id === RegionInfoCap.SPARSE_MMAP && cap.offset + sparse.size <= buf.length) {
        mmapAreas = vfio_region_sparse_mmap_area.array(buf, cap.offset + sparse.offsets.areas, sparse.get(buf, 'nr_areas', cap.offset))
          .filter((a) => a.size > 0n && a.offset + a.size <= BigInt(size))
          .map((a) => ({ offset: Number(a.offset), size: Number(a.size) }));
      } else if (cap.id === RegionInfoCap.TYPE && cap.offset + vfio_region_info_cap_type.size <= buf.length) {
        const { type: t, subtype } = vfio_region_info_cap_type.decode(buf, cap.offset);
        type = { type: t, subtype };
      } else if (cap.id === RegionInfoCap.MSIX_MAPPABLE) {
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
  const info = vfio_iommu_type1_info.decode(buf);
  let iovaRanges: IovaRange[] | undefined;
  let dmaAvail: number | undefined;
  if ((info.flags & IommuInfoFlags.CAPS) && info.cap_offset >= vfio_iommu_type1_info.size) {
    for (const cap of capChain(buf, info.cap_offset)) {
      const ranges = vfio_iommu_type1_info_cap_iova_range;
      if (cap.id === IommuCap.CAP_IOVA_RANGE && cap.offset + ranges.size <= buf.length) {
        iovaRanges = vfio_iova_range.array(buf, cap.offset + ranges.offsets.iova_ranges, ranges.get(buf, 'nr_iovas', cap.offset)).filter((x) => x.end >= x.start);
      } else if (cap.id === IommuCap.DMA_AVAIL && cap.offset + vfio_iommu_type1_info_dma_avail.size <= buf.length) {
        dmaAvail = vfio_iommu_type1_info_dma_avail.get(buf, 'avail', cap.offset);
      }
    }
  }
  const pgsizes = info.flags & IommuInfoFlags.PGSIZES && info.iova_pgsizes !== 0n ? info.iova_pgsizes : 4096n;
  return { iovaPgsizes: pgsizes, iovaRanges: iovaRanges ?? DEFAULT_IOVA_RANGES.map((r) => ({ ...r })), dmaAvail };
}
