// Linux VFIO and IOMMUFD uAPI: ioctl numbers, constants, flag sets and struct layouts, written
// once under their C names (include/uapi/linux/vfio.h, include/uapi/linux/iommufd.h;
// reference/vfio-uapi.md). test/sys/uapi-golden.test.ts compiles a C probe from these tables
// against the kernel headers and compares every number.
//
// All VFIO and IOMMUFD ioctls are _IO(';', nr) = 0x3B00 | nr: no size bits; each struct starts
// with `argsz` (or `size`) filled in by the caller. Flags are branded per set so a flag of one
// ioctl cannot be passed to another (the map flags READ|WRITE mean GET_DIRTY_BITMAP|ALL to UNMAP).
import { HeaderTable, flagsField, flex, nested, s32, u16, u32, u64, u8, type FlagOf } from './struct.js';

export const vfioH = new HeaderTable('linux/vfio.h');
export const iommufdH = new HeaderTable('linux/iommufd.h');

/** _IO(VFIO_TYPE ';', VFIO_BASE 100 + nr) */
const vfio = (nr: number): number => 0x3b00 | (100 + nr);
/** _IO(IOMMUFD_TYPE ';', IOMMUFD_CMD_BASE 0x80 + nr) */
const iommufd = (nr: number): number => 0x3b00 | (0x80 + nr);

/** ioctl numbers by the fd class they are for (the same number is another ioctl on another fd). */
export const ContainerIoctl = vfioH.values('', {
  VFIO_GET_API_VERSION: vfio(0), VFIO_CHECK_EXTENSION: vfio(1), VFIO_SET_IOMMU: vfio(2),
  VFIO_IOMMU_GET_INFO: vfio(12), VFIO_IOMMU_MAP_DMA: vfio(13), VFIO_IOMMU_UNMAP_DMA: vfio(14),
});
export const GroupIoctl = vfioH.values('', {
  VFIO_GROUP_GET_STATUS: vfio(3), VFIO_GROUP_SET_CONTAINER: vfio(4), VFIO_GROUP_UNSET_CONTAINER: vfio(5),
  VFIO_GROUP_GET_DEVICE_FD: vfio(6),
});
export const DeviceIoctl = vfioH.values('', {
  VFIO_DEVICE_GET_INFO: vfio(7), VFIO_DEVICE_GET_REGION_INFO: vfio(8), VFIO_DEVICE_GET_IRQ_INFO: vfio(9),
  VFIO_DEVICE_SET_IRQS: vfio(10), VFIO_DEVICE_RESET: vfio(11), VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: vfio(12),
  VFIO_DEVICE_PCI_HOT_RESET: vfio(13), VFIO_DEVICE_FEATURE: vfio(17), VFIO_DEVICE_BIND_IOMMUFD: vfio(18),
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: vfio(19), VFIO_DEVICE_DETACH_IOMMUFD_PT: vfio(20),
});
/** On /dev/iommu. */
export const IommufdIoctl = iommufdH.values('', {
  IOMMU_DESTROY: iommufd(0), IOMMU_IOAS_ALLOC: iommufd(1), IOMMU_IOAS_ALLOW_IOVAS: iommufd(2), IOMMU_IOAS_COPY: iommufd(3),
  IOMMU_IOAS_IOVA_RANGES: iommufd(4), IOMMU_IOAS_MAP: iommufd(5), IOMMU_IOAS_UNMAP: iommufd(6), IOMMU_OPTION: iommufd(7),
});
export type FdClass = 'container' | 'group' | 'device' | 'iommufd';
const ioctlsByFdClass: Record<FdClass, Readonly<Record<string, number>>> = { container: ContainerIoctl, group: GroupIoctl, device: DeviceIoctl, iommufd: IommufdIoctl };

