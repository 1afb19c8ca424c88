// pread/pwrite on a VFIO device fd at a region's offset: config space, and registers of regions
// that cannot be mmapped (vfio-pci traps them: drivers/vfio/pci/vfio_pci_rdwr.c). One access
// of exactly the width asked (vfio-pci forwards 1/2/4/8-byte accesses as such to the device).
import koffi from 'koffi';
import { libc } from '../sys/libc.js';
import { errnoName } from '../sys/sys-error.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../util/bytes.js';
import { VfioError } from './errors.js';

const scratch = new Uint8Array(8);

function fail(op: 'read' | 'write', n: number, width: number, what: string, offset: number): never {
  const errno = n < 0 ? koffi.errno() : 0;
  const code = n < 0 ? errnoName(errno) : undefined;
  throw new VfioError(code ? `EVFIO_${code}` : 'EVFIO_SHORT_IO', `${op === 'read' ? 'pread' : 'pwrite'} of ${width} bytes at ${what} +0x${offset.toString(16)} failed: ${n < 0 ? code : `${n} bytes transferred`}${code === 'ENODEV' ? ' (the device is gone)' : code === 'EINVAL' ? ' (offset or width not allowed by the region)' : ''}`, { errno: n < 0 ? errno : undefined, offset, width, what });
}

/** Read `width` bytes (1, 2, 4) little-endian at `base + offset`. */
export function preadUint(fd: number, base: bigint, offset: number, width: 1 | 2 | 4, what: string): number {
  const n = Number(libc.pread(fd, scratch, width, Number(base) + offset));
  if (n !== width) fail('read', n, width, what, offset);
  if (width === 4) return getLe32(scratch, 0);
  if (width === 2) return scratch[0]! | (scratch[1]! << 8);
  return scratch[0]!;
}

export function pwriteUint(fd: number, base: bigint, offset: number, width: 1 | 2 | 4, value: number, what: string): void {
  if (width === 4) putLe32(scratch, 0, value >>> 0);
  else if (width === 2) { scratch[0] = value & 0xff; scratch[1] = (value >>> 8) & 0xff; }
  else scratch[0] = value & 0xff;
  const n = Number(libc.pwrite(fd, scratch, width, Number(base) + offset));
  if (n !== width) fail('write', n, width, what, offset);
}

export function pread64(fd: number, base: bigint, offset: number, what: string): bigint {
  const n = Number(libc.pread(fd, scratch, 8, Number(base) + offset));
  if (n !== 8) fail('read', n, 8, what, offset);
  return getLe64(scratch, 0);
}

export function pwrite64(fd: number, base: bigint, offset: number, value: bigint, what: string): void {
  putLe64(scratch, 0, value);
  const n = Number(libc.pwrite(fd, scratch, 8, Number(base) + offset));
  if (n !== 8) fail('write', n, 8, what, offset);
}
