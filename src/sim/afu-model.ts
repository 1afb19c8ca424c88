// The sim card's AFU: GUID, scratch registers and a DMA copy engine (register map in
// afu-regs.ts). The engine reads and writes host memory ONLY through the IOVA mappings the host
// made with the Device's DMA mapper (SimDmaMapper): an unmapped IOVA, a source the device may not
// read or a destination it may not write latches a DMA fault in DMA_STATUS; it never throws into
// the host. A copy completes after latency + length/bandwidth on the card's clock; completion (or
// a fault) raises the selected AFU user interrupt when DMA_CTRL enables it. While the port is in
// reset the AFU does not answer: reads return all ones and writes are dropped.
import type { SimBlock } from './register-file.js';
import type { SimDmaMapper } from './sim-dma-mapper.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { DfhReg } from '../dfl/regs/dfh.js';
import { parseGuid } from '../dfl/guid.js';
import { hex } from '../util/bytes.js';
import { schedule } from './schedule.js';
import { DmaCtrl, DmaFault, DmaStatus, DMA_FAULT_NAMES, SimAfuReg, SIM_DMA_MAX_LENGTH } from './afu-regs.js';
import { fieldGet, fieldPrep } from '../util/bitfield.js';
import { copyDma, dmaLimit } from '../dma/dma-copy.js';

export interface AfuModelOptions {
  guid: string;
  clock: Clock;
  log: Logger;
  dma: SimDmaMapper;
  /** The port this AFU sits behind is in reset. */
  inReset: () => boolean;
  /** Signal AFU user interrupt `n` (mapped to an MSI-X vector by the card). */
  userInterrupt: (n: number) => void;
  userInterrupts: number;
  /** Fault knob: every copy ends with DmaFault.INJECTED. */
  dmaFault: () => boolean;
  /** Fixed DMA latency, microseconds (default 2). */
  dmaLatencyUs?: number;
  /** DMA bandwidth, bytes per microsecond (default 4096, about 4 GB/s). */
  dmaBytesPerUs?: number;
}

const ALL_ONES = 0xffff_ffff_ffff_ffffn;

export class AfuModel implements SimBlock {
  #guidHigh = 0n;
  #guidLow = 0n;
  #guid = '';
  readonly #o: AfuModelOptions;
  readonly scratch = [0n, 0n, 0n, 0n];
  #src = 0n;
  #dst = 0n;
  #len = 0n;
  #ctrl = 0n;
  #status = 0n;
  #faultIova = 0n;
  #completed = 0n;
  #doneAt = Infinity;
  /** The copy in flight touches remote memory (vfio-user DMA_READ/WRITE): only the timer completes it. */
  #remote = false;
  #cancel: (() => void) | undefined;
  /** Copies started since creation (tests). */
  copiesStarted = 0;

  constructor(options: AfuModelOptions) {
    this.#o = options;
    this.setGuid(options.guid);
  }

  /** True while the port holds the AFU in reset: it does not answer MMIO. */
  get silent(): boolean {
    return this.#o.inReset();
  }

  get guid(): string {
    return this.#guid;
  }

  /** Load a different AFU (partial reconfiguration): new GUID, all state reset. */
  setGuid(guid: string): void {
    const g = parseGuid(guid);
    this.#guidHigh = g.high;
    this.#guidLow = g.low;
    this.#guid = guid.toLowerCase();
    this.reset();
  }

  /** AFU reset (port soft reset, FLR, PR): registers to 0, an in-flight copy is abandoned. */
  reset(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#doneAt = Infinity;
    this.scratch.fill(0n);
    this.#src = this.#dst = this.#len = this.#ctrl = this.#status = this.#faultIova = this.#completed = 0n;
  }