/** Name of an ioctl number for errors, given the fd class. */
export function ioctlName(request: number, fdClass: FdClass): string {
  return Object.entries(ioctlsByFdClass[fdClass]).find(([, v]) => v === request)?.[0] ?? `ioctl 0x${request.toString(16)}`;
}

/** VFIO_GET_API_VERSION's answer; VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments. */
export const VfioApi = vfioH.values('VFIO_', {
  API_VERSION: 0, TYPE1_IOMMU: 1, TYPE1v2_IOMMU: 3, NOIOMMU_IOMMU: 8, UNMAP_ALL: 9, UPDATE_VADDR: 10,
});
/** Capability IDs of the region info chain. */
export const RegionInfoCap = vfioH.values('VFIO_REGION_INFO_CAP_', { SPARSE_MMAP: 1, TYPE: 2, MSIX_MAPPABLE: 3 });
/** Capability IDs of the type1 IOMMU info chain. */
export const IommuCap = vfioH.values('VFIO_IOMMU_TYPE1_INFO_', { CAP_IOVA_RANGE: 1, CAP_MIGRATION: 2, DMA_AVAIL: 3 });
/** vfio-pci region and IRQ indexes (the enums in vfio.h). */
export const PciRegionIndex = vfioH.values('VFIO_PCI_', {
  BAR0_REGION_INDEX: 0, ROM_REGION_INDEX: 6, CONFIG_REGION_INDEX: 7, VGA_REGION_INDEX: 8, NUM_REGIONS: 9,
});
export const PciIrqIndex = vfioH.values('VFIO_PCI_', {
  INTX_IRQ_INDEX: 0, MSI_IRQ_INDEX: 1, MSIX_IRQ_INDEX: 2, ERR_IRQ_INDEX: 3, REQ_IRQ_INDEX: 4, NUM_IRQS: 5,
});

export const GroupStatusFlags = vfioH.flags('VFIO_GROUP_FLAGS_', { VIABLE: 1 << 0, CONTAINER_SET: 1 << 1 });
export const DeviceInfoFlags = vfioH.flags('VFIO_DEVICE_FLAGS_', { RESET: 1 << 0, PCI: 1 << 1, PLATFORM: 1 << 2, CAPS: 1 << 7 });
export const RegionInfoFlags = vfioH.flags('VFIO_REGION_INFO_FLAG_', { READ: 1 << 0, WRITE: 1 << 1, MMAP: 1 << 2, CAPS: 1 << 3 });
export const IrqInfoFlags = vfioH.flags('VFIO_IRQ_INFO_', { EVENTFD: 1 << 0, MASKABLE: 1 << 1, AUTOMASKED: 1 << 2, NORESIZE: 1 << 3 });
export const IrqSetFlags = vfioH.flags('VFIO_IRQ_SET_', {
  DATA_NONE: 1 << 0, DATA_BOOL: 1 << 1, DATA_EVENTFD: 1 << 2, ACTION_MASK: 1 << 3, ACTION_UNMASK: 1 << 4, ACTION_TRIGGER: 1 << 5,
  DATA_TYPE_MASK: 0x7, ACTION_TYPE_MASK: 0x38,
});
export const IommuInfoFlags = vfioH.flags('VFIO_IOMMU_INFO_', { PGSIZES: 1 << 0, CAPS: 1 << 1 });
export const MapDmaFlags = vfioH.flags('VFIO_DMA_MAP_FLAG_', { READ: 1 << 0, WRITE: 1 << 1, VADDR: 1 << 2 });
export const UnmapDmaFlags = vfioH.flags('VFIO_DMA_UNMAP_FLAG_', { GET_DIRTY_BITMAP: 1 << 0, ALL: 1 << 1, VADDR: 1 << 2 });
/** VFIO_DEVICE_FEATURE: the feature index in MASK, the operation in GET/SET/PROBE. */
export const DeviceFeatureFlags = vfioH.flags('VFIO_DEVICE_FEATURE_', { MASK: 0xffff, GET: 1 << 16, SET: 1 << 17, PROBE: 1 << 18 });
/** Feature indexes (the migration and DMA logging features vfio-user carries). */
export const DeviceFeature = vfioH.values('VFIO_DEVICE_FEATURE_', {
  MIGRATION: 1, MIG_DEVICE_STATE: 2, DMA_LOGGING_START: 6, DMA_LOGGING_STOP: 7, DMA_LOGGING_REPORT: 8,
});
export const IoasMapFlags = iommufdH.flags('IOMMU_IOAS_MAP_', { FIXED_IOVA: 1 << 0, WRITEABLE: 1 << 1, READABLE: 1 << 2 });

