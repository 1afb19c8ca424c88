// TrappedRegion: a Region whose accesses are calls (device models, vfio-user REGION_READ/WRITE,
// pread/pwrite on a VFIO region that cannot be mmapped). The callbacks see the offset and the
// access width, exactly as a device would.
import { ArgumentError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { realClock } from '../util/clock.js';
import type { PollOptions, PollResult, Region } from './region.js';
import { pollLoop32, pollLoop64 } from './poll-loop.js';
import { accessError, blockDestination, check512, checkSpan, checkWidth, pollTiming, value32Error, value64Error } from './checks.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';

export interface RegisterAccess {
  read32(offset: number): number;
  read64(offset: number): bigint;
  write32(offset: number, value: number): void;
  write64(offset: number, value: bigint): void;
}

export class TrappedRegion implements Region {
  readonly kind = 'trapped' as const;
  readonly sharedBuffer = undefined;
  readonly name: string;
  readonly clock: Clock;
  #size: number;
  #access: RegisterAccess;
  #onClose: (() => void) | undefined;

  constructor(name: string, size: number, access: RegisterAccess, options: { clock?: Clock; onClose?: () => void } = {}) {
    this.name = name;
    this.#size = size;
    this.#access = access;
    this.clock = options.clock ?? realClock;
    this.#onClose = options.onClose;
  }

  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#size === 0;
  }

  #check(offset: number, width: number): void {
    if (offset !== (offset >>> 0) || (offset & (width - 1)) !== 0 || offset + width > this.#size) {
      throw accessError(this.name, this.#size, this.closed, offset, width);
    }
  }

  read32(offset: number): number {
    this.#check(offset, 4);
    return this.#access.read32(offset) >>> 0;
  }

  read64(offset: number): bigint {
    this.#check(offset, 8);
    return BigInt.asUintN(64, this.#access.read64(offset));
  }

  write32(offset: number, value: number): void {
    this.#check(offset, 4);
    if (typeof value !== 'number' || value !== (value >>> 0)) throw value32Error(this.name, offset, value);
    this.#access.write32(offset, value);
  }

  write64(offset: number, value: bigint): void {
    this.#check(offset, 8);
    if (typeof value !== 'bigint' || BigInt.asUintN(64, value) !== value) throw value64Error(this.name, offset, value);
    this.#access.write64(offset, value);
  }

  poll32(offset: number, mask: number, expected: number, options: PollOptions = {}): PollResult<number> {
    this.#check(offset, 4);
    const { timeoutMs, intervalUs } = pollTiming(this.name, options);
    return pollLoop32(this, offset, mask, expected, timeoutMs, intervalUs);
  }

  poll64(offset: number, mask: bigint, expected: bigint, options: PollOptions = {}): PollResult<bigint> {
    this.#check(offset, 8);
    const { timeoutMs, intervalUs } = pollTiming(this.name, options);
    return pollLoop64(this, offset, mask, expected, timeoutMs, intervalUs);
  }

  /** Eight 64-bit writes in address order: a trapped access is one message or syscall per word. */
  write512(offset: number, data: BigUint64Array | Uint8Array): void {
    const bytes = check512(this.name, this.#size, this.closed, offset, data);
    for (let i = 0; i < 64; i += 8) this.#access.write64(offset + i, getLe64(bytes, i));
  }

  writeStream64(offset: number, words: BigUint64Array): void {
    this.#check(offset, 8);
    if (!(words instanceof BigUint64Array)) {
      throw new ArgumentError('EARG_WORDS', `${this.name}: writeStream64 needs a BigUint64Array of words`, { region: this.name, offset });
    }
    const access = this.#access;
    for (let i = 0; i < words.length; i++) access.write64(offset, words[i]!);
  }

  readBlock(offset: number, length: number, width: 32 | 64 = 32, into?: Uint8Array): Uint8Array {
    const w = checkWidth(this.name, width);
    checkSpan(this.name, this.#size, this.closed, offset, length, w);
    const out = blockDestination(this.name, length, into);
    for (let i = 0; i < length; i += w) {
      if (w === 4) putLe32(out, i, this.#access.read32(offset + i));
      else putLe64(out, i, BigInt.asUintN(64, this.#access.read64(offset + i)));
    }
    return out;
  }

  writeBlock(offset: number, data: Uint8Array, width: 32 | 64 = 32): void {
    const w = checkWidth(this.name, width);
    checkSpan(this.name, this.#size, this.closed, offset, data.length, w);
    for (let i = 0; i < data.length; i += w) {
      if (w === 4) this.#access.write32(offset + i, getLe32(data, i));
      else this.#access.write64(offset + i, getLe64(data, i));
    }
  }

  close(): void {
    if (this.#size === 0) return;
    this.#size = 0;
    this.#onClose?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
