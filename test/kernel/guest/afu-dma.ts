// The sim AFU's DMA engine driven from a guest (wall clock: the card is served on the real clock):
// start a copy and poll DMA_STATUS until DONE or FAULT, sleeping off the event loop's back.
import { DmaStatus, SimAfuReg, startAfuDma, type AfuRegisters } from '../../../src/sim/afu-regs.js';
import { hex } from './harness.js';

/** DMA_STATUS once the copy finished (DONE or FAULT); throws after 20 s. */
export async function afuCopy(afu: AfuRegisters, src: bigint, dst: bigint, length: number, irq?: number): Promise<bigint> {
  startAfuDma(afu, src, dst, length, irq);
  const deadline = Date.now() + 20000;
  for (;;) {
    const st = afu.read64(SimAfuReg.DMA_STATUS);
    if ((st & (DmaStatus.DONE | DmaStatus.FAULT)) !== 0n) return st;
    if (Date.now() > deadline) throw new Error(`AFU DMA still busy after 20 s (DMA_STATUS ${hex(st)})`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
