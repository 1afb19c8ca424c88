// Avalon-ST bytes-to-packets and Avalon-MM transaction codec, host side (the SPI slave to
// Avalon master bridge protocol of drivers/base/regmap/regmap-spi-avmm.c; reference/
// secure-update.md "Transport to the BMC"). The byte codes and the three layers (transaction,
// packet, phy) are described and defined once in src/dfl/regs/avalon.ts, shared with the sim's
// bridge, and re-exported here.
// The byte loops here are the JS fallback of shim/spi_avmm.c (same contracts, same results).
import { FormatError } from '../../errors.js';
import {
  PKT_SOP, PKT_EOP, PKT_CHANNEL, PKT_ESC, PHY_IDLE, PHY_ESC, ESC_XOR, TRANS_REQ_HEADER_SIZE, MAX_TRANS_DATA,
} from '../../dfl/regs/avalon.js';

export * from '../../dfl/regs/avalon.js';

/** Worst case phy bytes of one request: every byte escaped, plus SOP, CHANNEL, 0, EOP, word aligned. */
export const MAX_PHY_REQUEST = (2 * (TRANS_REQ_HEADER_SIZE + MAX_TRANS_DATA) + 4 + 3) & ~3;

/** A malformed Avalon-ST/MM byte stream from the BMC bridge. */
export class AvalonError extends FormatError {}

/** Decoder result codes (negative; a non-negative result is the completed packet's length). */
export const DECODE_MORE = -1;
export const DECODE_BAD_SPECIAL = -2;
export const DECODE_BAD_CHANNEL = -3;
export const DECODE_OVERFLOW = -4;

/** Decoder state words (an Int32Array(2) shared with the C version). */
export const ST_LEN = 0;
export const ST_FLAGS = 1;
export const F_STARTED = 1;
export const F_EOP = 2;
export const F_CHANNEL = 4;
export const F_ESC = 8;

function isSpecial(b: number): number {
  // 1: packet-layer escape, 2: phy-layer escape, 0: plain
  if (b === PKT_SOP || b === PKT_EOP || b === PKT_CHANNEL || b === PKT_ESC) return 1;
  if (b === PHY_IDLE || b === PHY_ESC) return 2;
  return 0;
}

/** Write the transaction-layer request into `out` (>= 8 + data bytes); returns its length. */
export function encodeRequest(out: Uint8Array, code: number, address: number, size: number, data?: Uint8Array, dataOffset = 0): number {
  out[0] = code;
  out[1] = 0;
  out[2] = (size >>> 8) & 0xff;
  out[3] = size & 0xff;
  out[4] = (address >>> 24) & 0xff;
  out[5] = (address >>> 16) & 0xff;
  out[6] = (address >>> 8) & 0xff;
  out[7] = address & 0xff;
  if (!data) return TRANS_REQ_HEADER_SIZE;
  for (let i = 0; i < size; i++) out[TRANS_REQ_HEADER_SIZE + i] = data[dataOffset + i]!;
  return TRANS_REQ_HEADER_SIZE + size;
}

/**
 * Packetize `trans[0..transLen)` into `phy` and pad it to a multiple of `wordLen` bytes the way the
 * kernel does (br_pkt_phy_tx_prepare): the EOP and the bytes after it move to the end of the
 * aligned length and the hole is filled with PHY_IDLE, so the slave cannot start answering
 * before the host has sent its last word. Returns the phy length, or -1 when `phy` is too small.
 */
export function packetizeJs(trans: Uint8Array, transLen: number, phy: Uint8Array, wordLen: number): number {
  const cap = phy.length;
  if (transLen <= 0 || cap < 4) return -1;
  let p = 0;
  phy[p++] = PKT_SOP;
  phy[p++] = PKT_CHANNEL;
  phy[p++] = 0;
  let eopAt = -1;
  for (let t = 0; t < transLen; t++) {
    if (t === transLen - 1) {
      if (p >= cap) return -1;
      eopAt = p;
      phy[p++] = PKT_EOP;
    }
    const b = trans[t]!;
    const kind = isSpecial(b);
    if (kind !== 0) {
      if (p + 2 > cap) return -1;
      phy[p++] = kind === 1 ? PKT_ESC : PHY_ESC;
      phy[p++] = b ^ ESC_XOR;
    } else {
      if (p >= cap) return -1;
      phy[p++] = b;
    }
  }
  if (wordLen <= 1) return p;
  const aligned = Math.ceil(p / wordLen) * wordLen;
  if (aligned > cap) return -1;
  if (aligned === p) return p;
  const move = p - eopAt;
  phy.copyWithin(aligned - move, eopAt, p);
  phy.fill(PHY_IDLE, eopAt, aligned - move);
  return aligned;
}

