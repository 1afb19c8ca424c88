// HostMemory: host RAM a device can DMA to: a memfd (so another process, e.g. a vfio-user server,
// can map the same pages through the fd), optionally on hugetlb pages (MFD_HUGETLB with the page
// size in the flags, include/uapi/linux/memfd.h), mapped shared and read-write.
//
// With the C shim built, the bytes are a view of a SharedArrayBuffer over the mapping (post it to
// worker threads without copying); without it, of koffi's external ArrayBuffer.
//
// On close the pages are released and the address range is replaced by an anonymous
// zero-filled placeholder until the last JS view of it is garbage collected (the
// SharedArrayBuffer's deleter munmaps it, in whichever thread drops it last; without the shim a
// FinalizationRegistry does), so a stale view kept by mistake reads zeroes instead of faulting.
import buffer from 'node:buffer';
import type { DmaMemory } from './mapper.js';
import { ArgumentError } from '../errors.js';
import { DmaError } from './errors.js';
import { logger } from '../util/log.js';
import { shim } from '../sys/shim.js';
import { HUGE_PAGE_BYTES, MFD_HUGE_FLAG, autoHugePageSize, hugePagePools, type HugePageSize } from './hugepages.js';
import {
  MAP_ANONYMOUS, MAP_FAILED, MAP_FIXED, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
  MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGETLB, F_ADD_SEALS, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, PROT_NONE, PROT_READ, PROT_WRITE,
  closeFd, errno, errnoName, fcntlInt, ftruncate, memfd_create, mmap, munmap, viewOf,
} from './host-sys.js';

const log = logger('dma');

/** Normal page size on x86-64 Linux. */
export const BASE_PAGE_SIZE = 4096;

export interface HostMemoryOptions {
  /** Back the memory with huge pages of this size, or 'auto' to use them when they fit and are available. */
  hugePages?: HugePageSize | 'auto';
  /** memfd name (shows in /proc/<pid>/maps and fdinfo). */
  name?: string;
  /** Fault every page in at allocation (MAP_POPULATE). Default true. */
  populate?: boolean;
  /** Where sysfs is (for huge page pool detection); "/sys" by default. */
  sysfsRoot?: string;
  /**
   * Round the size up to a multiple of this and align the host address to it (a power of two);
   * for IOMMUs whose smallest page is larger than the CPU's (VFIO type1 wants vaddr, iova and
   * size aligned to the IOMMU page, drivers/vfio/vfio_iommu_type1.c vfio_dma_do_map).
   */
  granule?: number;
}

/** When the last view of a released range is collected, give the placeholder's address space back. */
const placeholders = new FinalizationRegistry<{ address: bigint; size: number }>(({ address, size }) => {
  munmap(address, size);
});

/** Host memory that was never closed: say so (it stays allocated; its fd stays open). */
const leaks = new FinalizationRegistry<string>((what) => {
  log('%s was garbage collected without close(): its memory and fd leak until the process exits', what);
});

export class HostMemory implements DmaMemory, Disposable {
  readonly address: bigint;
  readonly size: number;
  readonly fd: number;
  readonly fdOffset = 0;
  /** The page size backing the memory (4096, 2 MiB or 1 GiB). */
  readonly pageSize: number;
  readonly hugePages: HugePageSize | undefined;
  /** The size the caller asked for (size is this rounded up to pageSize). */
  readonly requestedSize: number;
  readonly name: string;
  #buffer: ArrayBuffer | SharedArrayBuffer;
  #shared: SharedArrayBuffer | undefined;
  #bytes: Uint8Array;
  #closed = false;

  /** @internal use allocateHostMemory(). */
  constructor(init: { address: bigint; size: number; fd: number; pageSize: number; hugePages: HugePageSize | undefined; requestedSize: number; name: string }) {
    this.address = init.address;
    this.size = init.size;
    this.fd = init.fd;
    this.pageSize = init.pageSize;
    this.hugePages = init.hugePages;
    this.requestedSize = init.requestedSize;
    this.name = init.name;
    const s = shim();
    // unmap=true: the deleter munmaps the (placeholder) range when the last reference dies.
    this.#shared = s ? s.sharedBuffer(init.address, init.size, true) : undefined;
    this.#buffer = this.#shared ?? viewOf(init.address, init.size);
    this.#bytes = new Uint8Array(this.#buffer);
    leaks.register(this, `host memory "${init.name}" (${init.size} bytes)`, this);
  }

