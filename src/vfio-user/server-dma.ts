// The server's table of client DMA windows (VFIO_USER_DMA_MAP / DMA_UNMAP). A window with an fd is
// mmapped here and handed to the hosted Device's DmaMapper, so the device (the sim's DMA engine,
// or a real device through the kernel's MAP_DMA) reads and writes the client's memory directly.
// A window without an fd cannot be mapped here: when the device's mapper takes remote memory (the
// sim's DMA engine) it is mapped as DmaMemory.remote, whose reads and writes become DMA_READ /
// DMA_WRITE messages to the client (vfio-user.rst "Client memory access"); otherwise it is only
// recorded, and the server reaches it with those messages itself.
// Every path that fails undoes what it did (munmap, close the fd) before reporting.
import type { DmaMapper, DmaMemory } from '../dma/mapper.js';
import { closeQuietly, fileSeals, mmapFd, viewOf, type Mapping } from '../sys/libc.js';
import { F_SEAL_SHRINK, PROT_READ, PROT_WRITE, MAP_SHARED } from '../sys/constants.js';
import { fstatSync } from 'node:fs';
import { VfiokitError } from '../errors.js';
import { DmaMapFlags } from '../sys/uapi/vfio-user.js';
import type { DmaMapRequest } from './messages.js';
import { Errno } from './protocol.js';
import { logger } from '../util/log.js';
import type { VfiokitErrorCode } from '../error-codes.js';

const log = logger('vfio-user:server');

/** A refusal with the errno the reply carries. */
export class DmaRequestError extends VfiokitError {
  readonly errno: number;
  constructor(errno: number, code: VfiokitErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.errno = errno;
  }
}

export interface DmaWindow {
  iova: bigint;
  size: bigint;
  flags: number;
  /** The client's fd (kept open until unmap) or -1. */
  fd: number;
  mapping: Mapping | undefined;
  memory: DmaMemory | undefined;
}

const hex = (n: bigint): string => `0x${n.toString(16)}`;

/** Server-initiated access to client memory by IOVA (ServerConnection.dmaRead / dmaWrite). */
export interface ClientMemoryAccess {
  read(iova: bigint, length: number): Uint8Array;
  write(iova: bigint, data: Uint8Array): void;
}

export class DmaTable {
  #windows: DmaWindow[] = [];
  readonly #mapper: DmaMapper;
  readonly #pageSize: bigint;
  readonly #maxMaps: number;
  readonly #client: ClientMemoryAccess | undefined;

  constructor(mapper: DmaMapper, pageSize: number, maxMaps: number, client?: ClientMemoryAccess) {
    this.#mapper = mapper;
    this.#pageSize = BigInt(pageSize);
    this.#maxMaps = maxMaps;
    this.#client = client;
  }

  get count(): number {
    return this.#windows.length;
  }

  windows(): readonly DmaWindow[] {
    return this.#windows;
  }

  /** Map a window. Takes ownership of `fd` (closed on failure, or at unmap). */
  map(req: DmaMapRequest, fd: number): void {
    try {
      this.#map(req, fd);
    } catch (err) {
      closeQuietly(fd >= 0 ? fd : undefined);
      throw err;
    }
  }

