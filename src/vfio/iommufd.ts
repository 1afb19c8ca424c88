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
  IOMMU_DESTROY, IOMMU_IOAS_ALLOC, IOMMU_IOAS_IOVA_RANGES, IOMMU_IOAS_MAP, IOMMU_IOAS_UNMAP, IoasMapFlags,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_BIND_IOMMUFD, decodeBindIommufd, decodeIoasAlloc,
  decodeIoasIovaRanges, decodeIoasUnmapLength, decodeIommuIovaRangeArray, encodeAttachPt, encodeBindIommufd,
  encodeIoasAlloc, encodeIoasIovaRanges, encodeIoasMap, encodeIoasUnmap, encodeIommuDestroy, flagSet, type Flag,
} from './uapi.js';

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
      const alloc = encodeIoasAlloc();
      vfioIoctl(fd, IOMMU_IOAS_ALLOC, alloc, 'iommufd', device);
      return new IommufdContext(fd, decodeIoasAlloc(alloc), device);
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
  }

  /** DEVICE_BIND_IOMMUFD then DEVICE_ATTACH_IOMMUFD_PT to this IOAS; refreshes the IOVA ranges. Returns the devid. */
  attach(deviceFd: number, device: string): number {
    const bind = encodeBindIommufd(this.fd);
    vfioIoctl(deviceFd, VFIO_DEVICE_BIND_IOMMUFD, bind, 'device', device);
    vfioIoctl(deviceFd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, encodeAttachPt(this.ioasId), 'device', device);
    this.refreshRanges();
    const devid = decodeBindIommufd(bind).devid;
    log('%s bound to iommufd (devid %d), attached to IOAS %d', device, devid, this.ioasId);
    return devid;
  }

  /** IOMMU_IOAS_IOVA_RANGES: asks for the count first (EMSGSIZE tells it), then the ranges. */
  refreshRanges(): void {
    let capacity = 8;
    for (let attempt = 0; attempt < 4; attempt++) {
      const array = new Uint8Array(capacity * 16);
      const req = encodeIoasIovaRanges(this.ioasId, capacity, addressOf(array));
      try {
        vfioIoctl(this.fd, IOMMU_IOAS_IOVA_RANGES, req, 'iommufd', this.#device);
      } catch (e) {
        if (e instanceof VfioError && e.code === 'EVFIO_EMSGSIZE') {
          capacity = decodeIoasIovaRanges(req).numIovas;
          continue;
        }
        throw e;
      }
      const { numIovas, iovaAlignment } = decodeIoasIovaRanges(req);
      this.#ranges = decodeIommuIovaRangeArray(array, numIovas);
      this.#pageSize = Number(iovaAlignment > 0n ? iovaAlignment : 4096n);
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
    const parts: Flag<'ioas_map'>[] = [IoasMapFlags.FIXED_IOVA];
    if (access.read) parts.push(IoasMapFlags.READABLE);
    if (access.write) parts.push(IoasMapFlags.WRITEABLE);
    vfioIoctl(this.fd, IOMMU_IOAS_MAP, encodeIoasMap(flagSet(...parts), this.ioasId, memory.address, BigInt(memory.size), iova), 'iommufd', this.#device);
    this.#live.set(iova, memory.size);
  }

  unmap(iova: bigint, size: number): void {
    if (this.#closed) return;
    const req = encodeIoasUnmap(this.ioasId, iova, BigInt(size));
    vfioIoctl(this.fd, IOMMU_IOAS_UNMAP, req, 'iommufd', this.#device);
    this.#live.delete(iova);
    const unmapped = decodeIoasUnmapLength(req);
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
      vfioIoctl(this.fd, IOMMU_DESTROY, encodeIommuDestroy(this.ioasId), 'iommufd', this.#device);
    } catch {
      // Closing the fd below destroys every object of this iommufd anyway.
    }
    closeQuietly(this.fd);
  }
}
