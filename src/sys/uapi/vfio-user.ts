// The vfio-user wire structs, commands and flags, written once (libvfio-user include/vfio-user.h,
// the protocol's one header; QEMU hw/vfio-user/protocol.h for REGION_WRITE_MULTI; QEMU
// docs/interop/vfio-user.rst). Every message is this header and a payload; the payloads that
// reuse linux/vfio.h structs (region, IRQ info, IRQ set, device feature) take them from
// linux-vfio.ts. All structs are packed and little endian. test/sys/uapi-golden.test.ts checks
// every number against the values those headers state.
import { HeaderTable, bytes, cNamed, flagsField, flex, u16, u32, u64, u8 } from './struct.js';

export const vfioUserH = new HeaderTable('vfio-user.h');

/** enum vfio_user_command; 14 (DIRTY_PAGES) was removed, 15..18 are QEMU's and the spec's. */
export const Command = vfioUserH.values('VFIO_USER_', {
  VERSION: 1, DMA_MAP: 2, DMA_UNMAP: 3, DEVICE_GET_INFO: 4, DEVICE_GET_REGION_INFO: 5, DEVICE_GET_REGION_IO_FDS: 6,
  DEVICE_GET_IRQ_INFO: 7, DEVICE_SET_IRQS: 8, REGION_READ: 9, REGION_WRITE: 10, DMA_READ: 11, DMA_WRITE: 12,
  DEVICE_RESET: 13, REGION_WRITE_MULTI: 15, DEVICE_FEATURE: 16, MIG_DATA_READ: 17, MIG_DATA_WRITE: 18,
});

/**
 * Header flags word: type in [3:0] (COMMAND 0, REPLY 1), no_reply bit 4, error bit 5 (libvfio-user's
 * flags bitfield {type:4, no_reply:1, error:1}; QEMU VFIO_USER_TYPE/REQUEST/REPLY/NO_REPLY/ERROR).
 */
export const HeaderFlags = vfioUserH.values('VFIO_USER_', { TYPE: 0xf, REQUEST: 0, REPLY: 1, NO_REPLY: 0x10, ERROR: 0x20 });

export const vfio_user_header = vfioUserH.struct('vfio_user_header', {
  id: cNamed(u16, 'msg_id'), command: cNamed(u16, 'cmd'), size: cNamed(u32, 'msg_size'), flags: u32, error: cNamed(u32, 'error_no'),
}, { packed: true });

export const vfio_user_version = vfioUserH.struct('vfio_user_version', { major: u16, minor: u16, data: flex(u8) }, { packed: true });

/** DEVICE_GET_INFO: vfio_device_info without cap_offset. */
export const vfio_user_device_info = vfioUserH.struct('vfio_user_device_info', { argsz: u32, flags: u32, num_regions: u32, num_irqs: u32 }, { packed: true, selfSize: 'argsz' });

/** DMA_MAP flags (VFIO_USER_F_DMA_REGION_*). */
export const DmaMapFlags = vfioUserH.flags('VFIO_USER_F_DMA_REGION_', { READ: 1 << 0, WRITE: 1 << 1 });
export const vfio_user_dma_map = vfioUserH.struct('vfio_user_dma_map', {
  argsz: u32, flags: flagsField(DmaMapFlags), offset: u64, addr: u64, size: u64,
}, { packed: true, selfSize: 'argsz' });
/** DMA_UNMAP: flags are linux/vfio.h's VFIO_DMA_UNMAP_FLAG_* (UnmapDmaFlags). */
export const vfio_user_dma_unmap = vfioUserH.struct('vfio_user_dma_unmap', { argsz: u32, flags: u32, addr: u64, size: u64 }, { packed: true, selfSize: 'argsz' });

/** REGION_READ/REGION_WRITE: `count` data bytes follow in a write and in a read's reply. */
export const vfio_user_region_access = vfioUserH.struct('vfio_user_region_access', { offset: u64, region: u32, count: u32, data: flex(u8) }, { packed: true });
/** DMA_READ/DMA_WRITE (server to client); the reply to DMA_WRITE is the head only. */
export const vfio_user_dma_region_access = vfioUserH.struct('vfio_user_dma_region_access', { addr: u64, count: u64, data: flex(u8) }, { packed: true });

/** DEVICE_GET_REGION_IO_FDS request and reply head. */
export const vfio_user_region_io_fds_request = vfioUserH.struct('vfio_user_region_io_fds_request', { argsz: u32, flags: u32, index: u32, count: u32 }, { packed: true });
export const IoFdType = vfioUserH.values('VFIO_USER_IO_FD_TYPE_', { IOEVENTFD: 0, IOREGIONFD: 1, IOEVENTFD_SHADOW: 2 });
/** One sub-region of the reply (the ioeventfd form; the ioregionfd form names `data` user_data). */
export const vfio_user_sub_region_ioeventfd = vfioUserH.struct('vfio_user_sub_region_ioeventfd', {
  offset: u64, size: u64, fd_index: u32, type: u32, flags: u32, padding: u32, data: cNamed(u64, 'datamatch'),
}, { packed: true });

/** REGION_WRITE_MULTI (QEMU VFIOUserWROne, VFIOUserWRMulti): wr_cnt, then up to MAX writes of up to DATA bytes. */
export const WriteMulti = vfioUserH.values('VFIO_USER_MULTI_', { DATA: 8, MAX: 200 });
export const vfio_user_wr_one = vfioUserH.struct('VFIOUserWROne', { offset: u64, region: u32, count: u32, data: bytes(WriteMulti.DATA) }, { packed: true });
export const vfio_user_wr_multi = vfioUserH.struct('VFIOUserWRMulti', { wr_cnt: u64, wrs: flex(vfio_user_wr_one) }, { packed: true });

// ---- vfiokit's vendor extension (no header of libvfio-user or QEMU has it; offered in VERSION as
// "vfiokit_region_batch", so peers that do not offer it never see these) ----
export const vfiokitVendorH = new HeaderTable('vfiokit vendor commands');
/** Vendor command numbers, outside enum vfio_user_command. */
export const VendorCommand = vfiokitVendorH.values('VFIOKIT_USER_', { REGION_BATCH: 0x7f01 });
/** REGION_BATCH request: a region, the number of entries, the entries (src/mmio/access-batch.ts encodes them). */
export const vfiokit_region_batch = vfiokitVendorH.struct('vfiokit_region_batch', { region: u32, count: u32, entries: flex(u8) }, { packed: true });
/** REGION_BATCH reply: entries completed, why it stopped, accesses made, then the last value of each poll that ran. */
export const vfiokit_region_batch_reply = vfiokitVendorH.struct('vfiokit_region_batch_reply', { completed: u32, stop: u32, accesses: u32, polls: u32, values: flex(u64) }, { packed: true });
