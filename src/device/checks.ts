// Argument checks of Device calls, once for every transport. VfioDevice, VfioUserDevice and
// SimDevice (and their DMA mappers) call these before any transport-specific work, so the same
// mistake gives the same code and message on every transport; the kernel, the vfio-user server and
// the sim model then only see calls that passed them. The codes and their message templates are
// in src/error-codes.ts; what each check refuses follows the kernel:
//   region index   drivers/vfio/pci/vfio_pci_core.c vfio_pci_ioctl_get_region_info (index >=
//                  VFIO_PCI_NUM_REGIONS + num_regions: -EINVAL); a BAR of size 0 cannot be mapped
//                  or accessed (vfio_pci_core_mmap / vfio_pci_bar_rw refuse it).
//   IRQ index      vfio_pci_ioctl_get_irq_info (index >= VFIO_PCI_NUM_IRQS: -EINVAL).
//   IRQ vectors    drivers/vfio/vfio_main.c vfio_set_irqs_validate_and_prepare (start + count >
//                  max: -EINVAL); count 0 only disables, which disableInterrupts does.
//   reset          vfio_pci_ioctl_reset: -EINVAL unless the function can reset (reset_works).
//   DMA map        drivers/vfio/vfio_iommu_type1.c vfio_dma_do_map: size and IOVA must be
//                  multiples of the smallest IOMMU page, size non-zero, READ or WRITE asked.
import { ArgumentError } from '../errors.js';
import { codeError } from '../error-lookup.js';
import type { IrqInfo } from './device.js';
import type { DmaAccess, DmaMemory } from '../dma/mapper.js';

/** Refuse a call on a closed device (EDEVICE_CLOSED). */
export function checkOpen(device: string, closed: boolean, what: string): void {
  if (closed) throw codeError('EDEVICE_CLOSED', { device, what });
}

/** Refuse a region index outside 0..count-1 (EARG_REGION). */
export function checkRegionIndex(device: string, index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) throw codeError('EARG_REGION', { device, index, count });
}

/** Refuse a region the device does not have (size 0: EDEVICE_NO_REGION). */
export function checkRegionExists(device: string, index: number, size: number): void {
  if (size === 0) throw codeError('EDEVICE_NO_REGION', { device, index });
}

/** Refuse an IRQ index outside 0..count-1 (EARG_IRQ_INDEX). */
export function checkIrqIndex(device: string, index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) throw codeError('EARG_IRQ_INDEX', { device, index, count });
}

/** Refuse vectors start..start+count-1 that are not all inside the index's `info.count` (EARG_IRQ_RANGE). */
export function checkIrqRange(device: string, info: IrqInfo, start: number, count: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > info.count) {
    throw codeError('EARG_IRQ_RANGE', { device, index: info.index, start, count, available: info.count });
  }
}

/** Refuse a reset the device cannot do (EDEVICE_NO_RESET). */
export function checkReset(device: string, resettable: boolean): void {
  if (!resettable) throw codeError('EDEVICE_NO_RESET', { device });
}

/**
 * Refuse a DMA map the IOMMU would refuse: IOVA not a non-negative bigint (EARG_DMA_IOVA) or not
 * page aligned (EARG_DMA_ALIGN), size not a positive multiple of the page (EARG_DMA_SIZE), no
 * access for the device (EARG_DMA_ACCESS).
 */
export function checkDmaMap(device: string, memory: DmaMemory, iova: bigint, access: DmaAccess, pageSize: number): void {
  if (typeof iova !== 'bigint' || iova < 0n || iova >= 1n << 64n) throw codeError('EARG_DMA_IOVA', { device, iova });
  const size = memory?.size;
  if (!Number.isSafeInteger(size) || size <= 0 || size % pageSize !== 0) throw codeError('EARG_DMA_SIZE', { device, size, page: pageSize });
  if (iova % BigInt(pageSize) !== 0n) throw codeError('EARG_DMA_ALIGN', { device, iova, page: pageSize });
  if (!access || (!access.read && !access.write)) {
    throw new ArgumentError('EARG_DMA_ACCESS', `${device}: a DMA mapping needs read or write access for the device`, { device });
  }
}
