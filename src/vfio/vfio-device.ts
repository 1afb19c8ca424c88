// VfioDevice: a PCI function driven through the kernel's vfio-pci (legacy group/container or
// iommufd cdev): device info, regions (mmapped when the kernel allows, sparse areas mapped and the
// rest trapped through pread/pwrite), config space, interrupts with eventfds (INTx, MSI, MSI-X,
// ERR, REQ; mask/unmask), reset, and the DMA mapper. The REQ interrupt (the kernel asking for
// the device back: unbind or hot-remove, drivers/vfio/pci/vfio_pci_core.c vfio_pci_core_request)
// is armed at open and surfaced through onRequest(); with no listener the device closes itself so
// the kernel's remove does not block.
import { checkIrqIndex, checkIrqRange, checkOpen, checkRegionExists, checkRegionIndex, checkReset } from '../device/checks.js';
import { closeQuietly } from '../sys/libc.js';
import { createEventfd } from '../sys/libc.js';
import { EventfdInterrupt } from '../device/eventfd-interrupt.js';
import type { Device, DeviceCapabilities, IrqInfo, PciIdentity, RegionInfo } from '../device/device.js';
import { IrqIndex, RegionIndex } from '../device/device.js';
import type { Interrupt } from '../device/interrupt.js';
import type { DmaMapper } from '../dma/mapper.js';
import type { Region } from '../mmio/region.js';
import { mapRegion } from './bar-mapping.js';
import { TrappedRegion } from '../mmio/trapped-region.js';
import { ArgumentError, DeviceError, VfiokitError } from '../errors.js';
import { realClock, type Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { VfioError, vfioIoctl } from './errors.js';
import { preadUint, pread64, pwriteUint, pwrite64 } from './device-io.js';
import { parseRegionInfo, type ParsedRegionInfo } from './info-parse.js';
import {
  DeviceInfoFlags, DeviceIoctl, IrqInfoFlags, IrqSetFlags, RegionInfoFlags, encodeIrqSet, vfio_device_info, vfio_irq_info,
  vfio_region_info,
} from '../sys/uapi/linux-vfio.js';
import { flagSet } from '../sys/uapi/struct.js';

const log = logger('vfio');

/** PCI config space offsets (PCI Local Bus spec, include/uapi/linux/pci_regs.h). */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;

const IRQ_NAMES = ['INTx', 'MSI', 'MSI-X', 'ERR', 'REQ'];

export type VfioRegionInfo = RegionInfo & ParsedRegionInfo;

/** How the device fd was obtained, and what to release on close. */
export interface VfioDeviceParts {
  bdf: string;
  deviceFd: number;
  mode: 'type1' | 'iommufd' | 'noiommu';
  mapper: DmaMapper;
  /** Called after the device fd is closed (release the group/container or the iommufd). */
  release: () => void;
}

export interface VfioDeviceOptions {
  clock?: Clock;
  /** Set memory decoding and bus mastering in the command register at open (default true). */
  enableBusMaster?: boolean;
}

export class VfioDevice implements Device {
  readonly url: string;
  readonly transport = 'vfio';
  readonly bdf: string;
  readonly clock: Clock;
  readonly mode: 'type1' | 'iommufd' | 'noiommu';
  readonly regionCount: number;
  readonly irqCount: number;
  readonly resettable: boolean;
  readonly identity: PciIdentity;
  /** A function of this host bound to vfio-pci. */
  readonly capabilities: DeviceCapabilities;
  readonly #fd: number;
  readonly #mapper: DmaMapper;
  readonly #release: () => void;
  readonly #regionInfo = new Map<number, VfioRegionInfo>();
  readonly #regions = new Map<number, Region>();
  readonly #irqs = new Map<number, EventfdInterrupt[]>();
  readonly #requestListeners = new Set<(count: number) => void>();
  #request: EventfdInterrupt | undefined;
  #closed = false;

  constructor(parts: VfioDeviceParts, options: VfioDeviceOptions = {}) {
    this.bdf = parts.bdf;
    this.capabilities = { hostPci: { bdf: parts.bdf, driver: 'vfio-pci' } };
    this.url = `vfio:${parts.bdf}`;
    this.mode = parts.mode;
    this.#fd = parts.deviceFd;
    this.#mapper = parts.mapper;
    this.#release = parts.release;
    this.clock = options.clock ?? realClock;
    // Room for 6.6's tail padding (vfio_device_info is 24 bytes there).
    const info = vfio_device_info.encode({}, 24);
    vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_GET_INFO, info, 'device', this.url);
    const d = vfio_device_info.decode(info);
    if (!(d.flags & DeviceInfoFlags.PCI)) {
      throw new VfioError('EVFIO_NOT_PCI', `${this.url} is not a vfio-pci device (flags 0x${d.flags.toString(16)})`, { device: this.url });
    }
    this.regionCount = d.num_regions;
    this.irqCount = d.num_irqs;
    this.resettable = (d.flags & DeviceInfoFlags.RESET) !== 0;
    const classRev = this.configRead(PCI_CLASS_REVISION, 4);
    this.identity = {
      vendor: this.configRead(PCI_VENDOR_ID, 2),
      device: this.configRead(PCI_DEVICE_ID, 2),
      subsystemVendor: this.configRead(PCI_SUBSYSTEM_VENDOR_ID, 2),
      subsystemDevice: this.configRead(PCI_SUBSYSTEM_ID, 2),
      classCode: classRev >>> 8,
      revision: classRev & 0xff,
    };
    if (options.enableBusMaster ?? true) this.setCommandBits(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, true);
    this.#armRequest();
    log('opened %s (%s): %d regions, %d irq indexes', this.url, this.mode, this.regionCount, this.irqCount);
  }

  get dma(): DmaMapper {
    return this.#mapper;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The device fd (for advanced use: ioctls vfiokit does not wrap). */
  get fd(): number {
    return this.#fd;
  }

  #assertOpen(what: string): void {
    checkOpen(this.url, this.#closed, what);
  }

  regionInfo(index: number): VfioRegionInfo {
    this.#assertOpen('regionInfo');
    const cached = this.#regionInfo.get(index);
    if (cached) return cached;
    checkRegionIndex(this.url, index, this.regionCount);
    let buf = vfio_region_info.encode({ index });
    vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_GET_REGION_INFO, buf, 'device', this.url);
    const first = vfio_region_info.decode(buf);
    // Capabilities did not fit: the kernel raised argsz (and left cap_offset 0). Ask again.
    if ((first.flags & RegionInfoFlags.CAPS) && first.argsz > buf.length) {
      buf = vfio_region_info.encode({ index }, first.argsz);
      vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_GET_REGION_INFO, buf, 'device', this.url);
    }
    const info: VfioRegionInfo = parseRegionInfo(buf, index);
    this.#regionInfo.set(index, info);
    return info;
  }

  region(index: number): Region {
    this.#assertOpen('region');
    const cached = this.#regions.get(index);
    if (cached && !cached.closed) return cached;
    const info = this.regionInfo(index);
    checkRegionExists(this.url, index, info.size);
    const name = `${this.url} ${index <= 5 ? `BAR${index}` : index === RegionIndex.ROM ? 'ROM' : index === RegionIndex.CONFIG ? 'config' : `region ${index}`}`;
    let region: Region;
    const whole = info.mappable && (!info.mmapAreas || info.mmapAreas.some((a) => a.offset === 0 && a.size >= info.size));
    if (whole && info.size % 4096 === 0) {
      region = mapRegion(name, this.#fd, info.size, Number(info.fdOffset), { clock: this.clock, writable: info.writable });
    } else {
      region = this.#trappedRegion(name, info);
    }
    this.#regions.set(index, region);
    return region;
  }

  /** pread/pwrite region; sparse mmap areas inside it are mapped and accessed directly. */
  #trappedRegion(name: string, info: VfioRegionInfo): Region {
    const fd = this.#fd;
    const base = info.fdOffset;
    const areas: { start: number; end: number; region: Region }[] = [];
    try {
      for (const a of info.mappable && info.mmapAreas ? info.mmapAreas : []) {
        if (a.offset % 4096 !== 0 || a.size % 4096 !== 0) continue;
        areas.push({
          start: a.offset,
          end: a.offset + a.size,
          region: mapRegion(`${name} [0x${a.offset.toString(16)}+0x${a.size.toString(16)}]`, fd, a.size, Number(base) + a.offset, { clock: this.clock, writable: info.writable }),
        });
      }
    } catch (e) {
      // A later area failed to map: the ones already mapped hold the device file open; drop them.
      for (const a of areas) a.region.close();
      throw e;
    }
    const find = (offset: number, width: number) => {
      for (const a of areas) if (offset >= a.start && offset + width <= a.end) return a;
      return undefined;
    };
    return new TrappedRegion(name, info.size, {
      read32: (o) => { const a = find(o, 4); return a ? a.region.read32(o - a.start) : preadUint(fd, base, o, 4, name); },
      read64: (o) => { const a = find(o, 8); return a ? a.region.read64(o - a.start) : pread64(fd, base, o, name); },
      write32: (o, v) => { const a = find(o, 4); if (a) a.region.write32(o - a.start, v); else pwriteUint(fd, base, o, 4, v, name); },
      write64: (o, v) => { const a = find(o, 8); if (a) a.region.write64(o - a.start, v); else pwrite64(fd, base, o, v, name); },
    }, { clock: this.clock, onClose: () => { for (const a of areas) a.region.close(); } });
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    this.#assertOpen('configRead');
    this.#checkConfig(offset, width);
    return preadUint(this.#fd, this.#configBase(), offset, width, `${this.url} config`);
  }

  configWrite(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#assertOpen('configWrite');
    this.#checkConfig(offset, width);
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * width)) {
      throw new ArgumentError('EARG_VALUE', `config write of ${value} does not fit ${width} byte(s)`, { offset, width, value });
    }
    pwriteUint(this.#fd, this.#configBase(), offset, width, value, `${this.url} config`);
  }

  #configBase(): bigint {
    return this.regionInfo(RegionIndex.CONFIG).fdOffset;
  }

  #checkConfig(offset: number, width: number): void {
    const size = this.regionInfo(RegionIndex.CONFIG).size;
    if (![1, 2, 4].includes(width) || !Number.isInteger(offset) || offset < 0 || offset % width !== 0 || offset + width > size) {
      throw new ArgumentError('EARG_CONFIG', `config access of ${width} byte(s) at 0x${Number(offset).toString(16)} on ${this.url}: use width 1, 2 or 4, aligned, inside 0..0x${(size - 1).toString(16)}`, { offset, width, size });
    }
  }

  /** Set or clear bits of the PCI command register (memory space, bus master, INTx disable). */
  setCommandBits(bits: number, on: boolean): void {
    const cmd = this.configRead(PCI_COMMAND, 2);
    const next = on ? cmd | bits : cmd & ~bits;
    if (next !== cmd) this.configWrite(PCI_COMMAND, 2, next & 0xffff);
  }

  irqInfo(index: number): IrqInfo {
    this.#assertOpen('irqInfo');
    checkIrqIndex(this.url, index, this.irqCount);
    const buf = vfio_irq_info.encode({ index });
    vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_GET_IRQ_INFO, buf, 'device', this.url);
    const i = vfio_irq_info.decode(buf);
    return {
      index,
      count: i.count,
      eventfd: (i.flags & IrqInfoFlags.EVENTFD) !== 0,
      maskable: (i.flags & IrqInfoFlags.MASKABLE) !== 0,
      automasked: (i.flags & IrqInfoFlags.AUTOMASKED) !== 0,
    };
  }

  enableInterrupts(index: number, start: number, count: number): Interrupt[] {
    this.#assertOpen('enableInterrupts');
    const info = this.irqInfo(index);
    const label = IRQ_NAMES[index] ?? `IRQ index ${index}`;
    checkIrqRange(this.url, info, start, count);
    if (!info.eventfd) throw new VfioError('EVFIO_IRQ_NO_EVENTFD', `${this.url} ${label} cannot signal an eventfd`, { device: this.url, index });
    const fds: number[] = [];
    try {
      for (let i = 0; i < count; i++) fds.push(createEventfd());
      vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_EVENTFD, IrqSetFlags.ACTION_TRIGGER), index, start, count, { eventfds: fds }), 'device', this.url);
    } catch (e) {
      for (const fd of fds) closeQuietly(fd);
      throw e;
    }
    const list = this.#irqs.get(index) ?? [];
    // Vectors re-armed replace the old eventfds.
    for (const old of list.filter((x) => x.vector >= start && x.vector < start + count)) old.close();
    const kept = list.filter((x) => !(x.vector >= start && x.vector < start + count));
    const fresh = fds.map((fd, i) => new EventfdInterrupt({ index, vector: start + i, fd, name: `${this.url} ${label} vector ${start + i}` }));
    this.#irqs.set(index, [...kept, ...fresh].sort((a, b) => a.vector - b.vector));
    log('%s: %s vectors %d..%d armed', this.url, label, start, start + count - 1);
    return fresh;
  }

  disableInterrupts(index: number): void {
    this.#assertOpen('disableInterrupts');
    const list = this.#irqs.get(index);
    if (index === IrqIndex.REQ) this.#request = undefined;
    // DATA_NONE | ACTION_TRIGGER with count 0 disables the whole index (vfio.h VFIO_DEVICE_SET_IRQS).
    try {
      vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_NONE, IrqSetFlags.ACTION_TRIGGER), index, 0, 0), 'device', this.url);
    } finally {
      for (const irq of list ?? []) irq.close();
      this.#irqs.delete(index);
    }
  }

  /** Mask vectors (INTx, or MSI/MSI-X where the kernel supports it: see irqInfo().maskable). */
  maskInterrupts(index: number, start = 0, count = 1): void {
    this.#assertOpen('maskInterrupts');
    vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_NONE, IrqSetFlags.ACTION_MASK), index, start, count), 'device', this.url);
  }

  /** Unmask vectors; INTx is automasked on every interrupt and must be unmasked after handling. */
  unmaskInterrupts(index: number, start = 0, count = 1): void {
    this.#assertOpen('unmaskInterrupts');
    vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_NONE, IrqSetFlags.ACTION_UNMASK), index, start, count), 'device', this.url);
  }

  /** Raise vectors from software (DATA_NONE | ACTION_TRIGGER): the eventfds fire as if the device did. */
  triggerInterrupts(index: number, start = 0, count = 1): void {
    this.#assertOpen('triggerInterrupts');
    vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_NONE, IrqSetFlags.ACTION_TRIGGER), index, start, count), 'device', this.url);
  }

  /**
   * Listen for the kernel's request to release the device (unbind or hot-remove). Close the
   * device in the listener (or soon after): the kernel's remove waits until it is closed.
   */
  onRequest(listener: (count: number) => void): () => void {
    this.#requestListeners.add(listener);
    return () => this.#requestListeners.delete(listener);
  }

  #armRequest(): void {
    if (this.irqCount <= IrqIndex.REQ) return;
    let info: IrqInfo;
    try {
      info = this.irqInfo(IrqIndex.REQ);
    } catch {
      return;
    }
    if (info.count < 1 || !info.eventfd) return;
    const [req] = this.enableInterrupts(IrqIndex.REQ, 0, 1);
    this.#request = req as EventfdInterrupt;
    this.#request.onEvent((count) => {
      log('%s: the kernel requests the device back (REQ)', this.url);
      if (this.#requestListeners.size === 0) {
        log('%s: no onRequest listener: closing the device so the kernel can proceed', this.url);
        this.close();
        return;
      }
      for (const l of [...this.#requestListeners]) l(count);
    });
    // The REQ watch must not keep the process alive on its own.
    (this.#request as unknown as { unref?: () => void }).unref?.();
  }

  reset(): void {
    this.#assertOpen('reset');
    checkReset(this.url, this.resettable);
    vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_RESET, null, 'device', this.url);
  }

  /**
   * Unmap the regions, disable and close the interrupts, close the device fd and release the
   * group/container or iommufd. Every step runs even when an earlier one throws; the first error
   * is rethrown at the end.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let first: unknown;
    const attempt = (step: () => void): void => {
      try {
        step();
      } catch (e) {
        first ??= e;
      }
    };
    for (const region of this.#regions.values()) attempt(() => region.close());
    this.#regions.clear();
    for (const [index, list] of this.#irqs) {
      try {
        vfioIoctl(this.#fd, DeviceIoctl.VFIO_DEVICE_SET_IRQS, encodeIrqSet(flagSet(IrqSetFlags.DATA_NONE, IrqSetFlags.ACTION_TRIGGER), index, 0, 0), 'device', this.url);
      } catch {
        // Closing the device fd below tears the interrupts down anyway.
      }
      for (const irq of list) attempt(() => irq.close());
    }
    this.#irqs.clear();
    this.#request = undefined;
    this.#requestListeners.clear();
    closeQuietly(this.#fd);
    attempt(() => this.#release());
    log('closed %s', this.url);
    if (first !== undefined) {
      if (first instanceof VfiokitError) throw first;
      throw new DeviceError('EDEVICE_CLOSE', `closing ${this.url}: ${first instanceof Error ? first.message : String(first)}; the device fd was closed and the group/iommufd released anyway`, { device: this.url }, { cause: first });
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
