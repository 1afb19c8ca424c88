// DmaBuffer: host memory mapped for a device at an IOVA. allocateDma() allocates the memory
// (memfd, optionally huge pages), takes an IOVA from the mapper's IovaAllocator and maps it
// through the mapper (type1 MAP_DMA, iommufd IOAS_MAP, vfio-user DMA_MAP or a model's table).
// Everything is undone on close/dispose and on every error path.
import type { Device } from '../device/device.js';
import type { DmaAccess, DmaMapper, DmaMemory } from './mapper.js';
import { ArgumentError, VfiokitError } from '../errors.js';
import { DmaError, IovaExhaustedError } from './errors.js';
import { HostMemory, allocateHostMemory, type HostMemoryOptions } from './host-memory.js';
import { IovaAllocator } from './iova-allocator.js';
import type { HugePageSize } from './hugepages.js';
import { logger } from '../util/log.js';

const log = logger('dma');

/** What the device may do with the buffer: read it (host to device), write it, or both. */
export type DmaDirection = 'read' | 'write' | 'readwrite';

export interface DmaOptions extends HostMemoryOptions {
  /** Device access; default both read and write. */
  access?: DmaAccess | DmaDirection;
  /** IOVA alignment (power of two). Default: the larger of the IOMMU page and the buffer's page size. */
  alignment?: number;
  /** Highest IOVA the buffer may reach, inclusive (devices with narrow DMA address registers). */
  maxIova?: bigint;
  /** Place the buffer at exactly this IOVA instead of allocating one. */
  iova?: bigint;
}

function toAccess(access: DmaAccess | DmaDirection | undefined): DmaAccess {
  if (access === undefined || access === 'readwrite') return { read: true, write: true };
  if (access === 'read') return { read: true, write: false };
  if (access === 'write') return { read: false, write: true };
  if (typeof access === 'object' && access !== null && typeof access.read === 'boolean' && typeof access.write === 'boolean') {
    if (!access.read && !access.write) {
      throw new ArgumentError('EARG_DMA_ACCESS', 'DMA access { read: false, write: false } gives the device nothing: allow read, write or both');
    }
    return { read: access.read, write: access.write };
  }
  throw new ArgumentError('EARG_DMA_ACCESS', `DMA access ${JSON.stringify(access)} is not 'read', 'write', 'readwrite' or { read, write }`);
}

const allocators = new WeakMap<DmaMapper, IovaAllocator>();

/**
 * The IOVA allocator allocateDma() uses for a mapper: one per mapper, built on first use from
 * its IOVA ranges and page size. Buffers mapped on the same mapper without it must use
 * `reserve()` here so the two never overlap.
 */