  read64(rel: number): bigint {
    if (this.#o.inReset()) return ALL_ONES;
    switch (rel) {
      case DfhReg.GUID_L: return this.#guidLow;
      case DfhReg.GUID_H: return this.#guidHigh;
      case SimAfuReg.SCRATCH0: case SimAfuReg.SCRATCH1: case SimAfuReg.SCRATCH2: case SimAfuReg.SCRATCH3:
        return this.scratch[(rel - SimAfuReg.SCRATCH0) >> 3]!;
      case SimAfuReg.DMA_SRC: return this.#src;
      case SimAfuReg.DMA_DST: return this.#dst;
      case SimAfuReg.DMA_LEN: return this.#len;
      case SimAfuReg.DMA_CTRL: return this.#ctrl & (DmaCtrl.IRQ_ENABLE | DmaCtrl.IRQ);
      case SimAfuReg.DMA_STATUS:
        // A copy through remote memory is never done inside a register read: its DMA_READ/WRITE
        // messages go to the client that is waiting for this read's reply (QEMU's vCPU holds the
        // BQL its DMA handler needs, hw/vfio-user/proxy.c vfio_user_send_wait): deadlock.
        if (!this.#remote && this.#o.clock.now() >= this.#doneAt) this.#complete();
        return this.#status;
      case SimAfuReg.DMA_FAULT_IOVA: return this.#faultIova;
      case SimAfuReg.DMA_COMPLETED: return this.#completed;
      default: return 0n;
    }
  }

  write64(rel: number, value: bigint): void {
    if (this.#o.inReset()) return;
    switch (rel) {
      case SimAfuReg.SCRATCH0: case SimAfuReg.SCRATCH1: case SimAfuReg.SCRATCH2: case SimAfuReg.SCRATCH3:
        this.scratch[(rel - SimAfuReg.SCRATCH0) >> 3] = value;
        return;
      case SimAfuReg.DMA_SRC: this.#src = value; return;
      case SimAfuReg.DMA_DST: this.#dst = value; return;
      case SimAfuReg.DMA_LEN: this.#len = value; return;
      case SimAfuReg.DMA_CTRL:
        this.#ctrl = value & (DmaCtrl.IRQ_ENABLE | DmaCtrl.IRQ);
        if ((value & DmaCtrl.CLEAR) !== 0n && (this.#status & DmaStatus.BUSY) === 0n) {
          this.#status = 0n;
          this.#faultIova = 0n;
        }
        if ((value & DmaCtrl.START) !== 0n) this.#start();
        return;
      default:
    }
  }

  #start(): void {
    if ((this.#status & DmaStatus.BUSY) !== 0n) {
      this.#o.log('DMA start ignored: a copy is in flight');
      return;
    }
    this.copiesStarted++;
    this.#status = DmaStatus.BUSY;
    this.#faultIova = 0n;
    const len = this.#len > BigInt(SIM_DMA_MAX_LENGTH) ? SIM_DMA_MAX_LENGTH + 1 : Number(this.#len);
    const latencyUs = (this.#o.dmaLatencyUs ?? 2) + len / (this.#o.dmaBytesPerUs ?? 4096);
    const iommu = this.#o.dma;
    this.#remote = [this.#src, this.#dst].some((iova) => iommu.lookup(iova)?.memory.remote !== undefined);
    this.#doneAt = this.#o.clock.now() + latencyUs / 1000;
    this.#cancel = schedule(this.#o.clock, latencyUs / 1000, () => {
      this.#cancel = undefined;
      this.#complete();
    });
  }

  /** Perform the copy and finish the operation (once, whether a timer or a status read gets here first). */
  #complete(): void {
    if (this.#doneAt === Infinity) return;
    this.#doneAt = Infinity;
    this.#cancel?.();
    this.#cancel = undefined;
    const irqIndex = Number(fieldGet(DmaCtrl.IRQ, this.#ctrl));
    let fault: number = DmaFault.NONE;
    let copied = 0;
    if (this.#len === 0n || this.#len > BigInt(SIM_DMA_MAX_LENGTH)) fault = DmaFault.BAD_LENGTH;
    else if (this.#o.dmaFault()) {
      fault = DmaFault.INJECTED;
      this.#faultIova = this.#src;
    } else if ((this.#ctrl & DmaCtrl.IRQ_ENABLE) !== 0n && irqIndex >= this.#o.userInterrupts) fault = DmaFault.BAD_IRQ;
    else ({ fault, copied } = this.#copy(this.#src, this.#dst, Number(this.#len)));
    if (fault === DmaFault.NONE) {
      this.#status = DmaStatus.DONE | fieldPrep(DmaStatus.BYTES, copied);
      this.#completed++;
    } else {
      this.#status = DmaStatus.FAULT | fieldPrep(DmaStatus.FAULT_CODE, fault) | fieldPrep(DmaStatus.BYTES, copied);
      this.#o.log('DMA fault: %s at IOVA %s after %d bytes', DMA_FAULT_NAMES[fault], hex(this.#faultIova), copied);
    }
    if ((this.#ctrl & DmaCtrl.IRQ_ENABLE) !== 0n && irqIndex < this.#o.userInterrupts) this.#o.userInterrupt(irqIndex);
  }

  /** Copy through the IOMMU, one run of contiguous mapped bytes at a time; stop at the first fault. */
  #copy(src: bigint, dst: bigint, length: number): { fault: number; copied: number } {
    const iommu = this.#o.dma;
    let done = 0;
    while (done < length) {
      const s = src + BigInt(done);
      const d = dst + BigInt(done);
      const sm = iommu.lookup(s);
      if (!sm) return this.#fault(DmaFault.SRC_UNMAPPED, s, done);
      if (!sm.access.read) return this.#fault(DmaFault.SRC_NO_READ, s, done);
      const dm = iommu.lookup(d);
      if (!dm) return this.#fault(DmaFault.DST_UNMAPPED, d, done);
      if (!dm.access.write) return this.#fault(DmaFault.DST_NO_WRITE, d, done);
      const sOff = Number(s - sm.iova);
      const dOff = Number(d - dm.iova);
      // Bytes past the end of the host memory (or of a file its owner shrank) are not backed: fault.
      const sLimit = dmaLimit(sm.memory);
      const dLimit = dmaLimit(dm.memory);
      if (sOff >= sLimit) return this.#fault(DmaFault.SRC_UNMAPPED, s, done);
      if (dOff >= dLimit) return this.#fault(DmaFault.DST_UNMAPPED, d, done);
      const n = Math.min(length - done, sLimit - sOff, dLimit - dOff);
      if (sm.memory.remote || dm.memory.remote) {
        // Memory a vfio-user client mapped without an fd: reached by DMA_READ / DMA_WRITE messages.
        let data: Uint8Array;
        try {
          data = sm.memory.remote ? sm.memory.remote.read(sOff, n) : sm.memory.bytes.slice(sOff, sOff + n);
        } catch (err) {
          this.#o.log('DMA read of remote memory at %s failed: %s', hex(s), (err as Error).message);
          return this.#fault(DmaFault.SRC_UNMAPPED, s, done);
        }
        try {
          if (dm.memory.remote) dm.memory.remote.write(dOff, data);
          else dm.memory.bytes.set(data, dOff);
        } catch (err) {
          this.#o.log('DMA write of remote memory at %s failed: %s', hex(d), (err as Error).message);
          return this.#fault(DmaFault.DST_UNMAPPED, d, done);
        }
      } else if (!copyDma(dm.memory, dOff, sm.memory, sOff, n)) {
        // The file shrank during the copy (caught SIGBUS): blame the side that can shrink.
        return sm.memory.backedBytes ? this.#fault(DmaFault.SRC_UNMAPPED, s, done) : this.#fault(DmaFault.DST_UNMAPPED, d, done);
      }
      done += n;
    }
    return { fault: DmaFault.NONE, copied: done };
  }

  #fault(code: number, iova: bigint, copied: number): { fault: number; copied: number } {
    this.#faultIova = iova;
    return { fault: code, copied };
  }
}
