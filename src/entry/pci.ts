// vfiokit/pci: PCI functions in sysfs: enumerate, topology and IOMMU groups, bind/unbind drivers
// with the in-use guard, AER, remove and rescan.
export * from '../pci/index.js';
