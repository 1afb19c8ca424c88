// BmcTransport over SPI-AVMM: Avalon-MM transactions, packetised as Avalon-ST bytes, shifted
// through the Altera SPI master as 32-bit words; the host side of drivers/base/regmap/
// regmap-spi-avmm.c. The SPI master sits behind FME feature 0xD on the N3000 (NiosRegBus) or 0xE
// on D5005-class cards (DflIndirectRegBus).
//   Writes: ONE word per transaction (MAX_WRITE_CNT 1; the slave refuses more), without DPDK's
//   1 us sleep between registers. Reads: up to 256 words (MAX_READ_CNT).
//   Receive: give up after SPI_AVMM_XFER_TIMEOUT (200 ms) of idle words on the device's clock, with
//   one last try after the deadline (br_do_rx_and_pkt_phy_parse).
import { ArgumentError, TimeoutError } from '../../errors.js';
import type { Clock } from '../../util/clock.js';
import { hex } from '../../util/bytes.js';
import { logger } from '../../util/log.js';
import {
  AvalonError, DECODE_MORE, MAX_PHY_REQUEST, MAX_TRANS_DATA, MAX_WRITE_WORDS, SPI_AVMM_XFER_TIMEOUT_MS, ST_FLAGS, ST_LEN,
  TRANS_CODE_READ, TRANS_CODE_SEQ_READ, TRANS_CODE_SEQ_WRITE, TRANS_CODE_WRITE, TRANS_REQ_HEADER_SIZE, TRANS_RESP_FLAG,
  TRANS_RESP_HEADER_SIZE, PHY_IDLE, decodeError, encodeRequest,
} from './avalon.js';
import { avalonCodec, nativeTransact, type NativeTransact } from './avalon-codec.js';
import { AlteraSpiMaster } from './spi-master.js';
import type { SpiRegBus } from './spi-regbus.js';
import { checkBmcAccess, type BmcTransport } from './transport.js';
import { N3000_SPI_MAX_SPEED_HZ } from '../../dfl/regs/n3000-nios.js';

const log = logger('bmc:spi');

export { SPI_AVMM_XFER_TIMEOUT_MS };
/** Wire time of one 32-bit SPI word at the board's max_speed_hz (12.5 MHz: 2.56 us). */
export const SPI_WORD_MS = (32 / N3000_SPI_MAX_SPEED_HZ) * 1000;
/**
 * Idle words that span the 200 ms timeout at the wire rate, plus the last try: the bound the
 * shim's whole-transaction loop counts (it runs on real hardware, where a word takes >= 2.56 us).
 */
export const MAX_IDLE_WORDS = Math.ceil(SPI_AVMM_XFER_TIMEOUT_MS / SPI_WORD_MS) + 1;

export interface SpiAvmmOptions {
  /** Data bytes per read transaction: 4..1024, a multiple of 4 (default 1024, MAX_READ_CNT). */
  maxReadBytes?: number;
  /** SPI chip select of the BMC (default 0). */
  chipSelect?: number;
  /** Use the shim's transaction loop on a mapped feature 0xE when it is built (default true). */
  native?: boolean;
}

export class SpiAvmmTransport implements BmcTransport {
  readonly kind = 'spi-avmm';
  readonly clock: Clock;
  readonly spi: AlteraSpiMaster;
  readonly maxReadBytes: number;
  /** Counters: transactions and SPI words exchanged (benchmarks, logs). */
  transactions = 0;
  spiWords = 0;
  #cs: number;
  #trans = new Uint8Array(TRANS_REQ_HEADER_SIZE + MAX_TRANS_DATA);
  #phy = new Uint8Array(MAX_PHY_REQUEST);
  #rx = new Uint8Array(MAX_TRANS_DATA);
  #rxWord = new Uint8Array(4);
  #txWord = new Uint8Array(4);
  #state = new Int32Array(2);
  #consumed = new Int32Array(1);
  #closed = false;
  /** Mapped feature 0xE with the shim built: the whole transaction runs in C (shim/spi_avmm.c). */
  #native: { transact: NativeTransact; base: bigint; offset: number; counters: BigUint64Array } | undefined;

