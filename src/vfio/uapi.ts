// Linux VFIO and IOMMUFD uAPI: ioctl numbers, flags and struct layouts, in one place.
// Sources: include/uapi/linux/vfio.h and include/uapi/linux/iommufd.h (reference/vfio-uapi.md);
// x86-64. test/vfio/uapi-golden.test.ts compiles a C probe against the system's headers from the
// tables below (names are the C identifiers) and compares every number.
//
// All VFIO and IOMMUFD ioctls are _IO(';', nr) = 0x3B00 | nr: no size bits; each struct starts
// with `argsz` (or `size`) filled in by the caller. Flags are branded per ioctl so a flag of one
// ioctl cannot be passed to another (the map flags READ|WRITE mean GET_DIRTY_BITMAP|ALL to UNMAP).
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';

/** A flag value that belongs to one ioctl's flag namespace. */
export type Flag<Namespace extends string> = number & { readonly __flagNamespace: Namespace };
function flags<N extends string, T extends Record<string, number>>(_ns: N, values: T): { readonly [K in keyof T]: Flag<N> } {
  return values as unknown as { readonly [K in keyof T]: Flag<N> };
}
/** OR flags of one namespace together. */
export function flagSet<N extends string>(...values: Flag<N>[]): Flag<N> {
  let v = 0;
  for (const f of values) v |= f;
  return v as Flag<N>;
}

const VFIO_TYPE = 0x3b; // ';'
const VFIO_BASE = 100;
const IOMMUFD_CMD_BASE = 0x80;
/** _IO(VFIO_TYPE, nr) */
const io = (nr: number): number => (VFIO_TYPE << 8) | nr;

/** ioctl numbers by the fd class they are for (the same number is a different ioctl on another fd). */
export const VFIO_GET_API_VERSION = io(VFIO_BASE + 0);
export const VFIO_CHECK_EXTENSION = io(VFIO_BASE + 1);
export const VFIO_SET_IOMMU = io(VFIO_BASE + 2);
export const VFIO_GROUP_GET_STATUS = io(VFIO_BASE + 3);
export const VFIO_GROUP_SET_CONTAINER = io(VFIO_BASE + 4);
export const VFIO_GROUP_UNSET_CONTAINER = io(VFIO_BASE + 5);
export const VFIO_GROUP_GET_DEVICE_FD = io(VFIO_BASE + 6);
export const VFIO_DEVICE_GET_INFO = io(VFIO_BASE + 7);
export const VFIO_DEVICE_GET_REGION_INFO = io(VFIO_BASE + 8);
export const VFIO_DEVICE_GET_IRQ_INFO = io(VFIO_BASE + 9);
export const VFIO_DEVICE_SET_IRQS = io(VFIO_BASE + 10);
export const VFIO_DEVICE_RESET = io(VFIO_BASE + 11);
export const VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = io(VFIO_BASE + 12);
export const VFIO_DEVICE_PCI_HOT_RESET = io(VFIO_BASE + 13);
export const VFIO_DEVICE_FEATURE = io(VFIO_BASE + 17);
export const VFIO_DEVICE_BIND_IOMMUFD = io(VFIO_BASE + 18);
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = io(VFIO_BASE + 19);
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = io(VFIO_BASE + 20);
/** On a container fd (type1). */
export const VFIO_IOMMU_GET_INFO = io(VFIO_BASE + 12);
export const VFIO_IOMMU_MAP_DMA = io(VFIO_BASE + 13);
export const VFIO_IOMMU_UNMAP_DMA = io(VFIO_BASE + 14);
/** On /dev/iommu. */
export const IOMMU_DESTROY = io(IOMMUFD_CMD_BASE + 0);
export const IOMMU_IOAS_ALLOC = io(IOMMUFD_CMD_BASE + 1);
export const IOMMU_IOAS_ALLOW_IOVAS = io(IOMMUFD_CMD_BASE + 2);
export const IOMMU_IOAS_COPY = io(IOMMUFD_CMD_BASE + 3);
export const IOMMU_IOAS_IOVA_RANGES = io(IOMMUFD_CMD_BASE + 4);
export const IOMMU_IOAS_MAP = io(IOMMUFD_CMD_BASE + 5);
export const IOMMU_IOAS_UNMAP = io(IOMMUFD_CMD_BASE + 6);
export const IOMMU_OPTION = io(IOMMUFD_CMD_BASE + 7);

export const VFIO_API_VERSION = 0;

/** VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments. */
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_NOIOMMU_IOMMU = 8;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 10;

export const GroupStatusFlags = flags('group_status', { VIABLE: 1 << 0, CONTAINER_SET: 1 << 1 });
export const DeviceInfoFlags = flags('device_info', { RESET: 1 << 0, PCI: 1 << 1, PLATFORM: 1 << 2, CAPS: 1 << 7 });
export const RegionInfoFlags = flags('region_info', { READ: 1 << 0, WRITE: 1 << 1, MMAP: 1 << 2, CAPS: 1 << 3 });
export const IrqInfoFlags = flags('irq_info', { EVENTFD: 1 << 0, MASKABLE: 1 << 1, AUTOMASKED: 1 << 2, NORESIZE: 1 << 3 });
export const IrqSetFlags = flags('irq_set', {
  DATA_NONE: 1 << 0, DATA_BOOL: 1 << 1, DATA_EVENTFD: 1 << 2,
  ACTION_MASK: 1 << 3, ACTION_UNMASK: 1 << 4, ACTION_TRIGGER: 1 << 5,
});
export const IommuInfoFlags = flags('iommu_info', { PGSIZES: 1 << 0, CAPS: 1 << 1 });
export const MapDmaFlags = flags('dma_map', { READ: 1 << 0, WRITE: 1 << 1, VADDR: 1 << 2 });
export const UnmapDmaFlags = flags('dma_unmap', { GET_DIRTY_BITMAP: 1 << 0, ALL: 1 << 1, VADDR: 1 << 2 });
export const IoasMapFlags = flags('ioas_map', { FIXED_IOVA: 1 << 0, WRITEABLE: 1 << 1, READABLE: 1 << 2 });

/** Capability IDs: region info chain. */
export const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
export const VFIO_REGION_INFO_CAP_TYPE = 2;
export const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
/** Capability IDs: type1 IOMMU info chain. */
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

/** vfio-pci region and IRQ indexes (enum in vfio.h). */
export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
export const VFIO_PCI_NUM_REGIONS = 9;
export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;

/** Field offsets (bytes) and sizes of the uAPI structs; names are the C member names. */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, number>>;
  /** Header that defines it (for the golden probe). */
  readonly header: 'vfio.h' | 'iommufd.h';
}

export const layouts = {
  vfio_group_status: { header: 'vfio.h', size: 8, fields: { argsz: 0, flags: 4 } },
  vfio_device_info: { header: 'vfio.h', size: 20, fields: { argsz: 0, flags: 4, num_regions: 8, num_irqs: 12, cap_offset: 16 } },
  vfio_region_info: { header: 'vfio.h', size: 32, fields: { argsz: 0, flags: 4, index: 8, cap_offset: 12, size: 16, offset: 24 } },
  vfio_info_cap_header: { header: 'vfio.h', size: 8, fields: { id: 0, version: 2, next: 4 } },
  vfio_region_info_cap_sparse_mmap: { header: 'vfio.h', size: 16, fields: { header: 0, nr_areas: 8, reserved: 12, areas: 16 } },
  vfio_region_sparse_mmap_area: { header: 'vfio.h', size: 16, fields: { offset: 0, size: 8 } },
  vfio_region_info_cap_type: { header: 'vfio.h', size: 16, fields: { header: 0, type: 8, subtype: 12 } },
  vfio_irq_info: { header: 'vfio.h', size: 16, fields: { argsz: 0, flags: 4, index: 8, count: 12 } },
  vfio_irq_set: { header: 'vfio.h', size: 20, fields: { argsz: 0, flags: 4, index: 8, start: 12, count: 16, data: 20 } },
  vfio_iommu_type1_info: { header: 'vfio.h', size: 24, fields: { argsz: 0, flags: 4, iova_pgsizes: 8, cap_offset: 16 } },
  vfio_iommu_type1_info_cap_iova_range: { header: 'vfio.h', size: 16, fields: { header: 0, nr_iovas: 8, reserved: 12, iova_ranges: 16 } },
  vfio_iova_range: { header: 'vfio.h', size: 16, fields: { start: 0, end: 8 } },
  vfio_iommu_type1_info_dma_avail: { header: 'vfio.h', size: 12, fields: { header: 0, avail: 8 } },
  vfio_iommu_type1_dma_map: { header: 'vfio.h', size: 32, fields: { argsz: 0, flags: 4, vaddr: 8, iova: 16, size: 24 } },
  vfio_iommu_type1_dma_unmap: { header: 'vfio.h', size: 24, fields: { argsz: 0, flags: 4, iova: 8, size: 16 } },
  vfio_device_bind_iommufd: { header: 'vfio.h', size: 16, fields: { argsz: 0, flags: 4, iommufd: 8, out_devid: 12 } },
  vfio_device_attach_iommufd_pt: { header: 'vfio.h', size: 12, fields: { argsz: 0, flags: 4, pt_id: 8 } },
  vfio_device_detach_iommufd_pt: { header: 'vfio.h', size: 8, fields: { argsz: 0, flags: 4 } },
  iommu_destroy: { header: 'iommufd.h', size: 8, fields: { size: 0, id: 4 } },
  iommu_ioas_alloc: { header: 'iommufd.h', size: 12, fields: { size: 0, flags: 4, out_ioas_id: 8 } },
  iommu_ioas_iova_ranges: { header: 'iommufd.h', size: 32, fields: { size: 0, ioas_id: 4, num_iovas: 8, __reserved: 12, allowed_iovas: 16, out_iova_alignment: 24 } },
  iommu_iova_range: { header: 'iommufd.h', size: 16, fields: { start: 0, last: 8 } },
  iommu_ioas_map: { header: 'iommufd.h', size: 40, fields: { size: 0, flags: 4, ioas_id: 8, __reserved: 12, user_va: 16, length: 24, iova: 32 } },
  iommu_ioas_unmap: { header: 'iommufd.h', size: 24, fields: { size: 0, ioas_id: 4, iova: 8, length: 16 } },
} as const satisfies Record<string, StructLayout>;

