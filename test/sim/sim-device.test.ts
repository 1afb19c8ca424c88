import { EventfdInterrupt } from '../../src/device/eventfd-interrupt.js';
import { describe, expect, it } from 'vitest';
import { createSimCard } from '../../src/sim/sim-device.js';
import { backend, parseSimUrl } from '../../src/sim/backend.js';
import { openDevice } from '../../src/device/registry.js';
import { IrqIndex, RegionIndex } from '../../src/device/device.js';
import { ArgumentError, DeviceError, RegionError } from '../../src/errors.js';
import { VirtualClock, realClock } from '../../src/util/clock.js';
import { Card } from '../../src/afu/card.js';
import type { FeatureModel, SimContext } from '../../src/sim/feature-model.js';
import { SIM_PR_INTERFACE_ID, SIM_VARIANTS } from '../../src/sim/identity.js';
import { SIM_EXT_CAP_VSEC, SIM_CAP_MSIX, SIM_CAP_PCIE, PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 } from '../../src/sim/config-space.js';
import { SimVector } from '../../src/sim/sim-card.js';

/** Walk the standard capability list from 0x34. */
function capabilities(dev: { configRead(o: number, w: 1 | 2 | 4): number }): [number, number][] {
  const out: [number, number][] = [];
  for (let p = dev.configRead(0x34, 1), n = 0; p !== 0 && n < 48; p = dev.configRead(p + 1, 1), n++) out.push([p, dev.configRead(p, 1)]);
  return out;
}

describe('SimDevice identity and config space', () => {
  it('is an N3000 (8086:0b30, class 0x120000) on the sim transport', () => {
    using dev = createSimCard('n3000');
    expect(dev.url).toBe('sim:n3000');
    expect(dev.transport).toBe('sim');
    expect(dev.identity).toMatchObject({ vendor: 0x8086, device: 0x0b30, subsystemVendor: 0x8086, classCode: 0x120000 });
    expect(dev.configRead(0, 2)).toBe(0x8086);
    expect(dev.configRead(2, 2)).toBe(0x0b30);
    expect(dev.configRead(0x08, 4) >>> 8).toBe(0x120000);
    expect(dev.clock).toBeInstanceOf(VirtualClock);
  });

  it('lists the PCI Express and MSI-X capabilities, and AER then the DFL VSEC in extended space', () => {
    using dev = createSimCard('n3000');
    expect(dev.configRead(0x06, 2) & 0x10).toBe(0x10);
    expect(capabilities(dev)).toEqual([[SIM_CAP_PCIE, 0x10], [SIM_CAP_MSIX, 0x11]]);
    // The PCIe v2 capability spans 0x3c bytes: the next one must start after it (QEMU's vfio-pci
    // rebuilds it over that size and zeroed an MSI-X header at 0x70; drivers/fpga/dfl-pci.c then
    // found no MSI-X vectors).
    expect(SIM_CAP_MSIX).toBeGreaterThanOrEqual(SIM_CAP_PCIE + PCI_CAP_EXP_ENDPOINT_SIZEOF_V2);
    expect(dev.configRead(SIM_CAP_MSIX + 2, 2) & 0x7ff).toBe(7); // 8 vectors
    expect(dev.configRead(SIM_CAP_MSIX + 4, 4)).toBe(4); // table in BAR4 at 0
    const aer = dev.configRead(0x100, 4);
    expect(aer & 0xffff).toBe(0x0001);
    expect(aer >>> 20).toBe(SIM_EXT_CAP_VSEC);
    const vsec = dev.configRead(SIM_EXT_CAP_VSEC, 4);
    expect(vsec & 0xffff).toBe(0x000b);
    expect(dev.configRead(SIM_EXT_CAP_VSEC + 4, 4) & 0xffff).toBe(0x43);
    expect(dev.configRead(SIM_EXT_CAP_VSEC + 8, 4)).toBe(1);
    expect(dev.configRead(SIM_EXT_CAP_VSEC + 0xc, 4)).toBe(0); // BAR0, offset 0
  });

  it('has no VSEC in the n3000-no-vsec variant', () => {
    using dev = createSimCard('n3000-no-vsec');
    expect(dev.configRead(0x100, 4) >>> 20).toBe(0);
  });

  it('sizes BARs like hardware and keeps read-only bits', () => {
    using dev = createSimCard('n3000');
    const bar0 = dev.configRead(0x10, 4);
    expect(bar0 & 0xf).toBe(0xc); // 64-bit prefetchable memory
    dev.configWrite(0x10, 4, 0xffffffff);
    expect(dev.configRead(0x10, 4)).toBe((~(0x80000 - 1) | 0xc) >>> 0);
    dev.configWrite(0x10, 4, bar0);
    expect(dev.configRead(0x10, 4)).toBe(bar0);
    dev.configWrite(0, 2, 0x1234);
    expect(dev.configRead(0, 2)).toBe(0x8086);
    dev.configWrite(0x04, 2, 0x6);
    expect(dev.configRead(0x04, 2)).toBe(0x6);
  });

  it('rejects bad config accesses with typed errors', () => {
    using dev = createSimCard('n3000');
    expect(() => dev.configRead(0x1000, 4)).toThrow(RegionError);
    expect(() => dev.configRead(0x101, 2)).toThrow(/naturally aligned/);
    expect(() => dev.configWrite(0x04, 2, 0x10000)).toThrow(RegionError);
  });
});

