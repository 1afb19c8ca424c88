import { describe, expect, it } from 'vitest';
import { SimDmaMapper, SIM_IOVA_RANGES } from '../../src/sim/sim-dma-mapper.js';
import type { DmaMemory } from '../../src/dma/mapper.js';
import { DmaError, IovaExhaustedError } from '../../src/dma/errors.js';
import { DeviceError } from '../../src/errors.js';

const mem = (size: number): DmaMemory => ({ address: 0n, size, fd: -1, fdOffset: 0, bytes: new Uint8Array(size) });
const rw = { read: true, write: true };

describe('SimDmaMapper (the sim card IOMMU)', () => {
  it('maps whole pages and looks IOVAs up; the model checks the bytes behind a page', () => {
    const m = new SimDmaMapper();
    const a = mem(4096);
    const b = { ...mem(4096), bytes: new Uint8Array(100) };
    m.map(a, 0x10000n, rw);
    m.map(b, 0x20000n, { read: true, write: false });
    expect(m.lookup(0x10fffn)?.memory).toBe(a);
    expect(m.lookup(0x11000n)).toBeUndefined();
    expect(m.lookup(0x20fffn)?.memory).toBe(b); // the page is mapped, the model checks bytes.length
    expect(m.lookup(0x20000n)?.access).toEqual({ read: true, write: false });
    expect(m.lookup(0xffffn)).toBeUndefined();
    expect(m.mappings.map((x) => x.size)).toEqual([4096, 4096]);
    expect(m.mappingsAvailable).toBe(65535 - 2);
  });

  it('refuses misaligned, overlapping, out-of-range and access-less mappings', () => {
    const m = new SimDmaMapper();
    m.map(mem(8192), 0x10000n, rw);
    expect(() => m.map(mem(4096), 0x10800n, rw)).toThrow(/not aligned/);
    expect(() => m.map(mem(4096), 0x11000n, rw)).toThrow(/overlaps/);
    expect(() => m.map(mem(8192), 0xf000n, rw)).toThrow(DmaError);
    expect(() => m.map(mem(4096), 0xfee0_0000n, rw)).toThrow(/outside the usable IOVA ranges/);
    expect(() => m.map(mem(4096), 1n << 48n, rw)).toThrow(DmaError);
    expect(() => m.map(mem(4096), 0x40000n, { read: false, write: false })).toThrow(/read or write/);
    // Sizes as the kernel takes them (vfio_iommu_type1.c vfio_dma_do_map): whole pages, not 0.
    expect(() => m.map(mem(0), 0x40000n, rw)).toThrow(expect.objectContaining({ code: 'EARG_DMA_SIZE' }));
    expect(() => m.map(mem(100), 0x40000n, rw)).toThrow(expect.objectContaining({ code: 'EARG_DMA_SIZE' }));
    expect(m.iovaRanges()).toEqual(SIM_IOVA_RANGES);
  });

  it('unmaps whole mappings only, several at once, and reports nothing mapped', () => {
    const m = new SimDmaMapper();
    m.map(mem(4096), 0x10000n, rw);
    m.map(mem(4096), 0x11000n, rw);
    m.map(mem(8192), 0x20000n, rw);
    expect(() => m.unmap(0x20000n, 4096)).toThrow(/would split/);
    m.unmap(0x10000n, 0x2000);
    expect(m.mappings).toHaveLength(1);
    expect(() => m.unmap(0x10000n, 4096)).toThrow(/nothing is mapped/);
    m.unmap(0x20000n, 8192);
    expect(m.mappings).toHaveLength(0);
  });

  it('enforces the mapping budget', () => {
    const m = new SimDmaMapper('small', 2);
    m.map(mem(4096), 0x0n, rw);
    m.map(mem(4096), 0x1000n, rw);
    expect(m.mappingsAvailable).toBe(0);
    expect(() => m.map(mem(4096), 0x2000n, rw)).toThrow(IovaExhaustedError);
  });

  it('drops everything on close: later unmaps are no-ops, later maps throw', () => {
    const m = new SimDmaMapper();
    m.map(mem(4096), 0x10000n, rw);
    m.close();
    expect(m.lookup(0x10000n)).toBeUndefined();
    expect(() => m.unmap(0x10000n, 4096)).not.toThrow();
    expect(() => m.map(mem(4096), 0x10000n, rw)).toThrow(DeviceError);
    expect(m.mappingsAvailable).toBe(0);
  });
});
