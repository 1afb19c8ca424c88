import { describe, expect, it } from 'vitest';
import { MAX_PHY_REQUEST, PHY_IDLE, PKT_EOP, encodeRequest, packetizeJs, depacketizeJs, DECODE_BAD_CHANNEL, DECODE_BAD_SPECIAL, DECODE_MORE } from '../../src/afu/bmc/avalon.js';
import { AvalonBridge } from '../../src/sim/bmc/avalon-bridge.js';
import { decodeStream, target } from '../fuzz/avalon.fuzz.js';

describe('Avalon-ST/MM codec', () => {
  it('encodes the request header big-endian like regmap-spi-avmm', () => {
    const out = new Uint8Array(16);
    expect(encodeRequest(out, 0x10, 0x300c00, 4)).toBe(8);
    expect([...out.subarray(0, 8)]).toEqual([0x10, 0, 0, 4, 0x00, 0x30, 0x0c, 0x00]);
  });

  it('places EOP before the last byte and pads with idles before it (kernel alignment)', () => {
    // kernel comment example: trans 10 00 00 04 02 4b 5a 40 -> ...|4b|7d|5a|4a| |4a|4a|7b|40|
    const trans = new Uint8Array([0x10, 0x00, 0x00, 0x04, 0x02, 0x4b, 0x7a, 0x40]);
    const phy = new Uint8Array(MAX_PHY_REQUEST);
    const n = packetizeJs(trans, trans.length, phy, 4);
    expect(n % 4).toBe(0);
    expect([...phy.subarray(0, n)]).toEqual([0x7a, 0x7c, 0x00, 0x10, 0x00, 0x00, 0x04, 0x02, 0x4b, 0x7d, 0x5a, PHY_IDLE, PHY_IDLE, PHY_IDLE, PKT_EOP, 0x40]);
    expect([...decodeStream(phy.subarray(0, n))]).toEqual([...trans]);
  });

  it('decodes what the sim bridge sends, skipping leading idles and junk', () => {
    const seen: number[] = [];
    const bridge = new AvalonBridge({ read32: (a) => { seen.push(a); return 0x4a7b7d4d; }, write32: () => {} });
    const req = new Uint8Array(8);
    encodeRequest(req, 0x10, 0x1234, 4);
    const phy = new Uint8Array(64);
    const n = packetizeJs(req, 8, phy, 4);
    const answer: number[] = [];
    for (let i = 0; i < n; i++) answer.push(bridge.exchange(phy[i]!));
    for (let i = 0; i < 16; i++) answer.push(bridge.exchange(0));
    expect(seen).toEqual([0x1234]);
    const data = decodeStream(Uint8Array.from([0x00, 0x11, ...answer]));
    expect([...data]).toEqual([0x4d, 0x7d, 0x7b, 0x4a]);
  });

  it('returns typed codes for framing errors', () => {
    const state = new Int32Array(2);
    const consumed = new Int32Array(1);
    const out = new Uint8Array(16);
    expect(depacketizeJs(Uint8Array.from([0x7a, 0x7c, 0x01]), 3, state, out, consumed)).toBe(DECODE_BAD_CHANNEL);
    expect(depacketizeJs(Uint8Array.from([0x7a, 0x7c, 0x00, 0x7d, 0x7b]), 5, state, out, consumed)).toBe(DECODE_BAD_SPECIAL);
    expect(depacketizeJs(Uint8Array.from([0x7a, 0x7c, 0x00, 0x01]), 4, state, out, consumed)).toBe(DECODE_MORE);
    expect(state[0]).toBe(1);
  });

  it('survives a bounded fuzz run with typed errors only', async () => {
    const stats = await target.fuzz({ cases: 5000, seed: 99 });
    expect(stats.cases).toBe(5000);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.typedErrors).toBeGreaterThan(0);
  });
});
