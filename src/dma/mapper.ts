// DMA mapping contracts. A transport's DmaMapper makes host memory visible to the device at an
// IOVA (type1 MAP_DMA, iommufd IOAS_MAP, vfio-user DMA_MAP, or the sim model's table).

/** Host memory that can be given to a device: an mmap of a memfd (or hugetlbfs file). */
export interface DmaMemory {
  /** Host virtual address of the mapping (for the kernel's MAP_DMA vaddr). */
  readonly address: bigint;
  readonly size: number;
  /** The fd that backs it (memfd), so another process (vfio-user server) can map it; -1 if none. */
  readonly fd: number;
  /** Offset of this memory inside `fd`. */
  readonly fdOffset: number;
  /** The bytes, for the host (and for an in-process model); empty for `remote` memory. */
  readonly bytes: Uint8Array;
  /**
   * Memory the device cannot map, reached by messages instead: a vfio-user client's DMA_MAP
   * without an fd, which the server reads and writes with DMA_READ / DMA_WRITE (vfio-user.rst
   * "Client memory access"). Offsets are from the start of this memory.
   */
  readonly remote?: RemoteDmaAccess;
  /**
   * Set when another process can shrink the file under this mapping (an fd a vfio-user client
   * passed without F_SEAL_SHRINK): how many bytes the file backs now. Touching bytes past that
   * is a SIGBUS, so models copy such memory with copyDma (src/dma/dma-copy.ts), never directly.
   */
  readonly backedBytes?: () => number;
}

/** Reads and writes of memory that lives in another process (see DmaMemory.remote). */
export interface RemoteDmaAccess {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

export interface IovaRange {
  start: bigint;
  /** Inclusive last address. */
  end: bigint;
}

export interface DmaAccess {
  read: boolean;
  write: boolean;
}

export interface DmaMapper {
  /** Usable IOVA ranges (from the IOMMU), inclusive ends. */
  iovaRanges(): IovaRange[];
  /** Smallest page size the IOMMU maps (IOVA and size alignment). */
  readonly pageSize: number;
  /** Mappings still available (type1 DMA_AVAIL, vfio-user max_dma_maps); Infinity when unlimited. */
  readonly mappingsAvailable: number;
  /** True when map() accepts DmaMemory with `remote` access (a device model that copies through callbacks). */
  readonly remoteMemory?: boolean;
  /** Set when this mapper can never map (e.g. VFIO no-IOMMU mode): why, and what to do. */
  readonly unavailable?: string;
  /** Map `memory` at `iova` with the given device access. */
  map(memory: DmaMemory, iova: bigint, access: DmaAccess): void;
  unmap(iova: bigint, size: number): void;
}
