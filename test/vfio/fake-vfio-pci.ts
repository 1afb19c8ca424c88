// A fake vfio-pci device below the syscall seam: the "device fd" is a real memfd (so pread/pwrite
// of config space and mmap of BARs are real syscalls on real memory) and only ioctl() on that fd is
// answered here, the way drivers/vfio/pci/vfio_pci_core.c answers it (GET_INFO, GET_REGION_INFO
// with a SPARSE_MMAP capability chain when the caller's argsz is large enough, GET_IRQ_INFO,
// SET_IRQS). Every other fd goes to the real ioctl. For error paths that need a VFIO device fd.
import { readlinkSync } from 'node:fs';
import koffi from 'koffi';
import { vi, type MockInstance } from 'vitest';
import { createMemfd, libc, closeQuietly } from '../../src/sys/libc.js';
import { putLe32 } from '../../src/util/bytes.js';
import {
  DeviceInfoFlags, DeviceIoctl, IrqInfoFlags, PciRegionIndex, RegionInfoCap, RegionInfoFlags, vfio_device_info, vfio_irq_info,
  vfio_irq_set, vfio_region_info, vfio_region_info_cap_sparse_mmap, vfio_region_sparse_mmap_area,
} from '../../src/sys/uapi/linux-vfio.js';
import { flagSet, s32, type FlagOf } from '../../src/sys/uapi/struct.js';

type RegionFlag = FlagOf<typeof RegionInfoFlags>;

export interface FakeRegion {
  size: number;
  /** Offset in the device fd (page aligned for mmap). */
  offset: number;
  flags: number;
  /** SPARSE_MMAP areas (offset, size inside the region). */
  sparse?: { offset: number; size: number }[];
}

export interface FakeVfioPci {
  readonly fd: number;
  /** SET_IRQS calls seen (index, start, count, eventfds). */
  readonly irqSets: { index: number; start: number; count: number; eventfds: number[] }[];
  /** errno to fail the next SET_IRQS with DATA_EVENTFD (e.g. 22 EINVAL), once. */
  failNextEventfdSet: number | undefined;
  dispose(): void;
}

const CONFIG_OFFSET = 0x7000;
const EINVAL = 22;
const ENOTTY = 25;

/** `reset: false`: a function vfio-pci cannot reset (reset_works false: no VFIO_DEVICE_FLAGS_RESET). */
export function fakeVfioPci(regions: Partial<Record<number, FakeRegion>>, irqs: Partial<Record<number, { count: number }>> = {}, options: { reset?: boolean } = {}): FakeVfioPci {
  const fd = createMemfd('fake-vfio-pci', CONFIG_OFFSET + 0x1000);
  // Config space: vendor 8086, device 0b30 (N3000), class 120000.
  const cfg = new Uint8Array(256);
  putLe32(cfg, 0x00, 0x0b308086);
  putLe32(cfg, 0x08, 0x12000000);
  libc.pwrite(fd, cfg, cfg.length, CONFIG_OFFSET);
  const all: Partial<Record<number, FakeRegion>> = { [PciRegionIndex.CONFIG_REGION_INDEX]: { size: 256, offset: CONFIG_OFFSET, flags: RegionInfoFlags.READ | RegionInfoFlags.WRITE }, ...regions };
  const real = libc.ioctl;
  const fake: FakeVfioPci = {
    fd,
    irqSets: [],
    failNextEventfdSet: undefined,
    dispose() {
      spy.mockRestore();
      // Close the memfd unless the device closed it already (the number may be reused since).
      let target = '';
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // Not open.
      }
      if (target.includes('memfd:fake-vfio-pci')) closeQuietly(fd);
    },
  };
  const fail = (errno: number): number => {
    koffi.errno(errno);
    return -1;
  };
  const answer = (request: number, arg: Uint8Array): number => {
    if (request === DeviceIoctl.VFIO_DEVICE_GET_INFO) {
      vfio_device_info.write(arg, 0, { flags: options.reset === false ? flagSet(DeviceInfoFlags.PCI) : flagSet(DeviceInfoFlags.PCI, DeviceInfoFlags.RESET), num_regions: 9, num_irqs: 5 });
      return 0;
    }
    if (request === DeviceIoctl.VFIO_DEVICE_GET_REGION_INFO) {
      const index = vfio_region_info.get(arg, 'index');
      const r = all[index];
      vfio_region_info.write(arg, 0, { flags: 0 as RegionFlag, size: 0n, offset: BigInt(index) << 40n });
      if (!r) return 0;
      let flags = r.flags;
      if (r.sparse) {
        flags |= RegionInfoFlags.CAPS;
        const sparse = vfio_region_info_cap_sparse_mmap;
        const capAt = vfio_region_info.size;
        const need = capAt + sparse.size + r.sparse.length * vfio_region_sparse_mmap_area.size;
        if (vfio_region_info.get(arg, 'argsz') < need) {
          vfio_region_info.write(arg, 0, { argsz: need, cap_offset: 0 });
        } else {
          vfio_region_info.put(arg, 'cap_offset', capAt);
          sparse.write(arg, capAt, { header: { id: RegionInfoCap.SPARSE_MMAP, version: 1, next: 0 }, nr_areas: r.sparse.length });
          r.sparse.forEach((a, i) => {
            vfio_region_sparse_mmap_area.write(arg, capAt + sparse.offsets.areas + i * vfio_region_sparse_mmap_area.size, { offset: BigInt(a.offset), size: BigInt(a.size) });
          });
        }
      }
      vfio_region_info.write(arg, 0, { flags: flags as RegionFlag, size: BigInt(r.size), offset: BigInt(r.offset) });
      return 0;
    }
    if (request === DeviceIoctl.VFIO_DEVICE_GET_IRQ_INFO) {
      const count = irqs[vfio_irq_info.get(arg, 'index')]?.count ?? 0;
      vfio_irq_info.write(arg, 0, { flags: count ? IrqInfoFlags.EVENTFD : (0 as FlagOf<typeof IrqInfoFlags>), count });
      return 0;
    }
    if (request === DeviceIoctl.VFIO_DEVICE_SET_IRQS) {
      const f = vfio_irq_set.offsets;
      const count = vfio_irq_set.get(arg, 'count');
      const eventfds = arg.length > vfio_irq_set.size ? Array.from({ length: count }, (_, i) => s32.get(arg, f.data + s32.size * i)) : [];
      if (eventfds.length && fake.failNextEventfdSet !== undefined) {
        const errno = fake.failNextEventfdSet;
        fake.failNextEventfdSet = undefined;
        return fail(errno);
      }
      fake.irqSets.push({ index: vfio_irq_set.get(arg, 'index'), start: vfio_irq_set.get(arg, 'start'), count, eventfds });
      return 0;
    }
    return fail(EINVAL);
  };
  const spy: MockInstance = vi.spyOn(libc, 'ioctl').mockImplementation(((target: number, request: number, arg: unknown) => {
    if (target !== fd) return real(target, request, arg);
    if (!(arg instanceof Uint8Array)) return fail(ENOTTY);
    return answer(request, arg);
  }) as typeof libc.ioctl);
  return fake;
}