describe('SimDevice regions, IRQ info, lifecycle', () => {
  it('serves BAR0 and BAR4 as trapped regions on the card clock', () => {
    using dev = createSimCard('n3000');
    expect(dev.regionInfo(RegionIndex.BAR0)).toMatchObject({ size: 0x80000, mappable: false });
    expect(dev.regionInfo(4).size).toBe(0x4000);
    expect(dev.regionInfo(RegionIndex.BAR2).size).toBe(0);
    expect(dev.regionInfo(RegionIndex.CONFIG).size).toBe(4096);
    const bar0 = dev.region(0);
    expect(bar0.kind).toBe('trapped');
    expect(bar0.clock).toBe(dev.clock);
    expect(dev.region(0)).toBe(bar0);
    expect(bar0.read64(0) >> 60n).toBe(4n); // FIU
    expect(bar0.read32(4) >>> 28).toBe(4);
    expect(() => dev.region(2)).toThrow(DeviceError);
    expect(() => dev.region(RegionIndex.CONFIG)).toThrow(/configRead/);
    expect(() => dev.regionInfo(9)).toThrow(ArgumentError);
  });

  it('reports MSI-X as its interrupt', () => {
    using dev = createSimCard('n3000');
    expect(dev.irqInfo(IrqIndex.MSIX)).toMatchObject({ count: 8, eventfd: true });
    expect(dev.irqInfo(IrqIndex.INTX).count).toBe(0);
    expect(() => dev.enableInterrupts(IrqIndex.INTX, 0, 1)).toThrow(ArgumentError);
    expect(() => dev.enableInterrupts(IrqIndex.MSIX, 6, 4)).toThrow(/inside 0..7/);
    // ERR and REQ take one eventfd each, as vfio-pci's do (drivers/vfio/pci/vfio_pci_intrs.c
    // vfio_pci_set_err_trigger); QEMU's vfio-user-pci arms both at realize and fails without them.
    for (const index of [IrqIndex.ERR, IrqIndex.REQ]) {
      const [notifier] = dev.enableInterrupts(index, 0, 1);
      expect((notifier as EventfdInterrupt).closed).toBe(false);
      expect(() => dev.enableInterrupts(index, 0, 2)).toThrow(/has 1 vector\(s\)/);
      dev.disableInterrupts(index);
      expect((notifier as EventfdInterrupt).closed).toBe(true);
    }
  });

  it('close releases regions, interrupts and DMA mappings and is idempotent', () => {
    const dev = createSimCard('n3000');
    const bar0 = dev.region(0);
    const irqs = dev.enableInterrupts(IrqIndex.MSIX, 0, 2);
    dev.close();
    dev.close();
    expect(bar0.closed).toBe(true);
    expect(irqs.every((i) => (i as unknown as { closed: boolean }).closed)).toBe(true);
    expect(() => dev.region(0)).toThrow(/the device is closed/);
    expect(() => dev.reset()).toThrow(DeviceError);
  });

  it('function-level reset puts the port and AFU back to power-on state', () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    card.ports[0]!.disable();
    dev.sim.portError.inject(1n);
    dev.reset();
    expect(card.ports[0]!.control.softReset).toBe(false);
    expect(dev.sim.portError.errors).toBe(0n);
  });
});

