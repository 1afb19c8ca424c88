// Fuzz target: the host's Avalon-ST packet decoder (src/afu/bmc/avalon.ts, and the shim's when it
// is built). Cases are valid answers packetised by the sim bridge, mutated; the decoder must return
// a packet or a typed AvalonError, never overrun its buffer or loop. Every tenth case is a
// round trip of random transaction bytes through packetize + depacketize, which must be exact.
import { AvalonError, DECODE_MORE, MAX_PHY_REQUEST, MAX_TRANS_DATA, decodeError } from '../../src/afu/bmc/avalon.js';
import { avalonCodec } from '../../src/afu/bmc/avalon-codec.js';
import { FuzzFinding, Rng, mutate, newStats, runCase, type FuzzTarget } from './lib.js';

/** Decode a whole phy stream; returns the packet or throws AvalonError. */
export function decodeStream(phy: Uint8Array): Uint8Array {
  const codec = avalonCodec();
  const state = new Int32Array(2);
  const consumed = new Int32Array(1);
  const out = new Uint8Array(MAX_TRANS_DATA);
  let at = 0;
  while (at < phy.length) {
    const chunk = phy.subarray(at, Math.min(phy.length, at + 4));
    const r = codec.depacketize(chunk, chunk.length, state, out, consumed);
    if (consumed[0]! <= 0 || consumed[0]! > chunk.length) throw new FuzzFinding(`decoder consumed ${consumed[0]} of ${chunk.length} bytes`);
    at += consumed[0]!;
    if (r >= 0) {
      if (r > out.length) throw new FuzzFinding('decoder reported a packet longer than its buffer');
      return out.slice(0, r);
    }
    if (r !== DECODE_MORE) throw decodeError(r, 'fuzz');
  }
  throw new AvalonError('EAVALON_FRAMING', 'stream ended inside a packet', {});
}

function encode(trans: Uint8Array): Uint8Array {
  const phy = new Uint8Array(MAX_PHY_REQUEST);
  const n = avalonCodec().packetize(trans, trans.length, phy, 4);
  if (n < 0) throw new FuzzFinding(`packetize refused ${trans.length} bytes`);
  if (n % 4 !== 0) throw new FuzzFinding('packetize did not align to 4 bytes');
  return phy.slice(0, n);
}

/** A transaction of `len` bytes, a tenth of them the codec's special bytes. */
function transaction(rng: Rng, len: number): Uint8Array {
  const specials = [0x7a, 0x7b, 0x7c, 0x7d, 0x4a, 0x4d];
  const t = rng.bytes(len);
  for (let k = 0; k < len; k++) if (rng.bool(0.1)) t[k] = rng.pick(specials);
  return t;
}

/**
 * Answers past 1 KiB: a packet of up to MAX_TRANS_DATA (1024) bytes with 1..64 more data bytes
 * slipped in before its EOP (0x7b, which appears unescaped only as EOP), so the decoder must stop
 * at its limit (EAVALON_OVERFLOW), sometimes followed by a second, valid packet.
 */
function longStream(rng: Rng): Uint8Array {
  const first = encode(transaction(rng, MAX_TRANS_DATA - rng.int(4)));
  const eop = first.lastIndexOf(0x7b);
  const extra = rng.bytes(1 + rng.int(64)).map((b) => (b >= 0x4a && b <= 0x7d ? 0x30 : b));
  const parts = [first.subarray(0, eop), extra, first.subarray(eop), ...(rng.bool(0.3) ? [encode(transaction(rng, 1 + rng.int(64)))] : [])];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const target: FuzzTarget = {
  name: 'avalon',
  guided(rng) {
    const seeds = [encode(transaction(rng, 4)), encode(transaction(rng, 64)), encode(transaction(rng, MAX_TRANS_DATA)), longStream(rng)];
    return {
      seeds,
      exec(input) {
        const packet = decodeStream(input);
        if (packet.length > MAX_TRANS_DATA) throw new FuzzFinding(`decoded a ${packet.length}-byte packet, over MAX_TRANS_DATA`);
      },
      mutateMore: (r) => (r.bool(0.5) ? longStream(r) : encode(transaction(r, 1 + r.int(MAX_TRANS_DATA)))),
    };
  },
  fuzz({ cases, seed }) {
    const rng = new Rng(seed);
    const stats = newStats('avalon');
    const specials = [0x7a, 0x7b, 0x7c, 0x7d, 0x4a, 0x4d];
    const pool: Uint8Array[] = [];
    for (let i = 0; i < 32; i++) {
      const len = 1 + rng.int(64);
      const t = rng.bytes(len);
      for (let k = 0; k < len; k++) if (rng.bool(0.3)) t[k] = rng.pick(specials);
      pool.push(encode(t));
    }
    for (let i = 0; i < cases; i++) {
      if (i % 10 === 0) {
        const len = 1 + rng.int(MAX_TRANS_DATA + 8);
        const t = rng.bytes(len);
        for (let k = 0; k < len; k++) if (rng.bool(0.1)) t[k] = rng.pick(specials);
        runCase(stats, t, () => {
          if (len > MAX_TRANS_DATA) return; // requests may be longer than an answer; skip decode
          const back = decodeStream(encode(t));
          if (back.length !== t.length || back.some((b, k) => b !== t[k])) throw new FuzzFinding('round trip changed the bytes');
        });
        continue;
      }
      const input = rng.bool(0.2) ? rng.bytes(rng.int(200)) : rng.bool(0.1) ? longStream(rng) : mutate(rng, rng.pick(pool));
      runCase(stats, input, () => { decodeStream(input); });
    }
    return stats;
  },
};