  constructor(bus: SpiRegBus, options: SpiAvmmOptions = {}) {
    const max = options.maxReadBytes ?? MAX_TRANS_DATA;
    if (!Number.isInteger(max) || max < 4 || max > MAX_TRANS_DATA || (max & 3) !== 0) {
      throw new ArgumentError('EBMC_BATCH', `maxReadBytes ${String(max)} must be a multiple of 4 in 4..${MAX_TRANS_DATA}`, { maxReadBytes: max });
    }
    this.maxReadBytes = max;
    this.#cs = options.chipSelect ?? 0;
    const region = bus.region;
    this.clock = region.clock;
    this.spi = new AlteraSpiMaster(bus);
    const transact = nativeTransact();
    const address = (region as { address?: unknown }).address;
    // The shim's loop speaks feature 0xE's window only (shim/spi_avmm.c).
    if (transact && bus.kind === 'dfl-indirect' && region.kind === 'mapped' && typeof address === 'bigint' && options.native !== false) {
      this.#native = { transact, base: address, offset: bus.base, counters: new BigUint64Array(1) };
    }
    log('SPI-AVMM transport over %s, reads of up to %d bytes, one word per write', bus.name, max);
  }

  #checkOpen(): void {
    if (this.#closed) throw new ArgumentError('EBMC_CLOSED', 'the BMC transport is closed; open the card again', {});
  }

