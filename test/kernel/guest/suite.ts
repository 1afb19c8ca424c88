// Runs INSIDE the QEMU guest (test/kernel/run.ts boots it): drives the real vfio-pci through
// vfiokit's public API (openDevice('vfio:...')) on QEMU's edu and ivshmem-plain devices and
// prints one VFIOKIT-RESULT line per test on the console. Env: VFIOKIT_LANE = type1 | iommufd | noiommu.
import fs from 'node:fs';
import { openDevice } from '../../../src/device/registry.js';
import { IrqIndex, type Device } from '../../../src/device/device.js';
import type { Interrupt } from '../../../src/device/interrupt.js';
import { listPciDevices, readPciDevice } from '../../../src/pci/enumerate.js';
import { bindDriver, unbindDriver } from '../../../src/pci/driver.js';
import { allocateDma, iovaAllocatorFor } from '../../../src/dma/dma-buffer.js';
import { allocateHostMemory } from '../../../src/dma/host-memory.js';
import { hugePagePools } from '../../../src/dma/hugepages.js';
import { DmaError } from '../../../src/dma/errors.js';
import { walkDfl } from '../../../src/dfl/walk.js';
import type { Region } from '../../../src/mmio/region.js';
import { TrappedRegion } from '../../../src/mmio/trapped-region.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../../../src/util/bytes.js';
import { VfioDevice } from '../../../src/vfio/vfio-device.js';
import { VfioError } from '../../../src/vfio/errors.js';
import { DeviceError } from '../../../src/errors.js';
import { GroupHandle, readType1Info } from '../../../src/vfio/type1.js';
import { ContainerIoctl, MapDmaFlags, vfio_iommu_type1_dma_map } from '../../../src/sys/uapi/linux-vfio.js';
import { flagSet } from '../../../src/sys/uapi/struct.js';
import { ioctl } from '../../../src/sys/libc.js';
import { isSysError } from '../../../src/sys/sys-error.js';
import { buildDflImage, summarizeFeatures, DFL_IMAGE_SIZE } from '../dfl-image.js';
import { IVSHMEM_MARKER, IVSHMEM_MARKER_OFFSET } from '../protocol.js';
import { check, finish, hex, run } from './harness.js';

const lane = (process.env.VFIOKIT_LANE ?? 'type1') as 'type1' | 'iommufd' | 'noiommu';

// edu registers (QEMU hw/misc/edu.c, docs/specs/edu.txt; reference/kernel-lane.md).
const EDU = {
  ID: 0x00, LIVENESS: 0x04, FACTORIAL: 0x08, STATUS: 0x20, IRQ_STATUS: 0x24, IRQ_RAISE: 0x60, IRQ_ACK: 0x64,
  DMA_SRC: 0x80, DMA_DST: 0x88, DMA_COUNT: 0x90, DMA_CMD: 0x98,
} as const;
const EDU_STATUS_IRQ_ON_FACTORIAL = 0x80;
const EDU_DMA_START = 1n;
const EDU_DMA_TO_RAM = 2n;
const EDU_DMA_IRQ = 4n;
const EDU_DMA_BUFFER = 0x40000n;
const EDU_IRQ_FACTORIAL = 0x1;
const EDU_IRQ_DMA = 0x100;
/** A bit of edu's interrupt status no device function uses: raised through IRQ_RAISE by the INTx tests. */
const EDU_IRQ_TEST = 0x1000;
/** PCI status register and its interrupt bit: the function's INTx is asserted (include/uapi/linux/pci_regs.h). */
const PCI_STATUS = 0x06;
const PCI_STATUS_INTERRUPT = 0x8;
/** Deadline for an expected INTx to reach the eventfd (TCG guest: generous, not a fixed wait). */
const INTX_DELIVERY_TIMEOUT_MS = 20000;
/** How long a masked INTx must stay quiet to count as held (a negative check needs a window). */
const INTX_QUIET_WINDOW_MS = 1000;
/** edu masks DMA addresses to 28 bits. */
const EDU_MAX_IOVA = 0x0fff_ffffn;

/** Acknowledge every bit of edu's interrupt status (0x64), lowering its line; returns what was set. */
function eduAck(bar: Region): number {
  const st = bar.read32(EDU.IRQ_STATUS);
  if (st !== 0) bar.write32(EDU.IRQ_ACK, st);
  return st;
}

