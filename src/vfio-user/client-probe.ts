// What the client learns about a served device right after VERSION: DEVICE_GET_INFO (flags, region
// and IRQ index counts), DEVICE_GET_REGION_INFO per region (size, access, mmap offset and fd,
// sparse areas), DEVICE_GET_IRQ_INFO per index, and the PCI identity from config space.
import type { IrqInfo, PciIdentity, RegionInfo } from '../device/device.js';
import type { Region } from '../mmio/region.js';
import { closeQuietly } from '../sys/libc.js';
import type { RequestChannel } from './client-channel.js';
import { IrqInfoFlags, RegionInfoFlags, vfio_irq_info } from '../sys/uapi/linux-vfio.js';
import type { Decoded } from '../sys/uapi/struct.js';
import { vfio_user_device_info } from '../sys/uapi/vfio-user.js';
import { decodeDeviceInfo, decodeIrqInfo } from './messages.js';
import { Command, malformed } from './protocol.js';
import { decodeRegionInfoReply, encodeRegionInfoRequest, sparseAreas } from './region-info.js';

/** Region info argsz asked first (room for a sparse cap with a dozen areas). */
const REGION_INFO_ARGSZ = 512;

/** One region of the served device as the client holds it. */
export interface ClientRegionState {
  info: RegionInfo;
  /** mmap offset the server gave (and fd, when mappable). */
  offset: bigint;
  fd: number;
  region?: Region;
}

/** DEVICE_GET_INFO, checked to describe a PCI device. */
export function queryDeviceInfo(channel: RequestChannel): Decoded<typeof vfio_user_device_info> {
  const info = decodeDeviceInfo(channel.call(Command.DEVICE_GET_INFO, vfio_user_device_info.encode(), [], 'device info').payload);
  if (info.num_regions > 64 || info.num_irqs > 64) throw malformed('DEVICE_GET_INFO reply', `${info.num_regions} regions / ${info.num_irqs} IRQ indexes is not a PCI device`);
  return info;
}

/** DEVICE_GET_REGION_INFO for `index`; keeps the region's fd when it is mappable (the caller closes it). */
export function queryRegion(channel: RequestChannel, index: number): ClientRegionState {
  let argsz = REGION_INFO_ARGSZ;
  for (let attempt = 0; ; attempt++) {
    const m = channel.call(Command.DEVICE_GET_REGION_INFO, encodeRegionInfoRequest(index, argsz), [], `region ${index} info`);
    let keep = -1;
    try {
      const r = decodeRegionInfoReply(m.payload);
      if (r.argsz > m.payload.length && attempt === 0 && r.argsz <= 65536) {
        argsz = r.argsz;
        continue; // caps did not fit: ask again with the size the server needs
      }
      const mappable = (r.flags & RegionInfoFlags.MMAP) !== 0 && m.fds.length > 0;
      if (mappable) keep = m.fds[0]!;
      const areas = sparseAreas(r);
      const info: RegionInfo = {
        index,
        size: Number(r.size),
        readable: (r.flags & RegionInfoFlags.READ) !== 0,
        writable: (r.flags & RegionInfoFlags.WRITE) !== 0,
        mappable,
        ...(mappable && areas ? { mmapAreas: areas.map((a) => ({ offset: Number(a.offset), size: Number(a.size) })) } : {}),
      };
      return { info, offset: r.offset, fd: keep };
    } finally {
      for (const fd of m.fds) if (fd !== keep) closeQuietly(fd);
    }
  }
}

/** DEVICE_GET_IRQ_INFO for `index`. */
export function queryIrq(channel: RequestChannel, index: number): IrqInfo {
  const r = decodeIrqInfo(channel.call(Command.DEVICE_GET_IRQ_INFO, vfio_irq_info.encode({ index }), [], `IRQ index ${index}`).payload);
  const { EVENTFD, MASKABLE, AUTOMASKED } = IrqInfoFlags;
  return { index, count: r.count, eventfd: (r.flags & EVENTFD) !== 0, maskable: (r.flags & MASKABLE) !== 0, automasked: (r.flags & AUTOMASKED) !== 0 };
}

/** The PCI identity in the first 64 bytes of config space (PCI type 0 header). */
export function identityOf(head: Uint8Array): PciIdentity {
  return {
    vendor: head[0]! | (head[1]! << 8),
    device: head[2]! | (head[3]! << 8),
    revision: head[8]!,
    classCode: head[9]! | (head[10]! << 8) | (head[11]! << 16),
    subsystemVendor: head[0x2c]! | (head[0x2d]! << 8),
    subsystemDevice: head[0x2e]! | (head[0x2f]! << 8),
  };
}
