// The C shim (shim/*.c, shim/*.cc -> shim/build/Release/vfiokit_shim.node, built at install by
// scripts/build-shim.mjs). `shim()` returns its functions, or undefined when it is not built or
// VFIOKIT_NO_SHIM=1; callers then use their JS fallbacks (logged once under vfiokit:shim).
// The same .node file is loaded twice: by koffi for the plain C functions, and by Node's addon
// loader for the one V8 entry (sharedBuffer: an mmap as a SharedArrayBuffer).
// Other layers can drop their own shim/*.c file in and declare its functions on `shimLibrary()`.
import koffi, { type LibraryHandle } from 'koffi';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logger, once } from '../util/log.js';

const log = logger('shim');

/** Any memory argument: an address (bigint) or a buffer (passed by address, no copy). */
type Mem = bigint | ArrayBufferView;

export interface ShimFunctions {
  /** Absolute path of the loaded .node file. */
  readonly path: string;
  read32(base: bigint, offset: number): number;
  read64(base: bigint, offset: number): bigint;
  write32(base: bigint, offset: number, value: number): void;
  write64(base: bigint, offset: number, value: bigint): void;
  /** 1 when (value & mask) == expected, 0 on timeout; last[0] = the last value read. */
  poll32(base: bigint, offset: number, mask: number, expected: number, timeoutNs: number, intervalNs: number, last: Uint32Array): number;
  poll64(base: bigint, offset: number, mask: bigint, expected: bigint, timeoutNs: number, intervalNs: number, last: BigUint64Array): number;
  stream64(base: bigint, offset: number, words: BigUint64Array, count: number): void;
  /** Returns words written; out[0] = last status, out[1] = 1 when a credit wait timed out. */
  creditStream(base: bigint, dataOffset: number, statusOffset: number, creditMask: bigint, words: Uint32Array, count: number, timeoutNs: number, intervalNs: number, out: BigUint64Array): number;
  /** 1 on success, 0 for a width other than 4 or 8. */
  readBlock(base: bigint, offset: number, dst: Mem, length: number, widthBytes: number): number;
  writeBlock(base: bigint, offset: number, src: Mem, length: number, widthBytes: number): number;
  benchRead32(base: bigint, offset: number, n: number): bigint | number;
  benchRead64(base: bigint, offset: number, n: number): bigint | number;
  benchWrite32(base: bigint, offset: number, n: number): void;
  benchWrite64(base: bigint, offset: number, n: number): void;
  /** 1 when the CPU has AVX-512F (the 64-byte store of write512), else 0 (shim/mmio512.c). */
  hasAvx512(): number;
  /**
   * Write the 64 bytes at src to base+offset (64-byte aligned): one 512-bit store when allowed and
   * the CPU has AVX-512F (returns 512), else eight 64-bit stores in address order (returns 64).
   */
  write512(base: bigint, offset: number, src: Mem, allowAvx512: number): number;
  /**
   * memcpy that survives SIGBUS (memory whose backing file another process shrank, shim/guarded_copy.c):
   * returns `length`, or -1 when the copy faulted (a prefix of dst may be written).
   */
  copyGuarded(dst: Mem, src: Mem, length: number): number | bigint;
  /**
   * Wrap memory as a SharedArrayBuffer (no copy). With `unmap`, munmap(address, length) runs when
   * the last reference (in any thread) is garbage collected.
   */
  sharedBuffer(address: bigint, length: number, unmap: boolean): SharedArrayBuffer;
  /**
   * munmap a mapping wrapped with unmap = true now, instead of when its buffer is collected; the
   * later deleter then skips it. Only when nothing will touch the buffer again. False if unknown.
   */
  unmapNow(address: bigint): boolean;
}

const SHIM_FILE = join('shim', 'build', 'Release', 'vfiokit_shim.node');

/** Where the built shim is: $VFIOKIT_SHIM_PATH, else the package root's shim/build/Release. */
export function shimPath(): string | undefined {
  const fromEnv = process.env.VFIOKIT_SHIM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? resolve(fromEnv) : undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, SHIM_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

let loaded = false;
let library: LibraryHandle | undefined;
let functions: ShimFunctions | undefined;

function load(): void {
  loaded = true;
  if (process.env.VFIOKIT_NO_SHIM === '1') {
    once(log, 'shim-disabled', 'VFIOKIT_NO_SHIM=1: using the JS fallbacks');
    return;
  }
  const path = shimPath();
  if (!path) {
    once(log, 'shim-missing', `C shim not found (${SHIM_FILE}); using the JS fallbacks. Build it with: node scripts/build-shim.mjs`);
    return;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as Pick<ShimFunctions, 'sharedBuffer' | 'unmapNow'>;
    const lib = koffi.load(path);
    const f = (decl: string) => lib.func(decl);
    const fns = {
      path,
      read32: f('uint32_t vk_read32(void *base, size_t off)'),
      read64: f('uint64_t vk_read64(void *base, size_t off)'),
      write32: f('void vk_write32(void *base, size_t off, uint32_t v)'),
      write64: f('void vk_write64(void *base, size_t off, uint64_t v)'),
      poll32: f('int vk_poll32(void *base, size_t off, uint32_t mask, uint32_t expected, int64_t timeout_ns, int64_t interval_ns, void *last)'),
      poll64: f('int vk_poll64(void *base, size_t off, uint64_t mask, uint64_t expected, int64_t timeout_ns, int64_t interval_ns, void *last)'),
      stream64: f('void vk_stream64(void *base, size_t off, void *words, size_t count)'),
      creditStream: f('size_t vk_credit_stream(void *base, size_t data_off, size_t status_off, uint64_t credit_mask, void *words, size_t count, int64_t timeout_ns, int64_t interval_ns, void *out)'),
      readBlock: f('int vk_read_block(void *base, size_t off, void *dst, size_t len, int width)'),
      writeBlock: f('int vk_write_block(void *base, size_t off, void *src, size_t len, int width)'),
      benchRead32: f('uint64_t vk_bench_read32(void *base, size_t off, size_t n)'),
      benchRead64: f('uint64_t vk_bench_read64(void *base, size_t off, size_t n)'),
      benchWrite32: f('void vk_bench_write32(void *base, size_t off, size_t n)'),
      benchWrite64: f('void vk_bench_write64(void *base, size_t off, size_t n)'),
      hasAvx512: f('int vk_has_avx512(void)'),
      write512: f('int vk_write512(void *base, size_t off, void *src, int allow_avx512)'),
      copyGuarded: f('int64_t vk_copy_guarded(void *dst, void *src, size_t n)'),
      sharedBuffer: addon.sharedBuffer,
      unmapNow: addon.unmapNow,
    };
    library = lib;
    functions = fns as unknown as ShimFunctions;
    log('C shim loaded from %s', path);
  } catch (e) {
    once(log, 'shim-load-failed', `C shim at ${path} could not be loaded (${(e as Error).message}); using the JS fallbacks. Rebuild it with: node scripts/build-shim.mjs`);
  }
}

/** The shim's functions, or undefined (not built, failed to load, or VFIOKIT_NO_SHIM=1). */
export function shim(): ShimFunctions | undefined {
  if (!loaded) load();
  return functions;
}

/** The koffi handle of the shim, for other layers' own shim/*.c functions; undefined without the shim. */
export function shimLibrary(): LibraryHandle | undefined {
  if (!loaded) load();
  return library;
}
