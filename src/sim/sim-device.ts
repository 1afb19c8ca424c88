// SimDevice: the simulated card as a Device (transport 'sim', url 'sim:<variant>'). Regions are
// TrappedRegions over the card's register files on the card's clock; config space is the card's;
// DMA goes through the card's IOMMU table (SimDmaMapper); MSI-X vectors are real eventfds that
// the card's models signal with a real eventfd write (src/sim/sim-interrupts.ts).
import { checkIrqIndex, checkIrqRange, checkOpen, checkRegionExists, checkRegionIndex, checkReset } from '../device/checks.js';
import type { Device, DeviceCapabilities, IrqInfo, PciIdentity, RegionInfo } from '../device/device.js';
import { IrqIndex, RegionIndex } from '../device/device.js';
import type { Interrupt } from '../device/interrupt.js';
import type { Region } from '../mmio/region.js';
import { TrappedRegion } from '../mmio/trapped-region.js';
import type { Clock } from '../util/clock.js';
import { DeviceError } from '../errors.js';
import { logger } from '../util/log.js';
import { PCI_CONFIG_SIZE } from './config-space.js';
import { SimCard, SIM_BAR0_SIZE, SIM_BAR4_SIZE, SIM_MSIX_VECTORS, type SimCardOptions, type SimFault } from './sim-card.js';
import type { SimDmaMapper } from './sim-dma-mapper.js';
import { SimInterrupts } from './sim-interrupts.js';
import { EventfdInterrupt } from '../device/eventfd-interrupt.js';
import { simPciIdentity, type SimVariant } from './identity.js';

const log = logger('sim');

/** VFIO_PCI_NUM_REGIONS / VFIO_PCI_NUM_IRQS (include/uapi/linux/vfio.h). */
const NUM_REGIONS = 9;
const NUM_IRQS = 5;

export class SimDevice implements Device {
  readonly url: string;
  readonly transport = 'sim';
  readonly bdf = undefined;
  /** A model in this process: no host PCI function behind it. */
  readonly capabilities: DeviceCapabilities = {};
  readonly identity: PciIdentity;
  readonly regionCount = NUM_REGIONS;
  readonly irqCount = NUM_IRQS;
  /** The card behind the device: faults, models, injected errors, counters (tests, demos). */
  readonly sim: SimCard;
  #regions = new Map<number, TrappedRegion>();
  #irqs: SimInterrupts;
  /** ERR and REQ eventfds (one vector each): armed like vfio-pci arms them for any PCIe function. */
  #notifiers = new Map<number, EventfdInterrupt>();
  #closed = false;

  constructor(variant: SimVariant, options: SimCardOptions = {}, url = `sim:${variant}`) {
    this.sim = new SimCard(variant, options);
    this.identity = simPciIdentity(variant);
    this.url = url;
    this.#irqs = new SimInterrupts(url, SIM_MSIX_VECTORS);
    this.sim.deliver = (vector) => this.#irqs.signal(vector);
    log('opened %s', url);
  }

  get clock(): Clock {
    return this.sim.clock;
  }

  get dma(): SimDmaMapper {
    return this.sim.iommu;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #open(what: string): void {
    checkOpen(this.url, this.#closed, what);
  }

  /** False with the 'no-reset' fault: a function without FLR, PM or bus reset. */
  get resettable(): boolean {
    return !this.sim.hasFault('no-reset');
  }

  regionInfo(index: number): RegionInfo {
    checkRegionIndex(this.url, index, NUM_REGIONS);
    const size = index === RegionIndex.BAR0 ? SIM_BAR0_SIZE : index === 4 ? SIM_BAR4_SIZE : index === RegionIndex.CONFIG ? PCI_CONFIG_SIZE : 0;
    return { index, size, readable: size > 0, writable: size > 0, mappable: false };
  }

  region(index: number): Region {
    this.#open(`region(${index})`);
    const cached = this.#regions.get(index);
    if (cached && !cached.closed) return cached;
    const info = this.regionInfo(index);
    checkRegionExists(this.url, index, info.size);
    if (index === RegionIndex.CONFIG) {
      throw new DeviceError('EDEVICE_REGION', `${this.url}: region ${index} is config space: use configRead/configWrite`, { index });
    }
    const access = index === RegionIndex.BAR0 ? this.sim.bar0 : this.sim.bar4;
    const region = new TrappedRegion(`${this.url} BAR${index}`, info.size, access, { clock: this.sim.clock, onClose: () => this.#regions.delete(index) });
    this.#regions.set(index, region);
    return region;
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    this.#open('configRead');
    return this.sim.config.read(offset, width);
  }

  configWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#open('configWrite');
    this.sim.config.write(offset, width, value);
  }

  irqInfo(index: number): IrqInfo {
    checkIrqIndex(this.url, index, NUM_IRQS);
    // MSI-X only (no INTx pin, no MSI capability); ERR and REQ as vfio-pci reports for PCIe devices.
    const count = index === IrqIndex.MSIX ? SIM_MSIX_VECTORS : index === IrqIndex.ERR || index === IrqIndex.REQ ? 1 : 0;
    return { index, count, eventfd: count > 0, maskable: false, automasked: false };
  }

  enableInterrupts(index: number, start: number, count: number): Interrupt[] {
    this.#open('enableInterrupts');
    checkIrqRange(this.url, this.irqInfo(index), start, count);
    if (index === IrqIndex.ERR || index === IrqIndex.REQ) {
      // vfio-pci accepts an eventfd for ERR and REQ on every PCIe function
      // (drivers/vfio/pci/vfio_pci_intrs.c vfio_pci_set_err_trigger / _req_trigger); QEMU arms both
      // (hw/vfio/pci.c vfio_pci_register_err_notifier). The sim card raises neither.
      this.#notifiers.get(index)?.close();
      const irq = new EventfdInterrupt({ index, vector: 0, name: `${this.url} ${index === IrqIndex.ERR ? 'ERR' : 'REQ'}` });
      this.#notifiers.set(index, irq);
      return [irq];
    }
    const interrupts = this.#irqs.enable(index, start, count);
    this.sim.config.setMsixEnabled(true);
    return interrupts;
  }

  disableInterrupts(index: number): void {
    if (this.#closed) return;
    const notifier = this.#notifiers.get(index);
    if (notifier) {
      notifier.close();
      this.#notifiers.delete(index);
    }
    if (index !== IrqIndex.MSIX) return;
    this.#irqs.disableAll();
    this.sim.config.setMsixEnabled(false);
  }

  reset(): void {
    this.#open('reset');
    checkReset(this.url, this.resettable);
    this.sim.reset();
    log('%s: function-level reset', this.url);
  }

  /** Switch a fault on or off (see SimFault). */
  setFault(fault: SimFault, on = true): void {
    this.sim.setFault(fault, on);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.#regions.values()]) r.close();
    this.#regions.clear();
    this.#irqs.disableAll();
    for (const n of this.#notifiers.values()) n.close();
    this.#notifiers.clear();
    this.sim.close();
    log('closed %s', this.url);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A fresh simulated card: createSimCard('n3000'), ('n3000-dfh1'), ('n3000-no-vsec'). */
export function createSimCard(variant: SimVariant = 'n3000', options: SimCardOptions = {}): SimDevice {
  return new SimDevice(variant, options);
}
