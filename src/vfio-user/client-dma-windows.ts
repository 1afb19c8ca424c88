// The client's DMA windows: memory it mapped for the device with DMA_MAP, and the answers to the
// server's DMA_READ/DMA_WRITE against them (vfio-user.rst "VFIO_USER_DMA_READ/WRITE"): the server
// reaches a window that has no fd (or every window, when it chooses) through these messages.
import type { DmaAccess as DmaAccessRights, DmaMemory } from '../dma/mapper.js';
import { decodeDmaAccess, DMA_ACCESS_SIZE } from './messages.js';
import { buildErrorReply, Command, commandName, encodeHeader, Errno, HEADER_SIZE, malformed, TYPE_REPLY, type Header } from './protocol.js';

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
    const end = a.address + BigInt(a.count);
    const w = this.#windows.find((x) => a.address >= x.iova && end <= x.iova + BigInt(x.size));
    if (!w || (write ? !w.access.write : !w.access.read)) return buildErrorReply(h, Errno.EFAULT);
    const at = Number(a.address - w.iova);
    const out = new Uint8Array(HEADER_SIZE + DMA_ACCESS_SIZE + (write ? 0 : a.count));
    encodeHeader(out, { id: h.id, command: h.command, size: out.length, flags: TYPE_REPLY, error: 0 });
    out.set(payload.subarray(0, DMA_ACCESS_SIZE), HEADER_SIZE);
    if (write) w.memory.bytes.set(a.data!, at);
    else out.set(w.memory.bytes.subarray(at, at + a.count), HEADER_SIZE + DMA_ACCESS_SIZE);
    return out;
  }
}