describe('feature model hooks', () => {
  it('instantiates a plugged model with a SimContext and forwards its registers (the DFH stays the card\'s)', () => {
    let ctx: SimContext | undefined;
    const writes: [number, bigint][] = [];
    let resets = 0;
    const model: FeatureModel = {
      size: 0x2000,
      read64: (o) => (o === 0x8 ? 0x5a5an : BigInt(o)),
      write64: (o, v) => void writes.push([o, v]),
      reset: () => void resets++,
    };
    using dev = createSimCard('n3000', { featureModels: { 'fme:0x5': (c) => ((ctx = c), model) } });
    expect(ctx!.prInterfaceId).toBe(SIM_PR_INTERFACE_ID);
    expect(ctx!.variant).toBe('n3000');
    expect(ctx!.clock).toBe(dev.clock);
    const card = Card.discover(dev);
    const pr = card.fme!.findFeature(5)!;
    expect(pr.size).toBe(0x2000);
    expect(pr.region.read64(pr.offset) & 0xfffn).toBe(5n);
    expect(pr.region.read64(pr.offset + 8)).toBe(0x5a5an);
    expect(pr.region.read64(pr.offset + 0x1ff8)).toBe(0x1ff8n);
    pr.region.write64(pr.offset + 0x18, 7n);
    expect(writes).toEqual([[0x18, 7n]]);
    // The next feature moved to make room for the model's size.
    expect(card.fme!.findFeature(0xd)!.offset).toBe(pr.offset + 0x2000);
    // Hooks the model uses.
    expect(ctx!.portInReset(0)).toBe(false);
    card.ports[0]!.disable();
    expect(ctx!.portInReset(0)).toBe(true);
    expect(ctx!.portInReset(3)).toBe(false);
    card.ports[0]!.enable();
    ctx!.loadAfu(0, '99999999-8888-7777-6666-555555555555');
    expect(Card.discover(dev).afus[0]!.guid).toBe('99999999-8888-7777-6666-555555555555');
    expect(() => ctx!.loadAfu(1, '99999999-8888-7777-6666-555555555555')).toThrow(ArgumentError);
    dev.reset();
    expect(resets).toBe(1);
  });

  it('delivers raiseInterrupt to the armed vector, else marks it pending in the PBA', async () => {
    let ctx: SimContext | undefined;
    using dev = createSimCard('n3000', { featureModels: { 'fme:0x5': (c) => ((ctx = c), { size: 0x1000, read64: () => 0n, write64: () => {} }) } });
    ctx!.raiseInterrupt(SimVector.SPARE0);
    expect(dev.region(4).read64(0x2000)).toBe(1n << BigInt(SimVector.SPARE0));
    const [irq] = dev.enableInterrupts(IrqIndex.MSIX, SimVector.SPARE0, 1);
    const got = irq!.wait({ timeoutMs: 2000 });
    ctx!.raiseInterrupt(SimVector.SPARE0);
    expect(await got).toBe(1);
    expect(dev.region(4).read64(0x2000)).toBe(0n);
    expect(() => ctx!.raiseInterrupt(8)).toThrow(ArgumentError);
  });

  it('signals the port error vector when an unmasked error latches, and sets MSI-X enable', async () => {
    using dev = createSimCard('n3000');
    expect(dev.configRead(SIM_CAP_MSIX + 2, 2) & 0x8000).toBe(0);
    const irqs = dev.enableInterrupts(IrqIndex.MSIX, 0, 8);
    expect(dev.configRead(SIM_CAP_MSIX + 2, 2) & 0x8000).toBe(0x8000);
    const fired = irqs[SimVector.PORT_ERROR]!.wait({ timeoutMs: 2000 });
    dev.sim.portError.inject(0x2n);
    expect(await fired).toBe(1);
    // Masked errors latch without an interrupt.
    dev.sim.portError.mask = 0x4n;
    dev.sim.portError.inject(0x4n);
    expect(dev.sim.raised[SimVector.PORT_ERROR]).toBe(1);
    expect(dev.sim.portError.errors).toBe(0x6n);
    dev.disableInterrupts(IrqIndex.MSIX);
    expect(dev.configRead(SIM_CAP_MSIX + 2, 2) & 0x8000).toBe(0);
  });

  it('turns a failure inside a model into a typed DeviceError naming the feature', () => {
    using dev = createSimCard('n3000', { featureModels: { 'port:0x12': () => ({ size: 0x1000, read64: (o) => { if (o === 0x100) throw new RangeError('boom'); return 0n; }, write64: () => {} }) } });
    const uint = Card.discover(dev).ports[0]!.findFeature(0x12)!;
    expect(() => uint.region.read64(uint.offset + 0x100)).toThrow(DeviceError);
    expect(() => uint.region.read64(uint.offset + 0x100)).toThrow(/port:0x12: read at \+0x100 failed: boom/);
  });

  it('validates timing options', () => {
    expect(() => createSimCard('n3000', { resetAckDelayUs: -1 })).toThrow(ArgumentError);
    expect(() => createSimCard('n3000', { dmaBytesPerUs: 0 })).toThrow(/dmaBytesPerUs/);
    expect(() => createSimCard('n3000', { dmaLatencyUs: Number.NaN })).toThrow(ArgumentError);
  });

  it('rejects models for features the card does not have, and bad sizes', () => {
    expect(() => createSimCard('n3000', { featureModels: { 'fme:0x6': () => ({ size: 0x1000, read64: () => 0n, write64: () => {} }) } })).toThrow(/no feature "fme:0x6"/);
    expect(() => createSimCard('n3000', { featureModels: { 'fme:0x5': () => ({ size: 12, read64: () => 0n, write64: () => {} }) } })).toThrow(ArgumentError);
  });
});