/** Every named constant above under its C name (for the golden probe). */
export const constants: Readonly<Record<string, { value: number; header: 'vfio.h' | 'iommufd.h' }>> = {
  VFIO_GET_API_VERSION: { value: VFIO_GET_API_VERSION, header: 'vfio.h' },
  VFIO_CHECK_EXTENSION: { value: VFIO_CHECK_EXTENSION, header: 'vfio.h' },
  VFIO_SET_IOMMU: { value: VFIO_SET_IOMMU, header: 'vfio.h' },
  VFIO_GROUP_GET_STATUS: { value: VFIO_GROUP_GET_STATUS, header: 'vfio.h' },
  VFIO_GROUP_SET_CONTAINER: { value: VFIO_GROUP_SET_CONTAINER, header: 'vfio.h' },
  VFIO_GROUP_UNSET_CONTAINER: { value: VFIO_GROUP_UNSET_CONTAINER, header: 'vfio.h' },
  VFIO_GROUP_GET_DEVICE_FD: { value: VFIO_GROUP_GET_DEVICE_FD, header: 'vfio.h' },
  VFIO_DEVICE_GET_INFO: { value: VFIO_DEVICE_GET_INFO, header: 'vfio.h' },
  VFIO_DEVICE_GET_REGION_INFO: { value: VFIO_DEVICE_GET_REGION_INFO, header: 'vfio.h' },
  VFIO_DEVICE_GET_IRQ_INFO: { value: VFIO_DEVICE_GET_IRQ_INFO, header: 'vfio.h' },
  VFIO_DEVICE_SET_IRQS: { value: VFIO_DEVICE_SET_IRQS, header: 'vfio.h' },
  VFIO_DEVICE_RESET: { value: VFIO_DEVICE_RESET, header: 'vfio.h' },
  VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: { value: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, header: 'vfio.h' },
  VFIO_DEVICE_PCI_HOT_RESET: { value: VFIO_DEVICE_PCI_HOT_RESET, header: 'vfio.h' },
  VFIO_DEVICE_FEATURE: { value: VFIO_DEVICE_FEATURE, header: 'vfio.h' },
  VFIO_DEVICE_BIND_IOMMUFD: { value: VFIO_DEVICE_BIND_IOMMUFD, header: 'vfio.h' },
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: { value: VFIO_DEVICE_ATTACH_IOMMUFD_PT, header: 'vfio.h' },
  VFIO_DEVICE_DETACH_IOMMUFD_PT: { value: VFIO_DEVICE_DETACH_IOMMUFD_PT, header: 'vfio.h' },
  VFIO_IOMMU_GET_INFO: { value: VFIO_IOMMU_GET_INFO, header: 'vfio.h' },
  VFIO_IOMMU_MAP_DMA: { value: VFIO_IOMMU_MAP_DMA, header: 'vfio.h' },
  VFIO_IOMMU_UNMAP_DMA: { value: VFIO_IOMMU_UNMAP_DMA, header: 'vfio.h' },
  VFIO_API_VERSION: { value: VFIO_API_VERSION, header: 'vfio.h' },
  VFIO_TYPE1_IOMMU: { value: VFIO_TYPE1_IOMMU, header: 'vfio.h' },
  VFIO_TYPE1v2_IOMMU: { value: VFIO_TYPE1v2_IOMMU, header: 'vfio.h' },
  VFIO_NOIOMMU_IOMMU: { value: VFIO_NOIOMMU_IOMMU, header: 'vfio.h' },
  VFIO_UNMAP_ALL: { value: VFIO_UNMAP_ALL, header: 'vfio.h' },
  VFIO_UPDATE_VADDR: { value: VFIO_UPDATE_VADDR, header: 'vfio.h' },
  VFIO_GROUP_FLAGS_VIABLE: { value: GroupStatusFlags.VIABLE, header: 'vfio.h' },
  VFIO_GROUP_FLAGS_CONTAINER_SET: { value: GroupStatusFlags.CONTAINER_SET, header: 'vfio.h' },
  VFIO_DEVICE_FLAGS_RESET: { value: DeviceInfoFlags.RESET, header: 'vfio.h' },
  VFIO_DEVICE_FLAGS_PCI: { value: DeviceInfoFlags.PCI, header: 'vfio.h' },
  VFIO_DEVICE_FLAGS_PLATFORM: { value: DeviceInfoFlags.PLATFORM, header: 'vfio.h' },
  VFIO_DEVICE_FLAGS_CAPS: { value: DeviceInfoFlags.CAPS, header: 'vfio.h' },
  VFIO_REGION_INFO_FLAG_READ: { value: RegionInfoFlags.READ, header: 'vfio.h' },
  VFIO_REGION_INFO_FLAG_WRITE: { value: RegionInfoFlags.WRITE, header: 'vfio.h' },
  VFIO_REGION_INFO_FLAG_MMAP: { value: RegionInfoFlags.MMAP, header: 'vfio.h' },
  VFIO_REGION_INFO_FLAG_CAPS: { value: RegionInfoFlags.CAPS, header: 'vfio.h' },
  VFIO_IRQ_INFO_EVENTFD: { value: IrqInfoFlags.EVENTFD, header: 'vfio.h' },
  VFIO_IRQ_INFO_MASKABLE: { value: IrqInfoFlags.MASKABLE, header: 'vfio.h' },
  VFIO_IRQ_INFO_AUTOMASKED: { value: IrqInfoFlags.AUTOMASKED, header: 'vfio.h' },
  VFIO_IRQ_INFO_NORESIZE: { value: IrqInfoFlags.NORESIZE, header: 'vfio.h' },
  VFIO_IRQ_SET_DATA_NONE: { value: IrqSetFlags.DATA_NONE, header: 'vfio.h' },
  VFIO_IRQ_SET_DATA_BOOL: { value: IrqSetFlags.DATA_BOOL, header: 'vfio.h' },
  VFIO_IRQ_SET_DATA_EVENTFD: { value: IrqSetFlags.DATA_EVENTFD, header: 'vfio.h' },
  VFIO_IRQ_SET_ACTION_MASK: { value: IrqSetFlags.ACTION_MASK, header: 'vfio.h' },
  VFIO_IRQ_SET_ACTION_UNMASK: { value: IrqSetFlags.ACTION_UNMASK, header: 'vfio.h' },
  VFIO_IRQ_SET_ACTION_TRIGGER: { value: IrqSetFlags.ACTION_TRIGGER, header: 'vfio.h' },
  VFIO_IOMMU_INFO_PGSIZES: { value: IommuInfoFlags.PGSIZES, header: 'vfio.h' },
  VFIO_IOMMU_INFO_CAPS: { value: IommuInfoFlags.CAPS, header: 'vfio.h' },
  VFIO_DMA_MAP_FLAG_READ: { value: MapDmaFlags.READ, header: 'vfio.h' },
  VFIO_DMA_MAP_FLAG_WRITE: { value: MapDmaFlags.WRITE, header: 'vfio.h' },
  VFIO_DMA_MAP_FLAG_VADDR: { value: MapDmaFlags.VADDR, header: 'vfio.h' },
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP: { value: UnmapDmaFlags.GET_DIRTY_BITMAP, header: 'vfio.h' },
  VFIO_DMA_UNMAP_FLAG_ALL: { value: UnmapDmaFlags.ALL, header: 'vfio.h' },
  VFIO_DMA_UNMAP_FLAG_VADDR: { value: UnmapDmaFlags.VADDR, header: 'vfio.h' },
  VFIO_REGION_INFO_CAP_SPARSE_MMAP: { value: VFIO_REGION_INFO_CAP_SPARSE_MMAP, header: 'vfio.h' },
  VFIO_REGION_INFO_CAP_TYPE: { value: VFIO_REGION_INFO_CAP_TYPE, header: 'vfio.h' },
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE: { value: VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, header: 'vfio.h' },
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: { value: VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, header: 'vfio.h' },
  VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION: { value: VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, header: 'vfio.h' },
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: { value: VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, header: 'vfio.h' },
  VFIO_PCI_BAR0_REGION_INDEX: { value: VFIO_PCI_BAR0_REGION_INDEX, header: 'vfio.h' },
  VFIO_PCI_ROM_REGION_INDEX: { value: VFIO_PCI_ROM_REGION_INDEX, header: 'vfio.h' },
  VFIO_PCI_CONFIG_REGION_INDEX: { value: VFIO_PCI_CONFIG_REGION_INDEX, header: 'vfio.h' },
  VFIO_PCI_VGA_REGION_INDEX: { value: VFIO_PCI_VGA_REGION_INDEX, header: 'vfio.h' },
  VFIO_PCI_NUM_REGIONS: { value: VFIO_PCI_NUM_REGIONS, header: 'vfio.h' },
  VFIO_PCI_INTX_IRQ_INDEX: { value: VFIO_PCI_INTX_IRQ_INDEX, header: 'vfio.h' },
  VFIO_PCI_MSI_IRQ_INDEX: { value: VFIO_PCI_MSI_IRQ_INDEX, header: 'vfio.h' },
  VFIO_PCI_MSIX_IRQ_INDEX: { value: VFIO_PCI_MSIX_IRQ_INDEX, header: 'vfio.h' },
  VFIO_PCI_ERR_IRQ_INDEX: { value: VFIO_PCI_ERR_IRQ_INDEX, header: 'vfio.h' },
  VFIO_PCI_REQ_IRQ_INDEX: { value: VFIO_PCI_REQ_IRQ_INDEX, header: 'vfio.h' },
  VFIO_PCI_NUM_IRQS: { value: VFIO_PCI_NUM_IRQS, header: 'vfio.h' },
  IOMMU_DESTROY: { value: IOMMU_DESTROY, header: 'iommufd.h' },
  IOMMU_IOAS_ALLOC: { value: IOMMU_IOAS_ALLOC, header: 'iommufd.h' },
  IOMMU_IOAS_ALLOW_IOVAS: { value: IOMMU_IOAS_ALLOW_IOVAS, header: 'iommufd.h' },
  IOMMU_IOAS_COPY: { value: IOMMU_IOAS_COPY, header: 'iommufd.h' },
  IOMMU_IOAS_IOVA_RANGES: { value: IOMMU_IOAS_IOVA_RANGES, header: 'iommufd.h' },
  IOMMU_IOAS_MAP: { value: IOMMU_IOAS_MAP, header: 'iommufd.h' },
  IOMMU_IOAS_UNMAP: { value: IOMMU_IOAS_UNMAP, header: 'iommufd.h' },
  IOMMU_OPTION: { value: IOMMU_OPTION, header: 'iommufd.h' },
  IOMMU_IOAS_MAP_FIXED_IOVA: { value: IoasMapFlags.FIXED_IOVA, header: 'iommufd.h' },
  IOMMU_IOAS_MAP_WRITEABLE: { value: IoasMapFlags.WRITEABLE, header: 'iommufd.h' },
  IOMMU_IOAS_MAP_READABLE: { value: IoasMapFlags.READABLE, header: 'iommufd.h' },
};

