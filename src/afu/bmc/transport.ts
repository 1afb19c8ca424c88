// BmcTransport: 32-bit register and block access at MAX10 BMC addresses. The secure update,
// reboot and property flows are written against this interface only, so a card whose BMC is
// reached over SPI-AVMM (N3000, FME feature 0xE: spi-avmm-transport.ts) and one whose BMC
// registers are plain MMIO (PMCI, FME feature 0x12: pmci-transport.ts) run the same flows.
import type { Clock } from '../../util/clock.js';
import { ArgumentError } from '../../errors.js';
import { hex } from '../../util/bytes.js';

export interface BmcTransport extends Disposable {
  /** 'spi-avmm' or 'pmci'. */
  readonly kind: string;
  /** The device's clock: flows poll and sleep on it. */
  readonly clock: Clock;
  read32(address: number): number;
  write32(address: number, value: number): void;
  /** Read `length` bytes (a multiple of 4) starting at a 4-byte aligned address. */
  readBlock(address: number, length: number): Uint8Array;
  /** Write `data` (length a multiple of 4) starting at a 4-byte aligned address. */
  writeBlock(address: number, data: Uint8Array): void;
  /** Read-modify-write of the bits in `mask` (regmap_update_bits). */
  updateBits(address: number, mask: number, value: number): void;
  close(): void;
}

/** Shared argument checks of BMC addresses and block lengths. */
export function checkBmcAccess(address: number, length: number, what: string): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff || (address & 3) !== 0) {
    throw new ArgumentError('EBMC_ADDRESS', `${what}: BMC address ${String(address)} is not a 4-byte aligned 32-bit address`, { address });
  }
  if (!Number.isInteger(length) || length < 0 || (length & 3) !== 0 || address + length > 0x1_0000_0000) {
    throw new ArgumentError('EBMC_LENGTH', `${what}: length ${String(length)} at ${hex(address)} is not a multiple of 4 bytes inside the 32-bit BMC address space; pad the data to whole words`, { address, length });
  }
}
