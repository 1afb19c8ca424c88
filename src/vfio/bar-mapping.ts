// mmap of a VFIO region (a BAR or a sparse area of one) whose release is deterministic: a
// mapping of the device fd holds the device file open, and vfio-pci's remove/unbind waits until
// the last reference is gone (drivers/vfio/vfio_main.c vfio_unregister_group_dev). So close()
// swaps the device pages for an anonymous placeholder at once (MAP_FIXED: the range never
// becomes free for another mapping while a stale view may point into it); the placeholder's
// address space goes back when the last view of it is collected (the shim's SharedArrayBuffer
// deleter, or munmap right away when there is no shared view).
import { mmap, munmap } from '../sys/libc.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../sys/constants.js';
import { shim } from '../sys/shim.js';
import { MappedRegion } from '../mmio/mapped-region.js';
import type { Clock } from '../util/clock.js';

export function mapRegion(name: string, fd: number, size: number, offset: number, options: { clock: Clock; writable: boolean }): MappedRegion {
  const prot = options.writable ? PROT_READ | PROT_WRITE : PROT_READ;
  const address = mmap(null, size, prot, MAP_SHARED, fd, offset, { what: `mapping ${name}: ${size} bytes at region offset 0x${offset.toString(16)}` });
  const s = shim();
  try {
    if (s) {
      const sab = s.sharedBuffer(address, size, true);
      return new MappedRegion(name, address, size, {
        clock: options.clock,
        sharedBuffer: sab,
        onClose: () => {
          // Drop the device pages now; the SharedArrayBuffer deleter munmaps the placeholder later.
          mmap(address, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
        },
      });
    }
    return new MappedRegion(name, address, size, { clock: options.clock, onClose: () => munmap(address, size) });
  } catch (e) {
    // Not wrapped yet (sharedBuffer threw), or wrapped but the region could not be built: the
    // mapping holds the device file open, so release it now, not at garbage collection.
    if (!s?.unmapNow(address)) munmap(address, size);
    throw e;
  }
}