// ---- encoders and decoders (little-endian byte buffers; the ioctl gets the buffer's address) ----

const L = layouts;

/** A zeroed struct buffer with argsz/size set. */
function struct(size: number, total = size): Uint8Array {
  const b = new Uint8Array(total);
  putLe32(b, 0, total);
  return b;
}

export function encodeGroupStatus(): Uint8Array {
  return struct(L.vfio_group_status.size);
}
export function decodeGroupStatus(b: Uint8Array): { flags: Flag<'group_status'> } {
  return { flags: getLe32(b, L.vfio_group_status.fields.flags) as Flag<'group_status'> };
}

/** vfio_device_info with room for capabilities (argsz = `total`). */
export function encodeDeviceInfo(total = 24): Uint8Array {
  return struct(L.vfio_device_info.size, Math.max(total, L.vfio_device_info.size));
}
export interface DeviceInfoStruct { argsz: number; flags: Flag<'device_info'>; numRegions: number; numIrqs: number; capOffset: number }
export function decodeDeviceInfo(b: Uint8Array): DeviceInfoStruct {
  const f = L.vfio_device_info.fields;
  return { argsz: getLe32(b, f.argsz), flags: getLe32(b, f.flags) as Flag<'device_info'>, numRegions: getLe32(b, f.num_regions), numIrqs: getLe32(b, f.num_irqs), capOffset: b.length >= 20 ? getLe32(b, f.cap_offset) : 0 };
}

