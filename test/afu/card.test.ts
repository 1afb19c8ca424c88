import { describe, expect, it } from 'vitest';
import { Card } from '../../src/afu/card.js';
import { PortResetError } from '../../src/afu/errors.js';
import { PORT_RESET_TIMEOUT_US } from '../../src/afu/port.js';
import { FME_GUID, PORT_GUID } from '../../src/dfl/guid.js';
import { FmeFeatureId, PortFeatureId } from '../../src/dfl/names.js';
import { DeviceError, RegionError, TimeoutError } from '../../src/errors.js';
import { createSimCard } from '../../src/sim/sim-device.js';
import { SIM_AFU_GUID, SIM_BITSTREAM_ID, SIM_BITSTREAM_MD, SIM_PR_INTERFACE_ID, SIM_VARIANTS } from '../../src/sim/identity.js';
import { SimAfuReg } from '../../src/sim/afu-regs.js';
import { SIM_RESET_ACK_DELAY_US } from '../../src/sim/sim-card.js';
import { realClock } from '../../src/util/clock.js';

describe('Card.discover', () => {
  for (const variant of SIM_VARIANTS) {
    it(`${variant}: one FME, one port, one AFU`, () => {
      using dev = createSimCard(variant);
      const card = Card.discover(dev);
      expect(card.fmes).toHaveLength(1);
      expect(card.fme!.guid).toBe(FME_GUID);
      expect(card.ports.map((p) => [p.number, p.guid])).toEqual([[0, PORT_GUID]]);
      expect(card.afus.map((a) => [a.guid, a.offset, a.size, a.port.number])).toEqual([[SIM_AFU_GUID, 0x60000, 0x20000, 0]]);
      expect(card.afu(0)).toBe(card.afus[0]);
      expect(card.port(0)).toBe(card.ports[0]);
      expect(card.allFeatures()).toHaveLength(10);
    });
  }

  it('decodes the FME: capabilities, bitstream, PR interface ID, features', () => {
    using dev = createSimCard('n3000');
    const fme = Card.discover(dev).fme!;
    expect(fme.portCount).toBe(1);
    expect(fme.capabilities).toMatchObject({ fabricVersion: 1, portCount: 1, iommu: true, pcie0Link: true, addressWidth: 48 });
    expect(fme.bitstreamId).toBe(SIM_BITSTREAM_ID);
    expect(fme.bitstreamVersion).toEqual({ major: 2, minor: 3, patch: 1, text: '2.3.1' });
    expect(fme.bitstreamMetadata).toBe(SIM_BITSTREAM_MD);
    expect(fme.prInterfaceId).toBe(SIM_PR_INTERFACE_ID);
    const pr = fme.findFeature(FmeFeatureId.PR)!;
    expect(pr).toMatchObject({ id: 5, name: 'pr', bar: 0, offset: 0x4000, csrOffset: 0x4000, version: 0 });
    expect(pr.region).toBe(dev.region(0));
    // The N3000's BMC sits behind the Nios feature 0xD (dfl-n3000-nios.c), not 0xE.
    expect(fme.findFeature(FmeFeatureId.NIOS_SPI)!.name).toBe('nios-spi');
    expect(fme.findFeature(FmeFeatureId.MAX10_SPI)).toBeUndefined();
    expect(fme.findFeature(FmeFeatureId.HSSI)).toBeUndefined();
    expect(fme.features.map((f) => f.id)).toEqual([1, 2, 4, 5, 0xd]);
  });

  it('reports the PR interface ID the card was built with', () => {
    using dev = createSimCard('n3000', { prInterfaceId: '01234567-89ab-cdef-0123-456789abcdef' });
    expect(Card.discover(dev).fme!.prInterfaceId).toBe('01234567-89ab-cdef-0123-456789abcdef');
  });

  it('gives v1 features their CSR block as csrOffset', () => {
    using dev = createSimCard('n3000-dfh1');
    const port = Card.discover(dev).ports[0]!;
    const err = port.findFeature(PortFeatureId.ERROR)!;
    expect(err.version).toBe(1);
    expect(err.csrOffset).toBe(err.offset + 0x40);
    expect(err.irq).toEqual({ firstVector: 1, count: 1, source: 'msix-param' });
  });

  it('decodes the port capabilities and status', () => {
    using dev = createSimCard('n3000');
    const port = Card.discover(dev).ports[0]!;
    expect(port.capabilities).toMatchObject({ portNumber: 0, mmioSizeKiB: 128, interruptCount: 4 });
    expect(port.status).toMatchObject({ powerState: 0, ap1Event: false, ap2Event: false });
    expect(port.control).toMatchObject({ softReset: false, softResetAck: false });
  });
});

