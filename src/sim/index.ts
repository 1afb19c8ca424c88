// The simulated N3000-class card: createSimCard, its identity, the AFU register map, the IOMMU
// table, the feature-model hook and the 'sim' backend.
export { createSimCard, SimDevice } from './sim-device.js';
export {
  SimCard, SimVector, SIM_FAULTS, SIM_BAR0_SIZE, SIM_BAR4_SIZE, SIM_PORT_OFFSET, SIM_AFU_OFFSET, SIM_AFU_MMIO_SIZE,
  SIM_MSIX_VECTORS, SIM_USER_INTERRUPTS, SIM_RESET_ACK_DELAY_US, type SimCardOptions, type SimFault, type SimFeatureInfo,
} from './sim-card.js';
export * from './identity.js';
export * from './afu-regs.js';
export { SimDmaMapper, SIM_IOMMU_PAGE_SIZE, SIM_DMA_ENTRY_LIMIT, SIM_IOVA_RANGES, type SimDmaMapping } from './sim-dma-mapper.js';
export type { FeatureModel, FeatureModelFactory, SimContext } from './feature-model.js';
export { defaultFeatureModels } from './defaults.js';
export { backend as simBackend, parseSimUrl } from './backend.js';
export { ThermalModel, createThermalModelFactory, thermalModelOf, type ThermalModelOptions } from './thermal-model.js';
export { PowerModel, createPowerModelFactory, powerModelOf, type PowerModelOptions } from './power-model.js';