export function encodeRegionInfo(index: number, total: number = L.vfio_region_info.size): Uint8Array {
  const b = struct(L.vfio_region_info.size, Math.max(total, L.vfio_region_info.size));
  putLe32(b, L.vfio_region_info.fields.index, index);
  return b;
}
export interface RegionInfoStruct { argsz: number; flags: Flag<'region_info'>; index: number; capOffset: number; size: bigint; offset: bigint }
export function decodeRegionInfo(b: Uint8Array): RegionInfoStruct {
  const f = L.vfio_region_info.fields;
  return { argsz: getLe32(b, f.argsz), flags: getLe32(b, f.flags) as Flag<'region_info'>, index: getLe32(b, f.index), capOffset: getLe32(b, f.cap_offset), size: getLe64(b, f.size), offset: getLe64(b, f.offset) };
}

export interface CapHeader { id: number; version: number; next: number; offset: number }
/**
 * Walk a capability chain inside an info buffer (offsets count from the buffer start). Stops on
 * a loop or an offset outside the buffer (returns what it read; the caller decides).
 */
export function capChain(b: Uint8Array, first: number): CapHeader[] {
  const out: CapHeader[] = [];
  const seen = new Set<number>();
  let off = first;
  while (off !== 0 && !seen.has(off) && off + L.vfio_info_cap_header.size <= b.length) {
    seen.add(off);
    const id = b[off]! | (b[off + 1]! << 8);
    const version = b[off + 2]! | (b[off + 3]! << 8);
    const next = getLe32(b, off + L.vfio_info_cap_header.fields.next);
    out.push({ id, version, next, offset: off });
    off = next;
  }
  return out;
}

