// Huge page pools as the kernel reports them in /sys/kernel/mm/hugepages/hugepages-<N>kB/
// (Documentation/admin-guide/mm/hugetlbpage.rst): nr_hugepages, free_hugepages,
// resv_hugepages, surplus_hugepages, nr_overcommit_hugepages.
import fs from 'node:fs';
import path from 'node:path';
import { MAP_HUGE_1GB, MAP_HUGE_2MB } from '../sys/constants.js';

export type HugePageSize = '2M' | '1G';

export const HUGE_PAGE_BYTES: Readonly<Record<HugePageSize, number>> = { '2M': 2 * 1024 * 1024, '1G': 1024 * 1024 * 1024 };

/** memfd_create flag for a huge page size: log2(size) in HUGETLB_FLAG_ENCODE (include/uapi/linux/memfd.h MFD_HUGE_2MB / _1GB). */
export const MFD_HUGE_FLAG: Readonly<Record<HugePageSize, number>> = { '2M': MAP_HUGE_2MB, '1G': MAP_HUGE_1GB };

export interface HugePagePool {
  size: HugePageSize;
  bytes: number;
  /** Persistent pool size (nr_hugepages). */
  total: number;
  /** Pages not yet faulted in (free_hugepages), including ones reserved by existing mappings. */
  free: number;
  /** Reserved by mappings but not faulted in (resv_hugepages). */
  reserved: number;
  /** Pages a new mapping can get: free - reserved + overcommit headroom. */
  usable: number;
  /** The sysfs directory, for error messages telling the user what to write. */
  dir: string;
}

function readCount(dir: string, file: string): number {
  try {
    const n = Number.parseInt(fs.readFileSync(path.join(dir, file), 'utf8').trim(), 10);
    return Number.isFinite(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** The 2 MiB and 1 GiB pools this kernel has (absent sizes are left out). `sysfsRoot` is "/sys" on a live system. */
export function hugePagePools(sysfsRoot = '/sys'): HugePagePool[] {
  const pools: HugePagePool[] = [];
  for (const size of ['2M', '1G'] as const) {
    const dir = path.join(sysfsRoot, 'kernel/mm/hugepages', `hugepages-${HUGE_PAGE_BYTES[size] / 1024}kB`);
    if (!fs.existsSync(dir)) continue;
    const total = readCount(dir, 'nr_hugepages');
    const free = readCount(dir, 'free_hugepages');
    const reserved = readCount(dir, 'resv_hugepages');
    const overcommit = readCount(dir, 'nr_overcommit_hugepages');
    const surplus = readCount(dir, 'surplus_hugepages');
    const usable = Math.max(0, free - reserved) + Math.max(0, overcommit - surplus);
    pools.push({ size, bytes: HUGE_PAGE_BYTES[size], total, free, reserved, usable, dir });
  }
  return pools;
}

/** The pool of one size, or undefined when the kernel has none of that size. */
export function hugePagePool(size: HugePageSize, sysfsRoot = '/sys'): HugePagePool | undefined {
  return hugePagePools(sysfsRoot).find((p) => p.size === size);
}

/**
 * The page size 'auto' picks for `size` bytes: 1 GiB pages only when the size is a whole number
 * of them, 2 MiB pages for sizes of at least 2 MiB, rounded up to whole 2 MiB pages only when
 * that wastes less than an eighth; otherwise undefined (normal pages). Only pools with enough
 * usable pages count.
 */
export function autoHugePageSize(size: number, pools: HugePagePool[]): HugePageSize | undefined {
  const oneG = pools.find((p) => p.size === '1G');
  if (oneG && size % oneG.bytes === 0 && oneG.usable >= size / oneG.bytes) return '1G';
  const twoM = pools.find((p) => p.size === '2M');
  if (twoM && size >= twoM.bytes) {
    const pages = Math.ceil(size / twoM.bytes);
    const waste = pages * twoM.bytes - size;
    if (waste * 8 < size && twoM.usable >= pages) return '2M';
  }
  return undefined;
}
