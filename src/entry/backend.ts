// vfiokit/backend: what a backend plugin (README "Writing a backend plugin") is built from: the
// Backend shape, the regions a Device returns, the DMA mapper contract, and the registry.
export type { Backend, DeviceFilter, DeviceToken, OpenOptions } from '../device/backend.js';
export { RegionIndex, IrqIndex, type Device, type RegionInfo, type IrqInfo, type PciIdentity } from '../device/device.js';
export type { Interrupt } from '../device/interrupt.js';
// The argument checks every transport runs before its own work (same mistake, same code).
export { checkOpen, checkRegionIndex, checkRegionExists, checkIrqIndex, checkIrqRange, checkReset, checkDmaMap } from '../device/checks.js';
export { MappedRegion, TrappedRegion, creditStream, type Region, type MappedRegionOptions, type MapFdOptions, type RegisterAccess } from '../mmio/index.js';
export type { DmaMemory, DmaMapper, DmaAccess, IovaRange } from '../dma/mapper.js';
export { HostMemory, allocateHostMemory, IovaAllocator, BASE_PAGE_SIZE, type HostMemoryOptions, type IovaAllocatorOptions, type IovaRequest } from '../dma/index.js';
export {
  registerBackend, unregisterBackend, loadBackends, backendReport, backendFor, finalizeBackends, parseDeviceUrl,
  type BackendState, type BackendStatus, type RegistryReport,
} from '../device/registry.js';
export { ConfigError, type VfiokitConfig, type PluginConfiguration } from '../device/config.js';
export { PluginError } from '../device/plugins.js';
