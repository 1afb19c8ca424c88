// Device copies from memory another process can shrink (src/dma/dma-copy.ts): the bound follows
// the file's size now, and with the C shim a truncation during the copy is a failed copy, not a
// SIGBUS that kills the process (shim/guarded_copy.c). Our own DMA memory is sealed against
// shrinking, so a vfio-user server can trust its size (include/uapi/linux/fcntl.h F_SEAL_SHRINK).
import { describe, expect, it } from 'vitest';
import { copyDma, dmaLimit } from '../../src/dma/dma-copy.js';
import { allocateHostMemory } from '../../src/dma/host-memory.js';
import type { DmaMemory } from '../../src/dma/mapper.js';
import { closeQuietly, createMemfd, fileSeals, ftruncate, mmapFd, viewOf } from '../../src/sys/libc.js';
import { F_SEAL_GROW, F_SEAL_SHRINK } from '../../src/sys/constants.js';
import { shim } from '../../src/sys/shim.js';

const SIZE = 64 * 1024;

function unsealed(backed?: () => number): { memory: DmaMemory; fd: number; close(): void } {
  const fd = createMemfd('dma-copy-test', SIZE);
  const m = mmapFd(fd, SIZE);
  const memory: DmaMemory = { address: m.address, size: SIZE, fd, fdOffset: 0, bytes: new Uint8Array(viewOf(m.address, SIZE)), backedBytes: backed };
  return { memory, fd, close: () => { m.unmap(); closeQuietly(fd); } };
}

describe('copyDma', () => {
  it('seals host DMA memory against shrinking and growing', () => {
    using mem = allocateHostMemory(SIZE);
    expect((fileSeals(mem.fd) ?? 0) & (F_SEAL_SHRINK | F_SEAL_GROW)).toBe(F_SEAL_SHRINK | F_SEAL_GROW);
  });

  it('bounds a shrinkable memory by what its file backs now', () => {
    const src = unsealed();
    const live = { ...src.memory, backedBytes: () => 8192 };
    expect(dmaLimit(live)).toBe(8192);
    expect(dmaLimit(src.memory)).toBe(SIZE);
    src.close();
  });

  it.runIf(shim())('turns a SIGBUS during the copy into a failed copy (the file shrank after the size check)', () => {
    // backedBytes reports the stale size, as when the client truncates between the check and the copy.
    const src = unsealed(() => SIZE);
    using dst = allocateHostMemory(SIZE);
    src.memory.bytes.fill(0x5a);
    expect(copyDma(dst, 0, src.memory, 0, SIZE)).toBe(true);
    expect(dst.bytes[SIZE - 1]).toBe(0x5a);
    ftruncate(src.fd, 0);
    expect(copyDma(dst, 0, src.memory, 0, SIZE)).toBe(false);
    // The guard is per copy: a later good copy works, and the handler stays installed.
    const again = unsealed(() => SIZE);
    expect(copyDma(dst, 0, again.memory, 0, 4096)).toBe(true);
    expect(copyDma(dst, 0, src.memory, 0, 4096)).toBe(false);
    again.close();
    src.close();
  });
});
