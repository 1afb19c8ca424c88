// File descriptor checks for the DMA tests (a released buffer must close its memfd).
import fs from 'node:fs';

/** True while `fd` refers to an open file. */
export function fdIsOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}
