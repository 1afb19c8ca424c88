// Device: the one abstraction every transport gives (DESIGN.md "The one abstraction").
// vfio (kernel), vfio-user (another process) and sim (in-process model) implement it; DFL walking,
// the card model, PR, secure update and the CLI are written once against it.
import type { Region } from '../mmio/region.js';
import type { Clock } from '../util/clock.js';
import type { DmaMapper } from '../dma/mapper.js';
import type { Interrupt } from './interrupt.js';
import type { PciIdentity } from '../pci/identity.js';

export type { PciIdentity } from '../pci/identity.js';

/** PCI region indexes as VFIO numbers them (include/uapi/linux/vfio.h). */
export const RegionIndex = { BAR0: 0, BAR1: 1, BAR2: 2, BAR3: 3, BAR4: 4, BAR5: 5, ROM: 6, CONFIG: 7, VGA: 8 } as const;

/** IRQ indexes as VFIO numbers them (include/uapi/linux/vfio.h, VFIO_PCI_*_IRQ_INDEX). */
export const IrqIndex = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4 } as const;

export interface RegionInfo {
  index: number;
  /** Size in bytes; 0 when the device has no such region. */
  size: number;
  readable: boolean;
  writable: boolean;
  /** True when the region (or parts of it, see mmapAreas) can be memory mapped. */
  mappable: boolean;
  /** Areas that may be mmapped (sparse mmap); the whole region when absent and mappable. */
  mmapAreas?: { offset: number; size: number }[];
}

export interface IrqInfo {
  index: number;
  /** Number of vectors; 0 when the device has no such interrupt. */
  count: number;
  eventfd: boolean;
  maskable: boolean;
  automasked: boolean;
}

/**
 * What a device offers beyond the common interface. Code above device/ asks these instead of
 * testing the transport's name, so a plugin's device can offer them too.
 */
export interface DeviceCapabilities {
  /**
   * The device is a PCI function of this host bound to a kernel driver: its address and the
   * driver's name. sysfs reaches it (remove and rescan around a card reload, src/pci/reload.ts).
   * Absent for remote (vfio-user) and modelled (sim) devices.
   */
  readonly hostPci?: { readonly bdf: string; readonly driver: string };
}

export interface Device extends Disposable {
  /** The URL it was opened by, e.g. "sim:n3000", "vfio:0000:3b:00.0", "vfio-user:/run/card.sock". */
  readonly url: string;
  /** Transport name: 'vfio', 'vfio-user', 'sim', or a plugin's. */
  readonly transport: string;
  readonly identity: PciIdentity;
  /** PCI address when the device is a local PCI function. */
  readonly bdf: string | undefined;
  /** What the device offers beyond this interface; absent means nothing more. */
  readonly capabilities?: DeviceCapabilities;
  /** The clock flows must wait on for this device (virtual for models, real for hardware). */
  readonly clock: Clock;
  readonly regionCount: number;
  readonly irqCount: number;

  regionInfo(index: number): RegionInfo;
  /** The Region for `index` (mapped when the transport can mmap it, trapped otherwise); cached until close. */
  region(index: number): Region;

  configRead(offset: number, width: 1 | 2 | 4): number;
  configWrite(offset: number, width: 1 | 2 | 4, value: number): void;

  irqInfo(index: number): IrqInfo;
  /** Arm vectors start..start+count-1 of an IRQ index with eventfds; events arrive asynchronously. */
  enableInterrupts(index: number, start: number, count: number): Interrupt[];
  /** Disarm every vector of an IRQ index and close its eventfds. */
  disableInterrupts(index: number): void;

  /** The device can be reset (VFIO_DEVICE_FLAGS_RESET: FLR, PM or bus reset); reset() refuses otherwise. */
  readonly resettable: boolean;
  /** Function-level reset of the whole device; EDEVICE_NO_RESET when it cannot (src/device/checks.ts). */
  reset(): void;

  /** Maps host memory at IOVAs for the device's DMA. */
  readonly dma: DmaMapper;

  /** Release every region, interrupt, DMA mapping and fd. Idempotent. */
  close(): void;
}