export function iovaAllocatorFor(mapper: DmaMapper): IovaAllocator {
  let allocator = allocators.get(mapper);
  if (!allocator) {
    allocator = new IovaAllocator(mapper.iovaRanges(), { pageSize: mapper.pageSize });
    allocators.set(mapper, allocator);
  }
  return allocator;
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

export class DmaBuffer implements DmaMemory, Disposable {
  /** Device address of byte 0. */
  readonly iova: bigint;
  readonly access: Readonly<DmaAccess>;
  readonly memory: HostMemory;
  readonly mapper: DmaMapper;
  /** Bytes of IOVA space mapped (size rounded up to the IOMMU page). */
  readonly mappedSize: number;
  #allocator: IovaAllocator;
  #closed = false;

  /** @internal use allocateDma(). */
  constructor(memory: HostMemory, mapper: DmaMapper, allocator: IovaAllocator, iova: bigint, mappedSize: number, access: DmaAccess) {
    this.memory = memory;
    this.mapper = mapper;
    this.#allocator = allocator;
    this.iova = iova;
    this.mappedSize = mappedSize;
    this.access = Object.freeze({ ...access });
  }

  get address(): bigint {
    return this.memory.address;
  }
  get size(): number {
    return this.memory.size;
  }
  get fd(): number {
    return this.memory.fd;
  }
  get fdOffset(): number {
    return this.memory.fdOffset;
  }
  /** The buffer's bytes (empty once closed). */
  get bytes(): Uint8Array {
    return this.memory.bytes;
  }
  /** The buffer as a SharedArrayBuffer (C shim built), for worker threads; else undefined. */
  get sharedBuffer(): SharedArrayBuffer | undefined {
    return this.memory.sharedBuffer;
  }
  /** Page size backing the buffer (4096, 2 MiB, 1 GiB). */
  get pageSize(): number {
    return this.memory.pageSize;
  }
  get hugePages(): HugePageSize | undefined {
    return this.memory.hugePages;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** The IOVA of byte `offset` (bounds-checked), for programming a device's address registers. */
  iovaAt(offset: number): bigint {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.memory.size) {
      throw new ArgumentError('EARG_DMA_OFFSET', `offset ${offset} is outside DMA buffer ${this.memory.name} (0..${this.memory.size - 1})`, { offset, size: this.memory.size });
    }
    return this.iova + BigInt(offset);
  }

  /** Unmap from the device, return the IOVA, free the memory. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let unmapError: unknown;
    try {
      this.mapper.unmap(this.iova, this.mappedSize);
      this.#allocator.free(this.iova);
    } catch (e) {
      // The IOMMU may still translate this IOVA: keep it out of the allocator (quarantined) so
      // it is never handed to another buffer. The pages stay pinned by the kernel, so freeing
      // our mapping cannot let the device scribble on reused host memory.
      unmapError = e;
    }
    this.memory.close();
    if (unmapError !== undefined) {
      const reason = unmapError instanceof Error ? unmapError.message : String(unmapError);
      throw new DmaError('EDMA_UNMAP', `unmapping DMA buffer ${this.memory.name} at IOVA ${hex(this.iova)} (${this.mappedSize} bytes) failed: ${reason}; the host memory was released and the IOVA range is kept out of use`, { iova: this.iova, size: this.mappedSize }, { cause: unmapError });
    }
    log('freed DMA buffer %s at IOVA %s', this.memory.name, hex(this.iova));
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function mapperOf(target: Device | DmaMapper): DmaMapper {
  if (target && typeof target === 'object') {
    if ('dma' in target && target.dma && typeof (target.dma as DmaMapper).map === 'function') return target.dma;
    if (typeof (target as DmaMapper).map === 'function' && typeof (target as DmaMapper).iovaRanges === 'function') return target as DmaMapper;
  }
  throw new ArgumentError('EARG_DMA_TARGET', 'allocateDma needs a Device (with .dma) or a DmaMapper');
}

/**
 * Allocate `size` bytes of host memory, give it an IOVA and map it for the device.
 * `using buf = allocateDma(device, 4096)` unmaps and frees it at the end of the scope.
 */
export function allocateDma(target: Device | DmaMapper, size: number, options: DmaOptions = {}): DmaBuffer {
  const mapper = mapperOf(target);
  const access = toAccess(options.access);
  if (mapper.unavailable !== undefined) {
    throw new DmaError('EDMA_UNAVAILABLE', `DMA is not available: ${mapper.unavailable}`);
  }
  if (mapper.mappingsAvailable < 1) {
    throw new IovaExhaustedError('EDMA_MAPPINGS', `the IOMMU has no DMA mappings left (mapping budget used up): free DMA buffers you no longer need, or use fewer, larger buffers`, { available: mapper.mappingsAvailable });
  }
  const allocator = iovaAllocatorFor(mapper);
  // Memory, host address and IOVA all in whole IOMMU pages (type1 and iommufd refuse less).
  const memory = allocateHostMemory(size, { ...options, granule: Math.max(options.granule ?? 1, mapper.pageSize) });
  let iova: bigint | undefined;
  try {
    const mappedSize = Number(allocator.roundSize(memory.size));
    if (options.iova !== undefined) {
      iova = allocator.reserve(options.iova, mappedSize);
    } else {
      const alignment = options.alignment ?? Math.max(mapper.pageSize, memory.pageSize);
      iova = allocator.allocate(mappedSize, { alignment, limit: options.maxIova });
    }
    if (options.maxIova !== undefined && iova + BigInt(mappedSize) - 1n > options.maxIova) {
      throw new ArgumentError('EARG_IOVA_LIMIT', `IOVA ${hex(iova)} + ${mappedSize} bytes goes past maxIova ${hex(options.maxIova)}`, { iova, size: mappedSize });
    }
    mapper.map(memory, iova, access);
    log('mapped %s (%d bytes) at IOVA %s', memory.name, memory.size, hex(iova));
    return new DmaBuffer(memory, mapper, allocator, iova, mappedSize, access);
  } catch (e) {
    if (iova !== undefined) allocator.free(iova);
    memory.close();
    if (e instanceof VfiokitError) throw e;
    throw new DmaError('EDMA_MAP', `mapping ${memory.size} bytes for DMA failed: ${e instanceof Error ? e.message : String(e)}`, { size: memory.size }, { cause: e });
  }
}