// ---- structs (selfSize: the argsz/size member the caller sets to the buffer's length) ----

export const vfio_group_status = vfioH.struct('vfio_group_status', { argsz: u32, flags: flagsField(GroupStatusFlags) }, { selfSize: 'argsz' });
/** 20 bytes up to 6.5; 6.6 added tail padding (`pad`, 24 bytes): callers pass room for 24. */
export const vfio_device_info = vfioH.struct('vfio_device_info', {
  argsz: u32, flags: flagsField(DeviceInfoFlags), num_regions: u32, num_irqs: u32, cap_offset: u32,
}, { selfSize: 'argsz' });
export const vfio_region_info = vfioH.struct('vfio_region_info', {
  argsz: u32, flags: flagsField(RegionInfoFlags), index: u32, cap_offset: u32, size: u64, offset: u64,
}, { selfSize: 'argsz' });
export const vfio_info_cap_header = vfioH.struct('vfio_info_cap_header', { id: u16, version: u16, next: u32 });
export const vfio_region_sparse_mmap_area = vfioH.struct('vfio_region_sparse_mmap_area', { offset: u64, size: u64 });
export const vfio_region_info_cap_sparse_mmap = vfioH.struct('vfio_region_info_cap_sparse_mmap', {
  header: nested(vfio_info_cap_header), nr_areas: u32, reserved: u32, areas: flex(vfio_region_sparse_mmap_area),
});
export const vfio_region_info_cap_type = vfioH.struct('vfio_region_info_cap_type', { header: nested(vfio_info_cap_header), type: u32, subtype: u32 });
export const vfio_irq_info = vfioH.struct('vfio_irq_info', { argsz: u32, flags: flagsField(IrqInfoFlags), index: u32, count: u32 }, { selfSize: 'argsz' });
/** Followed by `count` entries of data: s32 eventfds (DATA_EVENTFD) or u8 bools (DATA_BOOL). */
export const vfio_irq_set = vfioH.struct('vfio_irq_set', {
  argsz: u32, flags: flagsField(IrqSetFlags), index: u32, start: u32, count: u32, data: flex(u8),
}, { selfSize: 'argsz' });
/** vfio_irq_set with its data: `eventfds` (s32 each, -1 unassigns), `bools` (u8 each) or none. */
export function encodeIrqSet(flags: FlagOf<typeof IrqSetFlags>, index: number, start: number, count: number, data: { eventfds?: readonly number[]; bools?: ArrayLike<number> } = {}): Uint8Array {
  const { eventfds = [], bools = [] } = data;
  const b = vfio_irq_set.encode({ flags, index, start, count }, vfio_irq_set.size + eventfds.length * s32.size + bools.length);
  const at = vfio_irq_set.offsets.data;
  eventfds.forEach((fd, i) => s32.put(b, at + i * s32.size, fd));
  b.set(bools, at);
  return b;
}
export const vfio_device_feature = vfioH.struct('vfio_device_feature', { argsz: u32, flags: flagsField(DeviceFeatureFlags), data: flex(u8) }, { selfSize: 'argsz' });
export const vfio_iommu_type1_info = vfioH.struct('vfio_iommu_type1_info', {
  argsz: u32, flags: flagsField(IommuInfoFlags), iova_pgsizes: u64, cap_offset: u32,
}, { selfSize: 'argsz' });
/** Inclusive range. */
export const vfio_iova_range = vfioH.struct('vfio_iova_range', { start: u64, end: u64 });
export const vfio_iommu_type1_info_cap_iova_range = vfioH.struct('vfio_iommu_type1_info_cap_iova_range', {
  header: nested(vfio_info_cap_header), nr_iovas: u32, reserved: u32, iova_ranges: flex(vfio_iova_range),
});
export const vfio_iommu_type1_info_dma_avail = vfioH.struct('vfio_iommu_type1_info_dma_avail', { header: nested(vfio_info_cap_header), avail: u32 });
export const vfio_iommu_type1_dma_map = vfioH.struct('vfio_iommu_type1_dma_map', {
  argsz: u32, flags: flagsField(MapDmaFlags), vaddr: u64, iova: u64, size: u64,
}, { selfSize: 'argsz' });
/** The kernel writes the bytes it unmapped back into `size`. */
export const vfio_iommu_type1_dma_unmap = vfioH.struct('vfio_iommu_type1_dma_unmap', {
  argsz: u32, flags: flagsField(UnmapDmaFlags), iova: u64, size: u64,
}, { selfSize: 'argsz' });
export const vfio_device_bind_iommufd = vfioH.struct('vfio_device_bind_iommufd', { argsz: u32, flags: u32, iommufd: s32, out_devid: u32 }, { selfSize: 'argsz' });
export const vfio_device_attach_iommufd_pt = vfioH.struct('vfio_device_attach_iommufd_pt', { argsz: u32, flags: u32, pt_id: u32 }, { selfSize: 'argsz' });
export const vfio_device_detach_iommufd_pt = vfioH.struct('vfio_device_detach_iommufd_pt', { argsz: u32, flags: u32 }, { selfSize: 'argsz' });

