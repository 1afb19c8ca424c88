// Error reporting through real syscalls: VFIO ioctls on an fd that is not a VFIO file (/dev/null
// answers ENOTTY) must come back as typed errors naming the ioctl, the device and the errno.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Type1Mapper } from '../../src/vfio/type1.js';
import { IommufdContext } from '../../src/vfio/iommufd.js';
import { VfioError, vfioIoctl } from '../../src/vfio/errors.js';
import { DeviceIoctl } from '../../src/sys/uapi/linux-vfio.js';
import { allocateHostMemory } from '../../src/dma/host-memory.js';
import { allocateDma } from '../../src/dma/dma-buffer.js';

const fd = fs.openSync('/dev/null', 'r+');
afterAll(() => fs.closeSync(fd));

describe('VFIO errors from real syscalls', () => {
  it('an ioctl failure names the ioctl, the device and the errno', () => {
    try {
      vfioIoctl(fd, DeviceIoctl.VFIO_DEVICE_RESET, null, 'device', 'vfio:0000:3b:00.0');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(VfioError);
      expect((e as VfioError).code).toBe('EVFIO_ENOTTY');
      expect((e as VfioError).errno).toBe(25);
      expect((e as Error).message).toBe('VFIO_DEVICE_RESET on vfio:0000:3b:00.0 failed: ENOTTY: this kernel does not know the ioctl (wrong fd class, or a kernel too old for it)');
    }
  });

  it('a type1 map that the kernel refuses leaves no mapping and no IOVA behind', () => {
    const mapper = new Type1Mapper(fd, 'vfio:test', { iovaPgsizes: 0x40201000n, iovaRanges: [{ start: 0n, end: 0xffffffffn }], dmaAvail: 10 });
    expect(mapper.pageSize).toBe(4096);
    expect(mapper.mappingsAvailable).toBe(10);
    using mem = allocateHostMemory(4096);
    expect(() => mapper.map(mem, 0x1000n, { read: true, write: true })).toThrow(/VFIO_IOMMU_MAP_DMA on vfio:test failed: ENOTTY/);
    expect(mapper.mappings.size).toBe(0);
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    expect(() => allocateDma(mapper, 4096)).toThrow(VfioError);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(fdsBefore);
    expect(() => mapper.unmap(0x1000n, 4096)).toThrow(/VFIO_IOMMU_UNMAP_DMA/);
    mapper.markClosed();
    mapper.unmap(0x1000n, 4096); // after close: the container dropped every mapping already
    expect(() => mapper.map(mem, 0x1000n, { read: true, write: false })).toThrow(/the device is closed/);
  });

  it('opening /dev/iommu that is not an iommufd fails on IOMMU_IOAS_ALLOC and closes the fd', () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    expect(() => IommufdContext.open('vfio:test', '/dev/null')).toThrow(/IOMMU_IOAS_ALLOC on vfio:test failed: ENOTTY/);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
    expect(() => IommufdContext.open('vfio:test', '/nonexistent/iommu')).toThrow(/no \/dev\/iommu|ENOENT/);
  });

});
