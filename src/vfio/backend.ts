// The kernel VFIO backend: enumerates PCI functions bound to vfio-pci and opens them
// ("vfio:0000:3b:00.0"; options { iommu: 'type1' | 'iommufd' | 'noiommu' }).
import type { Backend, DeviceFilter, DeviceToken, OpenOptions } from '../device/backend.js';
import { listPciDevices } from '../pci/enumerate.js';
import { openVfioDevice, type IommuChoice } from './open.js';

export const backend: Backend = {
  name: 'vfio',
  schemes: ['vfio'],
  supports(deviceType: string, host: string): boolean {
    return deviceType === 'pci' && (host === 'localhost' || host === '');
  },
  enumerate(filter?: DeviceFilter): DeviceToken[] {
    return listPciDevices(filter)
      .filter((d) => d.driver === 'vfio-pci')
      .map((d) => ({
        backend: 'vfio',
        url: `vfio:${d.bdf}`,
        vendor: d.vendor,
        device: d.device,
        subsystemVendor: d.subsystemVendor,
        subsystemDevice: d.subsystemDevice,
        classCode: d.classCode,
        description: `PCI ${d.bdf}${d.iommuGroup !== undefined ? ` (IOMMU group ${d.iommuGroup})` : ''}`,
      }));
  },
  open(url: string, options?: OpenOptions) {
    const iommu = options?.iommu as IommuChoice | undefined;
    return openVfioDevice(url, { ...(iommu ? { iommu } : {}) });
  },
};
