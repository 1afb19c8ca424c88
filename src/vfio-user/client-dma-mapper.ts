// The DmaMapper of a vfio-user client device: DMA_MAP / DMA_UNMAP of the client's memory on the
// server (vfio-user.rst "VFIO_USER_DMA_MAP"), passing the memory's fd when it has one so the server
// can mmap it; the mapped windows are kept for answering the server's DMA_READ/DMA_WRITE.
import { checkDmaMap, checkOpen } from '../device/checks.js';
import type { DmaAccess as DmaAccessRights, DmaMapper, DmaMemory, IovaRange } from '../dma/mapper.js';
import { ArgumentError, DeviceError } from '../errors.js';
import { logger } from '../util/log.js';
import type { Capabilities } from './capabilities.js';
import type { RequestChannel } from './client-channel.js';
import type { ClientDmaWindows } from './client-dma-windows.js';
import { flagSet } from '../sys/uapi/struct.js';
import { DmaMapFlags, vfio_user_dma_map, vfio_user_dma_unmap } from '../sys/uapi/vfio-user.js';
import { Command, VfioUserConnectionError } from './protocol.js';

const log = logger('vfio-user:client');

/**
 * IOVA space offered to DmaBuffer allocations. vfio-user has no IOVA range query, so we offer what
 * an x86 IOMMU gives (48 bits) minus page 0 and the MSI window 0xfee00000-0xfeefffff that VFIO's
 * IOVA_RANGE cap excludes; a server backed by a real IOMMU can then map every IOVA we choose.
 */
const IOVA_RANGES: readonly IovaRange[] = [
  { start: 0x1_0000n, end: 0xfedf_ffffn },
  { start: 0xfef0_0000n, end: (1n << 48n) - 1n },
];

/** What the mapper reads from its device: the server's capabilities (once negotiated) and whether it is closed. */
export interface ClientDmaMapperHost {
  readonly server: Capabilities | undefined;
  readonly closed: boolean;
}

export class ClientDmaMapper implements DmaMapper {
  readonly #channel: RequestChannel;
  readonly #windows: ClientDmaWindows;
  readonly #host: ClientDmaMapperHost;

  constructor(channel: RequestChannel, windows: ClientDmaWindows, host: ClientDmaMapperHost) {
    this.#channel = channel;
    this.#windows = windows;
    this.#host = host;
  }

  iovaRanges(): IovaRange[] {
    return IOVA_RANGES.map((r) => ({ ...r }));
  }

  get pageSize(): number {
    const p = this.#host.server?.pgsizes ?? 4096;
    return p & -p;
  }

  get mappingsAvailable(): number {
    return Math.max(0, (this.#host.server?.maxDmaMaps ?? 65535) - this.#windows.count);
  }

  map(memory: DmaMemory, iova: bigint, access: DmaAccessRights): void {
    const url = this.#channel.url;
    const page = this.pageSize;
    checkOpen(url, this.#host.closed, 'DMA map');
    checkDmaMap(url, memory, iova, access, page);
    const server = this.#host.server!;
    if (this.mappingsAvailable <= 0) throw new DeviceError('ENOSPC', `${url}: the server allows ${server.maxDmaMaps} DMA mappings (max_dma_maps); unmap some first`);
    const flags = flagSet(access.read && DmaMapFlags.READ, access.write && DmaMapFlags.WRITE);
    const withFd = memory.fd >= 0 && server.maxMsgFds >= 1;
    this.#channel.call(Command.DMA_MAP, vfio_user_dma_map.encode({ flags, offset: withFd ? BigInt(memory.fdOffset) : 0n, addr: iova, size: BigInt(memory.size) }), withFd ? [memory.fd] : [], `DMA map 0x${iova.toString(16)}+0x${memory.size.toString(16)}`);
    this.#windows.add({ iova, size: memory.size, memory, access: { ...access } });
  }

  unmap(iova: bigint, size: number): void {
    // Once the connection is gone the server has dropped every mapping of ours (vfio-user.rst
    // "Client Disconnection"): nothing is left to unmap, and the memory is ours again.
    if (this.#host.closed) return;
    const url = this.#channel.url;
    const i = this.#windows.indexOf(iova, size);
    if (i < 0) throw new ArgumentError('EARG_DMA_UNMAP', `${url}: no DMA mapping of ${size} bytes at IOVA 0x${iova.toString(16)}`, { iova, size });
    try {
      // The server releases its references (in-flight DMA included) before it replies.
      this.#channel.call(Command.DMA_UNMAP, vfio_user_dma_unmap.encode({ addr: iova, size: BigInt(size) }), [], `DMA unmap 0x${iova.toString(16)}`);
    } catch (err) {
      if (!(err instanceof VfioUserConnectionError)) throw err;
      log('%s: DMA unmap 0x%s after the connection failed: the server dropped it', url, iova.toString(16));
    }
    this.#windows.removeAt(i);
  }
}
