// Device side of the SPI slave to Avalon-MM master bridge inside the MAX10 BMC (the IP that
// drivers/base/regmap/regmap-spi-avmm.c talks to; reference/secure-update.md). One byte in, one
// byte out per SPI byte time: the phy layer drops PHY_IDLE and un-escapes PHY_ESC, the packet
// layer frames SOP / CHANNEL / ESC / EOP (the byte after EOP ends the packet), the transaction
// layer executes {code, rsvd, be16 size, be32 address} + data on the Avalon bus and queues the
// answer: a 4-byte {code | 0x80, 0, be16 size} for writes, the data for reads. Answers are
// packetised and escaped the same way; while nothing is queued the bridge sends PHY_IDLE.

export const PKT_SOP = 0x7a;
export const PKT_EOP = 0x7b;
export const PKT_CHANNEL = 0x7c;
export const PKT_ESC = 0x7d;
export const PHY_IDLE = 0x4a;
export const PHY_ESC = 0x4d;

export const CODE_WRITE = 0x00;
export const CODE_SEQ_WRITE = 0x04;
export const CODE_READ = 0x10;
export const CODE_SEQ_READ = 0x14;
export const CODE_NO_TRANS = 0x7f;
export const RESP_FLAG = 0x80;
/** Largest transaction the bridge buffers (header + 1 KiB of data). */
export const MAX_PACKET = 8 + 1024;

/** The Avalon-MM bus behind the bridge (the BMC's address map). */
export interface AvalonBus {
  read32(address: number): number;
  write32(address: number, value: number): void;
}

export interface BridgeStats {
  packets: number;
  /** Packets dropped: malformed framing, wrong channel, too long, unknown code, bad size. */
  dropped: number;
  reads: number;
  writes: number;
}

export class AvalonBridge {
  readonly stats: BridgeStats = { packets: 0, dropped: 0, reads: 0, writes: 0 };
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
      b ^= 0x20;
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
      b ^= 0x20;
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
    if (this.#overflow || this.#channel !== 0 || len < 8) {
      this.stats.dropped++;
      return;
    }
    const code = buf[0]!;
    const size = (buf[2]! << 8) | buf[3]!;
    const address = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
    const bus = this.#bus;
    if ((code === CODE_WRITE || code === CODE_SEQ_WRITE) && size > 0 && (size & 3) === 0 && len === 8 + size && size <= 1024) {
      const step = code === CODE_SEQ_WRITE ? 4 : 0;
      for (let i = 0; i < size; i += 4) {
        const v = (buf[8 + i]! | (buf[9 + i]! << 8) | (buf[10 + i]! << 16) | (buf[11 + i]! << 24)) >>> 0;
        bus.write32((address + (step ? i : 0)) >>> 0, v);
      }
      this.stats.writes++;
      const resp = [code | RESP_FLAG, 0, (size >>> 8) & 0xff, size & 0xff];
      this.#queue(resp, 4);
      return;
    }
    if ((code === CODE_READ || code === CODE_SEQ_READ) && size > 0 && (size & 3) === 0 && len === 8 && size <= 1024) {
      const data = new Array<number>(size);
      const step = code === CODE_SEQ_READ ? 4 : 0;
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
    this.#queue([CODE_NO_TRANS | RESP_FLAG, 0, 0, 0], 4);
  }

  #put(b: number): void {
    this.#out[this.#outTail++] = b;
  }

  #putEscaped(b: number): void {
    if (b === PKT_SOP || b === PKT_EOP || b === PKT_CHANNEL || b === PKT_ESC) {
      this.#put(PKT_ESC);
      this.#put(b ^ 0x20);
    } else if (b === PHY_IDLE || b === PHY_ESC) {
      this.#put(PHY_ESC);
      this.#put(b ^ 0x20);
    } else {
      this.#put(b);
    }
  }

  #queue(bytes: ArrayLike<number>, n: number): void {
    if (this.#outTail + 2 * n + 8 > this.#out.length) {
      // The host never read the previous answer: it is lost, as on the real bridge's FIFO.
      this.#outHead = this.#outTail = 0;
    }
    this.#put(PKT_SOP);
    this.#put(PKT_CHANNEL);
    this.#put(0);
    for (let i = 0; i < n; i++) {
      if (i === n - 1) this.#put(PKT_EOP);
      this.#putEscaped(bytes[i]!);
    }
  }
}
