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
import { queuedRegValue, type BatchStopTag, type SpiRegBus } from './spi-regbus.js';
import { AccessBatch, BATCH_POLL_SIZE, BatchStop, type AccessBatchResult, type AccessBatchRunner } from '../../mmio/access-batch.js';
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
  /** Batch register accesses when the region offers it (default true; false: one access at a time). */
  batch?: boolean;
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
  /**
   * The region runs access batches (vfio-user with REGION_BATCH): each transaction's register
   * accesses go as batches, single-word writes chained many per batch (batched-writes below).
   */
  #batch: AccessBatchRunner | undefined;
  /** The bridge's answer to a one-word write, as the SPI words the host clocks in (see #writeBatched). */
  #writeAnswer: number[] | undefined;
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
    if (!this.#native && options.batch !== false) this.#batch = this.spi.batchRunner;
    log('SPI-AVMM transport over %s, reads of up to %d bytes, one word per write%s', bus.name, max, this.#batch ? ', register accesses in batches' : '');
  }

  #checkOpen(): void {
    if (this.#closed) throw new ArgumentError('EBMC_CLOSED', 'the BMC transport is closed; open the card again', {});
  }

  /** Encode one request into #phy; returns its code, data size and phy length (a multiple of 4). */
  #encode(read: boolean, address: number, count: number, data: Uint8Array | undefined, dataOffset: number): { code: number; size: number; phyLen: number } {
    const size = count * 4;
    const code = read ? (count === 1 ? TRANS_CODE_READ : TRANS_CODE_SEQ_READ) : (count === 1 ? TRANS_CODE_WRITE : TRANS_CODE_SEQ_WRITE);
    const transLen = encodeRequest(this.#trans, code, address, size, read ? undefined : data, dataOffset);
    const phy = this.#phy;
    const phyLen = avalonCodec().packetize(this.#trans, transLen, phy, 4);
    if (phyLen < 0) throw new AvalonError('EAVALON_ENCODE', `request of ${size} bytes at ${hex(address)} does not fit the ${phy.length}-byte phy buffer`, { address, size });
    return { code, size, phyLen };
  }

  /** One Avalon-MM transaction: `count` 32-bit words read from or written to `address`. */
  #transact(read: boolean, address: number, count: number, data: Uint8Array | undefined, dataOffset: number, into: Uint8Array | undefined, intoOffset: number): void {
    const { code, size, phyLen } = this.#encode(read, address, count, data, dataOffset);
    const phy = this.#phy;
    this.transactions++;
    if (this.#batch && this.#transactBatched(read, code, address, size, phyLen, into, intoOffset)) return;
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
  #receive(address: number, size: number, clockedIn: readonly number[] = []): number {
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
    let next = 0;
    for (;;) {
      let w: number;
      if (next < clockedIn.length) {
        w = clockedIn[next++]!; // clocked in by a batch already (counted there)
      } else {
        const before = clock.now();
        w = this.#batch ? this.#txrxBatched(0) : spi.txrx(0);
        if (!clock.real && clock.now() === before) clock.spin(SPI_WORD_MS);
        this.spiWords++;
      }
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
    if (this.#batch) this.#writeBatched(address, b);
    else this.#transact(false, address, 1, b, 0, undefined, 0);
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
    if (this.#batch) return this.#writeBatched(address, data);
    for (let done = 0; done < data.length; done += 4 * MAX_WRITE_WORDS) {
      this.#transact(false, address + done, MAX_WRITE_WORDS, data, done, undefined, 0);
    }
  }

  close(): void {
    this.#closed = true;
  }

  // ---- batched register accesses (a region that runs AccessBatches, e.g. served over vfio-user) ----
  // The batches hold exactly the accesses the loops above make, in the same order, with the same
  // bounds: every Nios command's RW_VAL poll (NIOS_REGBUS_RETRY_COUNT), every STATUS read until
  // RRDY (RRDY_TIMEOUT_POLLS). Where the loops above decide on a value only the device knows (how
  // many words the answer takes), a batch holds only the words the loop reads whatever happens, or
  // stops at the first word that differs from the predicted answer; the host then carries on word
  // by word from there, as the unbatched loop would.

  /** Run `batch`; a stop is the error the unbatched access throws there. */
  #run(batch: AccessBatch): AccessBatchResult {
    const r = this.#batch!.run(batch);
    if (r.stop !== BatchStop.DONE) throw this.#stopError(batch, r);
    return r;
  }

  #stopError(batch: AccessBatch, r: AccessBatchResult): Error {
    const tag = batch.tags[r.completed] as Partial<BatchStopTag> | undefined;
    if (r.stop !== BatchStop.BUDGET && typeof tag?.error === 'function') return tag.error();
    return new TimeoutError('EBMC_BATCH_BUDGET', `${this.spi.bus.name}: a batch of BMC register accesses stopped after ${r.accesses} accesses at entry ${r.completed} (stop code ${r.stop}) without completing; the SPI master keeps every poll busy: reset the card`, { stop: r.stop, entry: r.completed, accesses: r.accesses });
  }

  #txrxBatched(word: number): number {
    const b = new AccessBatch();
    const slot = this.spi.queueTxrx(b, word);
    return queuedRegValue(this.#run(b).values[slot]!);
  }

  #chipSelectBatched(active: boolean): void {
    const b = new AccessBatch();
    this.spi.queueChipSelect(b, active, this.#cs);
    this.#run(b);
  }

  /** The phy words of the request encoded in #phy, shifted out (the answers are ignored). */
  #queueTx(b: AccessBatch, phyLen: number): void {
    const phy = this.#phy;
    for (let i = 0; i < phyLen; i += 4) this.spi.queueTxrx(b, ((phy[i]! << 24) | (phy[i + 1]! << 16) | (phy[i + 2]! << 8) | phy[i + 3]!) >>> 0);
  }

  /**
   * #transact in batches: chip select, the request, and as many answer words as any answer takes
   * (SOP, CHANNEL, channel 0, EOP and the answer's bytes: `answer + 4` phy bytes at least) in one
   * round trip; further words one batch each; then chip select off. False when one batch cannot
   * hold it (the caller runs the accesses one by one).
   */
  #transactBatched(read: boolean, code: number, address: number, size: number, phyLen: number, into: Uint8Array | undefined, intoOffset: number): boolean {
    const runner = this.#batch!;
    const minWords = Math.ceil(((read ? size : TRANS_RESP_HEADER_SIZE) + 4) / 4);
    if (entriesPerTransaction(phyLen, minWords) > runner.maxEntries || entriesPerTransaction(phyLen, minWords) * BATCH_POLL_SIZE > runner.maxBytes) return false;
    const b = new AccessBatch();
    this.spi.queueChipSelect(b, true, this.#cs);
    const txStart = b.mark();
    this.#queueTx(b, phyLen);
    const slots: number[] = [];
    for (let i = 0; i < minWords; i++) slots.push(this.spi.queueTxrx(b, 0));
    const r = this.#batch!.run(b);
    if (r.stop !== BatchStop.DONE) {
      // As the unbatched `finally`: chip select goes off once it was set (its own error wins).
      if (r.completed >= txStart) this.#chipSelectBatched(false);
      throw this.#stopError(b, r);
    }
    this.spiWords += phyLen / 4 + minWords;
    try {
      const length = this.#receive(address, size, slots.map((s) => queuedRegValue(r.values[s]!)));
      this.#checkResponse(read, code, address, size, length, into, intoOffset);
    } finally {
      this.#chipSelectBatched(false);
    }
    return true;
  }

  /**
   * writeBlock in batches: one TRANS_CODE_WRITE per word as always, many words per batch. The
   * bridge's answer to a one-word write is known ({0x80, 0, 0, 4}, packetised), so each
   * transaction's answer words are read with a check that stops the batch at the first word that
   * differs; the host then reads on word by word from there and decodes what came (an error
   * answer, idle words of a busy bridge), exactly where the unbatched loop would.
   */
  #writeBatched(address: number, data: Uint8Array): void {
    const runner = this.#batch!;
    const answer = this.#writeAnswer ??= answerWords(TRANS_CODE_WRITE, 4);
    const spi = this.spi;
    for (let done = 0; done < data.length;) {
      const b = new AccessBatch();
      const txs: { at: number; start: number; txStart: number; rxStart: number; csOff: number; slots: number[]; txWords: number }[] = [];
      for (let at = done; at < data.length; at += 4) {
        const { phyLen } = this.#encode(false, address + at, 1, data, at);
        const entries = entriesPerTransaction(phyLen, answer.length);
        if (txs.length > 0 && (b.entries + entries > runner.maxEntries || b.byteLength + entries * BATCH_POLL_SIZE > runner.maxBytes)) break;
        const start = b.mark();
        spi.queueChipSelect(b, true, this.#cs);
        const txStart = b.mark();
        this.#queueTx(b, phyLen);
        const rxStart = b.mark();
        const slots = answer.map((word) => spi.queueTxrx(b, 0, { word, tag: PREDICTED }));
        const csOff = b.mark();
        spi.queueChipSelect(b, false, this.#cs);
        txs.push({ at, start, txStart, rxStart, csOff, slots, txWords: phyLen / 4 });
      }
      const r = runner.run(b);
      if (r.stop === BatchStop.DONE) {
        for (const t of txs) this.spiWords += t.txWords + answer.length;
        this.transactions += txs.length;
        done = txs[txs.length - 1]!.at + 4;
        continue;
      }
      let k = txs.length - 1;
      while (txs[k]!.start > r.completed) k--;
      const t = txs[k]!;
      for (let i = 0; i < k; i++) this.spiWords += txs[i]!.txWords + answer.length;
      this.transactions += k + 1;
      if (r.completed < t.txStart || r.completed >= t.csOff) throw this.#stopError(b, r);
      if (r.completed < t.rxStart || r.stop !== BatchStop.CHECK_FAILED || b.tags[r.completed] !== PREDICTED) {
        this.#chipSelectBatched(false);
        throw this.#stopError(b, r);
      }
      // The answer differs from the prediction at this word: decode on from the words clocked in.
      const got = t.slots.filter((s) => s < r.values.length).map((s) => queuedRegValue(r.values[s]!));
      this.spiWords += t.txWords + got.length;
      try {
        const length = this.#receive(address + t.at, 4, got);
        this.#checkResponse(false, TRANS_CODE_WRITE, address + t.at, 4, length, undefined, 0);
      } finally {
        this.#chipSelectBatched(false);
      }
      done = t.at + 4;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Tag of a check on a predicted answer word: a stop there is not an error, the host reads on. */
const PREDICTED = Symbol('predicted answer word');

/**
 * Upper bound of the entries a transaction of `phyLen` request bytes and `rxWords` answer words
 * queues: a register write is 2 entries on the Nios (0xD), 3 on 0xE; a read 2 or 3; a txrx is a
 * write, two reads and up to two checks (13 on 0xE); chip select on and off are two writes each.
 */
function entriesPerTransaction(phyLen: number, rxWords: number): number {
  return 12 + 13 * (phyLen / 4 + rxWords);
}

/**
 * The SPI words the bridge answers a transaction with when it answers at once: `{code | 0x80, 0,
 * be16 size}` packetised (SOP, CHANNEL, 0, EOP before the last byte, escapes) and PHY_IDLE after
 * it to the word's end, the first byte in [31:24] (regmap-spi-avmm br_swap_words_32).
 */
function answerWords(code: number, size: number): number[] {
  const resp = Uint8Array.of(code | TRANS_RESP_FLAG, 0, (size >>> 8) & 0xff, size & 0xff);
  const phy = new Uint8Array(2 * TRANS_RESP_HEADER_SIZE + 8);
  const n = avalonCodec().packetize(resp, resp.length, phy, 1);
  const words: number[] = [];
  for (let i = 0; i < n; i += 4) {
    let w = 0;
    for (let j = i; j < i + 4; j++) w = (w << 8) | (j < n ? phy[j]! : PHY_IDLE);
    words.push(w >>> 0);
  }
  return words;
}

/** A word of PHY_IDLE bytes only (what the bridge sends while it has nothing to say). */
const PHY_IDLE_WORD = (PHY_IDLE * 0x01010101) >>> 0;
function isIdleWord(w: number): boolean {
  return w === PHY_IDLE_WORD;
}