  /** The memory's bytes (an empty array once closed). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** The buffer the views are made on (zero-length once closed). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.#buffer;
  }

  /** The memory as a SharedArrayBuffer when the C shim is built (for worker threads), else undefined. */
  get sharedBuffer(): SharedArrayBuffer | undefined {
    return this.#shared;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Release the pages and the fd. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    leaks.unregister(this);
    const oldBuffer = this.#buffer;
    const shared = this.#shared !== undefined;
    this.#shared = undefined;
    this.#buffer = new ArrayBuffer(0);
    this.#bytes = new Uint8Array(this.#buffer);
    // Swap the pages for an anonymous placeholder in one step (no window where the range is
    // unmapped and could be reused by another mapping while a stale view still points at it).
    const placeholder = mmap(this.address, this.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (placeholder === this.address) {
      if (!shared) placeholders.register(oldBuffer, { address: this.address, size: this.size });
    } else if (!shared) {
      const e = errno();
      log('placeholder mmap over %s failed (%s); unmapping directly', this.name, errnoName(e));
      munmap(this.address, this.size);
    }
    // (shared and the placeholder failed: the pages stay until the SharedArrayBuffer deleter runs.)
    closeFd(this.fd);
    log('released %s (%d bytes)', this.name, this.size);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

let serial = 0;

/** mmap `fd` at an address aligned to `alignment`: reserve a larger window, map inside it, trim. */
function mapAligned(fd: number, size: number, alignment: number, populate: boolean): bigint {
  const window = size + alignment;
  const base = mmap(null, window, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base === MAP_FAILED) return MAP_FAILED;
  const align = BigInt(alignment);
  const start = ((base + align - 1n) / align) * align;
  const address = mmap(start, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED | (populate ? MAP_POPULATE : 0), fd, 0);
  if (address === MAP_FAILED) {
    const e = errno();
    munmap(base, window);
    errno(e);
    return MAP_FAILED;
  }
  if (start > base) munmap(base, Number(start - base));
  const tail = base + BigInt(window) - (start + BigInt(size));
  if (tail > 0n) munmap(start + BigInt(size), Number(tail));
  return address;
}

/** Allocate `size` bytes of DMA-able host memory (rounded up to the page size used). */
export function allocateHostMemory(size: number, options: HostMemoryOptions = {}): HostMemory {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new ArgumentError('EARG_SIZE', `DMA memory size ${String(size)} must be a positive integer number of bytes`, { size: String(size) });
  }
  if (size > buffer.constants.MAX_LENGTH) {
    throw new ArgumentError('EARG_SIZE', `DMA memory size ${size} exceeds the largest JS view (${buffer.constants.MAX_LENGTH} bytes): allocate several buffers`, { size, max: buffer.constants.MAX_LENGTH });
  }
  const name = options.name ?? `vfiokit-dma-${process.pid}-${serial++}`;
  let huge: HugePageSize | undefined;
  const want = options.hugePages;
  if (want === 'auto') {
    huge = autoHugePageSize(size, hugePagePools(options.sysfsRoot));
  } else if (want !== undefined) {
    if (want !== '2M' && want !== '1G') {
      throw new ArgumentError('EARG_HUGE_PAGES', `hugePages '${String(want)}' is not one of '2M', '1G', 'auto'`, { hugePages: String(want) });
    }
    const pool = hugePagePools(options.sysfsRoot).find((p) => p.size === want);
    if (!pool) {
      throw new DmaError('EDMA_HUGEPAGES_UNSUPPORTED', `this kernel has no ${want} huge page pool (/sys/kernel/mm/hugepages/hugepages-${HUGE_PAGE_BYTES[want] / 1024}kB is missing): ask for '2M' or leave hugePages unset`, { hugePages: want });
    }
    const pages = Math.ceil(size / pool.bytes);
    if (pool.usable < pages) {
      throw new DmaError('EDMA_HUGEPAGES_EXHAUSTED', `${pages} ${want} huge page(s) needed for ${size} bytes but only ${pool.usable} are free: reserve more with "echo ${pool.total + pages - pool.usable} > ${pool.dir}/nr_hugepages" (as root), or allocate without hugePages`, { hugePages: want, needed: pages, usable: pool.usable, dir: pool.dir });
    }
    huge = want;
  }
  const pageSize = huge ? HUGE_PAGE_BYTES[huge] : BASE_PAGE_SIZE;
  const granule = options.granule ?? pageSize;
  if (!Number.isSafeInteger(granule) || granule <= 0 || (granule & (granule - 1)) !== 0) {
    throw new ArgumentError('EARG_GRANULE', `DMA memory granule ${String(granule)} must be a power of two`, { granule: String(granule) });
  }
  const unit = Math.max(pageSize, granule);
  const rounded = Math.ceil(size / unit) * unit;
  if (rounded > buffer.constants.MAX_LENGTH) {
    throw new ArgumentError('EARG_SIZE', `DMA memory size ${size} rounded to ${pageSize}-byte pages (${rounded}) exceeds the largest JS view: allocate several buffers`, { size, rounded });
  }

  const fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | (huge ? MFD_HUGETLB | MFD_HUGE_FLAG[huge] : 0));
  if (fd < 0) {
    const e = errno();
    throw new DmaError('EDMA_MEMFD', `memfd_create("${name}"${huge ? `, MFD_HUGETLB ${huge}` : ''}) failed: ${errnoName(e)}${e === 24 ? ' (too many open files: close unused buffers or raise ulimit -n)' : ''}`, { errno: e, hugePages: huge });
  }
  if (ftruncate(fd, rounded) !== 0) {
    const e = errno();
    closeFd(fd);
    throw new DmaError('EDMA_MEMFD', `ftruncate of memfd "${name}" to ${rounded} bytes failed: ${errnoName(e)}${huge ? ' (hugetlb sizes must be whole pages and the pool must hold them)' : ''}`, { errno: e, size: rounded });
  }
  // Seal the size: a vfio-user server maps this fd, and a file that could shrink under its mapping
  // would make it guard every device access (src/vfio-user/server-dma.ts). Sealed, it trusts it.
  if (fcntlInt(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
    const e = errno();
    closeFd(fd);
    throw new DmaError('EDMA_MEMFD', `sealing memfd "${name}" (F_SEAL_SHRINK) failed: ${errnoName(e)}`, { errno: e });
  }
  const populate = options.populate ?? true;
  const address = unit > pageSize ? mapAligned(fd, rounded, unit, populate) : mmap(null, rounded, PROT_READ | PROT_WRITE, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
  if (address === MAP_FAILED || address === 0n) {
    const e = errno();
    closeFd(fd);
    throw new DmaError('EDMA_MMAP', `mmap of ${rounded} bytes of memfd "${name}" failed: ${errnoName(e)}${e === 12 ? (huge ? ` (not enough free ${huge} huge pages: see ${HUGE_PAGE_BYTES[huge] / 1024}kB pool in /sys/kernel/mm/hugepages)` : ' (out of memory or address space; check ulimit -v)') : ''}`, { errno: e, size: rounded, hugePages: huge });
  }
  log('allocated %s: %d bytes (%d asked) on %d-byte pages at 0x%s', name, rounded, size, pageSize, address.toString(16));
  try {
    return new HostMemory({ address, size: rounded, fd, pageSize, hugePages: huge, requestedSize: size, name });
  } catch (e) {
    // The views could not be built (nothing owns the mapping yet): release it and the memfd.
    munmap(address, rounded);
    closeFd(fd);
    throw e;
  }
}