export const iommu_destroy = iommufdH.struct('iommu_destroy', { size: u32, id: u32 }, { selfSize: 'size' });
export const iommu_ioas_alloc = iommufdH.struct('iommu_ioas_alloc', { size: u32, flags: u32, out_ioas_id: u32 }, { selfSize: 'size' });
/** Inclusive range ({start, last}). */
export const iommu_iova_range = iommufdH.struct('iommu_iova_range', { start: u64, last: u64 });
/** allowed_iovas is a user pointer to an iommu_iova_range array of num_iovas entries. */
export const iommu_ioas_iova_ranges = iommufdH.struct('iommu_ioas_iova_ranges', {
  size: u32, ioas_id: u32, num_iovas: u32, __reserved: u32, allowed_iovas: u64, out_iova_alignment: u64,
}, { selfSize: 'size' });
export const iommu_ioas_map = iommufdH.struct('iommu_ioas_map', {
  size: u32, flags: flagsField(IoasMapFlags), ioas_id: u32, __reserved: u32, user_va: u64, length: u64, iova: u64,
}, { selfSize: 'size' });
/** The kernel writes the bytes it unmapped back into `length`. */
export const iommu_ioas_unmap = iommufdH.struct('iommu_ioas_unmap', { size: u32, ioas_id: u32, iova: u64, length: u64 }, { selfSize: 'size' });

export interface CapHeader { id: number; version: number; next: number; offset: number }
/**
 * Walk a capability chain inside an info buffer (offsets count from the buffer start). Stops on
 * a loop or an offset outside the buffer (returns what it read; the caller decides).
 */
export function capChain(b: Uint8Array, first: number): CapHeader[] {
  const out: CapHeader[] = [];
  const seen = new Set<number>();
  for (let off = first; off !== 0 && !seen.has(off) && off + vfio_info_cap_header.size <= b.length;) {
    seen.add(off);
    const h = vfio_info_cap_header.decode(b, off);
    out.push({ ...h, offset: off });
    off = h.next;
  }
  return out;
}
