import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocateDma, iovaAllocatorFor, DmaBuffer } from '../../src/dma/dma-buffer.js';
import { DmaError, IovaExhaustedError } from '../../src/dma/errors.js';
import { ArgumentError } from '../../src/errors.js';
import { RecordingMapper } from './recording-mapper.js';
import { fdIsOpen } from './fd.js';

describe('allocateDma', () => {
  it('allocates, maps at an IOVA from the allocator, and the device sees what the host wrote', () => {
    const mapper = new RecordingMapper();
    using buf = allocateDma(mapper, 6000);
    expect(buf).toBeInstanceOf(DmaBuffer);
    expect(buf.size).toBe(8192);
    expect(buf.iova).toBe(0x1000n);
    expect(buf.access).toEqual({ read: true, write: true });
    expect(mapper.mappings.get(buf.iova)?.size).toBe(8192);
    buf.bytes.set([9, 8, 7], 4096);
    expect([...mapper.deviceRead(buf.iovaAt(4096), 3)]).toEqual([9, 8, 7]);
    expect(() => buf.iovaAt(8192)).toThrow(ArgumentError);
  });

  it('takes a Device (uses device.dma) and shares one allocator per mapper', () => {
    const mapper = new RecordingMapper();
    const device = { dma: mapper } as unknown as Parameters<typeof allocateDma>[0];
    using a = allocateDma(device, 4096);
    using b = allocateDma(mapper, 4096);
    expect(a.iova).not.toBe(b.iova);
    expect(iovaAllocatorFor(mapper).allocations).toBe(2);
  });

  it('unmaps, frees the IOVA and the memory on dispose (using)', () => {
    const mapper = new RecordingMapper();
    let fd = -1;
    let iova = 0n;
    {
      using buf = allocateDma(mapper, 4096, { access: 'read' });
      fd = buf.fd;
      iova = buf.iova;
      expect(mapper.mappings.get(iova)?.access).toEqual({ read: true, write: false });
    }
    expect(mapper.mappings.size).toBe(0);
    expect(fdIsOpen(fd)).toBe(false);
    expect(mapper.log).toEqual([`map ${iova.toString(16)} 4096`, `unmap ${iova.toString(16)} 4096`]);
    // The IOVA is free again.
    using again = allocateDma(mapper, 4096);
    expect(again.iova).toBe(iova);
  });

  it('when the map fails, frees the IOVA and the memory and throws a typed error', () => {
    const mapper = new RecordingMapper();
    mapper.failNextMap = new Error('ENOMEM from VFIO_IOMMU_MAP_DMA');
    const before = new Set(fs.readdirSync('/proc/self/fd'));
    expect(() => allocateDma(mapper, 4096)).toThrow(DmaError);
    const after = new Set(fs.readdirSync('/proc/self/fd'));
    expect([...after].filter((f) => !before.has(f))).toEqual([]);
    expect(iovaAllocatorFor(mapper).allocations).toBe(0);
    using ok = allocateDma(mapper, 4096);
    expect(ok.iova).toBe(0x1000n);
  });

  it('when unmap fails, still frees the memory, keeps the IOVA out of use, and says so', () => {
    const mapper = new RecordingMapper();
    const buf = allocateDma(mapper, 4096);
    mapper.failNextUnmap = new Error('EBUSY');
    const fd = buf.fd;
    expect(() => buf.close()).toThrow(/IOVA range is kept out of use/);
    expect(buf.closed).toBe(true);
    expect(fdIsOpen(fd)).toBe(false);
    buf.close(); // idempotent, no second throw
    using next = allocateDma(mapper, 4096);
    expect(next.iova).not.toBe(buf.iova);
  });

  it('honours maxIova, alignment and a fixed iova', () => {
    const mapper = new RecordingMapper();
    using low = allocateDma(mapper, 4096, { maxIova: 0x0fffffffn });
    expect(low.iova + 4095n).toBeLessThanOrEqual(0x0fffffffn);
    using aligned = allocateDma(mapper, 4096, { alignment: 1 << 21 });
    expect(aligned.iova % (1n << 21n)).toBe(0n);
    using fixed = allocateDma(mapper, 4096, { iova: 0x4000_0000n });
    expect(fixed.iova).toBe(0x4000_0000n);
    expect(() => allocateDma(mapper, 4096, { iova: 0x4000_0000n })).toThrow(/overlaps/);
    expect(() => allocateDma(mapper, 1 << 20, { maxIova: 0xfffffn, alignment: 1 << 20 })).toThrow(IovaExhaustedError);
  });

  it('refuses when the mapper has no mappings left', () => {
    const mapper = new RecordingMapper(undefined, { budget: 1 });
    using one = allocateDma(mapper, 4096);
    expect(one.iova).toBeGreaterThan(0n);
    expect(() => allocateDma(mapper, 4096)).toThrow(IovaExhaustedError);
  });

  it('rejects bad access and targets', () => {
    const mapper = new RecordingMapper();
    expect(() => allocateDma(mapper, 4096, { access: { read: false, write: false } })).toThrow(ArgumentError);
    expect(() => allocateDma(mapper, 4096, { access: 'rw' as 'read' })).toThrow(ArgumentError);
    expect(() => allocateDma({} as RecordingMapper, 4096)).toThrow(/Device .* or a DmaMapper/);
    expect(iovaAllocatorFor(mapper).allocations).toBe(0);
  });

  it('uses the IOMMU page size from the mapper for the IOVA granule', () => {
    const mapper = new RecordingMapper([{ start: 0n, end: (1n << 32n) - 1n }], { pageSize: 65536 });
    // The memory, its host address and the IOVA are all whole 64 KiB IOMMU pages.
    const buf = allocateDma(mapper, 4096);
    expect(buf.iova % 65536n).toBe(0n);
    expect(buf.mappedSize).toBe(65536);
    expect(buf.size).toBe(65536);
    expect(buf.address % 65536n).toBe(0n);
    buf.close();
  });
});

describe('a mapper that can never map', () => {
  it('allocateDma says why before allocating anything', () => {
    const mapper = Object.assign(new RecordingMapper([]), { unavailable: 'vfio:x is in VFIO no-IOMMU mode' });
    const before = fs.readdirSync('/proc/self/fd').length;
    expect(() => allocateDma(mapper, 4096)).toThrow(/DMA is not available: vfio:x is in VFIO no-IOMMU mode/);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
    expect(mapper.log).toEqual([]);
  });

  it('an IOVA of the wrong type is a typed error that says so, with no memfd or IOVA left behind', () => {
    const mapper = new RecordingMapper();
    const before = fs.readdirSync('/proc/self/fd').length;
    expect(() => allocateDma(mapper, 4096, { iova: 0x10000 as unknown as bigint })).toThrow(ArgumentError);
    expect(() => allocateDma(mapper, 4096, { alignment: 1.5 })).toThrow(/power of two/);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
    expect(iovaAllocatorFor(mapper).allocations).toBe(0);
    expect(mapper.mappings.size).toBe(0);
  });
});
