// The libc calls host DMA memory needs, taken raw from src/sys (errno read by the caller, so the
// DMA layer can say what the failure means for a DMA buffer: huge page pool, fd limit...).
import koffi from 'koffi';
import { libc, viewOf as sysViewOf } from '../sys/libc.js';
import { errnoName as sysErrnoName } from '../sys/sys-error.js';

export {
  MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGETLB, F_ADD_SEALS, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_FIXED,
  MAP_ANONYMOUS, MAP_NORESERVE, MAP_POPULATE, MAP_FAILED,
} from '../sys/constants.js';

export const memfd_create = libc.memfd_create as (name: string, flags: number) => number;
export const fcntlInt = (fd: number, cmd: number, arg: number): number => libc.fcntl(fd, cmd, 'int', arg) as number;
export const ftruncate = libc.ftruncate as (fd: number, length: number) => number;
export const mmap = libc.mmap as (addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number) => bigint;
export const munmap = libc.munmap as (addr: bigint, length: number) => number;
export const closeFd = libc.close as (fd: number) => number;

/** The calling thread's errno after the last FFI call; with an argument, set it (to carry it past cleanup calls). */
export function errno(value?: number): number {
  return value === undefined ? koffi.errno() : koffi.errno(value);
}

export function errnoName(code: number): string {
  return sysErrnoName(code);
}

/** An ArrayBuffer over `length` bytes at `address` (no copy; valid while the mapping lives). */
export function viewOf(address: bigint, length: number): ArrayBuffer {
  return sysViewOf(address, length);
}
