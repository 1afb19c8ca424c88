// The iommufd path (Linux >= 6.6): /dev/iommu, an IO address space (IOAS), and the VFIO device
// cdev /dev/vfio/devices/vfioN bound to it (Documentation/userspace-api/iommufd.rst,
// include/uapi/linux/iommufd.h): open /dev/iommu, IOAS_ALLOC; open the cdev,
// DEVICE_BIND_IOMMUFD, DEVICE_ATTACH_IOMMUFD_PT(ioas); IOAS_IOVA_RANGES; IOAS_MAP/UNMAP.
import { checkDmaMap, checkOpen } from '../device/checks.js';
import type { DmaAccess, DmaMapper, DmaMemory, IovaRange } from '../dma/mapper.js';
import { addressOf, closeQuietly } from '../sys/libc.js';
import { O_CLOEXEC, O_RDWR } from '../sys/constants.js';
import { logger } from '../util/log.js';
import { VfioError, openNode, vfioIoctl } from './errors.js';
import {
  DeviceIoctl, IoasMapFlags, IommufdIoctl, iommu_destroy, iommu_ioas_alloc, iommu_ioas_iova_ranges, iommu_ioas_map,
  iommu_ioas_unmap, iommu_iova_range, vfio_device_attach_iommufd_pt, vfio_device_bind_iommufd,
} from '../sys/uapi/linux-vfio.js';
import { flagSet, type FlagOf } from '../sys/uapi/struct.js';

const log = logger('vfio');

/** An iommufd with one IOAS; the DMA mapper of the devices attached to it. */
export class IommufdContext implements DmaMapper {
  readonly fd: number;
  readonly ioasId: number;
  #device: string;
  #ranges: IovaRange[] = [];
  #pageSize = 4096;
  #closed = false;
  readonly #live = new Map<bigint, number>();

  private constructor(fd: number, ioasId: number, device: string) {
    this.fd = fd;
    this.ioasId = ioasId;
    this.#device = device;
  }

  static open(device: string, iommuPath = '/dev/iommu'): IommufdContext {
    const fd = openNode(iommuPath, device, O_RDWR | O_CLOEXEC);
    try {
      const alloc = iommu_ioas_alloc.encode();
      vfioIoctl(fd, IommufdIoctl.IOMMU_IOAS_ALLOC, alloc, 'iommufd', device);
      return new IommufdContext(fd, iommu_ioas_alloc.get(alloc, 'out_ioas_id'), device);
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
  }

  /** DEVICE_BIND_IOMMUFD then DEVICE_ATTACH_IOMMUFD_PT to this IOAS; refreshes the IOVA ranges. Returns the devid. */
  attach(deviceFd: number, device: string): number {
    const bind = vfio_device_bind_iommufd.encode({ iommufd: this.fd });
    vfioIoctl(deviceFd, DeviceIoctl.VFIO_DEVICE_BIND_IOMMUFD, bind, 'device', device);
    vfioIoctl(deviceFd, DeviceIoctl.VFIO_DEVICE_ATTACH_IOMMUFD_PT, vfio_device_attach_iommufd_pt.encode({ pt_id: this.ioasId }), 'device', device);
    this.refreshRanges();
    const devid = vfio_device_bind_iommufd.get(bind, 'out_devid');
    log('%s bound to iommufd (devid %d), attached to IOAS %d', device, devid, this.ioasId);
    return devid;
  }

  /** IOMMU_IOAS_IOVA_RANGES: asks for the count first (EMSGSIZE tells it), then the ranges. */
  refreshRanges(): void {
    let capacity = 8;
    for (let attempt = 0; attempt < 4; attempt++) {
      const array = new Uint8Array(capacity * iommu_iova_range.size);
      const req = iommu_ioas_iova_ranges.encode({ ioas_id: this.ioasId, num_iovas: capacity, allowed_iovas: addressOf(array) });
      try {
        vfioIoctl(this.fd, IommufdIoctl.IOMMU_IOAS_IOVA_RANGES, req, 'iommufd', this.#device);
      } catch (e) {
        if (e instanceof VfioError && e.code === 'EVFIO_EMSGSIZE') {
          capacity = iommu_ioas_iova_ranges.get(req, 'num_iovas');
          continue;
        }
        throw e;
      }
      const { num_iovas: numIovas, out_iova_alignment: alignment } = iommu_ioas_iova_ranges.decode(req);
      this.#ranges = iommu_iova_range.array(array, 0, numIovas).map((r) => ({ start: r.start, end: r.last }));
      this.#pageSize = Number(alignment > 0n ? alignment : 4096n);
      return;
    }
    throw new VfioError('EVFIO_RANGES', `IOMMU_IOAS_IOVA_RANGES on ${this.#device} kept growing: try again`, { device: this.#device });
  }

  iovaRanges(): IovaRange[] {
    return this.#ranges.map((r) => ({ ...r }));
  }

  get pageSize(): number {
    return this.#pageSize;
  }

  /** iommufd has no per-mapping budget (pinned memory is limited by RLIMIT_MEMLOCK instead). */
  get mappingsAvailable(): number {
    return Infinity;
  }

  get mappings(): ReadonlyMap<bigint, number> {
    return this.#live;
  }

  map(memory: DmaMemory, iova: bigint, access: DmaAccess): void {
    checkOpen(this.#device, this.#closed, 'DMA map');
    checkDmaMap(this.#device, memory, iova, access, this.pageSize);
    // READABLE: the device may read the memory; WRITEABLE: the device may write it.
    const parts: FlagOf<typeof IoasMapFlags>[] = [IoasMapFlags.FIXED_IOVA];
    if (access.read) parts.push(IoasMapFlags.READABLE);
    if (access.write) parts.push(IoasMapFlags.WRITEABLE);
    vfioIoctl(this.fd, IommufdIoctl.IOMMU_IOAS_MAP, iommu_ioas_map.encode({ flags: flagSet(...parts), ioas_id: this.ioasId, user_va: memory.address, length: BigInt(memory.size), iova }), 'iommufd', this.#device);
    this.#live.set(iova, memory.size);
  }

  unmap(iova: bigint, size: number): void {
    if (this.#closed) return;
    const req = iommu_ioas_unmap.encode({ ioas_id: this.ioasId, iova, length: BigInt(size) });
    vfioIoctl(this.fd, IommufdIoctl.IOMMU_IOAS_UNMAP, req, 'iommufd', this.#device);
    this.#live.delete(iova);
    const unmapped = iommu_ioas_unmap.get(req, 'length');
    if (unmapped !== BigInt(size)) {
      throw new VfioError('EVFIO_UNMAP_SIZE', `IOMMU_IOAS_UNMAP on ${this.#device} unmapped ${unmapped} bytes at IOVA 0x${iova.toString(16)}, not ${size}`, { device: this.#device, iova, size, unmapped });
    }
  }

  /** Destroy the IOAS and close /dev/iommu (after the device fd is closed, which unbinds it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#live.clear();
    try {
      vfioIoctl(this.fd, IommufdIoctl.IOMMU_DESTROY, iommu_destroy.encode({ id: this.ioasId }), 'iommufd', this.#device);
    } catch {
      // Closing the fd below destroys every object of this iommufd anyway.
    }
    closeQuietly(this.fd);
  }
}
