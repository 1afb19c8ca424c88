// Device side of the SPI slave to Avalon-MM master bridge inside the MAX10 BMC (the IP that
// drivers/base/regmap/regmap-spi-avmm.c talks to; reference/secure-update.md). One byte in, one
// byte out per SPI byte time: the phy layer drops PHY_IDLE and un-escapes PHY_ESC, the packet
// layer frames SOP / CHANNEL / ESC / EOP (the byte after EOP ends the packet), the transaction
// layer executes {code, rsvd, be16 size, be32 address} + data on the Avalon bus and queues the
// answer: a 4-byte {code | 0x80, 0, be16 size} for writes, the data for reads. Answers are
// packetised and escaped the same way; while nothing is queued the bridge sends PHY_IDLE.
// The slave takes ONE word per write (regmap-spi-avmm MAX_WRITE_CNT 1): a longer write executes
// nothing and is answered with a write response of size 0, the "bytes written successfully"
// (Avalon Packets to Transactions Converter response format), which the kernel's
// br_wr_trans_rx_parse rejects (-EFAULT). Reads take up to 256 words (MAX_READ_CNT).

// The byte codes are shared with the host codec (src/dfl/regs/avalon.ts).
import {
  PKT_SOP, PKT_EOP, PKT_CHANNEL, PKT_ESC, PHY_IDLE, PHY_ESC, ESC_XOR,
  TRANS_CODE_WRITE, TRANS_CODE_SEQ_WRITE, TRANS_CODE_READ, TRANS_CODE_SEQ_READ, TRANS_CODE_NO_TRANS, TRANS_RESP_FLAG,
  TRANS_REQ_HEADER_SIZE, TRANS_RESP_HEADER_SIZE, MAX_TRANS_DATA, MAX_WRITE_WORDS,
} from '../../dfl/regs/avalon.js';

/** Largest transaction the bridge buffers (header + 1 KiB of data). */
export const MAX_PACKET = TRANS_REQ_HEADER_SIZE + MAX_TRANS_DATA;

/** The Avalon-MM bus behind the bridge (the BMC's address map). */
export interface AvalonBus {
  read32(address: number): number;
  write32(address: number, value: number): void;
}

export interface BridgeStats {
  packets: number;
  /** Packets dropped: malformed framing, wrong channel, too long, unknown code, bad size. */
  dropped: number;
  /** Writes longer than MAX_WRITE_WORDS refused (answered with size 0, nothing written). */
  refusedWrites: number;
  reads: number;
  writes: number;
}

export class AvalonBridge {
  readonly stats: BridgeStats = { packets: 0, dropped: 0, refusedWrites: 0, reads: 0, writes: 0 };
  /**
   * PHY_IDLE bytes the bridge sends before each answer (default 0: it answers at once). A bridge
   * whose Avalon side is slow answers idles first; the host reads on until the packet comes
   * (br_do_rx_and_pkt_phy_parse drops everything before SOP).
   */
  idleBeforeAnswer = 0;
  #bus: AvalonBus;
  // receive state
  #phyEsc = false;
  #inPacket = false;
  #pktEsc = false;
  #channelNext = false;
  #eop = false;
  #channel = 0;
  #buf = new Uint8Array(MAX_PACKET);
  #len = 0;
  #overflow = false;
  // transmit queue (phy bytes)
  #out = new Uint8Array(2 * MAX_PACKET + 8);
  #outHead = 0;
  #outTail = 0;

  constructor(bus: AvalonBus) {
    this.#bus = bus;
  }

  /** Chip select released or card reset: drop a partial packet (queued answers stay). */
  resetReceiver(): void {
    this.#phyEsc = false;
    this.#inPacket = false;
    this.#pktEsc = false;
    this.#channelNext = false;
    this.#eop = false;
    this.#len = 0;
    this.#overflow = false;
  }

  reset(): void {
    this.resetReceiver();
    this.#outHead = this.#outTail = 0;
  }

  /** One SPI byte time: returns the byte shifted out while `input` is shifted in. */
  exchange(input: number): number {
    const output = this.#outHead < this.#outTail ? this.#out[this.#outHead++]! : PHY_IDLE;
    if (this.#outHead === this.#outTail) this.#outHead = this.#outTail = 0;
    this.#receive(input & 0xff);
    return output;
  }

  #receive(raw: number): void {
    // phy layer
    let b = raw;
    if (this.#phyEsc) {
      this.#phyEsc = false;
      b ^= ESC_XOR;
      this.#packetByte(b, true);
      return;
    }
    if (b === PHY_IDLE) return;
    if (b === PHY_ESC) {
      this.#phyEsc = true;
      return;
    }
    this.#packetByte(b, false);
  }