/** Areas of a SPARSE_MMAP capability at `off`; clipped to what the buffer holds. */
export function decodeSparseMmap(b: Uint8Array, off: number): { offset: bigint; size: bigint }[] {
  const c = L.vfio_region_info_cap_sparse_mmap.fields;
  const n = getLe32(b, off + c.nr_areas);
  const out: { offset: bigint; size: bigint }[] = [];
  for (let i = 0; i < n; i++) {
    const a = off + c.areas + i * L.vfio_region_sparse_mmap_area.size;
    if (a + L.vfio_region_sparse_mmap_area.size > b.length) break;
    out.push({ offset: getLe64(b, a), size: getLe64(b, a + 8) });
  }
  return out;
}

export function decodeRegionType(b: Uint8Array, off: number): { type: number; subtype: number } {
  const c = L.vfio_region_info_cap_type.fields;
  return { type: getLe32(b, off + c.type), subtype: getLe32(b, off + c.subtype) };
}

export function encodeIrqInfo(index: number): Uint8Array {
  const b = struct(L.vfio_irq_info.size);
  putLe32(b, L.vfio_irq_info.fields.index, index);
  return b;
}
export function decodeIrqInfo(b: Uint8Array): { flags: Flag<'irq_info'>; index: number; count: number } {
  const f = L.vfio_irq_info.fields;
  return { flags: getLe32(b, f.flags) as Flag<'irq_info'>, index: getLe32(b, f.index), count: getLe32(b, f.count) };
}

/**
 * vfio_irq_set. `eventfds` (DATA_EVENTFD: s32 per vector, -1 unassigns), `bools` (DATA_BOOL: u8
 * per vector) or neither (DATA_NONE).
 */
