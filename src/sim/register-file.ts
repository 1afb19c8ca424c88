// A BAR of the simulated card as blocks of 64-bit registers. DFL registers are 64 bits wide and
// meant for 64-bit accesses (reference/dfl.md); a 32-bit read returns the matching half, a 32-bit
// write is merged into the 64-bit register (read, modify, write). Space no block claims reads 0
// and ignores writes, like unimplemented CSR space on the card.
import type { RegisterAccess } from '../mmio/trapped-region.js';

export interface SimBlock {
  /** `rel` is the offset from the block's start, 8-byte aligned. */
  read64(rel: number): bigint;
  write64(rel: number, value: bigint): void;
}

/** log2 of the block lookup granularity (4 KiB pages). */
const PAGE_BITS = 12;

export class RegisterFile implements RegisterAccess {
  readonly size: number;
  #starts: number[] = [];
  #blocks: SimBlock[] = [];
  /** Block index per 4 KiB page (-1: none). Blocks start and end on page boundaries. */
  #pages: Int16Array;

  constructor(size: number) {
    this.size = size;
    this.#pages = new Int16Array(Math.ceil(size / (1 << PAGE_BITS))).fill(-1);
  }

  /** Claim [start, start+size) for `block` (page aligned, not overlapping another block). */
  add(start: number, size: number, block: SimBlock): void {
    if (start % (1 << PAGE_BITS) !== 0 || size <= 0 || size % (1 << PAGE_BITS) !== 0 || start + size > this.size) {
      throw new RangeError(`sim register block at 0x${start.toString(16)} (+0x${size.toString(16)}) must be whole 4 KiB pages inside 0x${this.size.toString(16)}`);
    }
    const index = this.#blocks.length;
    for (let p = start >> PAGE_BITS; p < (start + size) >> PAGE_BITS; p++) {
      if (this.#pages[p] !== -1) throw new RangeError(`sim register block at 0x${start.toString(16)} overlaps another block at page 0x${(p << PAGE_BITS).toString(16)}`);
      this.#pages[p] = index;
    }
    this.#starts.push(start);
    this.#blocks.push(block);
  }

  read64(offset: number): bigint {
    const i = this.#pages[offset >>> PAGE_BITS]!;
    return i < 0 ? 0n : BigInt.asUintN(64, this.#blocks[i]!.read64(offset - this.#starts[i]!));
  }

  write64(offset: number, value: bigint): void {
    const i = this.#pages[offset >>> PAGE_BITS]!;
    if (i >= 0) this.#blocks[i]!.write64(offset - this.#starts[i]!, value);
  }

  read32(offset: number): number {
    const v = this.read64(offset & ~7);
    return Number((offset & 4) !== 0 ? v >> 32n : v & 0xffff_ffffn);
  }

  write32(offset: number, value: number): void {
    const base = offset & ~7;
    const old = this.read64(base);
    const v = BigInt(value >>> 0);
    this.write64(base, (offset & 4) !== 0 ? (old & 0xffff_ffffn) | (v << 32n) : (old & 0xffff_ffff_0000_0000n) | v);
  }
}
