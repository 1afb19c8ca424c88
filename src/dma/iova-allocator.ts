// IovaAllocator: hands out device addresses (IOVAs) inside the ranges the IOMMU reports
// (type1 VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, iommufd IOMMU_IOAS_IOVA_RANGES; inclusive ends),
// page-aligned, with per-allocation alignment, and within the mapping budget
// (VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, default 65535 in drivers/vfio/vfio_iommu_type1.c).
// First fit over a sorted free list; freed blocks coalesce with their neighbours.
import type { IovaRange } from './mapper.js';
import { ArgumentError } from '../errors.js';
import { DmaError, IovaExhaustedError } from './errors.js';

export interface IovaAllocatorOptions {
  /** IOMMU page size (IOVA and size granule); a power of two. Default 4096. */
  pageSize?: number;
  /** Most allocations live at once (the mapping budget); default unlimited. */
  mappingBudget?: number;
  /**
   * Keep IOVA 0 .. pageSize-1 out of use (default true): a device that DMAs to an unprogrammed
   * (zero) address register then faults in the IOMMU instead of hitting a live buffer.
   */
  reserveZeroPage?: boolean;
}

export interface IovaRequest {
  /** Alignment of the IOVA (power of two; raised to the page size). */
  alignment?: number | bigint;
  /** Highest usable IOVA, inclusive (for devices with narrow address registers). */
  limit?: bigint;
}

interface Block {
  start: bigint;
  /** Inclusive. */
  end: bigint;
}

function isPowerOfTwo(n: bigint): boolean {
  return n > 0n && (n & (n - 1n)) === 0n;
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

/** An IOVA (or IOVA limit) from the caller: a bigint in 0 .. 2^64-1. */
function checkIova(what: string, value: unknown): bigint {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) {
    throw new ArgumentError('EARG_IOVA', `IOVA ${what} ${typeof value === 'bigint' ? (value < 0n ? `-${hex(-value)}` : hex(value)) : `${String(value)} (${typeof value})`} is not a bigint in 0..2^64-1: pass it as a bigint, e.g. 0x100000n`, { [what]: String(value) });
  }
  return value;
}

export class IovaAllocator {
  readonly pageSize: number;
  readonly mappingBudget: number;
  readonly #page: bigint;
  /** Usable ranges after page alignment (sorted, disjoint). */
  readonly #ranges: Block[];
  /** Free blocks, sorted by start, disjoint, never adjacent (coalesced). */
  #free: Block[] = [];
  /** start -> size of every live allocation. */
  readonly #used = new Map<bigint, bigint>();

  constructor(ranges: readonly IovaRange[], options: IovaAllocatorOptions = {}) {
    const pageSize = options.pageSize ?? 4096;
    if (!Number.isSafeInteger(pageSize) || !isPowerOfTwo(BigInt(pageSize))) {
      throw new ArgumentError('EARG_PAGE_SIZE', `IOVA page size ${pageSize} is not a power of two; pass the IOMMU's smallest page size (e.g. 4096)`, { pageSize });
    }
    const budget = options.mappingBudget ?? Infinity;
    if (!(budget >= 0)) throw new ArgumentError('EARG_BUDGET', `mapping budget ${budget} must be a number >= 0 (Infinity for unlimited)`, { budget });
    this.pageSize = pageSize;
    this.mappingBudget = budget;
    this.#page = BigInt(pageSize);
    const page = this.#page;
    const sorted = ranges
      .map((r, i) => {
        if (typeof r.start !== 'bigint' || typeof r.end !== 'bigint' || r.start < 0n || r.end < r.start || r.end >= 1n << 64n) {
          throw new ArgumentError('EARG_IOVA_RANGE', `IOVA range #${i} [${String(r.start)}, ${String(r.end)}] is invalid: start and end are bigint, 0 <= start <= end < 2^64, end inclusive`, { index: i });
        }
        return { start: r.start, end: r.end };
      })
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    // Merge overlapping/adjacent ranges, then shrink each to whole pages.
    const merged: Block[] = [];
    for (const r of sorted) {
      const last = merged[merged.length - 1];
      if (last && r.start <= last.end + 1n) {
        if (r.end > last.end) last.end = r.end;
      } else merged.push({ ...r });
    }
    const zeroLimit = options.reserveZeroPage ?? true ? page : 0n;
    this.#ranges = [];
    for (const r of merged) {
      let start = ((r.start + page - 1n) / page) * page;
      if (start < zeroLimit) start = zeroLimit;
      const end = ((r.end + 1n) / page) * page - 1n;
      if (end >= start) this.#ranges.push({ start, end });
    }
    this.#free = this.#ranges.map((r) => ({ ...r }));
  }

  /** The usable ranges (page-aligned, inclusive ends). */
  get ranges(): IovaRange[] {
    return this.#ranges.map((r) => ({ start: r.start, end: r.end }));
  }

  /** The free blocks right now (inclusive ends), for diagnostics. */
  get freeBlocks(): IovaRange[] {
    return this.#free.map((r) => ({ start: r.start, end: r.end }));
  }

