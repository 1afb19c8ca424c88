// DMA: host memory for devices, IOVA allocation, mapping contracts.
export type { DmaMemory, DmaMapper, DmaAccess, IovaRange } from './mapper.js';
export { DmaBuffer, allocateDma, iovaAllocatorFor, type DmaOptions, type DmaDirection } from './dma-buffer.js';
export { HostMemory, allocateHostMemory, BASE_PAGE_SIZE, type HostMemoryOptions } from './host-memory.js';
export { IovaAllocator, type IovaAllocatorOptions, type IovaRequest } from './iova-allocator.js';
export { hugePagePools, hugePagePool, autoHugePageSize, HUGE_PAGE_BYTES, type HugePageSize, type HugePagePool } from './hugepages.js';
export { DmaError, IovaExhaustedError } from './errors.js';
