// Golden tests: byte arrays written by hand from the protocol specification's tables
// (vfio-user.rst) and linux/vfio.h layouts, not produced by our encoder; the encoding side is
// the production codec (the struct tables of src/sys/uapi and the messages.ts helpers).
import { describe, expect, it } from 'vitest';
import {
  Command, HEADER_SIZE, decodeHeader, encodeHeader, buildErrorReply, buildCommand, VfioUserFormatError, Errno,
} from '../../src/vfio-user/protocol.js';
import { decodeVersion, encodeVersion } from '../../src/vfio-user/capabilities.js';
import {
  decodeDmaMap, decodeDmaUnmap, decodeDeviceInfo, decodeIrqInfo, decodeIrqSet, decodeRegionAccess, encodeRegionAccess, decodeDmaAccess,
  encodeDmaAccess, decodeWriteMulti, allocWriteMulti, putMultiWrite, putMultiWrite64, decodeIoFdsReply, encodeIoFdsReply,
  decodeDeviceFeature, decodeIoFdsRequest,
} from '../../src/vfio-user/messages.js';
import { decodeRegionInfoReply, encodeRegionInfoReply, decodeRegionInfoRequest, encodeRegionInfoRequest } from '../../src/vfio-user/region-info.js';
import { DeviceFeatureFlags, IrqSetFlags, RegionInfoCap, RegionInfoFlags, encodeIrqSet } from '../../src/sys/uapi/linux-vfio.js';
import { flagSet } from '../../src/sys/uapi/struct.js';
import { DmaMapFlags, vfio_user_device_info, vfio_user_dma_map, vfio_user_dma_unmap } from '../../src/sys/uapi/vfio-user.js';

const { READ: REGION_FLAG_READ, WRITE: REGION_FLAG_WRITE, MMAP: REGION_FLAG_MMAP, CAPS: REGION_FLAG_CAPS } = RegionInfoFlags;
const { GET: FEATURE_GET, SET: FEATURE_SET } = DeviceFeatureFlags;

const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le64 = (v: number): number[] => [...le32(v), ...le32(Math.floor(v / 2 ** 32))];
const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof VfioUserFormatError) return `${err.code}/${err.details.errno as string}`;
    throw err;
  }
  return 'ok';
}

