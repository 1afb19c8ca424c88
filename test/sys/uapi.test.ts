import { describe, expect, it } from 'vitest';
// The struct-table codec (src/sys/uapi/struct.ts) over the linux/vfio.h tables: what the ioctls
// put in memory, byte by byte. test/sys/uapi-golden.test.ts checks the layouts against C.
import {
  ContainerIoctl, DeviceIoctl, IrqSetFlags, MapDmaFlags, RegionInfoFlags, UnmapDmaFlags, capChain, encodeIrqSet, ioctlName,
  vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_unmap, vfio_iommu_type1_info_cap_iova_range, vfio_iova_range,
  vfio_region_info, vfio_region_info_cap_sparse_mmap, vfio_region_sparse_mmap_area,
} from '../../src/sys/uapi/linux-vfio.js';
import { Struct, bytes, flagSet, flex, nested, s32, u16, u32, u64, u8 } from '../../src/sys/uapi/struct.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../../src/util/bytes.js';

const sparseAreas = (b: Uint8Array, cap: number) => vfio_region_sparse_mmap_area.array(b, cap + vfio_region_info_cap_sparse_mmap.offsets.areas, vfio_region_info_cap_sparse_mmap.get(b, 'nr_areas', cap));

describe('struct layout rules', () => {
  it('aligns each field to its size, pads the tail to the largest alignment, and packs when asked', () => {
    const s = new Struct('t', 't.h', { a: u8, b: u32, c: u16, d: u64, tail: flex(u8) });
    expect(s.offsets).toEqual({ a: 0, b: 4, c: 8, d: 16, tail: 24 });
    expect([s.size, s.align]).toEqual([24, 8]);
    const p = new Struct('p', 'p.h', { a: u8, b: u32, c: u16, d: u64 }, { packed: true });
    expect(p.offsets).toEqual({ a: 0, b: 1, c: 5, d: 7 });
    expect(p.size).toBe(15);
    // A flexible array of 8-byte elements aligns the struct (vfio_region_info_cap_sparse_mmap: 16).
    expect(new Struct('f', 'f.h', { n: u32, xs: flex(vfio_iova_range) }).size).toBe(8);
  });
});

describe('compiled codec', () => {
  const all = new Struct('all', 'all.h', { a: u8, b: u16, c: u32, d: s32, e: u64, f: bytes(3), g: nested(vfio_iova_range) }, { packed: true });
  it('writes and reads every scalar type as DataView does (little endian), u64 from a bigint or a number alike', () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let n = 0; n < 500; n++) {
      const v = { a: rnd() & 0xff, b: rnd() & 0xffff, c: rnd(), d: rnd() | 0, e: (BigInt(rnd()) << 21n) ^ BigInt(rnd()), f: Uint8Array.of(rnd() & 0xff, 1, 2), g: { start: BigInt(rnd()), end: 1n << 63n } };
      const buf = all.encode(v);
      const dv = new DataView(buf.buffer);
      const o = all.offsets;
      expect([dv.getUint8(o.a), dv.getUint16(o.b, true), dv.getUint32(o.c, true), dv.getInt32(o.d, true), dv.getBigUint64(o.e, true)]).toEqual([v.a, v.b, v.c, v.d, v.e]);
      expect(all.decode(buf)).toEqual(v);
      const asNumber = all.encode({ ...v, e: Number(v.e) });
      expect(dv.getBigUint64(o.e, true)).toBe(new DataView(asNumber.buffer).getBigUint64(o.e, true));
    }
  });
  it('leaves unnamed fields alone on write and sets selfSize to the buffer length on encode', () => {
    const b = vfio_region_info.encode({ index: 3 }, 64);
    vfio_region_info.write(b, 0, { flags: flagSet(RegionInfoFlags.READ) });
    expect(vfio_region_info.decode(b)).toMatchObject({ argsz: 64, flags: 1, index: 3 });
  });
});