/**
 * Feed phy bytes `phy[0..len)` to the packet decoder (the receive half of regmap-spi-avmm's
 * br_do_rx_and_pkt_phy_parse): bytes before the first SOP and PHY_IDLE are dropped, a second SOP
 * restarts, ESC/PHY_ESC un-escape the next byte, the byte after EOP is the last one. Writes
 * payload bytes to `out` and keeps its position in `state` between calls. Returns the packet
 * length when it completed, DECODE_MORE when more bytes are needed, or a negative error.
 * `consumed[0]` receives the number of input bytes used.
 */
export function depacketizeJs(phy: Uint8Array, len: number, state: Int32Array, out: Uint8Array, consumed: Int32Array): number {
  let n = state[ST_LEN]!;
  let flags = state[ST_FLAGS]!;
  const cap = out.length;
  let result = DECODE_MORE;
  let i = 0;
  for (; i < len; i++) {
    const b = phy[i]!;
    if ((flags & F_STARTED) === 0 && b !== PKT_SOP) continue;
    if (b === PHY_IDLE) continue;
    if ((flags & F_CHANNEL) !== 0) {
      if (b !== 0) { result = DECODE_BAD_CHANNEL; i++; break; }
      flags &= ~F_CHANNEL;
      continue;
    }
    if (b === PKT_SOP) {
      n = 0;
      flags = F_STARTED;
      continue;
    }
    if (b === PKT_EOP) {
      if ((flags & (F_ESC | F_EOP)) !== 0) { result = DECODE_BAD_SPECIAL; i++; break; }
      flags |= F_EOP;
      continue;
    }
    if (b === PKT_CHANNEL) {
      if ((flags & (F_ESC | F_EOP)) !== 0) { result = DECODE_BAD_SPECIAL; i++; break; }
      flags |= F_CHANNEL;
      continue;
    }
    if (b === PKT_ESC || b === PHY_ESC) {
      if ((flags & F_ESC) !== 0) { result = DECODE_BAD_SPECIAL; i++; break; }
      flags |= F_ESC;
      continue;
    }
    if (n >= cap) { result = DECODE_OVERFLOW; i++; break; }
    if ((flags & F_ESC) !== 0) {
      out[n++] = b ^ ESC_XOR;
      flags &= ~F_ESC;
    } else {
      out[n++] = b;
    }
    if ((flags & F_EOP) !== 0) { result = n; i++; break; }
  }
  consumed[0] = i;
  if (result === DECODE_MORE) {
    state[ST_LEN] = n;
    state[ST_FLAGS] = flags;
  } else {
    state[ST_LEN] = 0;
    state[ST_FLAGS] = 0;
  }
  return result;
}

/** A typed error for a negative decoder result. */
export function decodeError(result: number, where: string): AvalonError {
  switch (result) {
    case DECODE_BAD_CHANNEL:
      return new AvalonError('EAVALON_CHANNEL', `${where}: the BMC bridge answered on a channel other than 0; only channel 0 is used. Check that FME feature 0xE talks to a MAX10 SPI-AVMM bridge`, { result });
    case DECODE_OVERFLOW:
      return new AvalonError('EAVALON_OVERFLOW', `${where}: the BMC bridge's answer is longer than ${MAX_TRANS_DATA} bytes without an end of packet; the SPI stream is out of sync; retry, then reset the card`, { result });
    default:
      return new AvalonError('EAVALON_FRAMING', `${where}: malformed Avalon-ST packet from the BMC bridge (a special byte after ESC or EOP); the SPI stream is out of sync; retry, then reset the card`, { result });
  }
}