  /** One Avalon-MM transaction: `count` 32-bit words read from or written to `address`. */
  #transact(read: boolean, address: number, count: number, data: Uint8Array | undefined, dataOffset: number, into: Uint8Array | undefined, intoOffset: number): void {
    const size = count * 4;
    const code = read ? (count === 1 ? TRANS_CODE_READ : TRANS_CODE_SEQ_READ) : (count === 1 ? TRANS_CODE_WRITE : TRANS_CODE_SEQ_WRITE);
    const transLen = encodeRequest(this.#trans, code, address, size, read ? undefined : data, dataOffset);
    const phy = this.#phy;
    const phyLen = avalonCodec().packetize(this.#trans, transLen, phy, 4);
    if (phyLen < 0) throw new AvalonError('EAVALON_ENCODE', `request of ${size} bytes at ${hex(address)} does not fit the ${phy.length}-byte phy buffer`, { address, size });
    this.transactions++;
    const native = this.#native;
    if (native) {
      this.spi.region.read64(native.offset); // bounds and closed-region check before C touches the mapping
      const before = native.counters[0]!;
      const length = native.transact(native.base, native.offset, this.#cs, phy, phyLen, this.#rx, this.#rx.length, MAX_IDLE_WORDS, native.counters);
      this.spiWords += Number(native.counters[0]! - before);
      if (length < 0) throw this.#nativeError(length, address, size);
      this.#checkResponse(read, code, address, size, length, into, intoOffset);
      return;
    }
    const spi = this.spi;
    spi.chipSelect(true, this.#cs);
    try {
      // Transmit: the slave answers only idles while a request is being shifted in.
      for (let i = 0; i < phyLen; i += 4) {
        spi.txrx(((phy[i]! << 24) | (phy[i + 1]! << 16) | (phy[i + 2]! << 8) | phy[i + 3]!) >>> 0);
      }
      this.spiWords += phyLen >>> 2;
      const length = this.#receive(address, size);
      this.#checkResponse(read, code, address, size, length, into, intoOffset);
    } finally {
      spi.chipSelect(false, this.#cs);
    }
  }

  /**
   * Clock in words until one packet is decoded (br_do_rx_and_pkt_phy_parse). Returns its length.
   * A word with a non-idle byte restarts the 200 ms deadline; after the deadline one last word is
   * read. On a virtual clock a word that let no device time pass is charged its wire time.
   */
  #receive(address: number, size: number): number {
    const spi = this.spi;
    const word = this.#rxWord;
    const state = this.#state;
    const codec = avalonCodec();
    state[ST_LEN] = 0;
    state[ST_FLAGS] = 0;
    const clock = this.clock;
    let deadline = clock.now() + SPI_AVMM_XFER_TIMEOUT_MS;
    let lastTry = false;
    let idle = 0;
    for (;;) {
      const before = clock.now();
      const w = spi.txrx(0);
      if (!clock.real && clock.now() === before) clock.spin(SPI_WORD_MS);
      this.spiWords++;
      word[0] = w >>> 24;
      word[1] = (w >>> 16) & 0xff;
      word[2] = (w >>> 8) & 0xff;
      word[3] = w & 0xff;
      const result = codec.depacketize(word, 4, state, this.#rx, this.#consumed);
      if (result >= 0) return result;
      if (result !== DECODE_MORE) throw decodeError(result, `BMC ${hex(address)} (${size} bytes)`);
      if (state[ST_FLAGS] !== 0 && !isIdleWord(w)) {
        deadline = clock.now() + SPI_AVMM_XFER_TIMEOUT_MS;
        lastTry = false;
        idle = 0;
        continue;
      }
      idle++;
      if (lastTry) {
        throw new TimeoutError('EBMC_SPI_TIMEOUT', `BMC access at ${hex(address)} (${size} bytes): the SPI-AVMM bridge sent no answer (only idle bytes for ${SPI_AVMM_XFER_TIMEOUT_MS} ms, ${idle} words, and one last try); the BMC is rebooting or hung: wait and retry, then power-cycle the card`, { address, size, idleWords: idle });
      }
      if (clock.now() > deadline) lastTry = true;
    }
  }

  #nativeError(code: number, address: number, size: number): Error {
    const where = `BMC ${hex(address)} (${size} bytes)`;
    switch (code) {
      case -5: return new TimeoutError('ESPI_INDIRECT_TIMEOUT', `${where}: the SPI master's indirect window (FME feature 0xE INDIRECT_ADDR) did not complete a command; the SPI master is hung, reset the card`, { address });
      case -6: return new TimeoutError('ESPI_RRDY_TIMEOUT', `${where}: SPI STATUS never showed RRDY after a TXDATA write; the SPI link to the BMC is down, reset the card`, { address });
      case -7: return new TimeoutError('EBMC_SPI_TIMEOUT', `${where}: the SPI-AVMM bridge sent no answer (only idle bytes for ${SPI_AVMM_XFER_TIMEOUT_MS} ms); the BMC is rebooting or hung: wait and retry, then power-cycle the card`, { address });
      case -8: return new ArgumentError('EBMC_ARGS', `${where}: bad arguments to the shim's SPI-AVMM loop`, { address });
      default: return decodeError(code, where);
    }
  }

  #checkResponse(read: boolean, code: number, address: number, size: number, length: number, into: Uint8Array | undefined, intoOffset: number): void {
    const rx = this.#rx;
    if (read) {
      if (length !== size) {
        throw new AvalonError('EAVALON_RESPONSE', `BMC read at ${hex(address)}: the bridge answered ${length} bytes for a ${size}-byte read; the address may be outside the BMC's map`, { address, size, length });
      }
      if (into) into.set(rx.subarray(0, size), intoOffset);
      return;
    }
    const respCode = rx[0]! ^ TRANS_RESP_FLAG;
    const respSize = (rx[2]! << 8) | rx[3]!;
    if (length !== TRANS_RESP_HEADER_SIZE || respCode !== code || respSize !== size) {
      throw new AvalonError('EAVALON_RESPONSE', `BMC write at ${hex(address)}: the bridge answered ${length} bytes (code ${hex(rx[0]!)}, size ${respSize}) for a ${size}-byte write with code ${hex(code)}; expected code ${hex(code | TRANS_RESP_FLAG)} and size ${size}`, { address, size, length, responseCode: rx[0], responseSize: respSize });
    }
  }

  read32(address: number): number {
    this.#checkOpen();
    checkBmcAccess(address, 4, 'BMC read');
    this.#transact(true, address, 1, undefined, 0, undefined, 0);
    const rx = this.#rx;
    return (rx[0]! | (rx[1]! << 8) | (rx[2]! << 16) | (rx[3]! << 24)) >>> 0;
  }

  write32(address: number, value: number): void {
    this.#checkOpen();
    checkBmcAccess(address, 4, 'BMC write');
    const b = this.#txWord;
    b[0] = value & 0xff;
    b[1] = (value >>> 8) & 0xff;
    b[2] = (value >>> 16) & 0xff;
    b[3] = (value >>> 24) & 0xff;
    this.#transact(false, address, 1, b, 0, undefined, 0);
  }

  updateBits(address: number, mask: number, value: number): void {
    const old = this.read32(address);
    const next = ((old & ~mask) | (value & mask)) >>> 0;
    if (next !== old) this.write32(address, next);
  }

  readBlock(address: number, length: number): Uint8Array {
    this.#checkOpen();
    checkBmcAccess(address, length, 'BMC block read');
    const out = new Uint8Array(length);
    const max = this.maxReadBytes;
    for (let done = 0; done < length; done += max) {
      const n = Math.min(max, length - done);
      this.#transact(true, address + done, n >>> 2, undefined, 0, out, done);
    }
    return out;
  }

  writeBlock(address: number, data: Uint8Array): void {
    this.#checkOpen();
    checkBmcAccess(address, data.length, 'BMC block write');
    // regmap_bulk_write with max_raw_write 4: one TRANS_CODE_WRITE per word.
    for (let done = 0; done < data.length; done += 4 * MAX_WRITE_WORDS) {
      this.#transact(false, address + done, MAX_WRITE_WORDS, data, done, undefined, 0);
    }
  }

  close(): void {
    this.#closed = true;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A word of PHY_IDLE bytes only (what the bridge sends while it has nothing to say). */
const PHY_IDLE_WORD = (PHY_IDLE * 0x01010101) >>> 0;
function isIdleWord(w: number): boolean {
  return w === PHY_IDLE_WORD;
}
