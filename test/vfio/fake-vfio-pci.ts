// A fake vfio-pci device below the syscall seam: the "device fd" is a real memfd (so pread/pwrite
// of config space and mmap of BARs are real syscalls on real memory) and only ioctl() on that fd is
// answered here, the way drivers/vfio/pci/vfio_pci_core.c answers it (GET_INFO, GET_REGION_INFO
// with a SPARSE_MMAP capability chain when the caller's argsz is large enough, GET_IRQ_INFO,
// SET_IRQS). Every other fd goes to the real ioctl. For error paths that need a VFIO device fd.
import { readlinkSync } from 'node:fs';
import koffi from 'koffi';
import { vi, type MockInstance } from 'vitest';
import { createMemfd, libc, closeQuietly } from '../../src/sys/libc.js';
import { getLe32, putLe32, putLe64 } from '../../src/util/bytes.js';
import {
  DeviceInfoFlags, IrqInfoFlags, RegionInfoFlags, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_SET_IRQS, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_REGION_INFO_CAP_SPARSE_MMAP, layouts,
} from '../../src/vfio/uapi.js';

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
  const all: Partial<Record<number, FakeRegion>> = { [VFIO_PCI_CONFIG_REGION_INDEX]: { size: 256, offset: CONFIG_OFFSET, flags: RegionInfoFlags.READ | RegionInfoFlags.WRITE }, ...regions };
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
    if (request === VFIO_DEVICE_GET_INFO) {
      const f = layouts.vfio_device_info.fields;
      putLe32(arg, f.flags, DeviceInfoFlags.PCI | (options.reset === false ? 0 : DeviceInfoFlags.RESET));
      putLe32(arg, f.num_regions, 9);
      putLe32(arg, f.num_irqs, 5);
      return 0;
    }
    if (request === VFIO_DEVICE_GET_REGION_INFO) {
      const f = layouts.vfio_region_info.fields;
      const index = getLe32(arg, f.index);
      const r = all[index];
      putLe32(arg, f.flags, 0);
      putLe64(arg, f.size, 0n);
      putLe64(arg, f.offset, BigInt(index) << 40n);
      if (!r) return 0;
      let flags = r.flags;
      if (r.sparse) {
        flags |= RegionInfoFlags.CAPS;
        const capAt = layouts.vfio_region_info.size;
        const need = capAt + layouts.vfio_region_info_cap_sparse_mmap.size + r.sparse.length * layouts.vfio_region_sparse_mmap_area.size;
        if (getLe32(arg, f.argsz) < need) {
          putLe32(arg, f.argsz, need);
          putLe32(arg, f.cap_offset, 0);
        } else {
          putLe32(arg, f.cap_offset, capAt);
          arg[capAt] = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
          arg[capAt + 2] = 1;
          putLe32(arg, capAt + 4, 0);
          putLe32(arg, capAt + layouts.vfio_region_info_cap_sparse_mmap.fields.nr_areas, r.sparse.length);
          r.sparse.forEach((a, i) => {
            const at = capAt + layouts.vfio_region_info_cap_sparse_mmap.fields.areas + i * layouts.vfio_region_sparse_mmap_area.size;
            putLe64(arg, at, BigInt(a.offset));
            putLe64(arg, at + 8, BigInt(a.size));
          });
        }
      }
      putLe32(arg, f.flags, flags);
      putLe64(arg, f.size, BigInt(r.size));
      putLe64(arg, f.offset, BigInt(r.offset));
      return 0;
    }
    if (request === VFIO_DEVICE_GET_IRQ_INFO) {
      const f = layouts.vfio_irq_info.fields;
      const count = irqs[getLe32(arg, f.index)]?.count ?? 0;
      putLe32(arg, f.flags, count ? IrqInfoFlags.EVENTFD : 0);
      putLe32(arg, f.count, count);
      return 0;
    }
    if (request === VFIO_DEVICE_SET_IRQS) {
      const f = layouts.vfio_irq_set.fields;
      const count = getLe32(arg, f.count);
      const eventfds = arg.length > layouts.vfio_irq_set.size ? Array.from({ length: count }, (_, i) => getLe32(arg, f.data + 4 * i) | 0) : [];
      if (eventfds.length && fake.failNextEventfdSet !== undefined) {
        const errno = fake.failNextEventfdSet;
        fake.failNextEventfdSet = undefined;
        return fail(errno);
      }
      fake.irqSets.push({ index: getLe32(arg, f.index), start: getLe32(arg, f.start), count, eventfds });
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