  #packetByte(b: number, escaped: boolean): void {
    if (!escaped) {
      if (b === PKT_SOP) {
        this.#inPacket = true;
        this.#pktEsc = false;
        this.#channelNext = false;
        this.#eop = false;
        this.#len = 0;
        this.#overflow = false;
        this.#channel = 0;
        return;
      }
      if (!this.#inPacket) return;
      if (this.#channelNext) {
        this.#channelNext = false;
        this.#channel = b;
        return;
      }
      if (b === PKT_CHANNEL) { this.#channelNext = true; return; }
      if (b === PKT_EOP) { this.#eop = true; return; }
      if (b === PKT_ESC) { this.#pktEsc = true; return; }
    } else if (!this.#inPacket) {
      return;
    } else if (this.#channelNext) {
      this.#channelNext = false;
      this.#channel = b;
      return;
    }
    if (this.#pktEsc) {
      this.#pktEsc = false;
      b ^= ESC_XOR;
    }
    if (this.#len < MAX_PACKET) this.#buf[this.#len++] = b;
    else this.#overflow = true;
    if (this.#eop) {
      this.#inPacket = false;
      this.#eop = false;
      this.#execute();
    }
  }

  #execute(): void {
    this.stats.packets++;
    const buf = this.#buf;
    const len = this.#len;
    if (this.#overflow || this.#channel !== 0 || len < TRANS_REQ_HEADER_SIZE) {
      this.stats.dropped++;
      return;
    }
    const code = buf[0]!;
    const size = (buf[2]! << 8) | buf[3]!;
    const address = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
    const bus = this.#bus;
    if ((code === TRANS_CODE_WRITE || code === TRANS_CODE_SEQ_WRITE) && size > 4 * MAX_WRITE_WORDS && len === TRANS_REQ_HEADER_SIZE + size) {
      this.stats.refusedWrites++;
      this.#queue([code | TRANS_RESP_FLAG, 0, 0, 0], TRANS_RESP_HEADER_SIZE);
      return;
    }
    if ((code === TRANS_CODE_WRITE || code === TRANS_CODE_SEQ_WRITE) && size > 0 && (size & 3) === 0 && len === TRANS_REQ_HEADER_SIZE + size && size <= MAX_TRANS_DATA) {
      const step = code === TRANS_CODE_SEQ_WRITE ? 4 : 0;
      for (let i = 0; i < size; i += 4) {
        const v = (buf[8 + i]! | (buf[9 + i]! << 8) | (buf[10 + i]! << 16) | (buf[11 + i]! << 24)) >>> 0;
        bus.write32((address + (step ? i : 0)) >>> 0, v);
      }
      this.stats.writes++;
      const resp = [code | TRANS_RESP_FLAG, 0, (size >>> 8) & 0xff, size & 0xff];
      this.#queue(resp, TRANS_RESP_HEADER_SIZE);
      return;
    }
    if ((code === TRANS_CODE_READ || code === TRANS_CODE_SEQ_READ) && size > 0 && (size & 3) === 0 && len === TRANS_REQ_HEADER_SIZE && size <= MAX_TRANS_DATA) {
      const data = new Array<number>(size);
      const step = code === TRANS_CODE_SEQ_READ ? 4 : 0;
      for (let i = 0; i < size; i += 4) {
        const v = bus.read32((address + (step ? i : 0)) >>> 0);
        data[i] = v & 0xff;
        data[i + 1] = (v >>> 8) & 0xff;
        data[i + 2] = (v >>> 16) & 0xff;
        data[i + 3] = (v >>> 24) & 0xff;
      }
      this.stats.reads++;
      this.#queue(data, size);
      return;
    }
    // Unknown code or inconsistent size: answer "no transaction" (0x7f | 0x80) with size 0.
    this.stats.dropped++;
    this.#queue([TRANS_CODE_NO_TRANS | TRANS_RESP_FLAG, 0, 0, 0], TRANS_RESP_HEADER_SIZE);
  }

  #put(b: number): void {
    this.#out[this.#outTail++] = b;
  }

  #putEscaped(b: number): void {
    if (b === PKT_SOP || b === PKT_EOP || b === PKT_CHANNEL || b === PKT_ESC) {
      this.#put(PKT_ESC);
      this.#put(b ^ ESC_XOR);
    } else if (b === PHY_IDLE || b === PHY_ESC) {
      this.#put(PHY_ESC);
      this.#put(b ^ ESC_XOR);
    } else {
      this.#put(b);
    }
  }

  #queue(bytes: ArrayLike<number>, n: number): void {
    if (this.#outTail + 2 * n + 8 > this.#out.length) {
      // The host never read the previous answer: it is lost, as on the real bridge's FIFO.
      this.#outHead = this.#outTail = 0;
    }
    for (let i = 0; i < this.idleBeforeAnswer && this.#outTail + 2 * n + 8 < this.#out.length; i++) this.#put(PHY_IDLE);
    this.#put(PKT_SOP);
    this.#put(PKT_CHANNEL);
    this.#put(0);
    for (let i = 0; i < n; i++) {
      if (i === n - 1) this.#put(PKT_EOP);
      this.#putEscaped(bytes[i]!);
    }
  }
}
