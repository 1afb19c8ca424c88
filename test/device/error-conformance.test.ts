// The same mistakes against every transport, one code each (issue 16 item 3). Real devices where
// this environment can make them: the sim card in-process; the same card served by a separate
// `vfiokit serve` process and opened over a UNIX socket (vfio-user); vfio-pci below the syscall
// seam (test/vfio/fake-vfio-pci.ts answers the device fd's ioctls as vfio_pci_core.c does; the
// real kernel lane is test/kernel). Before item 3 the codes differed: IRQ vectors EARG_IRQ_RANGE
// (vfio, sim) or EARG_IRQ (vfio-user); a size-0 region EDEVICE_NO_REGION (vfio), EARG_REGION
// (vfio-user) or EDEVICE_REGION (sim); no reset EVFIO_NO_RESET or ENOTSUP; a DMA map of a bad
// size went to the kernel (vfio), EARG_DMA_ALIGN (vfio-user) or was rounded up (sim).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IrqIndex, RegionIndex, type Device } from '../../src/device/device.js';
import type { DmaMemory } from '../../src/dma/mapper.js';
import { allocateHostMemory, type HostMemory } from '../../src/dma/host-memory.js';
import { parseSimUrl } from '../../src/sim/backend.js';
import { SimDevice } from '../../src/sim/sim-device.js';
import { SIM_BAR0_SIZE, SIM_MSIX_VECTORS } from '../../src/sim/sim-card.js';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { VfioDevice } from '../../src/vfio/vfio-device.js';
import { Type1Mapper } from '../../src/vfio/type1.js';
import { RegionInfoFlags } from '../../src/sys/uapi/linux-vfio.js';
import { fakeVfioPci, type FakeVfioPci } from '../vfio/fake-vfio-pci.js';
import { spawnServer, type SpawnedServer } from '../vfio-user/helpers/spawn.js';

/** The sim card without a reset (fault no-reset), so "no reset" is a real refusal everywhere. */
const SIM_URL = 'sim:n3000?fault=no-reset';
const FAKE_BAR0 = 0x1000;

interface Transport {
  name: string;
  bar0Size: number;
  msixVectors: number;
  open(): Device;
}

let server: SpawnedServer | undefined;
let fake: FakeVfioPci | undefined;
let memory: HostMemory;

const transports: Transport[] = [
  {
    name: 'sim (in-process)',
    bar0Size: SIM_BAR0_SIZE,
    msixVectors: SIM_MSIX_VECTORS,
    open: () => {
      const { variant, options } = parseSimUrl(SIM_URL);
      return new SimDevice(variant, options, SIM_URL);
    },
  },
  {
    name: 'vfio-user (sim served by vfiokit serve, UNIX socket)',
    bar0Size: SIM_BAR0_SIZE,
    msixVectors: SIM_MSIX_VECTORS,
    open: () => new VfioUserDevice(server!.socket),
  },
  {
    name: 'vfio (vfio-pci below the syscall seam)',
    bar0Size: FAKE_BAR0,
    msixVectors: 4,
    open: () => {
      fake?.dispose();
      fake = fakeVfioPci({ 0: { size: FAKE_BAR0, offset: 0x1000, flags: RegionInfoFlags.READ | RegionInfoFlags.WRITE | RegionInfoFlags.MMAP } }, { [IrqIndex.MSIX]: { count: 4 } }, { reset: false });
      const mapper = new Type1Mapper(-1, 'vfio:0000:3b:00.0', { iovaPgsizes: 0x1000n, iovaRanges: [{ start: 0n, end: (1n << 39n) - 1n }], dmaAvail: undefined });
      return new VfioDevice({ bdf: '0000:3b:00.0', deviceFd: fake.fd, mode: 'type1', mapper, release: () => mapper.markClosed() }, { enableBusMaster: false });
    },
  },
];

beforeAll(async () => {
  server = await spawnServer('src/cli/main.ts', ['serve', SIM_URL, '--socket', '{socket}'], /^serving /);
  memory = allocateHostMemory(4096);
}, 60_000);
afterAll(async () => {
  memory?.close();
  await server?.kill();
});
afterEach(() => {
  fake?.dispose();
  fake = undefined;
});

/** The code a call throws with (undefined when it does not throw). */
function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** DmaMemory of `size` bytes over real host memory (the size is what the mistake is about). */
const dmaMemory = (size: number): DmaMemory => ({ address: memory.address, size, fd: memory.fd, fdOffset: memory.fdOffset, bytes: memory.bytes });
const rw = { read: true, write: true };