describe('port reset', () => {
  it('disable sets PORT_CTRL[0] and waits for the ACK; enable clears it and waits for the ACK to drop', () => {
    using dev = createSimCard('n3000');
    const port = Card.discover(dev).ports[0]!;
    const t0 = dev.clock.now();
    port.disable();
    // The ACK follows after the card's delay; the host polled in 10 us steps meanwhile.
    expect(dev.clock.now() - t0).toBeGreaterThanOrEqual(SIM_RESET_ACK_DELAY_US / 1000);
    expect(dev.clock.now() - t0).toBeLessThan(0.1);
    expect(port.control).toMatchObject({ softReset: true, softResetAck: true });
    expect(dev.sim.port.inReset).toBe(true);
    expect(port.disabled).toBe(true);
    port.enable();
    expect(port.control).toMatchObject({ softReset: false, softResetAck: false });
    expect(port.disabled).toBe(false);
    expect(dev.sim.port.ctrlWrites).toBe(2);
  });

  it('nests disables: only the outermost pair touches PORT_CTRL', () => {
    using dev = createSimCard('n3000');
    const port = Card.discover(dev).ports[0]!;
    port.disable();
    port.disable();
    port.disable();
    expect(port.disableCount).toBe(3);
    expect(dev.sim.port.ctrlWrites).toBe(1);
    port.enable();
    port.enable();
    expect(port.control.softReset).toBe(true);
    expect(dev.sim.port.ctrlWrites).toBe(1);
    port.enable();
    expect(port.control.softReset).toBe(false);
    expect(dev.sim.port.ctrlWrites).toBe(2);
    // reset() while nested does nothing to the hardware (dfl-afu-main.c __port_reset).
    port.disable();
    port.reset();
    expect(dev.sim.port.ctrlWrites).toBe(3);
    port.enable();
    port.reset();
    expect(dev.sim.port.ctrlWrites).toBe(6);
  });

  it('shares the disable count with a fresh discover of the same device', () => {
    using dev = createSimCard('n3000');
    Card.discover(dev).ports[0]!.disable();
    const again = Card.discover(dev).ports[0]!;
    expect(again.disableCount).toBe(1);
    again.enable();
    expect(again.control.softReset).toBe(false);
  });

  it('throws a typed error for enable without disable', () => {
    using dev = createSimCard('n3000');
    const port = Card.discover(dev).ports[0]!;
    expect(() => port.enable()).toThrow(DeviceError);
    expect(() => port.enable()).toThrow(/without a matching disable/);
  });

  it('times out after 1 ms when the ACK never comes, naming PORT_CTRL and bit 4', () => {
    using dev = createSimCard('n3000', { faults: ['reset-ack'] });
    const port = Card.discover(dev).ports[0]!;
    const t0 = dev.clock.now();
    let caught: unknown;
    try {
      port.disable();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PortResetError);
    expect(caught).toBeInstanceOf(TimeoutError);
    const e = caught as PortResetError;
    expect(e.code).toBe('EPORT_DISABLE_TIMEOUT');
    expect(e.details).toMatchObject({ register: 'PORT_CTRL', bar: 0, offset: 0x40038, bit: 4, expected: 1, port: 0 });
    expect(e.message).toContain('PORT_CTRL (BAR0+0x40038) bit 4');
    expect(dev.clock.now() - t0).toBeGreaterThanOrEqual(PORT_RESET_TIMEOUT_US / 1000);
    // The port stays held in reset and counted, as the kernel leaves it; enable() releases it.
    expect(port.control.softReset).toBe(true);
    expect(port.disableCount).toBe(1);
    port.enable();
    expect(port.control.softReset).toBe(false);
    dev.setFault('reset-ack', false);
    port.reset();
    expect(port.disableCount).toBe(0);
  });

  it('works on the real clock: the ACK is evaluated at each read while the host spins', () => {
    using dev = createSimCard('n3000', { clock: realClock, resetAckDelayUs: 50 });
    const port = Card.discover(dev).ports[0]!;
    const t0 = performance.now();
    port.disable();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(0.05);
    expect(port.control.softResetAck).toBe(true);
    port.enable();
    expect(port.control.softResetAck).toBe(false);
  });

  it('resets the AFU with the port, which does not answer while held in reset', () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    const afu = card.afus[0]!;
    afu.write64(SimAfuReg.SCRATCH0, 0x1234n);
    card.ports[0]!.disable();
    expect(afu.read64(SimAfuReg.SCRATCH0)).toBe(0xffff_ffff_ffff_ffffn);
    card.ports[0]!.enable();
    expect(afu.read64(SimAfuReg.SCRATCH0)).toBe(0n);
  });
});

