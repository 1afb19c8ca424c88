import { describe, expect, it } from 'vitest';
import { createSimCard, type SimDevice } from '../../src/sim/sim-device.js';
import { Card } from '../../src/afu/card.js';
import type { Afu } from '../../src/afu/afu.js';
import { allocateDma } from '../../src/dma/index.js';
import { IrqIndex } from '../../src/device/device.js';
import { SimAfuReg, DmaCtrl, DmaStatus, DmaFault } from '../../src/sim/afu-regs.js';
import { fieldGet, fieldPrep } from '../../src/util/bitfield.js';
import { SimVector } from '../../src/sim/sim-card.js';
import { VirtualClock, realClock } from '../../src/util/clock.js';

function startCopy(afu: Afu, src: bigint, dst: bigint, len: number, irq = true, userIrq = 0): void {
  afu.write64(SimAfuReg.DMA_SRC, src);
  afu.write64(SimAfuReg.DMA_DST, dst);
  afu.write64(SimAfuReg.DMA_LEN, BigInt(len));
  afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.START | (irq ? DmaCtrl.IRQ_ENABLE : 0n) | fieldPrep(DmaCtrl.IRQ, userIrq));
}

const statusOf = (afu: Afu): { busy: boolean; done: boolean; fault: boolean; code: number; bytes: number } => {
  const s = afu.read64(SimAfuReg.DMA_STATUS);
  return {
    busy: (s & DmaStatus.BUSY) !== 0n,
    done: (s & DmaStatus.DONE) !== 0n,
    fault: (s & DmaStatus.FAULT) !== 0n,
    code: Number(fieldGet(DmaStatus.FAULT_CODE, s)),
    bytes: Number(fieldGet(DmaStatus.BYTES, s)),
  };
};

function setup(variant: 'n3000' | 'n3000-dfh1' = 'n3000'): { dev: SimDevice; afu: Afu; clock: VirtualClock } {
  const dev = createSimCard(variant);
  return { dev, afu: Card.discover(dev).afus[0]!, clock: dev.clock as VirtualClock };
}