describe('uAPI encoders', () => {
  it('MAP_DMA carries READ|WRITE; UNMAP_DMA flags are a separate namespace and default to 0', () => {
    const m = vfio_iommu_type1_dma_map.encode({ flags: flagSet(MapDmaFlags.READ, MapDmaFlags.WRITE), vaddr: 0x7f00_0000_0000n, iova: 0x1000n, size: 0x2000n });
    expect([getLe32(m, 0), getLe32(m, 4), getLe64(m, 8), getLe64(m, 16), getLe64(m, 24)]).toEqual([32, 3, 0x7f00_0000_0000n, 0x1000n, 0x2000n]);
    const u = vfio_iommu_type1_dma_unmap.encode({ iova: 0x1000n, size: 0x2000n });
    expect([getLe32(u, 0), getLe32(u, 4), getLe64(u, 8), getLe64(u, 16)]).toEqual([24, 0, 0x1000n, 0x2000n]);
    expect(UnmapDmaFlags.ALL).toBe(2);
    // @ts-expect-error map flags are not unmap flags (the peer bug reference/vfio-uapi.md names)
    vfio_iommu_type1_dma_unmap.encode({ flags: MapDmaFlags.WRITE, iova: 0n, size: 4096n });
  });

  it('SET_IRQS with eventfds: argsz covers the s32 array, -1 unassigns', () => {
    const b = encodeIrqSet(flagSet(IrqSetFlags.DATA_EVENTFD, IrqSetFlags.ACTION_TRIGGER), 2, 1, 3, { eventfds: [10, -1, 12] });
    expect(b.length).toBe(20 + 12);
    expect([getLe32(b, 0), getLe32(b, 4), getLe32(b, 8), getLe32(b, 12), getLe32(b, 16)]).toEqual([32, 0x24, 2, 1, 3]);
    expect([getLe32(b, 20), getLe32(b, 24) | 0, getLe32(b, 28)]).toEqual([10, -1, 12]);
    const bools = encodeIrqSet(flagSet(IrqSetFlags.DATA_BOOL, IrqSetFlags.ACTION_MASK), 0, 0, 2, { bools: [1, 0] });
    expect([...bools.subarray(20)]).toEqual([1, 0]);
  });

  it('region info: argsz grows with the buffer; decode reads size and offset as u64', () => {
    const b = vfio_region_info.encode({ index: 7 }, 128);
    expect(getLe32(b, 0)).toBe(128);
    expect(getLe32(b, 8)).toBe(7);
    putLe64(b, 16, 0x100n);
    putLe64(b, 24, 7n << 40n);
    expect(vfio_region_info.decode(b)).toMatchObject({ index: 7, size: 0x100n, offset: 7n << 40n });
  });

  it('names ioctls by fd class (0x3B72 is UNMAP_DMA on a container, not a device ioctl)', () => {
    expect(ioctlName(ContainerIoctl.VFIO_IOMMU_UNMAP_DMA, 'container')).toBe('VFIO_IOMMU_UNMAP_DMA');
    expect(ioctlName(DeviceIoctl.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, 'device')).toBe('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO');
    expect(ioctlName(DeviceIoctl.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, 'container')).toBe('VFIO_IOMMU_GET_INFO');
    expect(ioctlName(0x3bff, 'device')).toBe('ioctl 0x3bff');
  });
});

describe('capability chains', () => {
  function chain(): Uint8Array {
    // region info (32) + sparse mmap cap at 32 (2 areas) + MSIX_MAPPABLE at 80
    const b = new Uint8Array(96);
    putLe32(b, 32, 1 | (1 << 16)); // id 1, version 1
    putLe32(b, 36, 80); // next
    putLe32(b, 40, 2); // nr_areas
    putLe64(b, 48, 0n); putLe64(b, 56, 0x2000n);
    putLe64(b, 64, 0x3000n); putLe64(b, 72, 0x1000n);
    putLe32(b, 80, 3 | (1 << 16));
    putLe32(b, 84, 0);
    return b;
  }

  it('walks a chain and decodes sparse areas', () => {
    const b = chain();
    const caps = capChain(b, 32);
    expect(caps.map((c) => [c.id, c.version, c.offset])).toEqual([[1, 1, 32], [3, 1, 80]]);
    expect(sparseAreas(b, 32)).toEqual([{ offset: 0n, size: 0x2000n }, { offset: 0x3000n, size: 0x1000n }]);
    expect(vfio_region_info_cap_sparse_mmap.offsets.areas).toBe(16);
  });

  it('stops on loops and on offsets past the buffer; clips area counts to the buffer', () => {
    const b = chain();
    putLe32(b, 84, 32); // loop back to the first cap
    expect(capChain(b, 32).length).toBe(2);
    putLe32(b, 84, 4000);
    expect(capChain(b, 32).length).toBe(2);
    putLe32(b, 40, 1_000_000);
    expect(sparseAreas(b, 32).length).toBe(3); // as many as fit in 96 bytes
    expect(capChain(b, 200)).toEqual([]);
  });

  it('survives random bytes (bounded, never throws)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) & 0xff;
    for (let n = 0; n < 3000; n++) {
      const b = new Uint8Array(16 + (rnd() % 200));
      for (let i = 0; i < b.length; i++) b[i] = rnd();
      const first = rnd() % (b.length + 8);
      const caps = capChain(b, first);
      expect(caps.length).toBeLessThanOrEqual(b.length);
      for (const c of caps) {
        if (c.id === 1 && c.offset + 16 <= b.length) sparseAreas(b, c.offset);
        const r = vfio_iommu_type1_info_cap_iova_range;
        if (c.offset + 16 <= b.length) vfio_iova_range.array(b, c.offset + r.offsets.iova_ranges, r.get(b, 'nr_iovas', c.offset));
      }
    }
  });
});