  get freeBytes(): bigint {
    let total = 0n;
    for (const b of this.#free) total += b.end - b.start + 1n;
    return total;
  }

  get allocations(): number {
    return this.#used.size;
  }

  /** Round a byte count up to whole IOMMU pages. */
  roundSize(size: number | bigint): bigint {
    const s = BigInt(size);
    return ((s + this.#page - 1n) / this.#page) * this.#page;
  }

  /** Take `size` bytes (rounded up to pages) of IOVA space; returns the IOVA. */
  allocate(size: number | bigint, request: IovaRequest = {}): bigint {
    const bytes = this.#checkSize(size);
    const align = this.#alignment(request.alignment);
    const limit = request.limit === undefined ? (1n << 64n) - 1n : checkIova('limit', request.limit);
    if (this.#used.size >= this.mappingBudget) {
      throw new IovaExhaustedError('EDMA_MAPPINGS', `the IOMMU mapping budget is used up (${this.#used.size} of ${this.mappingBudget} mappings live): free DMA buffers you no longer need, or allocate fewer, larger buffers and sub-allocate inside them`, { live: this.#used.size, budget: this.mappingBudget });
    }
    for (let i = 0; i < this.#free.length; i++) {
      const block = this.#free[i]!;
      const start = ((block.start + align - 1n) / align) * align;
      const end = start + bytes - 1n;
      if (end > block.end || end > limit) {
        if (block.start > limit) break;
        continue;
      }
      this.#take(i, start, end);
      this.#used.set(start, bytes);
      return start;
    }
    throw new IovaExhaustedError('EDMA_IOVA_SPACE', `no free IOVA block of ${hex(bytes)} bytes aligned to ${hex(align)}${request.limit !== undefined ? ` below ${hex(limit + 1n)}` : ''} (free ${hex(this.freeBytes)} bytes in ${this.#free.length} blocks, ${this.#used.size} live allocations): free buffers, use smaller ones or a smaller alignment`, { size: bytes, alignment: align, limit: request.limit, freeBytes: this.freeBytes, freeBlocks: this.#free.length, live: this.#used.size });
  }

  /** Take exactly [iova, iova+size) (a fixed placement); throws if any of it is not free. */
  reserve(iova: bigint, size: number | bigint): bigint {
    const bytes = this.#checkSize(size);
    checkIova('iova', iova);
    if (iova % this.#page !== 0n) {
      throw new ArgumentError('EARG_IOVA_ALIGN', `IOVA ${hex(iova)} is not aligned to the IOMMU page size ${hex(this.#page)}`, { iova });
    }
    if (this.#used.size >= this.mappingBudget) {
      throw new IovaExhaustedError('EDMA_MAPPINGS', `the IOMMU mapping budget is used up (${this.#used.size} of ${this.mappingBudget} mappings live): free DMA buffers first`, { live: this.#used.size, budget: this.mappingBudget });
    }
    const end = iova + bytes - 1n;
    const i = this.#free.findIndex((b) => b.start <= iova && end <= b.end);
    if (i < 0) {
      const inRange = this.#ranges.some((r) => r.start <= iova && end <= r.end);
      throw new IovaExhaustedError('EDMA_IOVA_BUSY', inRange
        ? `IOVA [${hex(iova)}, ${hex(end)}] overlaps a live allocation: pick another address or free that buffer first`
        : `IOVA [${hex(iova)}, ${hex(end)}] is outside the usable IOVA ranges ${this.#ranges.map((r) => `[${hex(r.start)}, ${hex(r.end)}]`).join(', ') || '(none)'}`, { iova, size: bytes });
    }
    this.#take(i, iova, end);
    this.#used.set(iova, bytes);
    return iova;
  }

  /** Size of the live allocation at `iova`, or undefined. */
  sizeOf(iova: bigint): bigint | undefined {
    return this.#used.get(iova);
  }

  /** Return the allocation that starts at `iova`. */
  free(iova: bigint): void {
    checkIova('iova', iova);
    const size = this.#used.get(iova);
    if (size === undefined) {
      throw new DmaError('EDMA_NOT_ALLOCATED', `IOVA ${hex(iova)} is not the start of a live allocation (double free, or an address inside a buffer): pass the iova allocate() returned`, { iova });
    }
    this.#used.delete(iova);
    this.#insertFree(iova, iova + size - 1n);
  }

  #checkSize(size: number | bigint): bigint {
    const s = typeof size === 'bigint' ? size : Number.isSafeInteger(size) ? BigInt(size) : -1n;
    if (s <= 0n) throw new ArgumentError('EARG_SIZE', `IOVA allocation size ${String(size)} must be a positive integer number of bytes`, { size: String(size) });
    return this.roundSize(s);
  }

  #alignment(alignment: number | bigint | undefined): bigint {
    if (alignment === undefined) return this.#page;
    const a = typeof alignment === 'bigint' ? alignment : Number.isSafeInteger(alignment) ? BigInt(alignment) : -1n;
    if (!isPowerOfTwo(a)) throw new ArgumentError('EARG_ALIGNMENT', `IOVA alignment ${String(alignment)} must be a power of two`, { alignment: String(alignment) });
    return a > this.#page ? a : this.#page;
  }

  /** Cut [start, end] out of free block i (which contains it). */
  #take(i: number, start: bigint, end: bigint): void {
    const block = this.#free[i]!;
    const pieces: Block[] = [];
    if (block.start < start) pieces.push({ start: block.start, end: start - 1n });
    if (end < block.end) pieces.push({ start: end + 1n, end: block.end });
    this.#free.splice(i, 1, ...pieces);
  }

  #insertFree(start: bigint, end: bigint): void {
    const free = this.#free;
    // Binary search for the first block that starts after `start`.
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (free[mid]!.start < start) lo = mid + 1;
      else hi = mid;
    }
    const prev = free[lo - 1];
    const next = free[lo];
    // Usable ranges were merged when adjacent, so touching free blocks always belong together.
    const joinPrev = prev !== undefined && prev.end + 1n === start;
    const joinNext = next !== undefined && end + 1n === next.start;
    if (joinPrev && joinNext) {
      prev.end = next.end;
      free.splice(lo, 1);
    } else if (joinPrev) {
      prev.end = end;
    } else if (joinNext) {
      next.start = start;
    } else {
      free.splice(lo, 0, { start, end });
    }
  }
}
