// A DmaMapper for tests that keeps a real IOVA -> memory table the way an IOMMU does: it
// refuses overlapping maps and unmaps of ranges it does not hold, counts the mapping budget,
// and can be told to fail the next map or unmap (errors the kernel would return).
import type { DmaAccess, DmaMapper, DmaMemory, IovaRange } from '../../src/dma/mapper.js';

export interface Mapping {
  iova: bigint;
  size: number;
  memory: DmaMemory;
  access: DmaAccess;
}

export class RecordingMapper implements DmaMapper {
  readonly pageSize: number;
  readonly mappings = new Map<bigint, Mapping>();
  readonly log: string[] = [];
  failNextMap: Error | undefined;
  failNextUnmap: Error | undefined;
  #ranges: IovaRange[];
  #budget: number;

  constructor(ranges: IovaRange[] = [{ start: 0n, end: (1n << 39n) - 1n }], options: { pageSize?: number; budget?: number } = {}) {
    this.#ranges = ranges;
    this.pageSize = options.pageSize ?? 4096;
    this.#budget = options.budget ?? 65535;
  }

  iovaRanges(): IovaRange[] {
    return this.#ranges.map((r) => ({ ...r }));
  }

  get mappingsAvailable(): number {
    return this.#budget - this.mappings.size;
  }

  map(memory: DmaMemory, iova: bigint, access: DmaAccess): void {
    this.log.push(`map ${iova.toString(16)} ${memory.size}`);
    if (this.failNextMap) {
      const e = this.failNextMap;
      this.failNextMap = undefined;
      throw e;
    }
    if (iova % BigInt(this.pageSize) !== 0n || memory.size % this.pageSize !== 0) throw new Error('EINVAL: unaligned map');
    const end = iova + BigInt(memory.size);
    for (const m of this.mappings.values()) {
      if (iova < m.iova + BigInt(m.size) && m.iova < end) throw new Error('EEXIST: overlapping map');
    }
    if (!this.#ranges.some((r) => r.start <= iova && end - 1n <= r.end)) throw new Error('EINVAL: outside IOVA ranges');
    if (this.mappingsAvailable < 1) throw new Error('ENOSPC: no mappings left');
    this.mappings.set(iova, { iova, size: memory.size, memory, access });
  }

  unmap(iova: bigint, size: number): void {
    this.log.push(`unmap ${iova.toString(16)} ${size}`);
    if (this.failNextUnmap) {
      const e = this.failNextUnmap;
      this.failNextUnmap = undefined;
      throw e;
    }
    const m = this.mappings.get(iova);
    if (!m || m.size !== size) throw new Error('EINVAL: unmap of a range that is not mapped');
    this.mappings.delete(iova);
  }

  /** Device-side read through the table (what an IOMMU-translated DMA would see). */
  deviceRead(iova: bigint, length: number): Uint8Array {
    for (const m of this.mappings.values()) {
      if (iova >= m.iova && iova + BigInt(length) <= m.iova + BigInt(m.size)) {
        if (!m.access.read) throw new Error('IOMMU fault: read not allowed');
        const off = Number(iova - m.iova);
        return m.memory.bytes.slice(off, off + length);
      }
    }
    throw new Error(`IOMMU fault at ${iova.toString(16)}`);
  }
}
