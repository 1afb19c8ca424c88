// Test helpers: regions over real memfd mappings, read back through the file system.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { close, createMemfd } from '../../src/sys/libc.js';
import { MappedRegion, type MapFdOptions } from '../../src/mmio/mapped-region.js';

export interface MemfdRegion {
  fd: number;
  region: MappedRegion;
  /** Read bytes of the memfd through /proc/self/fd (the file system, not the mapping). */
  fsRead(offset: number, length: number): Buffer;
  /** Write bytes of the memfd through the file system. */
  fsWrite(offset: number, data: Uint8Array): void;
  dispose(): void;
}

export function memfdRegion(name: string, size: number, options: MapFdOptions = {}): MemfdRegion {
  const fd = createMemfd(name, size);
  const region = MappedRegion.mapFd(name, fd, size, 0, options);
  const path = `/proc/self/fd/${fd}`;
  return {
    fd,
    region,
    fsRead(offset, length) {
      const b = Buffer.alloc(length);
      const f = openSync(path, 'r');
      try {
        readSync(f, b, 0, length, offset);
      } finally {
        closeSync(f);
      }
      return b;
    },
    fsWrite(offset, data) {
      const f = openSync(path, 'r+');
      try {
        writeSync(f, data, 0, data.length, offset);
      } finally {
        closeSync(f);
      }
    },
    dispose() {
      region.close();
      close(fd);
    },
  };
}
