// Device side of the Altera SPI master (spi-altera-core.c register set) wired to the MAX10's
// SPI-AVMM bridge on chip select 0, and the two windows that put it on the FME's DFL:
//   SpiCoreModel         the SPI master itself, registers by byte address: RXDATA 0, TXDATA 4,
//                        STATUS 8 (ROE 3, TOE 4, TMT 5, TRDY 6, RRDY 7, E 8), CONTROL 0xC (SSO 10),
//                        SLAVE_SEL (TARGET_SEL) 0x14. A TXDATA write shifts 32 bits out MSB first
//                        (the host swaps bytes so the first phy byte is in [31:24],
//                        regmap-spi-avmm br_swap_words_32) at the SPI clock: the word takes
//                        32 / spiHz of device time, RRDY rises when it is done.
//   DflSpiWindowModel    feature 0xE's window (spi-altera-dfl.c): +0x08 SPI_CORE_PARAMETER,
//                        +0x10 INDIRECT_ADDR ([9] read, [8] write, [2:0] register index; the bit
//                        reads back set for `indirectLatency` polls, then clears), +0x18
//                        INDIRECT_RD_DATA ([31:0], [32] valid), +0x20 INDIRECT_WR_DATA.
// The N3000's window (feature 0xD) is nios-spi-model.ts.
import type { Clock } from '../../util/clock.js';
import type { AvalonBridge } from './avalon-bridge.js';
import {
  SPI_CORE_PARAMETER, CORE_DATA_WIDTH, CORE_NUM_CHIPSELECT, CORE_CLK_PHASE, CORE_SPI_CLK, SPI_INDIRECT_ADDR, SPI_INDIRECT_RD_DATA,
  SPI_INDIRECT_WR_DATA, INDIRECT_WR, INDIRECT_RD, INDIRECT_VALID, INDIRECT_REG, INDIRECT_DATA_MASK, ALTERA_SPI_RXDATA, ALTERA_SPI_TXDATA, ALTERA_SPI_STATUS, ALTERA_SPI_CONTROL, ALTERA_SPI_SLAVE_SEL,
  STATUS_ROE, STATUS_TOE, STATUS_TMT, STATUS_TRDY, STATUS_RRDY, STATUS_E, CONTROL_SSO,
} from '../../dfl/regs/max10-bmc.js';
import { N3000_SPI_MAX_SPEED_HZ } from '../../dfl/regs/n3000-nios.js';
import { fieldGet, fieldPrep, genmask64 } from '../../util/bitfield.js';

/**
 * DATA_WIDTH 32 in [7:2], NUM_CHIPSELECT 1 in [13:8], CPHA in [15], SPI clock code in [31:22]
 * (spi-altera-dfl.c SPI_CLK). CPHA must be set: the BMC is an SPI_MODE_1 slave
 * (intel-m10-bmc-spi.c), and the kernel builds the controller's mode_bits from this register
 * (dfl-n3000-nios.c create_altera_spi_controller, spi-altera-dfl.c); without CPHA spi_setup()
 * refuses the BMC with "unsupported mode bits 1" and the whole chain fails to probe.
 */
export const CORE_PARAMETER_VALUE = fieldPrep(CORE_DATA_WIDTH, 32) | fieldPrep(CORE_NUM_CHIPSELECT, 1) | CORE_CLK_PHASE | fieldPrep(CORE_SPI_CLK, 25);

/** The bits INDIRECT_ADDR keeps and reads back: [9] read, [8] write, [7:0] the register index (and what was written above it). */
const INDIRECT_ADDR_BITS = genmask64(9, 0);

export class SpiCoreModel {
  /** SPI words exchanged with the BMC (for tests and benchmarks). */
  words = 0;
  /** SPI clock in Hz (default the board's max_speed_hz, 12.5 MHz); 0 = words take no time. */
  spiHz = N3000_SPI_MAX_SPEED_HZ;
  #clock: Clock;
  #bridge: AvalonBridge;
  #rx = 0;
  #status = STATUS_TMT | STATUS_TRDY;
  #control = 0;
  #slaveSel = 0;
  /** Real clock: the word being shifted is done at this time (RRDY, TMT, TRDY low until then). */
  #busyUntil = 0;

  constructor(clock: Clock, bridge: AvalonBridge) {
    this.#clock = clock;
    this.#bridge = bridge;
  }

  /** Device time of one 32-bit word at the SPI clock, in ms. */
  get wordMs(): number {
    return this.spiHz > 0 ? (32 / this.spiHz) * 1000 : 0;
  }

  reset(): void {
    this.#rx = 0;
    this.#status = STATUS_TMT | STATUS_TRDY;
    this.#control = 0;
    this.#slaveSel = 0;
    this.#busyUntil = 0;
    this.#bridge.reset();
  }

