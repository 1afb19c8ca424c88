// The client's DMA windows: memory it mapped for the device with DMA_MAP, and the answers to the
// server's DMA_READ/DMA_WRITE against them (vfio-user.rst "VFIO_USER_DMA_READ/WRITE"): the server
// reaches a window that has no fd (or every window, when it chooses) through these messages.
import type { DmaAccess as DmaAccessRights, DmaMemory } from '../dma/mapper.js';
import { vfio_user_dma_region_access } from '../sys/uapi/vfio-user.js';
import { decodeDmaAccess } from './messages.js';
import { buildErrorReply, buildReply, Command, commandName, Errno, HEADER_SIZE, malformed, type Header } from './protocol.js';

export interface ClientDmaWindow {
  iova: bigint;
  size: number;
  memory: DmaMemory;
  access: DmaAccessRights;
}

export class ClientDmaWindows {
  #windows: ClientDmaWindow[] = [];
  readonly #maxXfer: number;

  /** `maxXfer`: the largest DMA_READ/WRITE data this client accepts (its max_data_xfer_size). */
  constructor(maxXfer: number) {
    this.#maxXfer = maxXfer;
  }

  get count(): number {
    return this.#windows.length;
  }

  add(window: ClientDmaWindow): void {
    this.#windows.push(window);
  }

  /** Index of the window mapped exactly at `iova` with `size` bytes, or -1. */
  indexOf(iova: bigint, size: number): number {
    return this.#windows.findIndex((w) => w.iova === iova && w.size === size);
  }

  removeAt(index: number): void {
    this.#windows.splice(index, 1);
  }

  clear(): void {
    this.#windows = [];
  }

  /** Perform a server DMA_READ/DMA_WRITE on our memory; returns the whole reply message. */
  answer(h: Header, payload: Uint8Array): Uint8Array {
    if (h.command !== Command.DMA_READ && h.command !== Command.DMA_WRITE) {
      throw malformed(commandName(h.command), 'the server may only send DMA_READ/DMA_WRITE to a client');
    }
    const write = h.command === Command.DMA_WRITE;
    const a = decodeDmaAccess(payload, write, this.#maxXfer);
    const end = a.addr + BigInt(a.count);
    const w = this.#windows.find((x) => a.addr >= x.iova && end <= x.iova + BigInt(x.size));
    if (!w || (write ? !w.access.write : !w.access.read)) return buildErrorReply(h, Errno.EFAULT);
    const at = Number(a.addr - w.iova);
    // The reply echoes the 16-byte head; a DMA_READ reply carries the data after it.
    const head = vfio_user_dma_region_access.size;
    const out = buildReply(h, payload.subarray(0, head), write ? 0 : a.count);
    if (write) w.memory.bytes.set(a.data!, at);
    else out.set(w.memory.bytes.subarray(at, at + a.count), HEADER_SIZE + head);
    return out;
  }
}
