// The sim suite, written once against Device: DFL walk, port reset, the AFU's DMA engine through
// DMA buffers the host maps, MSI-X interrupts, partial reconfiguration, FLR, and secure update
// through the BMC (secure-update-cases.ts). defineSimSuite(factory) runs it on one transport.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import type { Device } from '../../src/device/device.js';
import { IrqIndex } from '../../src/device/device.js';
import { Card } from '../../src/afu/card.js';
import { allocateDma } from '../../src/dma/dma-buffer.js';
import { SimAfuReg, DmaStatus, DmaFault, startAfuDma } from '../../src/sim/afu-regs.js';
import { fieldGet } from '../../src/util/bitfield.js';
import { SIM_AFU_OFFSET, SIM_PORT_OFFSET, SimVector, SIM_MSIX_VECTORS } from '../../src/sim/sim-card.js';
import { SIM_PCI_VENDOR, SIM_PCI_DEVICE } from '../../src/sim/identity.js';
import { buildGbs, parseGbs, type Gbs } from '../../src/afu/pr/gbs.js';
import { reconfigureCard } from '../../src/afu/pr/card-pr.js';
import { PrError } from '../../src/afu/pr/partial-reconfiguration.js';
import { buildSimImage } from '../../src/sim/pr-engine-image.js';
import { SIM_AFU_GUID, SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';
import type { DeviceFactory } from './factories.js';
import { defineSecureUpdateCases } from './secure-update-cases.js';

/** A GBS the sim's PR engine accepts: it loads an AFU with GUID `afu`. */
function simGbs(afu: string, interfaceId = SIM_PR_INTERFACE_ID): Gbs {
  const payload = Uint8Array.from({ length: 8189 }, (_, i) => (i * 11) & 0xff);
  const image = buildSimImage({ interfaceUuid: interfaceId, afuGuid: afu, payload });
  return parseGbs(buildGbs({ interfaceUuid: interfaceId, acceleratorClusters: [{ acceleratorTypeUuid: afu }] }, image));
}

const NEW_AFU = '6f4e5d3c-2b1a-4c9d-8e7f-0a1b2c3d4e5f';
const NEW_AFU_2 = '1d2c3b4a-5f6e-4a8b-9c0d-e1f2a3b4c5d6';

/** Run a DMA copy on the AFU engine and wait for DONE or FAULT through the device's clock. */
function runDma(device: Device, card: Card, src: bigint, dst: bigint, length: number, irq?: number): bigint {
  const afu = card.afu(0)!;
  startAfuDma(afu, src, dst, length, irq);
  const deadline = device.clock.now() + 2000;
  for (;;) {
    const status = afu.read64(SimAfuReg.DMA_STATUS);
    if ((status & (DmaStatus.DONE | DmaStatus.FAULT)) !== 0n) return status;
    if (device.clock.now() > deadline) throw new Error(`DMA did not finish; DMA_STATUS 0x${status.toString(16)}`);
    device.clock.spin(0.01);
  }
}

export function defineSimSuite(factory: DeviceFactory): void {
  describe(`sim suite on ${factory.name}`, () => {
    beforeAll(() => factory.setup(), 60_000);
    afterAll(() => factory.teardown());

    it('identifies the card and walks its feature lists (FME, port, AFU)', () => {
      using device = factory.open();
      expect(device.identity.vendor).toBe(SIM_PCI_VENDOR);
      expect(device.identity.device).toBe(SIM_PCI_DEVICE);
      const card = Card.discover(device);
      expect(card.fme).toBeDefined();
      expect(card.ports).toHaveLength(1);
      expect(card.ports[0]!.feature.offset).toBe(SIM_PORT_OFFSET);
      expect(card.afu(0)!.offset).toBe(SIM_AFU_OFFSET);
      expect(card.afu(0)!.readGuid()).toBe(card.afu(0)!.guid);
      expect(card.walk.count).toBeGreaterThanOrEqual(5);
    });

    it('resets the port with the kernel handshake and clears AFU scratch state', () => {
      using device = factory.open();
      const card = Card.discover(device);
      const afu = card.afu(0)!;
      afu.write64(SimAfuReg.SCRATCH0, 0x1234_5678_9abc_def0n);
      expect(afu.read64(SimAfuReg.SCRATCH0)).toBe(0x1234_5678_9abc_def0n);
      card.ports[0]!.reset();
      expect(afu.read64(SimAfuReg.SCRATCH0)).toBe(0n);
      expect(card.ports[0]!.disabled).toBe(false);
    });

    it('copies between two DMA buffers with the AFU DMA engine and raises the AFU user interrupt', async () => {
      using device = factory.open();
      const card = Card.discover(device);
      const [irq] = device.enableInterrupts(IrqIndex.MSIX, SimVector.AFU_USER0, 1);
      using src = allocateDma(device, 64 * 1024, { access: 'read' });
      using dst = allocateDma(device, 64 * 1024, { access: 'write' });
      for (let i = 0; i < src.memory.bytes.length; i++) src.memory.bytes[i] = (i * 31 + 7) & 0xff;
      const status = runDma(device, card, src.iova, dst.iova, 64 * 1024, 0);
      expect(status & DmaStatus.FAULT).toBe(0n);
      expect(Number(fieldGet(DmaStatus.BYTES, status))).toBe(64 * 1024);
      expect(Buffer.compare(src.memory.bytes, dst.memory.bytes)).toBe(0);
      expect(await irq!.wait({ timeoutMs: 5000 })).toBeGreaterThanOrEqual(1);
      device.disableInterrupts(IrqIndex.MSIX);
    });

    it('faults a DMA to an unmapped or read-only IOVA with the fault code, and after unmap', () => {
      using device = factory.open();
      const card = Card.discover(device);
      using src = allocateDma(device, 4096, { access: 'read' });
      const readOnly = allocateDma(device, 4096, { access: 'read' });
      let status = runDma(device, card, src.iova, readOnly.iova, 4096);
      expect(Number(fieldGet(DmaStatus.FAULT_CODE, status))).toBe(DmaFault.DST_NO_WRITE);
      const gone = readOnly.iova;
      readOnly.close();
      status = runDma(device, card, gone, src.iova, 4096);
      expect(Number(fieldGet(DmaStatus.FAULT_CODE, status))).toBe(DmaFault.SRC_UNMAPPED);
    });

    it('delivers every MSI-X vector it arms, and none after disable', async () => {
      using device = factory.open();
      expect(device.irqInfo(IrqIndex.MSIX).count).toBe(SIM_MSIX_VECTORS);
      const card = Card.discover(device);
      const irqs = device.enableInterrupts(IrqIndex.MSIX, SimVector.AFU_USER0, 4);
      using src = allocateDma(device, 4096);
      using dst = allocateDma(device, 4096);
      for (let n = 0; n < 4; n++) {
        const fired = irqs[n]!.wait({ timeoutMs: 5000 });
        runDma(device, card, src.iova, dst.iova, 4096, n);
        expect(await fired).toBe(1);
      }
      expect(irqs.map((i) => i.count)).toEqual([1, 1, 1, 1]);
      device.disableInterrupts(IrqIndex.MSIX);
      await expect(irqs[0]!.wait({ timeoutMs: 100 })).rejects.toThrow();
    });

    it('partially reconfigures the AFU: a new walk shows the new GUID; a wrong interface ID is refused', async () => {
      using device = factory.open();
      const card = Card.discover(device);
      const before = card.afu(0)!.guid;
      expect([SIM_AFU_GUID, NEW_AFU, NEW_AFU_2]).toContain(before);
      const next = before === NEW_AFU ? NEW_AFU_2 : NEW_AFU;
      const written: number[] = [];
      const result = await reconfigureCard(card, simGbs(next), { onProgress: (p) => written.push(p.written) });
      expect(result.bytesWritten).toBeGreaterThanOrEqual(8189);
      expect(written[written.length - 1]).toBe(result.bytesWritten);
      expect(Card.discover(device).afu(0)!.guid).toBe(next);
      const wrong = await reconfigureCard(Card.discover(device), simGbs(NEW_AFU_2, '00000000-0000-4000-8000-000000000000')).then(() => undefined, (e: unknown) => e);
      expect(wrong).toBeInstanceOf(PrError);
      expect(Card.discover(device).afu(0)!.guid).toBe(next);
      expect(Card.discover(device).port(0)!.control.softReset).toBe(false);
    });

    it('resets the whole device (FLR): scratch registers return to 0', () => {
      using device = factory.open();
      const card = Card.discover(device);
      card.afu(0)!.write64(SimAfuReg.SCRATCH1, 42n);
      device.reset();
      expect(card.afu(0)!.read64(SimAfuReg.SCRATCH1)).toBe(0n);
    });

    defineSecureUpdateCases(factory);
  });
}
