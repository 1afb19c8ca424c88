// The simulated card's IOMMU: a table of IOVA -> DmaMemory mappings with device access flags,
// the model's view of what the host mapped through Device.dma. It follows VFIO type1 rules
// (include/uapi/linux/vfio.h VFIO_IOMMU_MAP_DMA / UNMAP_DMA): page-aligned IOVA and size, no
// overlap with an existing mapping, inside the usable IOVA ranges, a bounded number of mappings,
// and an unmap may not split a mapping. The DMA engine of the sim AFU resolves every access here.
import { checkDmaMap, checkOpen } from '../device/checks.js';
import type { DmaAccess, DmaMapper, DmaMemory, IovaRange } from '../dma/mapper.js';
import { DmaError, IovaExhaustedError } from '../dma/errors.js';
import { hex } from '../util/bytes.js';
import { logger } from '../util/log.js';

const log = logger('sim:iommu');

/** IOMMU page size the sim advertises (the x86 IOMMU's smallest page). */
export const SIM_IOMMU_PAGE_SIZE = 4096;
/** Mapping budget, as type1's default dma_entry_limit (drivers/vfio/vfio_iommu_type1.c). */
export const SIM_DMA_ENTRY_LIMIT = 65535;
/**
 * Usable IOVA ranges: a 48-bit address space minus the x86 MSI window 0xfee00000-0xfeefffff, as
 * VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE reports on an Intel host.
 */
export const SIM_IOVA_RANGES: readonly IovaRange[] = Object.freeze([
  { start: 0x0n, end: 0xfedf_ffffn },
  { start: 0xfef0_0000n, end: 0xffff_ffff_ffffn },
]);

export interface SimDmaMapping {
  /** First IOVA. */
  readonly iova: bigint;
  /** Bytes mapped (a whole number of IOMMU pages). */
  readonly size: number;
  readonly memory: DmaMemory;
  readonly access: Readonly<DmaAccess>;
}

export class SimDmaMapper implements DmaMapper {
  readonly pageSize = SIM_IOMMU_PAGE_SIZE;
  /** The model's DMA engine copies through DmaMemory.remote when the memory has no bytes here. */
  readonly remoteMemory = true;
  /** Mappings sorted by IOVA. */
  #maps: SimDmaMapping[] = [];
  #limit: number;
  #closed = false;
  #name: string;

  constructor(name = 'sim', limit = SIM_DMA_ENTRY_LIMIT) {
    this.#name = name;
    this.#limit = limit;
  }

  iovaRanges(): IovaRange[] {
    return SIM_IOVA_RANGES.map((r) => ({ ...r }));
  }

  get mappingsAvailable(): number {
    return this.#closed ? 0 : this.#limit - this.#maps.length;
  }

  /** The current mappings (for diagnostics and tests). */
  get mappings(): readonly SimDmaMapping[] {
    return this.#maps;
  }

  map(memory: DmaMemory, iova: bigint, access: DmaAccess): void {
    checkOpen(this.#name, this.#closed, 'DMA map');
    checkDmaMap(this.#name, memory, iova, access, this.pageSize);
    if (!(memory.bytes instanceof Uint8Array) || (memory.remote === undefined && memory.bytes.length === 0)) {
      throw new DmaError('EDMA_MAP', `${this.#name}: DMA memory needs a positive size and bytes the card can reach (got ${memory.size} bytes, none in memory and no remote accessor)`, { size: memory.size });
    }
    const size = memory.size;
    const end = iova + BigInt(size) - 1n;
    if (!SIM_IOVA_RANGES.some((r) => iova >= r.start && end <= r.end)) {
      throw new DmaError('EDMA_MAP_RANGE', `${this.#name}: IOVA ${hex(iova)}..${hex(end)} is outside the usable IOVA ranges (${SIM_IOVA_RANGES.map((r) => `${hex(r.start)}-${hex(r.end)}`).join(', ')}); pick an IOVA from iovaRanges()`, { iova, size });
    }
    if (this.#maps.length >= this.#limit) {
      throw new IovaExhaustedError('EDMA_MAPPINGS', `${this.#name}: all ${this.#limit} DMA mappings are in use; unmap buffers you no longer need`, { limit: this.#limit });
    }
    let i = 0;
    while (i < this.#maps.length && this.#maps[i]!.iova <= iova) i++;
    const before = this.#maps[i - 1];
    const after = this.#maps[i];
    const overlaps = (m: SimDmaMapping | undefined): boolean => m !== undefined && m.iova <= end && iova <= m.iova + BigInt(m.size) - 1n;
    if (overlaps(before) || overlaps(after)) {
      const m = overlaps(before) ? before! : after!;
      throw new DmaError('EDMA_MAP_EXISTS', `${this.#name}: IOVA ${hex(iova)}..${hex(end)} overlaps the mapping at ${hex(m.iova)} (${m.size} bytes); unmap it first or use another IOVA`, { iova, size, existing: m.iova });
    }
    this.#maps.splice(i, 0, Object.freeze({ iova, size, memory, access: Object.freeze({ read: !!access.read, write: !!access.write }) }));
    log('%s: mapped %d bytes at IOVA %s (%s%s)', this.#name, size, hex(iova), access.read ? 'r' : '', access.write ? 'w' : '');
  }

  unmap(iova: bigint, size: number): void {
    // After close the whole table is gone with the device (like a closed container): nothing to undo.
    if (this.#closed) return;
    if (typeof iova !== 'bigint' || !Number.isSafeInteger(size) || size <= 0) {
      throw new DmaError('EDMA_UNMAP_ARGS', `${this.#name}: unmap needs a bigint IOVA and a positive size (got ${String(iova)}, ${String(size)})`);
    }
    const end = iova + BigInt(size) - 1n;
    const keep: SimDmaMapping[] = [];
    let removed = 0;
    for (const m of this.#maps) {
      const mEnd = m.iova + BigInt(m.size) - 1n;
      if (mEnd < iova || m.iova > end) keep.push(m);
      else if (m.iova >= iova && mEnd <= end) removed++;
      else {
        throw new DmaError('EDMA_UNMAP_SPLIT', `${this.#name}: unmapping ${hex(iova)}..${hex(end)} would split the mapping at ${hex(m.iova)} (${m.size} bytes); unmap whole mappings`, { iova, size, mapping: m.iova });
      }
    }
    if (removed === 0) {
      throw new DmaError('EDMA_UNMAP_NONE', `${this.#name}: nothing is mapped at IOVA ${hex(iova)}..${hex(end)}`, { iova, size });
    }
    this.#maps = keep;
    log('%s: unmapped %d mapping(s) at IOVA %s', this.#name, removed, hex(iova));
  }

  /** The mapping that holds `iova`, or undefined (an IOMMU fault). */
  lookup(iova: bigint): SimDmaMapping | undefined {
    const maps = this.#maps;
    let lo = 0;
    let hi = maps.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = maps[mid]!;
      if (iova < m.iova) hi = mid - 1;
      else if (iova >= m.iova + BigInt(m.size)) lo = mid + 1;
      else return m;
    }
    return undefined;
  }

  /** Drop every mapping (device close). Later unmaps are no-ops; later maps throw. */
  close(): void {
    this.#closed = true;
    this.#maps = [];
  }
}