export function encodeIrqSet(flagsValue: Flag<'irq_set'>, index: number, start: number, count: number, data?: { eventfds?: readonly number[]; bools?: readonly boolean[] }): Uint8Array {
  const f = L.vfio_irq_set.fields;
  const dataBytes = data?.eventfds ? data.eventfds.length * 4 : data?.bools ? data.bools.length : 0;
  const b = struct(L.vfio_irq_set.size, L.vfio_irq_set.size + dataBytes);
  putLe32(b, f.flags, flagsValue);
  putLe32(b, f.index, index);
  putLe32(b, f.start, start);
  putLe32(b, f.count, count);
  if (data?.eventfds) data.eventfds.forEach((fd, i) => putLe32(b, f.data + i * 4, fd >>> 0));
  else if (data?.bools) data.bools.forEach((v, i) => { b[f.data + i] = v ? 1 : 0; });
  return b;
}

export function encodeIommuInfo(total = 4096): Uint8Array {
  return struct(L.vfio_iommu_type1_info.size, Math.max(total, L.vfio_iommu_type1_info.size));
}
export function decodeIommuInfo(b: Uint8Array): { argsz: number; flags: Flag<'iommu_info'>; iovaPgsizes: bigint; capOffset: number } {
  const f = L.vfio_iommu_type1_info.fields;
  return { argsz: getLe32(b, f.argsz), flags: getLe32(b, f.flags) as Flag<'iommu_info'>, iovaPgsizes: getLe64(b, f.iova_pgsizes), capOffset: getLe32(b, f.cap_offset) };
}
/** IOVA_RANGE capability ranges (inclusive ends). */
export function decodeIovaRanges(b: Uint8Array, off: number): { start: bigint; end: bigint }[] {
  const c = L.vfio_iommu_type1_info_cap_iova_range.fields;
  const n = getLe32(b, off + c.nr_iovas);
  const out: { start: bigint; end: bigint }[] = [];
  for (let i = 0; i < n; i++) {
    const r = off + c.iova_ranges + i * L.vfio_iova_range.size;
    if (r + L.vfio_iova_range.size > b.length) break;
    out.push({ start: getLe64(b, r), end: getLe64(b, r + 8) });
  }
  return out;
}
export function decodeDmaAvail(b: Uint8Array, off: number): number {
  return getLe32(b, off + L.vfio_iommu_type1_info_dma_avail.fields.avail);
}

export function encodeMapDma(flagsValue: Flag<'dma_map'>, vaddr: bigint, iova: bigint, size: bigint): Uint8Array {
  const f = L.vfio_iommu_type1_dma_map.fields;
  const b = struct(L.vfio_iommu_type1_dma_map.size);
  putLe32(b, f.flags, flagsValue);
  putLe64(b, f.vaddr, vaddr);
  putLe64(b, f.iova, iova);
  putLe64(b, f.size, size);
  return b;
}

export function encodeUnmapDma(flagsValue: Flag<'dma_unmap'> | 0, iova: bigint, size: bigint): Uint8Array {
  const f = L.vfio_iommu_type1_dma_unmap.fields;
  const b = struct(L.vfio_iommu_type1_dma_unmap.size);
  putLe32(b, f.flags, flagsValue);
  putLe64(b, f.iova, iova);
  putLe64(b, f.size, size);
  return b;
}
/** Bytes the kernel unmapped (it writes them back into `size`). */
export function decodeUnmapDmaSize(b: Uint8Array): bigint {
  return getLe64(b, L.vfio_iommu_type1_dma_unmap.fields.size);
}

export function encodeBindIommufd(iommufd: number): Uint8Array {
  const b = struct(L.vfio_device_bind_iommufd.size);
  putLe32(b, L.vfio_device_bind_iommufd.fields.iommufd, iommufd);
  return b;
}
export function decodeBindIommufd(b: Uint8Array): { devid: number } {
  return { devid: getLe32(b, L.vfio_device_bind_iommufd.fields.out_devid) };
}

export function encodeAttachPt(ptId: number): Uint8Array {
  const b = struct(L.vfio_device_attach_iommufd_pt.size);
  putLe32(b, L.vfio_device_attach_iommufd_pt.fields.pt_id, ptId);
  return b;
}
export function encodeDetachPt(): Uint8Array {
  return struct(L.vfio_device_detach_iommufd_pt.size);
}

export function encodeIommuDestroy(id: number): Uint8Array {
  const b = struct(L.iommu_destroy.size);
  putLe32(b, L.iommu_destroy.fields.id, id);
  return b;
}
export function encodeIoasAlloc(): Uint8Array {
  return struct(L.iommu_ioas_alloc.size);
}
export function decodeIoasAlloc(b: Uint8Array): number {
  return getLe32(b, L.iommu_ioas_alloc.fields.out_ioas_id);
}