describe('sim backend', () => {
  it('enumerates the variants and filters by identity', () => {
    const tokens = backend.enumerate!() as { url: string; vendor: number }[];
    expect(tokens.map((t) => t.url)).toEqual(SIM_VARIANTS.map((v) => `sim:${v}`));
    expect(backend.enumerate!({ vendor: 0x1c2c })).toEqual([]);
    expect((backend.enumerate!({ device: 0x0b30 }) as unknown[]).length).toBe(3);
  });

  it('opens a fresh card each time through openDevice', async () => {
    const a = await openDevice('sim:n3000');
    const b = await openDevice('sim:n3000');
    try {
      a.region(0).write64(0x60100, 5n);
      expect(a.region(0).read64(0x60100)).toBe(5n);
      expect(b.region(0).read64(0x60100)).toBe(0n);
      expect(a.clock).not.toBe(b.clock);
    } finally {
      a.close();
      b.close();
    }
  });

  it('refuses unknown variants with the list of known ones', async () => {
    await expect(openDevice('sim:n6000')).rejects.toThrow(DeviceError);
    await expect(openDevice('sim:n6000')).rejects.toThrow(/sim:n3000, sim:n3000-dfh1, sim:n3000-no-vsec/);
  });

  it('takes faults and options from the URL query', () => {
    expect(parseSimUrl('sim:n3000?fault=reset-ack&fault=dma&resetAckDelayUs=7')).toEqual({ variant: 'n3000', options: { faults: ['reset-ack', 'dma'], resetAckDelayUs: 7 } });
    expect(parseSimUrl('sim:n3000-dfh1?clock=real').options.clock).toBe(realClock);
    expect(() => parseSimUrl('sim:n3000?fault=melt')).toThrow(/unknown fault "melt"/);
    expect(() => parseSimUrl('sim:n3000?colour=red')).toThrow(/unknown option/);
    expect(() => parseSimUrl('sim:n3000?resetAckDelayUs=-1')).toThrow(DeviceError);
    using dev = backend.open('sim:n3000?fault=reset-ack') as ReturnType<typeof createSimCard>;
    expect(dev.sim.hasFault('reset-ack')).toBe(true);
  });
});
