// MappedRegion: a Region over an mmap (a VFIO BAR, a memfd, a /dev/shm file, a DMA buffer).
//
// Register access rules (DESIGN.md; measurements in reference/js-mmio.md):
// - reads are full width: Atomics.load on an Int32Array (>>> 0) / BigUint64Array view. A plain
//   indexed read can be narrowed by TurboFan ((u32[i] & 0xff) becomes a 1-byte load);
// - writes are plain typed-array stores (one mov of the access width); never an atomic store (a
//   locked xchg), never a data view (byte-by-byte accesses in the builtins);
// - every access is checked with one combined comparison (integer, aligned, inside); the error is
//   built only on failure (checks.ts). A closed region swaps its views for empty ones and its size
//   for 0, so every access fails the check with EREGION_CLOSED and never touches unmapped memory.
// - stream/block loops run in the C shim when it is built; polls too when the region's clock is
//   real; otherwise in JS on region.clock (same semantics as TrappedRegion).
//
// Lifetime of the memory:
// - without a SharedArrayBuffer, the views are over koffi.view()'s external ArrayBuffer and
//   close() calls onClose (mapFd: munmap) after dropping them;
// - with the shim's SharedArrayBuffer created with unmap-on-free (mapFd does this when the shim is
//   built), the mapping belongs to the buffer. If the buffer was never handed out (the
//   `sharedBuffer` getter never read), close() munmaps at once (shim unmapNow), so the file behind
//   it (a VFIO device fd) is released deterministically. Once handed out, it may have been posted
//   to worker threads: close() then only drops this region's views, and the munmap happens in the
//   buffer's deleter when the LAST reference to it (in any thread) is garbage collected; until
//   then the mapping keeps the file open.
import { ArgumentError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { realClock } from '../util/clock.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import { mmap, munmap, viewOf } from '../sys/libc.js';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../sys/constants.js';
import { shim, type ShimFunctions } from '../sys/shim.js';
import type { PollOptions, PollResult, Region } from './region.js';
import { pollLoop32, pollLoop64 } from './poll-loop.js';
import { accessError, blockDestination, check512, checkSpan, checkWidth, pollTiming, value32Error, value64Error } from './checks.js';

const EMPTY = new ArrayBuffer(0);

export interface MappedRegionOptions {
  /** The clock polls run on (the device's clock). Default: the real clock. */
  clock?: Clock;
  /** Called once on close(), after the views are dropped (e.g. munmap, close the fd). */
  onClose?: () => void;
  /** Build the views over this SharedArrayBuffer (from the shim) instead of a koffi view. */
  sharedBuffer?: SharedArrayBuffer;
  /** Run polls/streams/blocks in the C shim when it is built (default true; false forces the JS loops). */
  useShim?: boolean;
  /**
   * write512 may use the CPU's 512-bit store (default true, unless VFIOKIT_NO_AVX512=1); false
   * forces eight 64-bit stores, as on a CPU without AVX-512F.
   */
  avx512?: boolean;
}

export interface MapFdOptions {
  /** Map PROT_READ|PROT_WRITE (default true) or PROT_READ only. */
  writable?: boolean;
  clock?: Clock;
  /** Called after close() (after munmap when there is no SharedArrayBuffer). */
  onClose?: () => void;
  /** Use the shim's SharedArrayBuffer when it is built (default true). */
  shared?: boolean;
  /** Run polls/streams/blocks in the C shim when it is built (default true). */
  useShim?: boolean;
  /** See MappedRegionOptions.avx512. */
  avx512?: boolean;
}

export class MappedRegion implements Region {
  readonly kind = 'mapped' as const;
  readonly name: string;
  readonly clock: Clock;
  /** Start address of the mapping (for the shim, DMA and workers). */
  readonly address: bigint;
  #size: number;
  #i32: Int32Array;
  #u32: Uint32Array;
  #u64: BigUint64Array;
  #sab: SharedArrayBuffer | undefined;
  /** The SharedArrayBuffer owns the mapping (mapFd with the shim): unmapNow on close if not handed out. */
  #sabOwnsMapping = false;
  /** The `sharedBuffer` getter was read: others may hold the buffer. */
  #sabHandedOut = false;
  #onClose: (() => void) | undefined;
  /** The shim (streams, blocks; and polls when the clock is real), undefined without it. */
  #shim: ShimFunctions | undefined;
  #realClock: boolean;
  #avx512: boolean;
  #last32 = new Uint32Array(1);
  #last64 = new BigUint64Array(1);

  constructor(name: string, address: bigint, size: number, options: MappedRegionOptions = {}) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % 4 !== 0) {
      throw new ArgumentError('EARG_SIZE', `${name}: region size ${String(size)} must be a positive multiple of 4 bytes`, { region: name, size });
    }
    const sab = options.sharedBuffer;
    if (sab && sab.byteLength < size) {
      throw new ArgumentError('EARG_SIZE', `${name}: the SharedArrayBuffer has ${sab.byteLength} bytes, less than the region size ${size}`, { region: name, size, limit: sab.byteLength });
    }
    const buffer: ArrayBufferLike = sab ?? viewOf(address, size);
    this.name = name;
    this.address = address;
    this.#size = size;
    this.#i32 = new Int32Array(buffer, 0, size >>> 2);
    this.#u32 = new Uint32Array(buffer, 0, size >>> 2);
    this.#u64 = new BigUint64Array(buffer, 0, size >>> 3);
    this.#sab = sab;
    this.clock = options.clock ?? realClock;
    this.#onClose = options.onClose;
    this.#shim = options.useShim === false ? undefined : shim();
    this.#realClock = this.clock.real;
    this.#avx512 = (options.avx512 ?? process.env.VFIOKIT_NO_AVX512 !== '1') && this.#shim?.hasAvx512() === 1;
  }

  /**
   * mmap `size` bytes of `fd` at `offset` (page aligned) and wrap them. With the shim built, the
   * views are over a SharedArrayBuffer that owns the mapping (close() munmaps it unless the buffer
   * was handed out; then its garbage collection does, see the top of this file); without the
   * shim, close() munmaps. mmap failures are SysErrors naming the region.
   */
  static mapFd(name: string, fd: number, size: number, offset = 0, options: MapFdOptions = {}): MappedRegion {
    const prot = options.writable === false ? PROT_READ : PROT_READ | PROT_WRITE;
    const address = mmap(null, size, prot, MAP_SHARED, fd, offset, { what: `mapping ${name}: ${size} bytes at offset 0x${offset.toString(16)}` });
    const s = options.shared === false ? undefined : shim();
    try {
      if (s) {
        const sab = s.sharedBuffer(address, size, true);
        const region = new MappedRegion(name, address, size, { clock: options.clock, onClose: options.onClose, sharedBuffer: sab, useShim: options.useShim, avx512: options.avx512 });
        region.#sabOwnsMapping = true;
        return region;
      }
      return new MappedRegion(name, address, size, {
        clock: options.clock,
        useShim: options.useShim,
        avx512: options.avx512,
        onClose: () => {
          munmap(address, size);
          options.onClose?.();
        },
      });
    } catch (e) {
      // Not wrapped yet, or wrapped but the region could not be built: release the mapping now.
      if (!s?.unmapNow(address)) munmap(address, size);
      throw e;
    }
  }

  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#size === 0;
  }

  /** The memory as a SharedArrayBuffer (shim built), else undefined. Undefined once closed. */
  get sharedBuffer(): SharedArrayBuffer | undefined {
    if (this.#size === 0 || !this.#sab) return undefined;
    this.#sabHandedOut = true;
    return this.#sab;
  }

  // The hot paths: one combined check against the view's own length (the same length the
  // element access checks, so TurboFan loads it once), then one full-width load or one store.
  read32(offset: number): number {
    const a = this.#i32;
    if (offset !== (offset >>> 0) || (offset & 3) !== 0 || (offset >>> 2) >= a.length) throw accessError(this.name, this.#size, this.#size === 0, offset, 4);
    return Atomics.load(a, offset >>> 2) >>> 0;
  }

  read64(offset: number): bigint {
    const a = this.#u64;
    if (offset !== (offset >>> 0) || (offset & 7) !== 0 || (offset >>> 3) >= a.length) throw accessError(this.name, this.#size, this.#size === 0, offset, 8);
    return Atomics.load(a, offset >>> 3);
  }

  write32(offset: number, value: number): void {
    const a = this.#u32;
    if (offset !== (offset >>> 0) || (offset & 3) !== 0 || (offset >>> 2) >= a.length) throw accessError(this.name, this.#size, this.#size === 0, offset, 4);
    if (typeof value !== 'number' || value !== (value >>> 0)) throw value32Error(this.name, offset, value);
    a[offset >>> 2] = value;
  }

  write64(offset: number, value: bigint): void {
    const a = this.#u64;
    if (offset !== (offset >>> 0) || (offset & 7) !== 0 || (offset >>> 3) >= a.length) throw accessError(this.name, this.#size, this.#size === 0, offset, 8);
    // One BigIntEqual (asUintN(64) is lowered inline); two range comparisons would be two calls.
    if (typeof value !== 'bigint' || BigInt.asUintN(64, value) !== value) throw value64Error(this.name, offset, value);
    a[offset >>> 3] = value;
  }

  poll32(offset: number, mask: number, expected: number, options: PollOptions = {}): PollResult<number> {
    this.#check(offset, 4);
    const { timeoutMs, intervalUs } = pollTiming(this.name, options);
    const m = mask >>> 0;
    const want = expected >>> 0;
    const s = this.#shim;
    if (s && this.#realClock) {
      const hit = s.poll32(this.address, offset, m, want, Math.round(timeoutMs * 1e6), Math.round(intervalUs * 1e3), this.#last32);
      return { value: this.#last32[0]!, timedOut: hit === 0 };
    }
    return pollLoop32(this, offset, m, want, timeoutMs, intervalUs);
  }

  poll64(offset: number, mask: bigint, expected: bigint, options: PollOptions = {}): PollResult<bigint> {
    this.#check(offset, 8);
    const { timeoutMs, intervalUs } = pollTiming(this.name, options);
    const m = BigInt.asUintN(64, mask);
    const want = BigInt.asUintN(64, expected);
    const s = this.#shim;
    if (s && this.#realClock) {
      const hit = s.poll64(this.address, offset, m, want, Math.round(timeoutMs * 1e6), Math.round(intervalUs * 1e3), this.#last64);
      return { value: this.#last64[0]!, timedOut: hit === 0 };
    }
    return pollLoop64(this, offset, m, want, timeoutMs, intervalUs);
  }

  write512(offset: number, data: BigUint64Array | Uint8Array): void {
    const bytes = check512(this.name, this.#size, this.closed, offset, data);
    const s = this.#shim;
    if (s) {
      s.write512(this.address, offset, bytes, this.#avx512 ? 1 : 0);
      return;
    }
    const u64 = this.#u64;
    const base = offset >>> 3;
    for (let k = 0; k < 8; k++) u64[base + k] = getLe64(bytes, k * 8);
  }

  /**
   * How write512 stores on this region: 'avx512' (one 512-bit store, C shim), 'shim-8x64' (eight
   * 64-bit stores in C: no AVX-512F, or disabled) or 'js-8x64' (eight typed-array stores, no shim).
   */
  get write512Path(): 'avx512' | 'shim-8x64' | 'js-8x64' {
    if (!this.#shim) return 'js-8x64';
    return this.#avx512 ? 'avx512' : 'shim-8x64';
  }

  writeStream64(offset: number, words: BigUint64Array): void {
    this.#check(offset, 8);
    if (!(words instanceof BigUint64Array)) {
      throw new ArgumentError('EARG_WORDS', `${this.name}: writeStream64 needs a BigUint64Array of words`, { region: this.name, offset });
    }
    const n = words.length;
    if (n === 0) return;
    const s = this.#shim;
    if (s) {
      s.stream64(this.address, offset, words, n);
      return;
    }
    this.#streamJs(offset >>> 3, words, n);
  }

  #streamJs(index: number, words: BigUint64Array, n: number): void {
    const u64 = this.#u64;
    for (let i = 0; i < n; i++) u64[index] = words[i]!;
  }

  readBlock(offset: number, length: number, width: 32 | 64 = 32, into?: Uint8Array): Uint8Array {
    const w = checkWidth(this.name, width);
    checkSpan(this.name, this.#size, this.closed, offset, length, w);
    const out = blockDestination(this.name, length, into);
    if (length === 0) return out;
    const s = this.#shim;
    if (s) {
      s.readBlock(this.address, offset, out, length, w);
      return out;
    }
    if (w === 4) {
      const i32 = this.#i32;
      const base = offset >>> 2;
      if ((out.byteOffset & 3) === 0) {
        const dst = new Int32Array(out.buffer, out.byteOffset, length >>> 2);
        for (let k = 0; k < dst.length; k++) dst[k] = Atomics.load(i32, base + k);
      } else {
        for (let k = 0; k < length >>> 2; k++) putLe32(out, k * 4, Atomics.load(i32, base + k));
      }
    } else {
      const u64 = this.#u64;
      const base = offset >>> 3;
      if ((out.byteOffset & 7) === 0) {
        const dst = new BigUint64Array(out.buffer, out.byteOffset, length >>> 3);
        for (let k = 0; k < dst.length; k++) dst[k] = Atomics.load(u64, base + k);
      } else {
        for (let k = 0; k < length >>> 3; k++) putLe64(out, k * 8, Atomics.load(u64, base + k));
      }
    }
    return out;
  }

  writeBlock(offset: number, data: Uint8Array, width: 32 | 64 = 32): void {
    const w = checkWidth(this.name, width);
    checkSpan(this.name, this.#size, this.closed, offset, data.length, w);
    const length = data.length;
    if (length === 0) return;
    const s = this.#shim;
    if (s) {
      s.writeBlock(this.address, offset, data, length, w);
      return;
    }
    if (w === 4) {
      const u32 = this.#u32;
      const base = offset >>> 2;
      if ((data.byteOffset & 3) === 0) {
        const src = new Uint32Array(data.buffer, data.byteOffset, length >>> 2);
        for (let k = 0; k < src.length; k++) u32[base + k] = src[k]!;
      } else {
        for (let k = 0; k < length >>> 2; k++) u32[base + k] = getLe32(data, k * 4);
      }
    } else {
      const u64 = this.#u64;
      const base = offset >>> 3;
      if ((data.byteOffset & 7) === 0) {
        const src = new BigUint64Array(data.buffer, data.byteOffset, length >>> 3);
        for (let k = 0; k < src.length; k++) u64[base + k] = src[k]!;
      } else {
        for (let k = 0; k < length >>> 3; k++) u64[base + k] = getLe64(data, k * 8);
      }
    }
  }

  /** True when stream/block calls (and polls, with a real clock) on this region run in the C shim. */
  get usesShim(): boolean {
    return this.#shim !== undefined && this.#size !== 0;
  }

  /** The shim functions when polls on this region may run in C (shim used and a real clock). */
  get shimForPolls(): ShimFunctions | undefined {
    return this.#realClock && this.#size !== 0 ? this.#shim : undefined;
  }

  #check(offset: number, width: number): void {
    if (offset !== (offset >>> 0) || (offset & (width - 1)) !== 0 || offset + width > this.#size) {
      throw accessError(this.name, this.#size, this.#size === 0, offset, width);
    }
  }

  close(): void {
    if (this.#size === 0) return;
    this.#size = 0;
    this.#i32 = new Int32Array(EMPTY);
    this.#u32 = new Uint32Array(EMPTY);
    this.#u64 = new BigUint64Array(EMPTY);
    const unmapNow = this.#sabOwnsMapping && !this.#sabHandedOut;
    this.#sab = undefined;
    this.#shim = undefined;
    if (unmapNow) shim()?.unmapNow(this.address);
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
