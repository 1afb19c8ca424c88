// The kernel VFIO backend: enumerates PCI functions bound to vfio-pci and opens them
// ("vfio:0000:3b:00.0"; the IOMMU path is picked automatically, or forced by the open option
// { iommu: 'type1' | 'iommufd' | 'noiommu' } or the URL form "vfio:0000:3b:00.0?iommu=type1").
import type { Backend, DeviceFilter, DeviceToken, OpenOptions } from '../device/backend.js';
import { DeviceError } from '../errors.js';
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
    const { base, iommu: fromUrl } = splitVfioUrl(url);
    const iommu = (options?.iommu as IommuChoice | undefined) ?? fromUrl;
    return openVfioDevice(base, { ...(iommu ? { iommu } : {}) });
  },
};

const IOMMU_CHOICES: readonly IommuChoice[] = ['type1', 'iommufd', 'noiommu'];

/** "vfio:BDF?iommu=type1" -> the URL without options and the IOMMU choice; other options are refused. */
export function splitVfioUrl(url: string): { base: string; iommu: IommuChoice | undefined } {
  const q = url.indexOf('?');
  if (q < 0) return { base: url, iommu: undefined };
  const params = new URLSearchParams(url.slice(q + 1));
  let iommu: IommuChoice | undefined;
  for (const [key, value] of params) {
    if (key !== 'iommu' || !IOMMU_CHOICES.includes(value as IommuChoice)) {
      throw new DeviceError('EDEVICE_URL', `${url}: unknown option ${key}=${value}; the vfio backend takes only iommu=${IOMMU_CHOICES.join('|')}`, { url, key, value });
    }
    iommu = value as IommuChoice;
  }
  return { base: url.slice(0, q), iommu };
}
