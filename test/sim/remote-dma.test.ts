// The sim AFU's DMA engine on memory it cannot map (DmaMemory.remote: a vfio-user client's DMA_MAP
// without an fd, reached with DMA_READ / DMA_WRITE). QEMU's vfio-user-pci maps private guest RAM
// that way; the card lane's `dfl` half runs the kernel's DFL DMA through it.
import { describe, expect, it } from 'vitest';
import { AfuModel } from '../../src/sim/afu-model.js';
import { SimDmaMapper } from '../../src/sim/sim-dma-mapper.js';
import { SimAfuReg, DmaCtrl, DmaStatus, DmaFault } from '../../src/sim/afu-regs.js';
import { fieldGet } from '../../src/util/bitfield.js';
import type { Clock } from '../../src/util/clock.js';
import type { DmaMemory } from '../../src/dma/mapper.js';
import { logger } from '../../src/util/log.js';

/** A clock whose time the test sets; the model's timers are real (schedule() uses setTimeout). */
function manualClock(): Clock & { t: number } {
  const c = { t: 0, real: false, now: () => c.t, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), spin: () => {} };
  return c as unknown as Clock & { t: number };
}

function setup(): { afu: AfuModel; iommu: SimDmaMapper; clock: Clock & { t: number }; remote: Uint8Array; calls: string[]; local: Uint8Array } {
  const clock = manualClock();
  const iommu = new SimDmaMapper('test');
  const remote = new Uint8Array(8192);
  const calls: string[] = [];
  const remoteMemory: DmaMemory = {
    address: 0n, size: remote.length, fd: -1, fdOffset: 0, bytes: new Uint8Array(0),
    remote: {
      read: (offset, length) => { calls.push(`read ${offset}+${length}`); return remote.slice(offset, offset + length); },
      write: (offset, data) => { calls.push(`write ${offset}+${data.length}`); remote.set(data, offset); },
    },
  };
  const local = new Uint8Array(8192);
  iommu.map(remoteMemory, 0x10_0000n, { read: true, write: true });
  iommu.map({ address: 1n, size: local.length, fd: -1, fdOffset: 0, bytes: local }, 0x20_0000n, { read: true, write: true });
  const afu = new AfuModel({
    guid: '00000000-0000-0000-0000-000000000001', clock, log: logger('test:remote-dma'), dma: iommu, inReset: () => false,
    userInterrupt: () => {}, userInterrupts: 4, dmaFault: () => false,
  });
  return { afu, iommu, clock, remote, calls, local };
}

function start(afu: AfuModel, src: bigint, dst: bigint, n: number): void {
  afu.write64(SimAfuReg.DMA_SRC, src);
  afu.write64(SimAfuReg.DMA_DST, dst);
  afu.write64(SimAfuReg.DMA_LEN, BigInt(n));
  afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.START);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sim AFU DMA through remote memory', () => {
  it('copies remote -> local and local -> remote through the remote accessor, at the right offsets', async () => {
    const { afu, clock, remote, calls, local } = setup();
    for (let i = 0; i < 300; i++) remote[100 + i] = (i * 7) & 0xff;
    start(afu, 0x10_0000n + 100n, 0x20_0000n + 8n, 300);
    clock.t = 1;
    await settle(20);
    expect(afu.read64(SimAfuReg.DMA_STATUS) & DmaStatus.DONE).toBe(DmaStatus.DONE);
    expect(Buffer.compare(local.subarray(8, 308), remote.subarray(100, 400))).toBe(0);
    local.fill(0xab, 1000, 1100);
    start(afu, 0x20_0000n + 1000n, 0x10_0000n + 5000n, 100);
    clock.t = 2;
    await settle(20);
    expect(afu.read64(SimAfuReg.DMA_STATUS) & DmaStatus.DONE).toBe(DmaStatus.DONE);
    expect([...remote.subarray(5000, 5100)].every((b) => b === 0xab)).toBe(true);
    expect(calls).toEqual(['read 100+300', 'write 5000+100']);
  });

  it('never completes a remote copy inside a DMA_STATUS read (the client waits for that read: deadlock); a local one it does', async () => {
    const { afu, clock, local } = setup();
    local.fill(1, 0, 64);
    start(afu, 0x20_0000n, 0x20_0000n + 4096n, 64);
    clock.t = 10; // past the copy's time: the read completes it at once
    expect(afu.read64(SimAfuReg.DMA_STATUS) & DmaStatus.DONE).toBe(DmaStatus.DONE);
    start(afu, 0x20_0000n, 0x10_0000n, 64);
    clock.t = 20;
    expect(afu.read64(SimAfuReg.DMA_STATUS) & (DmaStatus.BUSY | DmaStatus.DONE)).toBe(DmaStatus.BUSY);
    await settle(20); // the timer does it, outside any register access
    expect(afu.read64(SimAfuReg.DMA_STATUS) & DmaStatus.DONE).toBe(DmaStatus.DONE);
  });

  it('a failing remote access latches a DMA fault naming the IOVA instead of throwing into the host', async () => {
    const { afu, iommu, clock } = setup();
    iommu.map({ address: 0n, size: 4096, fd: -1, fdOffset: 0, bytes: new Uint8Array(0), remote: { read: () => { throw new Error('client gone'); }, write: () => {} } }, 0x30_0000n, { read: true, write: true });
    start(afu, 0x30_0000n + 16n, 0x20_0000n, 64);
    clock.t = 1;
    await settle(20);
    const st = afu.read64(SimAfuReg.DMA_STATUS);
    expect(st & DmaStatus.FAULT).toBe(DmaStatus.FAULT);
    expect(Number(fieldGet(DmaStatus.FAULT_CODE, st))).toBe(DmaFault.SRC_UNMAPPED);
    expect(afu.read64(SimAfuReg.DMA_FAULT_IOVA)).toBe(0x30_0010n);
  });

  it('the sim IOMMU refuses memory that has neither bytes nor a remote accessor', () => {
    const { iommu } = setup();
    expect(() => iommu.map({ address: 0n, size: 4096, fd: -1, fdOffset: 0, bytes: new Uint8Array(0) }, 0x40_0000n, { read: true, write: true })).toThrow(/positive size and bytes/);
  });
});
