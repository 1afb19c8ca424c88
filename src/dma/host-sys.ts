// The few libc calls host DMA memory needs (memfd_create, ftruncate, mmap, munmap, close),
// through koffi. Pointers cross the FFI as bigint (koffi 3 returns `void *` as bigint).
import os from 'node:os';
import koffi from 'koffi';

// include/uapi/linux/memfd.h
export const MFD_CLOEXEC = 0x0001;
export const MFD_HUGETLB = 0x0004;
export const MFD_HUGE_SHIFT = 26;
// include/uapi/asm-generic/mman-common.h, arch/x86 mman.h
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
/** mmap's MAP_FAILED, (void *)-1, as koffi hands it back. */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

const libc = koffi.load('libc.so.6');
export const memfd_create = libc.func('int memfd_create(const char *name, unsigned int flags)') as (name: string, flags: number) => number;
export const ftruncate = libc.func('int ftruncate(int fd, int64_t length)') as (fd: number, length: number) => number;
export const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)') as (
  addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number) => bigint;
export const munmap = libc.func('int munmap(void *addr, size_t length)') as (addr: bigint, length: number) => number;
export const closeFd = libc.func('int close(int fd)') as (fd: number) => number;

/** The calling thread's errno after the last FFI call; with an argument, set it (to carry it past cleanup calls). */
export function errno(value?: number): number {
  return value === undefined ? koffi.errno() : koffi.errno(value);
}

const errnoNames = new Map<number, string>(Object.entries(os.constants.errno).map(([name, value]) => [value, name]));
/** "ENOMEM" for 12; "errno 1234" for unknown numbers. */
export function errnoName(code: number): string {
  return errnoNames.get(code) ?? `errno ${code}`;
}

/** An ArrayBuffer over `length` bytes at `address` (no copy; valid while the mapping lives). */
export function viewOf(address: bigint, length: number): ArrayBuffer {
  return koffi.view(address, length);
}