/** No event on `irq` for `ms` (a pending or arriving event fails with `what`). */
async function expectNoInterrupt(irq: Interrupt, ms: number, what: string): Promise<void> {
  try {
    const n = await irq.wait({ timeoutMs: ms });
    throw new Error(`${what} (${n} event(s) within ${ms} ms)`);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EIRQ_TIMEOUT') throw e;
  }
}

/** Wait for the edu DMA command register's start bit to clear (the transfer is done). */
async function eduDmaDone(bar: Region, irq: Interrupt | undefined): Promise<void> {
  if (irq) {
    await irq.wait({ timeoutMs: 20000 });
    const st = bar.read32(EDU.IRQ_STATUS);
    bar.write32(EDU.IRQ_ACK, st);
  }
  const deadline = performance.now() + 20000;
  while ((bar.read64(EDU.DMA_CMD) & EDU_DMA_START) !== 0n) {
    if (performance.now() > deadline) throw new Error('edu DMA did not complete within 20 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** edu DMA of `n` bytes from host memory at IOVA `from` into edu's buffer; waits for completion. */
async function eduDmaToDevice(bar: Region, irq: Interrupt | undefined, from: bigint, n: number): Promise<void> {
  bar.write64(EDU.DMA_SRC, from);
  bar.write64(EDU.DMA_DST, EDU_DMA_BUFFER);
  bar.write64(EDU.DMA_COUNT, BigInt(n));
  bar.write64(EDU.DMA_CMD, EDU_DMA_START | EDU_DMA_IRQ);
  await eduDmaDone(bar, irq);
}

/** edu DMA of `n` bytes from edu's buffer to host memory at IOVA `to`; waits for completion. */
async function eduDmaToRam(bar: Region, irq: Interrupt | undefined, to: bigint, n: number): Promise<void> {
  bar.write64(EDU.DMA_SRC, EDU_DMA_BUFFER);
  bar.write64(EDU.DMA_DST, to);
  bar.write64(EDU.DMA_COUNT, BigInt(n));
  bar.write64(EDU.DMA_CMD, EDU_DMA_START | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
  await eduDmaDone(bar, irq);
}

async function main(): Promise<void> {
  const edu = listPciDevices({ vendor: 0x1234, device: 0x11e8 })[0];
  const ivshmem = listPciDevices({ vendor: 0x1af4, device: 0x1110 })[0];
  let device: Device | undefined;
  let bar: Region | undefined;
  let msi: Interrupt | undefined;

  await run('enumerate: edu and ivshmem bound to vfio-pci', () => {
    check(edu !== undefined && edu.driver === 'vfio-pci', `edu: ${JSON.stringify(edu)}`);
    check(ivshmem !== undefined && ivshmem.driver === 'vfio-pci', `ivshmem: ${JSON.stringify(ivshmem)}`);
    return `edu ${edu!.bdf} group ${edu!.iommuGroup}, ivshmem ${ivshmem!.bdf}`;
  });
  if (!edu) return;

  const opened = await run(`open vfio:${edu.bdf} (auto-picked ${lane})`, async () => {
    device = await openDevice(`vfio:${edu.bdf}`);
    check(device instanceof VfioDevice, 'not a VfioDevice');
    check((device as VfioDevice).mode === lane, `opened in ${(device as VfioDevice).mode} mode, lane is ${lane}`);
    check(device.identity.vendor === 0x1234 && device.identity.device === 0x11e8, `identity ${JSON.stringify(device.identity)}`);
    return `${device.regionCount} regions, ${device.irqCount} irq indexes, class ${hex(device.identity.classCode)}`;
  });
  if (!opened || !device) return;
  const dev = device as VfioDevice;

  await run('BAR0 region info and mmap', () => {
    const info = dev.regionInfo(0);
    check(info.size === 1 << 20 && info.mappable && info.readable && info.writable, JSON.stringify(info, (_k, v) => typeof v === 'bigint' ? hex(v) : v));
    bar = dev.region(0);
    check(bar.kind === 'mapped', `BAR0 is ${bar.kind}`);
    return `size ${hex(info.size)} at fd offset ${hex(info.fdOffset)}`;
  });
  if (!bar) return;
  const r = bar;

  await run('edu ID register reads 0x010000ed', () => {
    const id = r.read32(EDU.ID);
    check(id === 0x010000ed, `ID ${hex(id)}`);
  });

  await run('edu liveness inverts what was written', () => {
    for (const v of [0x12345678, 0, 0xffffffff, 0xa5a55a5a]) {
      r.write32(EDU.LIVENESS, v);
      const got = r.read32(EDU.LIVENESS);
      check(got === (~v >>> 0), `wrote ${hex(v)} read ${hex(got)}`);
    }
  });

  await run('full-width reads in optimized code: (read32(0) & 0xff) stays 0xed', () => {
    const probe = new Function('r', 'return r.read32(0) & 0xff') as (x: Region) => number;
    let natives = false;
    try {
      const prep = new Function('f', 'r', '%PrepareFunctionForOptimization(f); f(r); f(r); %OptimizeFunctionOnNextCall(f); return f(r);') as (f: unknown, x: Region) => number;
      check(prep(probe, r) === 0xed, 'wrong value at the first optimized call');
      natives = true;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    for (let i = 0; i < 200_000; i++) {
      const v = probe(r);
      if (v !== 0xed) throw new Error(`iteration ${i}: read ${hex(v)} (a narrowed 1-byte access reads all ones on edu)`);
    }
    let status = -1;
    if (natives) status = (new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number)(probe);
    // V8 OptimizationStatus: bit 4 optimized, bit 5 Maglev, bit 6 TurboFan.
    if (natives) check((status & 0x10) !== 0, `probe not optimized (status ${hex(status)})`);
    return natives ? `V8 status ${hex(status)} after %OptimizeFunctionOnNextCall and 200000 calls` : '200000 calls (no --allow-natives-syntax)';
  });

  await run('config space: IDs and command register (memory + bus master on)', () => {
    check(dev.configRead(0, 2) === 0x1234 && dev.configRead(2, 2) === 0x11e8, 'IDs');
    const cmd = dev.configRead(4, 2);
    check((cmd & 0x6) === 0x6, `command ${hex(cmd)}`);
    return `command ${hex(cmd)}`;
  });

  await run('MSI on factorial completion arrives as an event', async () => {
    const info = dev.irqInfo(IrqIndex.MSI);
    check(info.count >= 1 && info.eventfd, `MSI info ${JSON.stringify(info)}`);
    [msi] = dev.enableInterrupts(IrqIndex.MSI, 0, 1);
    const events: number[] = [];
    const off = msi!.onEvent((n) => events.push(n));
    r.write32(EDU.STATUS, EDU_STATUS_IRQ_ON_FACTORIAL);
    const waited = msi!.wait({ timeoutMs: 20000 });
    r.write32(EDU.FACTORIAL, 10);
    await waited;
    off();
    const st = r.read32(EDU.IRQ_STATUS);
    r.write32(EDU.IRQ_ACK, st);
    const f = r.read32(EDU.FACTORIAL);
    check(f === 3628800, `10! read ${f}`);
    check((st & EDU_IRQ_FACTORIAL) !== 0, `irq status ${hex(st)}`);
    check(events.length >= 1, 'listener saw no event');
    return `10! = ${f}, irq status ${hex(st)}, ${events.length} event(s)`;
  });

  await run('software-triggered MSI (SET_IRQS DATA_NONE|TRIGGER) reaches the eventfd', async () => {
    if (!msi) return 'SKIP: MSI not armed';
    const w = msi.wait({ timeoutMs: 5000 });
    dev.triggerInterrupts(IrqIndex.MSI, 0, 1);
    await w;
  });

  if (lane === 'noiommu') {
    await run('no-IOMMU: DMA mapping refused with a typed error', () => {
      check(dev.dma.unavailable !== undefined && dev.dma.iovaRanges().length === 0, 'the mapper claims it can map');
      try {
        allocateDma(dev, 4096);
        throw new Error('allocateDma succeeded without an IOMMU');
      } catch (e) {
        check(e instanceof DmaError && e.code === 'EDMA_UNAVAILABLE' && /no-IOMMU mode/.test(e.message), `got ${(e as Error).message}`);
      }
      using mem = allocateHostMemory(4096);
      try {
        dev.dma.map(mem, 0x1000n, { read: true, write: true });
        throw new Error('map succeeded without an IOMMU');
      } catch (e) {
        check(e instanceof VfioError && e.code === 'EVFIO_NOIOMMU_DMA', `got ${(e as Error).message}`);
      }
      // Our mapper refuses before the kernel is asked; the kernel must refuse too. The no-IOMMU
      // container answers every ioctl but CHECK_EXTENSION with ENOTTY (drivers/vfio/container.c
      // vfio_noiommu_ioctl). Ask it directly on the container this process holds for the group.
      const group = readPciDevice(edu.bdf).iommuGroup;
      check(group !== undefined, `${edu.bdf} has no (noiommu) group`);
      const handle = GroupHandle.acquire(edu.bdf, String(group), 'noiommu');
      try {
        check(handle.mode === 'noiommu', `group mode ${handle.mode}`);
        try {
          ioctl(handle.containerFd, ContainerIoctl.VFIO_IOMMU_MAP_DMA, vfio_iommu_type1_dma_map.encode({ flags: flagSet(MapDmaFlags.READ, MapDmaFlags.WRITE), vaddr: mem.address, iova: 0x1000n, size: BigInt(mem.size) }));
          throw new Error('the kernel mapped DMA on a no-IOMMU container');
        } catch (e) {
          check(isSysError(e, 'ENOTTY'), `kernel VFIO_IOMMU_MAP_DMA: ${(e as Error).message}`);
        }
      } finally {
        handle.release();
      }
      return 'vfiokit: EVFIO_NOIOMMU_DMA; kernel VFIO_IOMMU_MAP_DMA on the no-IOMMU container: ENOTTY';
    });
  } else {
    await run('IOMMU reports IOVA ranges, page size and budget', () => {
      const ranges = dev.dma.iovaRanges();
      check(ranges.length > 0, 'no IOVA ranges');
      const msiWindow = 0xfee00000n;
      const covers = ranges.some((x) => x.start <= msiWindow && msiWindow <= x.end);
      check(!covers, 'the MSI window 0xfee00000 is inside a usable range');
      // intel-iommu maps 4 KiB pages (drivers/iommu/intel/iommu.c: pgsize_bitmap from VTD_PAGE_SIZE up).
      check(dev.dma.pageSize === 4096, `page size ${dev.dma.pageSize}, intel-iommu's smallest page is 4096`);
      const before = dev.dma.mappingsAvailable;
      if (lane === 'type1') {
        // type1 counts mappings against dma_entry_limit (drivers/vfio/vfio_iommu_type1.c; DMA_AVAIL
        // capability = limit - dma_count): our budget must be the kernel's, and move with a mapping.
        const limit = Number(fs.readFileSync('/sys/module/vfio_iommu_type1/parameters/dma_entry_limit', 'utf8'));
        const handle = GroupHandle.acquire(edu.bdf, String(readPciDevice(edu.bdf).iommuGroup), 'type1');
        try {
          const kernelAvail = (): number | undefined => readType1Info(handle.containerFd, dev.url).dmaAvail;
          check(kernelAvail() === before, `vfiokit budget ${before}, kernel DMA_AVAIL ${kernelAvail()}`);
          check(before <= limit && before > limit - 16, `budget ${before} vs dma_entry_limit ${limit}`);
          using one = allocateDma(dev, 4096, { maxIova: EDU_MAX_IOVA });
          check(dev.dma.mappingsAvailable === before - 1 && kernelAvail() === before - 1, `after one map: vfiokit ${dev.dma.mappingsAvailable}, kernel ${kernelAvail()}, before ${before}`);
        } finally {
          handle.release();
        }
        check(dev.dma.mappingsAvailable === before, 'budget not given back at unmap');
      } else {
        // iommufd has no mapping count limit (pinned pages count against RLIMIT_MEMLOCK instead).
        check(before === Infinity, `iommufd budget ${before}`);
      }
      return `${ranges.map((x) => `[${hex(x.start)}, ${hex(x.end)}]`).join(' ')} page ${dev.dma.pageSize} budget ${dev.dma.mappingsAvailable}`;
    });

    await run('DMA round trip RAM -> device -> RAM through allocator IOVAs', async () => {
      const n = 4000; // < 4096: QEMU 7.2 edu aborts on a DMA touching its buffer's last byte
      using src = allocateDma(dev, 4096, { maxIova: EDU_MAX_IOVA, access: 'read' });
      using dst = allocateDma(dev, 4096, { maxIova: EDU_MAX_IOVA, access: 'write' });
      for (let i = 0; i < n; i++) src.bytes[i] = (i * 7 + 3) & 0xff;
      await eduDmaToDevice(r, msi, src.iova, n);
      await eduDmaToRam(r, msi, dst.iova, n);
      let bad = 0;
      for (let i = 0; i < n; i++) if (dst.bytes[i] !== src.bytes[i]) bad++;
      check(bad === 0, `${bad} of ${n} bytes differ`);
      return `${n} bytes via IOVAs ${hex(src.iova)} -> edu -> ${hex(dst.iova)}`;
    });

    await run('DMA into a 2 MiB huge-page buffer (3 MiB asked -> two 2 MiB pages, 2 MiB-aligned IOVA)', async () => {
      const pool = hugePagePools().find((p) => p.size === '2M');
      if (!pool || pool.usable < 2) return `SKIP: ${pool ? pool.usable : 'no'} free 2 MiB huge pages`;
      using big = allocateDma(dev, 3 * 1024 * 1024, { hugePages: '2M', maxIova: EDU_MAX_IOVA, access: 'write' });
      check(big.size === 4 * 1024 * 1024 && big.pageSize === 2 * 1024 * 1024, `size ${big.size} page ${big.pageSize}`);
      check(big.iova % (2n * 1024n * 1024n) === 0n, `IOVA ${hex(big.iova)} not 2 MiB aligned`);
      using src = allocateDma(dev, 4096, { maxIova: EDU_MAX_IOVA, access: 'read' });
      const n = 1024;
      for (let i = 0; i < n; i++) src.bytes[i] = (i * 13) & 0xff;
      const at = 3 * 1024 * 1024 - 512; // straddles the two huge pages
      await eduDmaToDevice(r, msi, src.iova, n);
      await eduDmaToRam(r, msi, big.iovaAt(at), n);
      for (let i = 0; i < n; i++) if (big.bytes[at + i] !== src.bytes[i]) throw new Error(`byte ${i} differs`);
      return `IOVA ${hex(big.iova)}, ${n} bytes written across the 2 MiB page boundary at +${hex(at)}`;
    });

    await run('DMA to an unmapped IOVA (and to a read-only mapping) is refused by the IOMMU', async () => {
      const n = 256;
      const allocator = iovaAllocatorFor(dev.dma);
      const iova = allocator.allocate(4096, { limit: EDU_MAX_IOVA });
      using host = allocateHostMemory(4096);
      using pattern = allocateDma(dev, 4096, { maxIova: EDU_MAX_IOVA, access: 'read' });
      const load = async (byte: number) => {
        pattern.bytes.fill(byte, 0, n);
        await eduDmaToDevice(r, msi, pattern.iova, n);
      };
      const store = (to: bigint): Promise<void> => eduDmaToRam(r, msi, to, n);
      try {
        // Mapped: the device's write lands in host memory.
        dev.dma.map(host, iova, { read: true, write: true });
        await load(0xa1);
        await store(iova);
        check(host.bytes[0] === 0xa1 && host.bytes[n - 1] === 0xa1, `mapped write did not land (${hex(host.bytes[0]!)})`);
        // Unmapped: the same IOVA now faults; host memory keeps the old bytes.
        dev.dma.unmap(iova, 4096);
        await load(0xb2);
        await store(iova);
        check(host.bytes[0] === 0xa1 && host.bytes[n - 1] === 0xa1, `unmapped IOVA was written (${hex(host.bytes[0]!)})`);
      } finally {
        allocator.free(iova);
      }
      // Read-only for the device: its write is refused too.
      using ro = allocateDma(dev, 4096, { maxIova: EDU_MAX_IOVA, access: 'read' });
      ro.bytes.fill(0x11, 0, n);
      await load(0xc3);
      await store(ro.iova);
      check(ro.bytes[0] === 0x11, `read-only mapping was written (${hex(ro.bytes[0]!)})`);
      return `IOVA ${hex(iova)} written while mapped, untouched after unmap; read-only ${hex(ro.iova)} untouched`;
    });
  }

  // INTx through the real kernel: edu asserts its legacy line when MSI is off (hw/misc/edu.c
  // edu_raise_irq: msi_notify when MSI is enabled, else pci_set_irq). vfio-pci's INTx handler
  // masks the line and signals the eventfd (AUTOMASKED); the user unmasks through SET_IRQS
  // ACTION_UNMASK, and an interrupt still pending at unmask is re-sent to the eventfd
  // (drivers/vfio/pci/vfio_pci_intrs.c vfio_intx_handler, vfio_pci_intx_unmask_handler).
  let intx: Interrupt | undefined;
  await run('INTx: edu interrupt arrives, is automasked, and is held until unmask', async () => {
    // MSI and INTx are exclusive on a vfio-pci device: SET_IRQS on INTx is refused while MSI is on.
    if (msi) {
      dev.disableInterrupts(IrqIndex.MSI);
      msi = undefined;
    }
    const info = dev.irqInfo(IrqIndex.INTX);
    check(info.count === 1 && info.eventfd && info.automasked && info.maskable, `INTx info ${JSON.stringify(info)}`);
    eduAck(r);
    [intx] = dev.enableInterrupts(IrqIndex.INTX, 0, 1);
    const irq = intx!;
    // 1: a device-originated interrupt (factorial done with status bit 7 set).
    r.write32(EDU.STATUS, EDU_STATUS_IRQ_ON_FACTORIAL);
    const first = irq.wait({ timeoutMs: INTX_DELIVERY_TIMEOUT_MS });
    r.write32(EDU.FACTORIAL, 6);
    await first;
    const st1 = eduAck(r);
    check((st1 & EDU_IRQ_FACTORIAL) !== 0 && r.read32(EDU.FACTORIAL) === 720, `irq status ${hex(st1)}, 6! read ${r.read32(EDU.FACTORIAL)}`);
    // 2: the kernel masked the line when it delivered #1; a new assertion must not get through.
    r.write32(EDU.IRQ_RAISE, EDU_IRQ_TEST);
    await expectNoInterrupt(irq, INTX_QUIET_WINDOW_MS, 'a second INTx delivered while automasked');
    // The device does assert its line: the hold is the kernel's mask, not a lost raise.
    const pciStatus = dev.configRead(PCI_STATUS, 2);
    check((pciStatus & PCI_STATUS_INTERRUPT) !== 0, `PCI status ${hex(pciStatus)}: edu's INTx not asserted after the raise`);
    // Unmask: the line is still asserted, so the kernel re-sends it to the eventfd.
    const second = irq.wait({ timeoutMs: INTX_DELIVERY_TIMEOUT_MS });
    dev.unmaskInterrupts(IrqIndex.INTX, 0, 1);
    await second;
    const st2 = eduAck(r);
    check(st2 === EDU_IRQ_TEST, `irq status after the held raise ${hex(st2)}`);
    // The line is low now: this unmask really opens it (nothing pending, so no event) ...
    dev.unmaskInterrupts(IrqIndex.INTX, 0, 1);
    await expectNoInterrupt(irq, INTX_QUIET_WINDOW_MS, 'an INTx with the line deasserted');
    // ... and 3: the next assertion is delivered with no unmask in between.
    const third = irq.wait({ timeoutMs: INTX_DELIVERY_TIMEOUT_MS });
    r.write32(EDU.IRQ_RAISE, EDU_IRQ_TEST);
    await third;
    check(eduAck(r) === EDU_IRQ_TEST, 'irq status after the third raise');
    dev.unmaskInterrupts(IrqIndex.INTX, 0, 1);
    return `${irq.count} event(s): factorial, held raise delivered at unmask (PCI status ${hex(pciStatus)} while held: INTx asserted), raise after unmask`;
  });

  await run('INTx: explicit mask holds a raised interrupt; unmask delivers it', async () => {
    if (!intx) return 'SKIP: INTx not armed';
    const irq = intx;
    try {
      dev.maskInterrupts(IrqIndex.INTX, 0, 1);
      r.write32(EDU.IRQ_RAISE, EDU_IRQ_TEST);
      await expectNoInterrupt(irq, INTX_QUIET_WINDOW_MS, 'INTx delivered while masked');
      const pciStatus = dev.configRead(PCI_STATUS, 2);
      check((pciStatus & PCI_STATUS_INTERRUPT) !== 0, `PCI status ${hex(pciStatus)}: edu's INTx not asserted while masked`);
      const before = irq.count;
      const held = irq.wait({ timeoutMs: INTX_DELIVERY_TIMEOUT_MS });
      dev.unmaskInterrupts(IrqIndex.INTX, 0, 1);
      await held;
      check(eduAck(r) === EDU_IRQ_TEST, 'irq status after the masked raise');
      dev.unmaskInterrupts(IrqIndex.INTX, 0, 1);
      // Masked then unmasked with nothing pending: the line works as before.
      dev.maskInterrupts(IrqIndex.INTX, 0, 1);
      dev.unmaskInterrupts(IrqIndex.INTX, 0, 1);
      const again = irq.wait({ timeoutMs: INTX_DELIVERY_TIMEOUT_MS });
      r.write32(EDU.IRQ_RAISE, EDU_IRQ_TEST);
      await again;
      check(eduAck(r) === EDU_IRQ_TEST, 'irq status after the raise following mask+unmask');
      return `held ${INTX_QUIET_WINDOW_MS} ms while masked, delivered at unmask (event ${before + 1}); mask+unmask with nothing pending leaves the line working`;
    } finally {
      dev.disableInterrupts(IrqIndex.INTX);
      intx = undefined;
    }
  });

  await run('device reset (edu: the call and restored config; edu keeps its state, see the ivshmem reset)', () => {
    if (!dev.resettable) {
      try {
        dev.reset();
      } catch (e) {
        check(e instanceof DeviceError && e.code === 'EDEVICE_NO_RESET', (e as Error).message);
        return 'SKIP: edu has no reset method (typed EDEVICE_NO_RESET checked)';
      }
      throw new Error('reset() did not refuse');
    }
    dev.reset();
    check(r.read32(EDU.ID) === 0x010000ed, 'ID after reset');
    r.write32(EDU.LIVENESS, 0x0f0f0f0f);
    check(r.read32(EDU.LIVENESS) === 0xf0f0f0f0, 'liveness after reset');
    check((dev.configRead(4, 2) & 0x6) === 0x6, 'command register not restored after reset');
    return 'VFIO_DEVICE_RESET done; the device answers and its command register was restored';
  });

  if (ivshmem) {
    await run('unbind and bind again through sysfs (driver_override, drivers_probe)', () => {
      const stateDirectory = '/run/vfiokit/pci-test';
      const u = unbindDriver(ivshmem.bdf, { stateDirectory });
      check(u.changed && u.driver === undefined && readPciDevice(ivshmem.bdf).driver === undefined, `after unbind: ${JSON.stringify(u)}`);
      const b = bindDriver(ivshmem.bdf, 'vfio-pci', { stateDirectory });
      check(b.changed && readPciDevice(ivshmem.bdf).driver === 'vfio-pci', `after bind: ${JSON.stringify(b)}`);
      check(!bindDriver(ivshmem.bdf, 'vfio-pci', { stateDirectory }).changed, 'second bind changed something');
      return `${ivshmem.bdf}: vfio-pci -> unbound -> vfio-pci (override ${readPciDevice(ivshmem.bdf).driverOverride})`;
    });

    await run('device reset clears device state: ivshmem INTRMASK back to 0 (bus reset below its root port)', async () => {
      // QEMU's ivshmem_reset (hw/misc/ivshmem.c) zeroes intrstatus and intrmask; BAR0 offset 0 is
      // INTRMASK (docs/specs/ivshmem-spec.rst). vfio-pci resets it with a secondary bus reset of its
      // root port (drivers/pci/pci.c pci_parent_bus_reset: the only device on that bus).
      const shm = await openDevice(`vfio:${ivshmem.bdf}`) as VfioDevice;
      try {
        check(shm.resettable, `ivshmem not resettable (reset_method: ${fs.readFileSync(`/sys/bus/pci/devices/${ivshmem.bdf}/reset_method`, 'utf8').trim()})`);
        const bar0 = shm.region(0);
        bar0.write32(0, 0xffffffff);
        const set = bar0.read32(0);
        check(set === 0xffffffff, `INTRMASK reads ${hex(set)} after writing 0xffffffff`);
        shm.reset();
        const after = bar0.read32(0);
        check(after === 0, `INTRMASK ${hex(after)} after reset: the device was not reset`);
        check((shm.configRead(4, 2) & 0x2) === 0x2, 'memory decode not restored after reset');
        return `INTRMASK ${hex(set)} -> ${hex(after)} (reset_method ${fs.readFileSync(`/sys/bus/pci/devices/${ivshmem.bdf}/reset_method`, 'utf8').trim()})`;
      } finally {
        shm.close();
      }
    });

    await run('ivshmem BAR2: DFL walked through the real mmap matches the host image', async () => {
      const shm = await openDevice(`vfio:${ivshmem.bdf}`);
      try {
        const info = shm.regionInfo(2);
        check(info.size === DFL_IMAGE_SIZE && info.mappable, `BAR2 ${JSON.stringify(info, (_k, v) => typeof v === 'bigint' ? hex(v) : v)}`);
        const bar2 = shm.region(2);
        check(bar2.kind === 'mapped', `BAR2 is ${bar2.kind}`);
        // The walker looks for the FME at BAR0; ivshmem keeps the list in BAR2.
        const source = {
          identity: shm.identity,
          regionCount: 1,
          regionInfo: () => shm.regionInfo(2),
          region: () => bar2,
          configRead: (o: number, w: 1 | 2 | 4) => shm.configRead(o, w),
        } as unknown as Parameters<typeof walkDfl>[0];
        const walk = walkDfl(source);
        const expected = walkDfl(inMemorySource(buildDflImage()));
        const got = summarizeFeatures(walk.features);
        const want = summarizeFeatures(expected.features);
        check(JSON.stringify(got) === JSON.stringify(want), `walked ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        bar2.write64(IVSHMEM_MARKER_OFFSET, IVSHMEM_MARKER);
        return `${walk.count} features (${walk.discovery}): ${got.join(', ')}`;
      } finally {
        shm.close();
      }
    });
  }

  if (ivshmem && lane === 'iommufd') {
    await run("the iommu option overrides the pick: ivshmem through the legacy type1 container", async () => {
      const d = await openDevice(`vfio:${ivshmem.bdf}`, { iommu: 'type1' });
      try {
        check((d as VfioDevice).mode === 'type1', `mode ${(d as VfioDevice).mode}`);
        check(d.region(2).read64(0) !== 0n, 'BAR2 reads zero');
        return `pages ${d.dma.pageSize}, budget ${d.dma.mappingsAvailable}`;
      } finally {
        d.close();
      }
    });
  }

  await run('sysfs remove while open: REQ arrives and the close path completes', async () => {
    // The kernel's remove blocks in vfio_unregister_group_dev until every device fd is released,
    // sending REQ meanwhile (drivers/vfio/vfio_main.c). So: the removal must not finish before our
    // close ran, and once it finished no vfio fd of this device may be left in this process.
    const vfioFds = (): string[] => fs.readdirSync('/proc/self/fd').map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    }).filter((l) => /vfio/.test(l));
    const before = vfioFds();
    check(before.length > 0, 'no vfio fd open before the removal');
    let requests = 0;
    let closedAt = 0;
    let removedAt = 0;
    dev.onRequest(() => {
      requests++;
      if (closedAt === 0) {
        // Hold the device a moment: the removal must wait for us.
        setTimeout(() => {
          closedAt = performance.now();
          dev.close();
        }, 200);
      }
    });
    // The kernel's remove waits for the release; write it off the JS thread (libuv pool).
    const removal = fs.promises.writeFile(`/sys/bus/pci/devices/${edu.bdf}/remove`, '1').then(() => { removedAt = performance.now(); });
    await Promise.race([removal, new Promise((_, rej) => setTimeout(() => rej(new Error('remove did not complete in 30 s')), 30000))]);
    check(requests >= 1, 'no REQ event');
    check(closedAt > 0 && removedAt >= closedAt, `the removal finished ${closedAt === 0 ? 'without our close' : `${(closedAt - removedAt).toFixed(0)} ms before our close`}: the kernel did not wait for the release`);
    const left = vfioFds();
    check(left.length === 0, `vfio fds left open after the removal: ${left.join(', ')}`);
    check(!fs.existsSync(`/sys/bus/pci/devices/${edu.bdf}`), 'device still present');
    return `${requests} REQ event(s); held 200 ms, removal done ${(removedAt - closedAt).toFixed(0)} ms after our close; ${before.length} vfio fd(s) before, none after`;
  });
}

function inMemorySource(img: Uint8Array): Parameters<typeof walkDfl>[0] {
  const region = new TrappedRegion('host image', img.length, {
    read32: (o) => getLe32(img, o), read64: (o) => getLe64(img, o), write32: (o, v) => putLe32(img, o, v), write64: (o, v) => putLe64(img, o, v),
  });
  return {
    identity: { vendor: 0x1af4 },
    regionCount: 1,
    regionInfo: () => ({ size: img.length }),
    region: () => region,
    configRead: () => 0,
  } as unknown as Parameters<typeof walkDfl>[0];
}

finish(main);