describe('AFU DMA copy engine', () => {
  it('copies between two mapped buffers after its delay and signals the completion interrupt', async () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using src = allocateDma(dev, 64 * 1024, { access: 'read' });
    using dst = allocateDma(dev, 64 * 1024, { access: 'write' });
    for (let i = 0; i < src.bytes.length; i++) src.bytes[i] = (i * 7) & 0xff;
    const [irq] = dev.enableInterrupts(IrqIndex.MSIX, SimVector.AFU_USER0, 1);
    const fired = irq!.wait({ timeoutMs: 5000 });
    startCopy(afu, src.iova + 16n, dst.iova + 32n, 60_000);
    expect(statusOf(afu)).toMatchObject({ busy: true, done: false });
    expect(dst.bytes[32]).toBe(0);
    clock.advance(1); // 2 us + 60000 B / 4096 B/us ~ 17 us: done well within 1 ms
    expect(await fired).toBe(1);
    expect(statusOf(afu)).toEqual({ busy: false, done: true, fault: false, code: 0, bytes: 60_000 });
    expect(Buffer.compare(dst.bytes.subarray(32, 32 + 60_000), src.bytes.subarray(16, 16 + 60_000))).toBe(0);
    expect(dst.bytes[31]).toBe(0);
    expect(dst.bytes[32 + 60_000]).toBe(0);
    expect(afu.read64(SimAfuReg.DMA_COMPLETED)).toBe(1n);
  });

  it('completes on a status read once its time has passed, without an interrupt', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using buf = allocateDma(dev, 8192);
    buf.bytes.fill(3, 0, 4096);
    startCopy(afu, buf.iova, buf.iova + 4096n, 4096, false);
    clock.spin(0.002); // 2 us: latency passed but not the transfer
    expect(statusOf(afu).busy).toBe(true);
    clock.spin(0.01);
    expect(statusOf(afu)).toMatchObject({ done: true, bytes: 4096 });
    expect(buf.bytes[8191]).toBe(3);
  });

  it('copies across two buffers mapped back to back', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using a = allocateDma(dev, 4096, { iova: 0x100000n });
    using b = allocateDma(dev, 4096, { iova: 0x101000n });
    using out = allocateDma(dev, 8192);
    a.bytes.fill(1);
    b.bytes.fill(2);
    startCopy(afu, 0x100800n, out.iova, 4096, false);
    clock.advance(1);
    expect(statusOf(afu).done).toBe(true);
    expect(out.bytes[2047]).toBe(1);
    expect(out.bytes[2048]).toBe(2);
  });

  it('latches a fault on an unmapped source IOVA and still interrupts', async () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using dst = allocateDma(dev, 4096);
    const [irq] = dev.enableInterrupts(IrqIndex.MSIX, SimVector.AFU_USER0 + 1, 1);
    const fired = irq!.wait({ timeoutMs: 5000 });
    startCopy(afu, 0x7000_0000n, dst.iova, 128, true, 1);
    clock.advance(1);
    await fired;
    expect(statusOf(afu)).toEqual({ busy: false, done: false, fault: true, code: DmaFault.SRC_UNMAPPED, bytes: 0 });
    expect(afu.read64(SimAfuReg.DMA_FAULT_IOVA)).toBe(0x7000_0000n);
    expect(dst.bytes.every((b) => b === 0)).toBe(true);
  });

  it('faults part way when the source runs into an unmapped page, reporting the bytes copied', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using src = allocateDma(dev, 4096, { iova: 0x200000n });
    using dst = allocateDma(dev, 8192);
    src.bytes.fill(9);
    startCopy(afu, 0x200000n, dst.iova, 8192, false);
    clock.advance(1);
    expect(statusOf(afu)).toMatchObject({ fault: true, code: DmaFault.SRC_UNMAPPED, bytes: 4096 });
    expect(afu.read64(SimAfuReg.DMA_FAULT_IOVA)).toBe(0x201000n);
    expect(dst.bytes[4095]).toBe(9);
    expect(dst.bytes[4096]).toBe(0);
  });

  it('latches a fault writing to a read-only mapping and leaves it untouched', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using src = allocateDma(dev, 4096);
    using ro = allocateDma(dev, 4096, { access: 'read' });
    src.bytes.fill(0xee);
    startCopy(afu, src.iova, ro.iova, 4096, false);
    clock.advance(1);
    expect(statusOf(afu)).toMatchObject({ fault: true, code: DmaFault.DST_NO_WRITE, bytes: 0 });
    expect(afu.read64(SimAfuReg.DMA_FAULT_IOVA)).toBe(ro.iova);
    expect(ro.bytes.every((b) => b === 0)).toBe(true);
    // Reading from a write-only mapping faults too.
    using wo = allocateDma(dev, 4096, { access: 'write' });
    afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.CLEAR);
    expect(statusOf(afu).fault).toBe(false);
    startCopy(afu, wo.iova, src.iova, 16, false);
    clock.advance(1);
    expect(statusOf(afu).code).toBe(DmaFault.SRC_NO_READ);
  });

  it('faults after the host unmaps a buffer', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using dst = allocateDma(dev, 4096);
    const src = allocateDma(dev, 4096);
    const iova = src.iova;
    src.close();
    startCopy(afu, iova, dst.iova, 64, false);
    clock.advance(1);
    expect(statusOf(afu).code).toBe(DmaFault.SRC_UNMAPPED);
  });

  it('rejects a bad length and honours the injected DMA fault', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using buf = allocateDma(dev, 8192);
    startCopy(afu, buf.iova, buf.iova + 4096n, 0, false);
    clock.advance(1);
    expect(statusOf(afu).code).toBe(DmaFault.BAD_LENGTH);
    dev.setFault('dma');
    buf.bytes.fill(5, 0, 4096);
    startCopy(afu, buf.iova, buf.iova + 4096n, 4096, false);
    clock.advance(1);
    expect(statusOf(afu).code).toBe(DmaFault.INJECTED);
    expect(buf.bytes[4096]).toBe(0);
  });

  it('faults when asked to signal a user interrupt the port does not have', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using buf = allocateDma(dev, 8192);
    startCopy(afu, buf.iova, buf.iova + 4096n, 64, true, 5);
    clock.advance(1);
    expect(statusOf(afu)).toMatchObject({ fault: true, code: DmaFault.BAD_IRQ });
    expect(dev.sim.raised.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('ignores a start while a copy is in flight', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using buf = allocateDma(dev, 8192);
    startCopy(afu, buf.iova, buf.iova + 4096n, 4096, false);
    afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.START);
    expect(dev.sim.afu.copiesStarted).toBe(1);
    clock.advance(1);
    expect(afu.read64(SimAfuReg.DMA_COMPLETED)).toBe(1n);
  });

  it('abandons a copy in flight when the port is reset', () => {
    const { dev, afu, clock } = setup();
    using _ = dev;
    using buf = allocateDma(dev, 8192);
    buf.bytes.fill(1, 0, 4096);
    startCopy(afu, buf.iova, buf.iova + 4096n, 4096, false);
    const port = afu.port;
    port.reset();
    clock.advance(1);
    expect(statusOf(afu)).toMatchObject({ busy: false, done: false });
    expect(buf.bytes[4096]).toBe(0);
  });

  it('runs on the real clock too (timer-driven completion, interrupt through the eventfd watcher)', async () => {
    using dev = createSimCard('n3000-dfh1', { clock: realClock });
    const afu = Card.discover(dev).afus[0]!;
    using src = allocateDma(dev, 4096);
    using dst = allocateDma(dev, 4096);
    src.bytes.fill(0x42);
    const irqs = dev.enableInterrupts(IrqIndex.MSIX, 0, 8);
    const fired = irqs[SimVector.AFU_USER0 + 3]!.wait({ timeoutMs: 5000 });
    startCopy(afu, src.iova, dst.iova, 4096, true, 3);
    await fired;
    expect(statusOf(afu).done).toBe(true);
    expect(dst.bytes[4095]).toBe(0x42);
  });
});