  #selected(): boolean {
    return (this.#control & CONTROL_SSO) !== 0 && (this.#slaveSel & 1) !== 0;
  }

  /** Register at byte address `reg` (0x0-0x14). */
  readReg(reg: number): number {
    switch (reg) {
      case ALTERA_SPI_RXDATA:
        this.#status &= ~STATUS_RRDY;
        return this.#rx;
      case ALTERA_SPI_STATUS: {
        if (this.#busyUntil > 0 && this.#clock.now() < this.#busyUntil) return this.#status & ~(STATUS_RRDY | STATUS_TMT | STATUS_TRDY);
        return this.#status | ((this.#status & (STATUS_ROE | STATUS_TOE)) !== 0 ? STATUS_E : 0);
      }
      case ALTERA_SPI_CONTROL: return this.#control;
      case ALTERA_SPI_SLAVE_SEL: return this.#slaveSel;
      default: return 0;
    }
  }

  writeReg(reg: number, value: number): void {
    switch (reg) {
      case ALTERA_SPI_TXDATA: {
        if ((this.#status & STATUS_RRDY) !== 0) this.#status |= STATUS_ROE; // previous word never read
        let rx = 0xffffffff; // MISO floats high with no slave selected
        if (this.#selected()) {
          const bridge = this.#bridge;
          rx = (bridge.exchange(value >>> 24) << 24) | (bridge.exchange((value >>> 16) & 0xff) << 16) | (bridge.exchange((value >>> 8) & 0xff) << 8) | bridge.exchange(value & 0xff);
          this.words++;
        }
        // The word takes 32 SPI clocks. A virtual clock is advanced by it (the host's next
        // STATUS read sees RRDY); on the real clock RRDY rises when the time has passed.
        const ms = this.wordMs;
        if (ms > 0) {
          if (this.#clock.real) this.#busyUntil = this.#clock.now() + ms;
          else this.#clock.spin(ms);
        }
        this.#rx = rx >>> 0;
        this.#status |= STATUS_RRDY;
        return;
      }
      case ALTERA_SPI_STATUS:
        this.#status &= ~(STATUS_ROE | STATUS_TOE);
        return;
      case ALTERA_SPI_CONTROL: {
        const was = this.#selected();
        this.#control = value & 0x5d8;
        if (was && !this.#selected()) this.#bridge.resetReceiver();
        return;
      }
      case ALTERA_SPI_SLAVE_SEL:
        this.#slaveSel = value;
        return;
      default:
        return;
    }
  }
}

/** Feature 0xE's indirect window onto the SPI core (spi-altera-dfl.c). */
export class DflSpiWindowModel {
  /** Polls of INDIRECT_ADDR that still show the command bit (0 = completes at once). */
  indirectLatency = 1;
  readonly core: SpiCoreModel;
  #cmd = 0n;
  #pendingPolls = 0;
  #rdData = 0n;
  #wrData = 0;

  constructor(core: SpiCoreModel) {
    this.core = core;
  }

  reset(): void {
    this.#cmd = 0n;
    this.#pendingPolls = 0;
    this.#rdData = 0n;
    this.#wrData = 0;
    this.core.reset();
  }

  read64(offset: number): bigint {
    switch (offset) {
      case SPI_CORE_PARAMETER: return CORE_PARAMETER_VALUE;
      case SPI_INDIRECT_ADDR:
        if (this.#pendingPolls > 0) {
          this.#pendingPolls--;
          return this.#cmd;
        }
        return this.#cmd & ~(INDIRECT_RD | INDIRECT_WR);
      case SPI_INDIRECT_RD_DATA: return this.#rdData;
      case SPI_INDIRECT_WR_DATA: return BigInt(this.#wrData);
      default: return 0n;
    }
  }

  write64(offset: number, value: bigint): void {
    switch (offset) {
      case SPI_INDIRECT_WR_DATA:
        this.#wrData = Number(fieldGet(INDIRECT_DATA_MASK, value));
        return;
      case SPI_INDIRECT_ADDR: {
        this.#cmd = value & INDIRECT_ADDR_BITS;
        const reg = Number(fieldGet(INDIRECT_REG, value)) << 2;
        if ((value & INDIRECT_RD) !== 0n) this.#rdData = fieldPrep(INDIRECT_DATA_MASK, this.core.readReg(reg) >>> 0) | INDIRECT_VALID;
        else if ((value & INDIRECT_WR) !== 0n) this.core.writeReg(reg, this.#wrData);
        this.#pendingPolls = (value & (INDIRECT_RD | INDIRECT_WR)) !== 0n ? this.indirectLatency : 0;
        return;
      }
      default:
        return;
    }
  }
}