  #map(req: DmaMapRequest, fd: number): void {
    const { addr: iova, size, offset } = req;
    const page = this.#pageSize;
    if (size === 0n || size % page !== 0n || iova % page !== 0n || offset % page !== 0n) {
      throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_ALIGN', `DMA_MAP iova ${hex(iova)} size ${hex(size)} offset ${hex(offset)}: all must be multiples of the ${page}-byte page and size non-zero`);
    }
    if (iova + size > 1n << 64n) throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_RANGE', `DMA_MAP iova ${hex(iova)} + size ${hex(size)} wraps past 2^64`);
    if ((req.flags & (DmaMapFlags.READ | DmaMapFlags.WRITE)) === 0) throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_FLAGS', 'DMA_MAP with neither READ nor WRITE gives the device nothing');
    for (const w of this.#windows) {
      if (iova < w.iova + w.size && w.iova < iova + size) {
        throw new DmaRequestError(Errno.EEXIST, 'EEXIST', `DMA_MAP ${hex(iova)}+${hex(size)} overlaps the mapping at ${hex(w.iova)}+${hex(w.size)}`);
      }
    }
    if (this.#windows.length >= this.#maxMaps) throw new DmaRequestError(Errno.ENOSPC, 'ENOSPC', `DMA_MAP: ${this.#maxMaps} mappings already (max_dma_maps)`);
    const window: DmaWindow = { iova, size, flags: req.flags, fd, mapping: undefined, memory: undefined };
    if (fd >= 0) {
      if (size > BigInt(Number.MAX_SAFE_INTEGER) || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_RANGE', `DMA_MAP size ${hex(size)} / offset ${hex(offset)} too large to map`);
      }
      // A window past the end of the file would SIGBUS the device's first access: refuse it.
      let st;
      try {
        st = fstatSync(fd);
      } catch {
        throw new DmaRequestError(Errno.EBADF, 'EBADF', `DMA_MAP iova ${hex(iova)}: the passed fd cannot be inspected`);
      }
      if (st.isFile() && offset + size > BigInt(st.size)) {
        throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_RANGE', `DMA_MAP iova ${hex(iova)}: offset ${hex(offset)} + size ${hex(size)} runs past the end of the passed file (${st.size} bytes)`);
      }
      if (!st.isFile()) throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_FD', `DMA_MAP iova ${hex(iova)}: the passed fd is not a memory file (memfd, hugetlbfs, tmpfs)`);
      const prot = PROT_READ | ((req.flags & DmaMapFlags.WRITE) !== 0 ? PROT_WRITE : 0);
      let mapping: Mapping;
      try {
        mapping = mmapFd(fd, Number(size), Number(offset), prot, MAP_SHARED, { what: `vfio-user DMA_MAP iova ${hex(iova)}` });
      } catch (err) {
        throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_MMAP', `DMA_MAP iova ${hex(iova)}: cannot mmap the passed fd at offset ${hex(offset)} size ${hex(size)}: ${(err as Error).message}`);
      }
      try {
        const bytes = new Uint8Array(viewOf(mapping.address, mapping.size));
        // A file sealed with F_SEAL_SHRINK keeps the size checked above. An unsealed one (QEMU's
        // guest RAM from memory-backend-file, or memory-backend-memfd with seal=off:
        // backends/hostmem-memfd.c) can be truncated by the client at any time: the device then
        // bounds every access by the file's size now and copies through the SIGBUS guard
        // (src/dma/dma-copy.ts), so a shrinking client gets a DMA fault instead of killing us.
        const sealed = ((fileSeals(fd) ?? 0) & F_SEAL_SHRINK) !== 0;
        const fdOffset = Number(offset);
        const memory: DmaMemory = sealed
          ? { address: mapping.address, size: mapping.size, fd, fdOffset, bytes }
          : { address: mapping.address, size: mapping.size, fd, fdOffset, bytes, backedBytes: () => backedBytes(fd, fdOffset) };
        if (!sealed) log('DMA_MAP %s: fd not sealed against shrinking: device accesses are size-checked and SIGBUS-guarded', hex(iova));
        this.#mapper.map(memory, iova, { read: (req.flags & DmaMapFlags.READ) !== 0, write: (req.flags & DmaMapFlags.WRITE) !== 0 });
        window.mapping = mapping;
        window.memory = memory;
      } catch (err) {
        mapping.unmap();
        if (err instanceof DmaRequestError) throw err;
        throw new DmaRequestError(errnoOf(err), 'EVFIO_USER_DMA_DEVICE', `DMA_MAP iova ${hex(iova)}: the device refused the mapping: ${(err as Error).message}`);
      }
    }
    if (fd < 0 && this.#client && this.#mapper.remoteMemory && size <= BigInt(Number.MAX_SAFE_INTEGER)) {
      const client = this.#client;
      const memory: DmaMemory = {
        address: 0n, size: Number(size), fd: -1, fdOffset: 0, bytes: new Uint8Array(0),
        remote: { read: (offset, length) => client.read(iova + BigInt(offset), length), write: (offset, data) => client.write(iova + BigInt(offset), data) },
      };
      try {
        this.#mapper.map(memory, iova, { read: (req.flags & DmaMapFlags.READ) !== 0, write: (req.flags & DmaMapFlags.WRITE) !== 0 });
      } catch (err) {
        throw new DmaRequestError(errnoOf(err), 'EVFIO_USER_DMA_DEVICE', `DMA_MAP iova ${hex(iova)} (no fd): the device refused the mapping: ${(err as Error).message}`);
      }
      window.memory = memory;
    }
    this.#windows.push(window);
    log('DMA_MAP %s+%s flags %d fd %s', hex(iova), hex(size), req.flags, fd >= 0 ? 'yes' : window.memory ? 'none (remote: DMA_READ/WRITE)' : 'none');
  }