describe('header', () => {
  it('decodes a REGION_READ command header (id 0x1234, size 32)', () => {
    const h = decodeHeader(bytes(0x34, 0x12, 0x09, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    expect(h).toEqual({ id: 0x1234, command: Command.REGION_READ, size: 32, flags: 0, error: 0 });
  });
  it('encodes an error reply: type 1 | error bit 5, errno in bytes 12..15, header only', () => {
    expect([...buildErrorReply({ id: 7, command: Command.DMA_MAP }, Errno.EEXIST)]).toEqual([
      7, 0, 2, 0, 16, 0, 0, 0, 0x21, 0, 0, 0, ...le32(17),
    ]);
  });
  it('encodes a no-reply command with flag bit 4', () => {
    const m = buildCommand(1, Command.REGION_WRITE, new Uint8Array(4), true);
    expect([...m.subarray(0, 12)]).toEqual([1, 0, 10, 0, 20, 0, 0, 0, 0x10, 0, 0, 0]);
  });
  it('round-trips', () => {
    const out = new Uint8Array(HEADER_SIZE);
    const h = { id: 0xffff, command: 16, size: 0x12345678, flags: 1, error: 22 };
    encodeHeader(out, h);
    expect(decodeHeader(out)).toEqual(h);
  });
  it('refuses truncated, undersized and unknown-type headers', () => {
    expect(codeOf(() => decodeHeader(new Uint8Array(15)))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
    expect(codeOf(() => decodeHeader(bytes(0, 0, 1, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeHeader(bytes(0, 0, 1, 0, 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0)))).toBe('EVFIO_USER_MALFORMED/EINVAL');
  });
});

describe('VERSION', () => {
  it('decodes libvfio-user\'s server reply JSON', () => {
    const json = '{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576}}';
    const p = bytes(...le16(0), ...le16(1), ...Buffer.from(json), 0);
    const v = decodeVersion(p);
    expect(v.major).toBe(0);
    expect(v.minor).toBe(1);
    expect(v.capabilities).toEqual({ maxMsgFds: 8, maxDataXferSize: 1048576, pgsizes: 4096, maxDmaMaps: 65535 });
    expect([...v.stated].sort()).toEqual(['max_data_xfer_size', 'max_msg_fds']);
  });
  it('takes the defaults when there is no JSON (QEMU 0.0 with no data)', () => {
    expect(decodeVersion(bytes(0, 0, 0, 0)).capabilities).toEqual({ maxMsgFds: 1, maxDataXferSize: 1048576, pgsizes: 4096, maxDmaMaps: 65535 });
  });
  it('decodes twin_socket, migration and write_multiple', () => {
    const json = '{"capabilities":{"twin_socket":{"supported":true,"fd_index":0},"migration":{"pgsize":4096,"max_bitmap_size":268435456},"write_multiple":true,"pgsizes":2101248,"max_dma_maps":10,"unknown":{}}}';
    const v = decodeVersion(bytes(0, 0, 1, 0, ...Buffer.from(json), 0));
    expect(v.capabilities.twinSocket).toEqual({ supported: true, fdIndex: 0 });
    expect(v.capabilities.migration).toEqual({ pgsize: 4096, maxBitmapSize: 268435456 });
    expect(v.capabilities.writeMultiple).toBe(true);
    expect(v.capabilities.pgsizes).toBe(0x201000);
    expect(v.capabilities.maxDmaMaps).toBe(10);
  });
  it('encodes major, minor, then NUL-terminated JSON', () => {
    const p = encodeVersion(0, 1, { maxMsgFds: 16 });
    expect([...p.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    expect(p[p.length - 1]).toBe(0);
    expect(Buffer.from(p.subarray(4, -1)).toString()).toBe('{"capabilities":{"max_msg_fds":16}}');
  });
  it('refuses bad JSON: no NUL, not JSON, wrong types, truncated', () => {
    expect(codeOf(() => decodeVersion(bytes(0, 0, 0, 0, 0x7b, 0x7d)))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeVersion(bytes(0, 0, 0, 0, 0x7b, 0)))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeVersion(bytes(0, 0, 0, 0, ...Buffer.from('{"capabilities":{"max_msg_fds":"8"}}'), 0)))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeVersion(bytes(0, 0, 0, 0, ...Buffer.from('{"capabilities":[]}'), 0)))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeVersion(bytes(0, 0, 0)))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
  });
});

describe('DMA_MAP / DMA_UNMAP', () => {
  // argsz 32, flags READ|WRITE, offset 0x1000, address 0x10_0000_0000, size 0x20_0000
  const map = bytes(...le32(32), ...le32(3), ...le64(0x1000), ...le64(0x10_0000_0000), ...le64(0x20_0000));
  it('decodes the 32-byte DMA_MAP', () => {
    expect(decodeDmaMap(map)).toEqual({ argsz: 32, flags: DmaMapFlags.READ | DmaMapFlags.WRITE, offset: 0x1000n, addr: 0x10_0000_0000n, size: 0x20_0000n });
  });
  it('encodes it byte for byte', () => {
    expect([...vfio_user_dma_map.encode({ flags: flagSet(DmaMapFlags.READ, DmaMapFlags.WRITE), offset: 0x1000n, addr: 0x10_0000_0000n, size: 0x20_0000n })]).toEqual([...map]);
  });
  it('decodes and encodes the 24-byte DMA_UNMAP', () => {
    const unmap = bytes(...le32(24), ...le32(0), ...le64(0x10_0000_0000), ...le64(0x20_0000));
    expect(decodeDmaUnmap(unmap)).toEqual({ argsz: 24, flags: 0, addr: 0x10_0000_0000n, size: 0x20_0000n });
    expect([...vfio_user_dma_unmap.encode({ flags: 0, addr: 0x10_0000_0000n, size: 0x20_0000n })]).toEqual([...unmap]);
  });
  it('refuses short, unknown flags, bad argsz, ALL with an address', () => {
    expect(codeOf(() => decodeDmaMap(map.subarray(0, 31)))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
    expect(codeOf(() => decodeDmaMap(bytes(...le32(32), ...le32(4), ...new Array(24).fill(0))))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeDmaMap(bytes(...le32(16), ...le32(1), ...new Array(24).fill(0))))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeDmaUnmap(bytes(...le32(24), ...le32(2), ...le64(0x1000), ...le64(0))))).toBe('EVFIO_USER_MALFORMED/EINVAL');
  });
});

describe('DEVICE_GET_INFO / GET_IRQ_INFO', () => {
  it('decodes a 16-byte device info reply: RESET|PCI, 9 regions, 5 irqs', () => {
    const p = bytes(...le32(16), ...le32(3), ...le32(9), ...le32(5));
    expect(decodeDeviceInfo(p)).toEqual({ argsz: 16, flags: 3, num_regions: 9, num_irqs: 5 });
    expect([...vfio_user_device_info.encode({ argsz: 16, flags: 3, num_regions: 9, num_irqs: 5 })]).toEqual([...p]);
  });
  it('decodes an MSI-X irq info: EVENTFD|NORESIZE, index 2, 4 vectors', () => {
    expect(decodeIrqInfo(bytes(...le32(16), ...le32(9), ...le32(2), ...le32(4)))).toEqual({ argsz: 16, flags: 9, index: 2, count: 4 });
    expect(codeOf(() => decodeIrqInfo(new Uint8Array(12)))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
  });
});

describe('DEVICE_SET_IRQS', () => {
  it('decodes EVENTFD|TRIGGER on MSI-X 0..1 (fds out of band, 20-byte payload)', () => {
    const p = bytes(...le32(20), ...le32(0x24), ...le32(2), ...le32(0), ...le32(2));
    expect(decodeIrqSet(p)).toEqual({ argsz: 20, flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER, index: 2, start: 0, count: 2 });
    expect([...encodeIrqSet(flagSet(IrqSetFlags.DATA_EVENTFD, IrqSetFlags.ACTION_TRIGGER), 2, 0, 2)]).toEqual([...p]);
  });
  it('decodes BOOL data, one byte per vector', () => {
    const p = bytes(...le32(23), ...le32(IrqSetFlags.DATA_BOOL | IrqSetFlags.ACTION_TRIGGER), ...le32(2), ...le32(1), ...le32(3), 1, 0, 1);
    expect([...decodeIrqSet(p).bools!]).toEqual([1, 0, 1]);
  });
  it('refuses two data types, no action, missing bool data', () => {
    expect(codeOf(() => decodeIrqSet(bytes(...le32(20), ...le32(0x25), ...le32(2), ...le32(0), ...le32(1))))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeIrqSet(bytes(...le32(20), ...le32(0x04), ...le32(2), ...le32(0), ...le32(1))))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeIrqSet(bytes(...le32(20), ...le32(0x22), ...le32(2), ...le32(0), ...le32(2), 1)))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
  });
});

describe('REGION_READ / REGION_WRITE', () => {
  it('decodes a 4-byte read request of BAR0 at 0x18', () => {
    const p = bytes(...le64(0x18), ...le32(0), ...le32(4));
    expect(decodeRegionAccess(p, false, 1 << 20)).toEqual({ offset: 0x18n, region: 0, count: 4 });
    expect([...encodeRegionAccess(0, 0x18n, 4)]).toEqual([...p]);
  });
  it('decodes a write with its data and a read reply with its data', () => {
    const p = bytes(...le64(0x1000), ...le32(2), ...le32(4), 0xef, 0xbe, 0xad, 0xde);
    const a = decodeRegionAccess(p, true, 1 << 20);
    expect(a.region).toBe(2);
    expect([...a.data!]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect([...encodeRegionAccess(2, 0x1000n, 4, a.data)]).toEqual([...p]);
  });
  it('refuses count over max_data_xfer_size (E2BIG), data shorter or longer than count', () => {
    expect(codeOf(() => decodeRegionAccess(bytes(...le64(0), ...le32(0), ...le32(4096)), false, 1024))).toBe('EVFIO_USER_OVERSIZED/E2BIG');
    expect(codeOf(() => decodeRegionAccess(bytes(...le64(0), ...le32(0), ...le32(4), 1, 2), true, 1024))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
    expect(codeOf(() => decodeRegionAccess(bytes(...le64(0), ...le32(0), ...le32(2), 1, 2, 3), true, 1024))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeRegionAccess(bytes(...le64(0), ...le32(0), ...le32(4), 1), false, 1024))).toBe('EVFIO_USER_MALFORMED/EINVAL');
  });
});

describe('DMA_READ / DMA_WRITE', () => {
  it('decodes {u64 address, u64 count} and data after byte 16', () => {
    const p = bytes(...le64(0x2000), ...le64(3), 7, 8, 9);
    const a = decodeDmaAccess(p, true, 1 << 20);
    expect(a.addr).toBe(0x2000n);
    expect(a.count).toBe(3);
    expect([...a.data!]).toEqual([7, 8, 9]);
    expect([...encodeDmaAccess(0x2000n, 3, bytes(7, 8, 9))]).toEqual([...p]);
  });
  it('refuses a count of 2^63', () => {
    expect(codeOf(() => decodeDmaAccess(bytes(...le64(0), 0, 0, 0, 0, 0, 0, 0, 0x80), false, 1 << 20))).toBe('EVFIO_USER_OVERSIZED/E2BIG');
  });
});

describe('REGION_WRITE_MULTI', () => {
  it('decodes wr_cnt and 24-byte entries with up to 8 data bytes', () => {
    const p = bytes(...le64(2),
      ...le64(0x10), ...le32(0), ...le32(4), 1, 2, 3, 4, 0, 0, 0, 0,
      ...le64(0x18), ...le32(0), ...le32(8), 1, 2, 3, 4, 5, 6, 7, 8);
    const w = decodeWriteMulti(p);
    expect(w).toHaveLength(2);
    expect(w[0]!.offset).toBe(0x10n);
    expect([...w[0]!.data]).toEqual([1, 2, 3, 4]);
    expect([...w[1]!.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The client's encoder (RemoteRegion's writeBlock path) writes the same bytes.
    const out = allocWriteMulti(w.length);
    w.forEach((x, i) => putMultiWrite(out, i, Number(x.offset), x.region, x.data));
    expect([...out]).toEqual([...p]);
  });
  it('writes a 64-bit entry with the whole u64 offset (QEMU VFIOUserWROne.offset is uint64_t)', () => {
    const out = allocWriteMulti(1);
    putMultiWrite64(out, 0, 0x1_0000_0010, 3, 0x0807060504030201n);
    expect([...out]).toEqual([...le64(1), ...le64(0x1_0000_0010), ...le32(3), ...le32(8), 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decodeWriteMulti(out)[0]).toMatchObject({ offset: 0x1_0000_0010n, region: 3 });
  });
  it('refuses wr_cnt over 200, count 9, and short arrays', () => {
    expect(codeOf(() => decodeWriteMulti(bytes(...le64(201))))).toBe('EVFIO_USER_OVERSIZED/E2BIG');
    expect(codeOf(() => decodeWriteMulti(bytes(...le64(1), ...le64(0), ...le32(0), ...le32(9), 0, 0, 0, 0, 0, 0, 0, 0)))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    expect(codeOf(() => decodeWriteMulti(bytes(...le64(2), ...new Array(24).fill(0))))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
  });
});

describe('DEVICE_GET_REGION_INFO and capability chains', () => {
  it('decodes the request: argsz and index', () => {
    const p = bytes(...le32(64), ...le32(0), ...le32(2), ...new Array(20).fill(0));
    expect(decodeRegionInfoRequest(p)).toEqual({ argsz: 64, index: 2 });
    expect([...encodeRegionInfoRequest(2, 64)]).toEqual([...p]);
  });
  it('decodes a BAR with a SPARSE_MMAP cap of two areas and a TYPE cap', () => {
    const p = bytes(
      ...le32(32 + 48 + 16), ...le32(REGION_FLAG_READ | REGION_FLAG_WRITE | REGION_FLAG_MMAP | REGION_FLAG_CAPS), ...le32(0), ...le32(32),
      ...le64(0x40000), ...le64(0),
      // SPARSE_MMAP (8 + 8 + 2 * 16 bytes): id 1, version 1, next 80; nr_areas 2, reserved
      ...le16(1), ...le16(1), ...le32(80), ...le32(2), ...le32(0),
      ...le64(0), ...le64(0x1000), ...le64(0x3000), ...le64(0x3d000),
      // TYPE: id 2, version 1, next 0; type 3 subtype 1
      ...le16(2), ...le16(1), ...le32(0), ...le32(3), ...le32(1),
    );
    const info = decodeRegionInfoReply(p);
    expect(info.size).toBe(0x40000n);
    expect(info.caps).toEqual([
      { id: RegionInfoCap.SPARSE_MMAP, version: 1, areas: [{ offset: 0n, size: 0x1000n }, { offset: 0x3000n, size: 0x3d000n }] },
      { id: RegionInfoCap.TYPE, version: 1, type: 3, subtype: 1 },
    ]);
    const again = encodeRegionInfoReply({ flags: flagSet(REGION_FLAG_READ, REGION_FLAG_WRITE, REGION_FLAG_MMAP), index: 0, size: 0x40000n, offset: 0n, caps: info.caps }, 4096);
    expect([...again]).toEqual([...p]);
  });
  it('returns argsz without caps when the client\'s argsz is too small', () => {
    const out = encodeRegionInfoReply({ flags: flagSet(REGION_FLAG_READ, REGION_FLAG_WRITE, REGION_FLAG_MMAP), index: 0, size: 0x1000n, offset: 0n, caps: [{ id: RegionInfoCap.SPARSE_MMAP, version: 1, areas: [{ offset: 0n, size: 0x1000n }] }] }, 32);
    expect(out.length).toBe(32);
    expect([...out.subarray(0, 16)]).toEqual([...le32(32 + 8 + 8 + 16), ...le32(7), ...le32(0), ...le32(0)]);
  });
  it('refuses chain loops, caps running past the payload, areas outside the region', () => {
    const head = (argsz: number) => [...le32(argsz), ...le32(REGION_FLAG_CAPS), ...le32(0), ...le32(32), ...le64(0x1000), ...le64(0)];
    const loop = bytes(...head(48), ...le16(3), ...le16(1), ...le32(40), ...le16(3), ...le16(1), ...le32(32));
    expect(codeOf(() => decodeRegionInfoReply(loop))).toBe('EVFIO_USER_MALFORMED/EINVAL');
    const past = bytes(...head(48), ...le16(1), ...le16(1), ...le32(0), ...le32(4), ...le32(0));
    expect(codeOf(() => decodeRegionInfoReply(past))).toBe('EVFIO_USER_TRUNCATED/EINVAL');
    const outside = bytes(...head(64), ...le16(1), ...le16(1), ...le32(0), ...le32(1), ...le32(0), ...le64(0x800), ...le64(0x1000));
    expect(codeOf(() => decodeRegionInfoReply(outside))).toBe('EVFIO_USER_MALFORMED/EINVAL');
  });
});

describe('DEVICE_GET_REGION_IO_FDS and DEVICE_FEATURE', () => {
  it('decodes an io-fds reply with one ioeventfd sub-region at the spec\'s 40-byte stride', () => {
    const p = bytes(...le32(56), ...le32(0), ...le32(0), ...le32(1), ...le64(0x100), ...le64(4), ...le32(0), ...le32(0), ...le32(1), ...le32(0), ...le64(0xab));
    expect(decodeIoFdsReply(p).subRegions).toEqual([{ offset: 0x100n, size: 4n, fd_index: 0, type: 0, flags: 1, padding: 0, data: 0xabn }]);
    expect([...encodeIoFdsReply(0, decodeIoFdsReply(p).subRegions, 4096)]).toEqual([...p]);
    expect(codeOf(() => decodeIoFdsRequest(bytes(...le32(16), ...le32(1), ...le32(0), ...le32(0))))).toBe('EVFIO_USER_MALFORMED/EINVAL');
  });
  it('decodes a feature GET of MIGRATION (index 1 | GET bit 16)', () => {
    const f = decodeDeviceFeature(bytes(...le32(16), ...le32(0x10001)));
    expect(f.flags & 0xffff).toBe(1);
    expect(f.flags & FEATURE_GET).toBe(FEATURE_GET);
    expect(codeOf(() => decodeDeviceFeature(bytes(...le32(8), ...le32(FEATURE_GET | FEATURE_SET | 1))))).toBe('EVFIO_USER_MALFORMED/EINVAL');
  });
});
