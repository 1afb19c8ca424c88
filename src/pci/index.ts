// PCI management through sysfs: enumerate, topology, driver binding with a safety guard.
export { parseBdf, formatBdf, normalizeBdf, isBdf, type PciAddress } from './address.js';
export { PciError, DeviceInUseError, type DeviceUse } from './errors.js';
export { PciSysfs, liveSysfs, type PciSysfsOptions } from './sysfs.js';
export { listPciDevices, readPciDevice, classMatches, type PciDeviceInfo, type PciOptions } from './enumerate.js';
export { parentBridge, children, ancestors, physicalFunction, virtualFunctions, siblingFunctions, slotFunctions, iommuGroupOf, iommuGroupMembers } from './topology.js';
export { deviceUses, describeUses, type UsageOptions } from './usage.js';
export { bindDriver, unbindDriver, removeDevice, rescan, rememberedDriver, assertNotInUse, VFIO_PCI_DRIVER, type DriverOptions, type BindResult } from './driver.js';
export * from './aer.js';
export * from './reload.js';
