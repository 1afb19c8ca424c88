// The register-field idiom against the kernel's definitions (include/linux/bits.h GENMASK,
// include/linux/bitfield.h FIELD_GET/FIELD_PREP/FIELD_FIT), with values from real register maps.
import { describe, expect, it } from 'vitest';
import { bit, bit64, fieldFit, fieldGet, fieldPrep, fieldSet, genmask, genmask64 } from '../../src/util/bitfield.js';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { clearBits32, clearBits64, setBits32, setBits64, updateBits32, updateBits64, waitBits64, waitBits64Async } from '../../src/mmio/bits.js';

describe('bitfield (include/linux/bits.h, bitfield.h)', () => {
  it('GENMASK and GENMASK_ULL give the kernel values', () => {
    expect(genmask(31, 0)).toBe(0xffff_ffff);
    expect(genmask(23, 8)).toBe(0x00ff_ff00); // N3000_NIOS_INIT_REQ_FEC_MODE_MSK_ALL
    expect(genmask(0, 0)).toBe(1);
    expect(genmask(31, 31)).toBe(0x8000_0000);
    expect(genmask64(63, 62)).toBe(0xc000_0000_0000_0000n); // N3000_NS_CTRL_CMD
    expect(genmask64(44, 32)).toBe(0x1fff_0000_0000n); // N3000_NS_CTRL_ADDR
    expect(genmask64(63, 0)).toBe(0xffff_ffff_ffff_ffffn);
    expect(bit(4)).toBe(16);
    expect(bit64(32)).toBe(0x1_0000_0000n);
    expect(() => genmask(3, 4)).toThrow(RangeError);
    expect(() => genmask(32, 0)).toThrow(RangeError);
    expect(() => genmask64(64, 0)).toThrow(RangeError);
  });

  it('FIELD_GET / FIELD_PREP round-trip on 32- and 64-bit fields', () => {
    // DFH: [63:60] type, [40] EOL, [39:16] next, [11:0] id (drivers/fpga/dfl.h).
    const dfh = 0x3000_0000_0100_0001n | (1n << 40n);
    expect(fieldGet(genmask64(63, 60), dfh)).toBe(3n);
    expect(fieldGet(genmask64(39, 16), dfh)).toBe(0x100n);
    expect(fieldGet(bit64(40), dfh)).toBe(1n);
    expect(fieldGet(genmask64(11, 0), dfh)).toBe(1n);
    expect(fieldPrep(genmask64(63, 62), 2n)).toBe(0x8000_0000_0000_0000n);
    expect(fieldPrep(genmask(23, 8), 0xaaaa)).toBe(0x00aa_aa00);
    expect(fieldGet(genmask(31, 28), 0xf000_0000)).toBe(0xf);
    expect(fieldSet(genmask(7, 4), 0xffff, 0x3)).toBe(0xff3f);
    expect(fieldSet(genmask64(7, 4), 0xffffn, 3n)).toBe(0xff3fn);
  });

  it('FIELD_FIT refuses values wider than the field; FIELD_PREP throws on them', () => {
    expect(fieldFit(genmask(3, 0), 15)).toBe(true);
    expect(fieldFit(genmask(3, 0), 16)).toBe(false);
    expect(fieldFit(genmask(3, 0), -1)).toBe(false);
    expect(fieldFit(genmask64(44, 32), 0x1fffn)).toBe(true);
    expect(fieldFit(genmask64(44, 32), 0x2000n)).toBe(false);
    expect(() => fieldPrep(genmask(3, 0), 16)).toThrow(RangeError);
    expect(() => fieldGet(0, 1)).toThrow(RangeError);
  });
});

describe('set/clear/update/wait bits on a Region (ixy set_reg32 / clear_flags32 / wait_set_reg32)', () => {
  function region() {
    const mem = new BigUint64Array(4);
    const dv = new DataView(mem.buffer);
    return new TrappedRegion('test', 32, {
      read32: (o) => dv.getUint32(o, true),
      read64: (o) => dv.getBigUint64(o, true),
      write32: (o, v) => dv.setUint32(o, v, true),
      write64: (o, v) => dv.setBigUint64(o, v, true),
    });
  }
  it('read-modify-writes touch only the named bits', () => {
    const r = region();
    r.write32(0, 0x0f0);
    expect(setBits32(r, 0, 0x1)).toBe(0x0f1);
    expect(clearBits32(r, 0, 0x0f0)).toBe(0x001);
    expect(updateBits32(r, 0, genmask(7, 4), fieldPrep(genmask(7, 4), 0xa))).toBe(0x0a1);
    expect(r.read32(0)).toBe(0x0a1);
    r.write64(8, 0x8000_0000_0000_0000n);
    expect(setBits64(r, 8, 1n)).toBe(0x8000_0000_0000_0001n);
    expect(clearBits64(r, 8, bit64(63))).toBe(1n);
    expect(updateBits64(r, 8, genmask64(63, 62), fieldPrep(genmask64(63, 62), 1n))).toBe(0x4000_0000_0000_0001n);
  });
  it('waits report the last value and whether they timed out', async () => {
    const r = region();
    r.write64(16, 0x10n);
    expect(waitBits64(r, 16, 0x10n, true, { timeoutMs: 10 })).toEqual({ value: 0x10n, timedOut: false });
    expect(waitBits64(r, 16, 0x10n, false, { timeoutMs: 5 }).timedOut).toBe(true);
    setTimeout(() => r.write64(16, 0n), 5);
    await expect(waitBits64Async(r, 16, 0x10n, false, { timeoutMs: 2000 })).resolves.toEqual({ value: 0n, timedOut: false });
  });
});