  /**
   * Unmap every window inside iova..iova+size-1, as VFIO type1 does (drivers/vfio/vfio_iommu_type1.c
   * vfio_dma_do_unmap): a range that holds no window unmaps nothing and succeeds (QEMU with a
   * vIOMMU unmaps whole IOVA ranges it never mapped); a window that straddles either end of the
   * range is refused (EINVAL), as type1 v2 refuses to split a mapping. Returns the bytes unmapped.
   */
  unmap(iova: bigint, size: bigint): bigint {
    if (size === 0n) throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_ALIGN', `DMA_UNMAP ${hex(iova)} with size 0`);
    const end = iova + size;
    for (const w of this.#windows) {
      const wEnd = w.iova + w.size;
      const overlaps = w.iova < end && iova < wEnd;
      if (overlaps && (w.iova < iova || wEnd > end)) {
        throw new DmaRequestError(Errno.EINVAL, 'EVFIO_USER_DMA_SPLIT', `DMA_UNMAP ${hex(iova)}+${hex(size)} would split the mapping at ${hex(w.iova)}+${hex(w.size)}; unmap whole mappings`);
      }
    }
    const gone = this.#windows.filter((w) => w.iova >= iova && w.iova + w.size <= end);
    this.#windows = this.#windows.filter((w) => !gone.includes(w));
    let unmapped = 0n;
    for (const w of gone) {
      unmapped += w.size;
      this.#release(w);
    }
    if (gone.length === 0) log('DMA_UNMAP %s+%s: no mapping there (nothing to do, as type1)', hex(iova), hex(size));
    return unmapped;
  }

  /** Drop every window (DMA_UNMAP ALL, client disconnect, server close). */
  unmapAll(): void {
    const all = this.#windows;
    this.#windows = [];
    for (const w of all) this.#release(w);
  }

  #release(w: DmaWindow): void {
    if (w.memory) {
      try {
        this.#mapper.unmap(w.iova, Number(w.size));
      } catch (err) {
        log('device unmap of %s failed: %s', hex(w.iova), (err as Error).message);
      }
    }
    w.mapping?.unmap();
    if (w.fd >= 0) closeQuietly(w.fd);
    log('DMA_UNMAP %s+%s', hex(w.iova), hex(w.size));
  }

  /** The window holding iova..iova+length-1, or undefined. */
  find(iova: bigint, length: number): DmaWindow | undefined {
    const end = iova + BigInt(length);
    return this.#windows.find((w) => iova >= w.iova && end <= w.iova + w.size);
  }
}

/** Bytes of the file behind `fd` past `offset` now (0 when it cannot be inspected any more). */
function backedBytes(fd: number, offset: number): number {
  try {
    return Math.max(0, fstatSync(fd).size - offset);
  } catch {
    return 0;
  }
}

/**
 * An errno for a thrown error: its own (DmaRequestError), its code when that is an errno name,
 * EINVAL for other typed errors (bad arguments as the device saw them), EIO for anything else
 * (a fault inside the device model).
 */
export function errnoOf(err: unknown): number {
  if (err instanceof DmaRequestError) return err.errno;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code in Errno) return Errno[code as keyof typeof Errno];
  return err instanceof VfiokitError ? Errno.EINVAL : Errno.EIO;
}
