import { describe, expect, it } from 'vitest';
import { MAX_PHY_REQUEST, MAX_TRANS_DATA, depacketizeJs, packetizeJs } from '../../src/afu/bmc/avalon.js';
import { nativeCodec } from '../../src/afu/bmc/avalon-codec.js';
import { Rng } from '../fuzz/lib.js';

const native = nativeCodec();

describe.skipIf(!native)('shim SPI-AVMM codec matches the JS fallback', () => {
  it('packetize gives identical bytes', () => {
    const rng = new Rng(5);
    const a = new Uint8Array(MAX_PHY_REQUEST);
    const b = new Uint8Array(MAX_PHY_REQUEST);
    for (let i = 0; i < 2000; i++) {
      const t = rng.bytes(1 + rng.int(1032));
      for (let k = 0; k < t.length; k++) if (rng.bool(0.1)) t[k] = rng.pick([0x7a, 0x7b, 0x7c, 0x7d, 0x4a, 0x4d]);
      const w = rng.pick([1, 4]);
      const na = packetizeJs(t, t.length, a, w);
      const nb = native!.packetize(t, t.length, b, w);
      expect(nb).toBe(na);
      expect(Buffer.compare(a.subarray(0, na), b.subarray(0, nb))).toBe(0);
    }
  });

  it('depacketize gives identical results and state on random streams', () => {
    const rng = new Rng(6);
    for (let i = 0; i < 3000; i++) {
      const phy = rng.bytes(rng.int(64));
      for (let k = 0; k < phy.length; k++) if (rng.bool(0.3)) phy[k] = rng.pick([0x7a, 0x7b, 0x7c, 0x7d, 0x4a, 0x4d, 0]);
      const sa = new Int32Array(2), sb = new Int32Array(2), ca = new Int32Array(1), cb = new Int32Array(1);
      const oa = new Uint8Array(rng.bool() ? 8 : MAX_TRANS_DATA), ob = new Uint8Array(oa.length);
      const ra = depacketizeJs(phy, phy.length, sa, oa, ca);
      const rb = native!.depacketize(phy, phy.length, sb, ob, cb);
      expect([rb, cb[0], sb[0], sb[1]]).toEqual([ra, ca[0], sa[0], sa[1]]);
      if (ra > 0) expect(Buffer.compare(oa.subarray(0, ra), ob.subarray(0, rb))).toBe(0);
    }
  });
});
