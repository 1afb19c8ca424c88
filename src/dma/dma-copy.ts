// Device-side copies between DMA memories, safe against memory another process can shrink (an
// unsealed fd a vfio-user client passed, DmaMemory.backedBytes): the copy is bounded by what the
// file backs now, and, with the C shim, runs through vk_copy_guarded (shim/guarded_copy.c), so a
// client that truncates the file during the copy costs a DMA fault, not the server's life.
// Without the shim the bound is checked just before the copy (a truncation in the microseconds
// between the check and the copy still raises SIGBUS: build the shim for servers of untrusted clients).
import type { DmaMemory } from './mapper.js';
import { shim } from '../sys/shim.js';

/** Bytes of `memory` a device may touch now: its length, bounded by what its file still backs. */
export function dmaLimit(memory: DmaMemory): number {
  if (memory.remote) return memory.size;
  const n = memory.bytes.length;
  return memory.backedBytes ? Math.max(0, Math.min(n, memory.backedBytes())) : n;
}

/**
 * Copy `length` bytes from src (at sOff) to dst (at dOff); the caller has bounded both by dmaLimit.
 * Returns false when a file shrank during the copy (some prefix of the bytes may have been written).
 */
export function copyDma(dst: DmaMemory, dOff: number, src: DmaMemory, sOff: number, length: number): boolean {
  if (length <= 0) return true;
  const s = shim();
  if ((src.backedBytes || dst.backedBytes) && s) {
    return Number(s.copyGuarded(dst.address + BigInt(dOff), src.address + BigInt(sOff), length)) === length;
  }
  dst.bytes.set(src.bytes.subarray(sOff, sOff + length), dOff);
  return true;
}