/** iommu_ioas_iova_ranges pointing at `rangesAddress` with room for `capacity` ranges. */
export function encodeIoasIovaRanges(ioasId: number, capacity: number, rangesAddress: bigint): Uint8Array {
  const f = L.iommu_ioas_iova_ranges.fields;
  const b = struct(L.iommu_ioas_iova_ranges.size);
  putLe32(b, f.ioas_id, ioasId);
  putLe32(b, f.num_iovas, capacity);
  putLe64(b, f.allowed_iovas, rangesAddress);
  return b;
}
export function decodeIoasIovaRanges(b: Uint8Array): { numIovas: number; iovaAlignment: bigint } {
  const f = L.iommu_ioas_iova_ranges.fields;
  return { numIovas: getLe32(b, f.num_iovas), iovaAlignment: getLe64(b, f.out_iova_alignment) };
}
/** iommu_iova_range array ({start, last}: inclusive) as IovaRanges. */
export function decodeIommuIovaRangeArray(b: Uint8Array, count: number): { start: bigint; end: bigint }[] {
  const out: { start: bigint; end: bigint }[] = [];
  for (let i = 0; i < count && (i + 1) * 16 <= b.length; i++) out.push({ start: getLe64(b, i * 16), end: getLe64(b, i * 16 + 8) });
  return out;
}

export function encodeIoasMap(flagsValue: Flag<'ioas_map'>, ioasId: number, userVa: bigint, length: bigint, iova: bigint): Uint8Array {
  const f = L.iommu_ioas_map.fields;
  const b = struct(L.iommu_ioas_map.size);
  putLe32(b, f.flags, flagsValue);
  putLe32(b, f.ioas_id, ioasId);
  putLe64(b, f.user_va, userVa);
  putLe64(b, f.length, length);
  putLe64(b, f.iova, iova);
  return b;
}
export function decodeIoasMapIova(b: Uint8Array): bigint {
  return getLe64(b, L.iommu_ioas_map.fields.iova);
}

export function encodeIoasUnmap(ioasId: number, iova: bigint, length: bigint): Uint8Array {
  const f = L.iommu_ioas_unmap.fields;
  const b = struct(L.iommu_ioas_unmap.size);
  putLe32(b, f.ioas_id, ioasId);
  putLe64(b, f.iova, iova);
  putLe64(b, f.length, length);
  return b;
}
export function decodeIoasUnmapLength(b: Uint8Array): bigint {
  return getLe64(b, L.iommu_ioas_unmap.fields.length);
}

/** Name of an ioctl number for errors, given the fd class. */
export function ioctlName(request: number, fdClass: 'container' | 'group' | 'device' | 'iommufd'): string {
  const byClass: Record<string, readonly string[]> = {
    container: ['VFIO_GET_API_VERSION', 'VFIO_CHECK_EXTENSION', 'VFIO_SET_IOMMU', 'VFIO_IOMMU_GET_INFO', 'VFIO_IOMMU_MAP_DMA', 'VFIO_IOMMU_UNMAP_DMA'],
    group: ['VFIO_GROUP_GET_STATUS', 'VFIO_GROUP_SET_CONTAINER', 'VFIO_GROUP_UNSET_CONTAINER', 'VFIO_GROUP_GET_DEVICE_FD'],
    device: ['VFIO_DEVICE_GET_INFO', 'VFIO_DEVICE_GET_REGION_INFO', 'VFIO_DEVICE_GET_IRQ_INFO', 'VFIO_DEVICE_SET_IRQS', 'VFIO_DEVICE_RESET', 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', 'VFIO_DEVICE_PCI_HOT_RESET', 'VFIO_DEVICE_FEATURE', 'VFIO_DEVICE_BIND_IOMMUFD', 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', 'VFIO_DEVICE_DETACH_IOMMUFD_PT'],
    iommufd: ['IOMMU_DESTROY', 'IOMMU_IOAS_ALLOC', 'IOMMU_IOAS_ALLOW_IOVAS', 'IOMMU_IOAS_COPY', 'IOMMU_IOAS_IOVA_RANGES', 'IOMMU_IOAS_MAP', 'IOMMU_IOAS_UNMAP', 'IOMMU_OPTION'],
  };
  return byClass[fdClass]!.find((n) => constants[n]!.value === request) ?? `ioctl 0x${request.toString(16)}`;
}