describe.each(transports)('the same mistakes, the same codes: $name', (t) => {
  it('IRQ vectors outside the index, or on an index without vectors: EARG_IRQ_RANGE', () => {
    using d = t.open();
    expect(d.irqInfo(IrqIndex.MSIX).count).toBe(t.msixVectors);
    expect(codeOf(() => d.enableInterrupts(IrqIndex.MSIX, 0, t.msixVectors + 1))).toBe('EARG_IRQ_RANGE');
    expect(codeOf(() => d.enableInterrupts(IrqIndex.MSIX, t.msixVectors, 1))).toBe('EARG_IRQ_RANGE');
    expect(codeOf(() => d.enableInterrupts(IrqIndex.MSIX, 0, 0))).toBe('EARG_IRQ_RANGE');
    expect(codeOf(() => d.enableInterrupts(IrqIndex.INTX, 0, 1))).toBe('EARG_IRQ_RANGE');
  });

  it('an IRQ index the device does not have: EARG_IRQ_INDEX', () => {
    using d = t.open();
    expect(codeOf(() => d.irqInfo(d.irqCount))).toBe('EARG_IRQ_INDEX');
    expect(codeOf(() => d.enableInterrupts(-1, 0, 1))).toBe('EARG_IRQ_INDEX');
  });

  it('a region of size 0: EDEVICE_NO_REGION; a region index past the last: EARG_REGION', () => {
    using d = t.open();
    expect(d.regionInfo(RegionIndex.BAR1).size).toBe(0);
    expect(codeOf(() => d.region(RegionIndex.BAR1))).toBe('EDEVICE_NO_REGION');
    expect(codeOf(() => d.region(d.regionCount))).toBe('EARG_REGION');
    expect(codeOf(() => d.regionInfo(99))).toBe('EARG_REGION');
  });

  it('reset of a device that has none: EDEVICE_NO_RESET', () => {
    using d = t.open();
    expect(d.resettable).toBe(false);
    expect(codeOf(() => d.reset())).toBe('EDEVICE_NO_RESET');
  });

  it('MMIO past the end of a BAR: EREGION_BOUNDS; misaligned: EREGION_ALIGN', () => {
    using d = t.open();
    const bar0 = d.region(RegionIndex.BAR0);
    expect(bar0.size).toBe(t.bar0Size);
    expect(codeOf(() => bar0.read32(t.bar0Size))).toBe('EREGION_BOUNDS');
    expect(codeOf(() => bar0.write64(t.bar0Size, 0n))).toBe('EREGION_BOUNDS');
    expect(codeOf(() => bar0.read32(2))).toBe('EREGION_ALIGN');
    expect(codeOf(() => bar0.read64(4))).toBe('EREGION_ALIGN');
    expect(codeOf(() => bar0.write32(1, 0))).toBe('EREGION_ALIGN');
  });

  it('DMA map of a bad size: EARG_DMA_SIZE; a misaligned IOVA: EARG_DMA_ALIGN; no access: EARG_DMA_ACCESS', () => {
    using d = t.open();
    const page = d.dma.pageSize;
    expect(codeOf(() => d.dma.map(dmaMemory(100), 0x100000n, rw))).toBe('EARG_DMA_SIZE');
    expect(codeOf(() => d.dma.map(dmaMemory(0), 0x100000n, rw))).toBe('EARG_DMA_SIZE');
    expect(codeOf(() => d.dma.map(dmaMemory(page), 0x100000n + 8n, rw))).toBe('EARG_DMA_ALIGN');
    expect(codeOf(() => d.dma.map(dmaMemory(page), -1n, rw))).toBe('EARG_DMA_IOVA');
    expect(codeOf(() => d.dma.map(dmaMemory(page), 0x100000n, { read: false, write: false }))).toBe('EARG_DMA_ACCESS');
  });

  it('calls on a closed device: EDEVICE_CLOSED', () => {
    const d = t.open();
    d.close();
    expect(codeOf(() => d.region(RegionIndex.BAR0))).toBe('EDEVICE_CLOSED');
    expect(codeOf(() => d.enableInterrupts(IrqIndex.MSIX, 0, 1))).toBe('EDEVICE_CLOSED');
    expect(codeOf(() => d.reset())).toBe('EDEVICE_CLOSED');
    expect(codeOf(() => d.dma.map(dmaMemory(d.dma.pageSize), 0x100000n, rw))).toBe('EDEVICE_CLOSED');
  });

  it('says the same thing the same way: one message per mistake, naming the device', () => {
    using d = t.open();
    const message = (call: () => unknown): string => { try { call(); } catch (e) { return (e as Error).message; } return ''; };
    expect(message(() => d.enableInterrupts(IrqIndex.MSIX, 0, t.msixVectors + 1))).toBe(`${d.url}: IRQ index 2 has ${t.msixVectors} vector(s); vectors 0..${t.msixVectors} do not exist: arm vectors inside 0..${t.msixVectors - 1}`);
    expect(message(() => d.reset())).toBe(`${d.url} has no reset it can do (no FLR, PM or bus reset): power-cycle it or reset the slot`);
  });
});