describe('port errors', () => {
  it('clearErrors writes back PORT_ERROR and PORT_FIRST_ERROR with the port held in reset', () => {
    using dev = createSimCard('n3000');
    const port = Card.discover(dev).ports[0]!;
    dev.sim.portError.inject(0x4n);
    dev.sim.portError.inject(0x1n);
    expect(port.readErrors()).toEqual({ errors: 0x5n, firstError: 0x4n });
    const writes = dev.sim.port.ctrlWrites;
    expect(port.clearErrors()).toEqual({ errors: 0x5n, firstError: 0x4n });
    expect(port.readErrors()).toEqual({ errors: 0n, firstError: 0n });
    expect(dev.sim.port.ctrlWrites).toBe(writes + 2);
    expect(dev.sim.portError.mask).toBe(0n);
    expect(port.disabled).toBe(false);
  });

  it('clears errors through the v1 CSR block', () => {
    using dev = createSimCard('n3000-dfh1');
    const port = Card.discover(dev).ports[0]!;
    dev.sim.portError.inject(0x8n);
    expect(port.clearErrors().errors).toBe(0x8n);
    expect(dev.sim.portError.errors).toBe(0n);
  });

  it('refuses to clear errors in power state AP6 with EBUSY before touching the port (dfl-afu-error.c afu_port_err_clear)', () => {
    using dev = createSimCard('n3000', { faults: ['ap6'] });
    const port = Card.discover(dev).ports[0]!;
    expect(port.status.powerState).toBe(6);
    dev.sim.portError.inject(0x2n);
    const writes = dev.sim.port.ctrlWrites;
    const err = (() => { try { port.clearErrors(); return undefined; } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).code).toBe('EBUSY');
    expect((err as DeviceError).message).toMatch(/AP6.*PORT_STS\[11:8\] = 6/);
    expect(dev.sim.port.ctrlWrites).toBe(writes); // the port was not held in reset
    expect(dev.sim.portError.errors).toBe(0x2n);
    expect(dev.sim.portError.mask).toBe(0n);
    // Back to normal (AP1/AP2 only throttle): the clear works.
    dev.sim.port.powerState = 2;
    expect(port.clearErrors().errors).toBe(0x2n);
  });

  it('leaves the port usable when the disable inside clearErrors times out', () => {
    using dev = createSimCard('n3000', { faults: { 'reset-ack': true } });
    const port = Card.discover(dev).ports[0]!;
    dev.sim.portError.inject(0x1n);
    expect(() => port.clearErrors()).toThrow(PortResetError);
    expect(port.disableCount).toBe(0);
    expect(port.control.softReset).toBe(false);
    expect(dev.sim.portError.errors).toBe(0x1n);
  });
});

describe('AFU MMIO', () => {
  it('reads and writes AFU registers at AFU offsets, 32 and 64 bits', () => {
    using dev = createSimCard('n3000');
    const afu = Card.discover(dev).afus[0]!;
    afu.write64(SimAfuReg.SCRATCH1, 0x1122_3344_5566_7788n);
    expect(afu.read64(SimAfuReg.SCRATCH1)).toBe(0x1122_3344_5566_7788n);
    expect(afu.read32(SimAfuReg.SCRATCH1)).toBe(0x5566_7788);
    expect(afu.read32(SimAfuReg.SCRATCH1 + 4)).toBe(0x1122_3344);
    afu.write32(SimAfuReg.SCRATCH1 + 4, 0xaabbccdd);
    expect(afu.read64(SimAfuReg.SCRATCH1)).toBe(0xaabb_ccdd_5566_7788n);
    expect(afu.readGuid()).toBe(SIM_AFU_GUID);
  });

  it('refuses accesses outside the AFU MMIO with a typed error', () => {
    using dev = createSimCard('n3000');
    const afu = Card.discover(dev).afus[0]!;
    expect(() => afu.read64(0x20000)).toThrow(RegionError);
    expect(() => afu.read32(0x1fffe)).toThrow(/outside its MMIO/);
    expect(() => afu.write64(-8, 0n)).toThrow(RegionError);
    expect(() => afu.write32(1.5, 0)).toThrow(RegionError);
    expect(() => afu.read64(0x1fff8)).not.toThrow();
    // Misaligned inside the window: the region's own check.
    expect(() => afu.read64(0x104)).toThrow(RegionError);
  });

  it('shows the new AFU GUID after the PR model loads an AFU (fresh discover)', () => {
    using dev = createSimCard('n3000');
    const guid = '11111111-2222-3333-4444-555555555555';
    dev.sim.context.loadAfu(0, guid);
    const card = Card.discover(dev);
    expect(card.afus[0]!.guid).toBe(guid);
  });
});
