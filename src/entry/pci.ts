// vfiokit/pci: PCI functions in sysfs: enumerate, topology and IOMMU groups, bind/unbind drivers
// with the in-use guard, AER, remove and rescan; giving a bound device's VFIO nodes to a user.
export * from '../pci/index.js';
export { parseOwner, chownVfioNodes, vfioNodes, VFIO_NODE_MODE, type NodeOwner, type ChownedNode, type VfioNodeOptions } from '../vfio/node-owner.js';
