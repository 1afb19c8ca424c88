// vfiokit: a userspace VFIO driver framework for DFL-based PCIe FPGA cards.
// Layers (DESIGN.md): device (the Device interface and its backends) -> mmio/dma -> dfl -> afu.
export * from './errors.js';
export { type Clock, realClock, VirtualClock } from './util/clock.js';
export * from './device/device.js';
export type { Interrupt } from './device/interrupt.js';
export * from './device/backend.js';
export * from './device/registry.js';
export * from './mmio/index.js';
export * from './dma/index.js';
export * from './dfl/index.js';
export * from './afu/index.js';
export { createSimCard, SimDevice, SIM_AFU_GUID, SIM_PR_INTERFACE_ID } from './sim/index.js';
export * from './lock/index.js';
