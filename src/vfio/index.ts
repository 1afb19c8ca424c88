// Kernel VFIO transport.
export { openVfioDevice, pickIommu, cdevName, type OpenVfioOptions, type IommuChoice } from './open.js';
export { VfioDevice, type VfioRegionInfo, type VfioDeviceOptions, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from './vfio-device.js';
export { Type1Mapper, NoIommuMapper, GroupHandle, readType1Info, TYPE1_DEFAULT_DMA_ENTRY_LIMIT } from './type1.js';
export { IommufdContext } from './iommufd.js';
export { VfioError, GroupNotViableError } from './errors.js';
export { backend } from './backend.js';
