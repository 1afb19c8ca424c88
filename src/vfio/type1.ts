// The legacy VFIO path: a container (/dev/vfio/vfio) holding a group (/dev/vfio/<N>, or
// /dev/vfio/noiommu-<N> in no-IOMMU mode), the type1v2 IOMMU, and the device fd from the group.
// Sequence per Documentation/driver-api/vfio.rst and reference/vfio-uapi.md: API version,
// extension check, group viable, SET_CONTAINER, SET_IOMMU, IOMMU_GET_INFO, GET_DEVICE_FD.
//
// A group can be opened once per system; a process that opens two devices of one group (an
// N3000's PF0 and PF1 in one group) shares the group and its container: GroupHandle is
// refcounted per group path.
import { checkDmaMap, checkOpen } from '../device/checks.js';
import path from 'node:path';
import type { DmaAccess, DmaMapper, DmaMemory, IovaRange } from '../dma/mapper.js';
import { closeQuietly } from '../sys/libc.js';
import { O_CLOEXEC, O_RDWR } from '../sys/constants.js';
import { logger } from '../util/log.js';
import { iommuGroupMembers } from '../pci/topology.js';
import { readPciDevice } from '../pci/enumerate.js';
import type { PciSysfs } from '../pci/sysfs.js';
import { GroupNotViableError, VfioError, openNode, vfioIoctl } from './errors.js';
import { parseType1Info, type Type1Info } from './info-parse.js';
import {
  ContainerIoctl, GroupIoctl, GroupStatusFlags, MapDmaFlags, VfioApi, vfio_group_status, vfio_iommu_type1_dma_map,
  vfio_iommu_type1_dma_unmap, vfio_iommu_type1_info,
} from '../sys/uapi/linux-vfio.js';
import { flagSet, type FlagOf } from '../sys/uapi/struct.js';

const log = logger('vfio');

/** Default type1 mapping budget (drivers/vfio/vfio_iommu_type1.c dma_entry_limit). */
export const TYPE1_DEFAULT_DMA_ENTRY_LIMIT = 65535;

export type { Type1Info } from './info-parse.js';

/** VFIO_IOMMU_GET_INFO with its capability chain; re-issued with the size the kernel asks for. */
export function readType1Info(containerFd: number, device: string): Type1Info {
  let buf = vfio_iommu_type1_info.encode({}, 256);
  vfioIoctl(containerFd, ContainerIoctl.VFIO_IOMMU_GET_INFO, buf, 'container', device);
  const argsz = vfio_iommu_type1_info.get(buf, 'argsz');
  if (argsz > buf.length) {
    buf = vfio_iommu_type1_info.encode({}, argsz);
    vfioIoctl(containerFd, ContainerIoctl.VFIO_IOMMU_GET_INFO, buf, 'container', device);
  }
  return parseType1Info(buf);
}

function lowestPage(pgsizes: bigint): number {
  if (pgsizes === 0n) return 4096;
  let bit = 0n;
  while (((pgsizes >> bit) & 1n) === 0n) bit++;
  return Number(1n << bit);
}

/** DMA mapper of a type1 container: VFIO_IOMMU_MAP_DMA / UNMAP_DMA. */
export class Type1Mapper implements DmaMapper {
  readonly pageSize: number;
  readonly #fd: number;
  readonly #device: string;
  readonly #ranges: IovaRange[];
  readonly #budget: number;
  readonly #live = new Map<bigint, number>();
  #closed = false;

  constructor(containerFd: number, device: string, info: Type1Info) {
    this.#fd = containerFd;
    this.#device = device;
    this.#ranges = info.iovaRanges;
    this.pageSize = lowestPage(info.iovaPgsizes);
    this.#budget = info.dmaAvail ?? TYPE1_DEFAULT_DMA_ENTRY_LIMIT;
  }

  iovaRanges(): IovaRange[] {
    return this.#ranges.map((r) => ({ ...r }));
  }

  get mappingsAvailable(): number {
    return this.#budget - this.#live.size;
  }

  /** Live mappings (iova -> size). */
  get mappings(): ReadonlyMap<bigint, number> {
    return this.#live;
  }

  map(memory: DmaMemory, iova: bigint, access: DmaAccess): void {
    checkOpen(this.#device, this.#closed, 'DMA map');
    checkDmaMap(this.#device, memory, iova, access, this.pageSize);
    const parts: FlagOf<typeof MapDmaFlags>[] = [];
    if (access.read) parts.push(MapDmaFlags.READ);
    if (access.write) parts.push(MapDmaFlags.WRITE);
    vfioIoctl(this.#fd, ContainerIoctl.VFIO_IOMMU_MAP_DMA, vfio_iommu_type1_dma_map.encode({ flags: flagSet(...parts), vaddr: memory.address, iova, size: BigInt(memory.size) }), 'container', this.#device);
    this.#live.set(iova, memory.size);
  }

  unmap(iova: bigint, size: number): void {
    // Closing the container dropped every mapping already.
    if (this.#closed) return;
    // UNMAP_DMA flags are their own namespace (GET_DIRTY_BITMAP 1, ALL 2): never the map flags.
    const buf = vfio_iommu_type1_dma_unmap.encode({ iova, size: BigInt(size) });
    vfioIoctl(this.#fd, ContainerIoctl.VFIO_IOMMU_UNMAP_DMA, buf, 'container', this.#device);
    const unmapped = vfio_iommu_type1_dma_unmap.get(buf, 'size');
    this.#live.delete(iova);
    if (unmapped !== BigInt(size)) {
      throw new VfioError('EVFIO_UNMAP_SIZE', `VFIO_IOMMU_UNMAP_DMA on ${this.#device} unmapped ${unmapped} bytes at IOVA 0x${iova.toString(16)}, not ${size}: the range did not match one mapping`, { device: this.#device, iova, size, unmapped });
    }
  }

  /** @internal the container is closing. */
  markClosed(): void {
    this.#closed = true;
    this.#live.clear();
  }
}

/** DMA "mapper" of no-IOMMU mode: there is no translation, so nothing can be mapped. */
export class NoIommuMapper implements DmaMapper {
  readonly pageSize = 4096;
  readonly mappingsAvailable = 0;
  readonly unavailable: string;
  readonly #device: string;
  constructor(device: string) {
    this.#device = device;
    this.unavailable = `${device} is in VFIO no-IOMMU mode: there is no IOMMU to map DMA through and the device would see physical addresses; use a system with an IOMMU (intel_iommu=on / amd_iommu=on) for DMA`;
  }
  iovaRanges(): IovaRange[] {
    return [];
  }
  map(): void {
    throw new VfioError('EVFIO_NOIOMMU_DMA', this.unavailable, { device: this.#device });
  }
  unmap(): void {
    // Nothing was ever mapped.
  }
}

export type IommuMode = 'type1' | 'noiommu';

/** An open group in its container, shared by the devices of the group this process opens. */
export class GroupHandle {
  readonly group: string;
  readonly path: string;
  readonly mode: IommuMode;
  readonly groupFd: number;
  readonly containerFd: number;
  readonly mapper: Type1Mapper | NoIommuMapper;
  #refs = 1;

  private constructor(group: string, groupPath: string, mode: IommuMode, groupFd: number, containerFd: number, mapper: Type1Mapper | NoIommuMapper) {
    this.group = group;
    this.path = groupPath;
    this.mode = mode;
    this.groupFd = groupFd;
    this.containerFd = containerFd;
    this.mapper = mapper;
  }

  static #open = new Map<string, GroupHandle>();

  /** Open (or share) the group of `bdf`; `device` names it in errors. */
  static acquire(bdf: string, group: string, mode: IommuMode, options: { sysfs?: PciSysfs; devRoot?: string } = {}): GroupHandle {
    const devRoot = options.devRoot ?? '/dev/vfio';
    const groupPath = path.join(devRoot, mode === 'noiommu' ? `noiommu-${group}` : group);
    const existing = GroupHandle.#open.get(groupPath);
    if (existing) {
      existing.#refs++;
      return existing;
    }
    const device = `vfio:${bdf}`;
    const containerFd = openNode(path.join(devRoot, 'vfio'), device, O_RDWR | O_CLOEXEC);
    let groupFd = -1;
    try {
      const version = vfioIoctl(containerFd, ContainerIoctl.VFIO_GET_API_VERSION, null, 'container', device);
      if (version !== VfioApi.API_VERSION) {
        throw new VfioError('EVFIO_API_VERSION', `VFIO API version ${version} on this kernel, vfiokit speaks ${VfioApi.API_VERSION}`, { device, version });
      }
      const iommuType = mode === 'noiommu' ? VfioApi.NOIOMMU_IOMMU : VfioApi.TYPE1v2_IOMMU;
      if (vfioIoctl(containerFd, ContainerIoctl.VFIO_CHECK_EXTENSION, iommuType, 'container', device) !== 1) {
        throw new VfioError('EVFIO_NO_IOMMU_TYPE', mode === 'noiommu'
          ? `the kernel does not offer VFIO no-IOMMU mode for ${device}: load vfio with enable_unsafe_noiommu_mode=1 (CONFIG_VFIO_NOIOMMU)`
          : `the kernel does not offer the type1v2 IOMMU for ${device}: load vfio_iommu_type1 (modprobe vfio_iommu_type1)`, { device, mode });
      }
      groupFd = openNode(groupPath, device, O_RDWR | O_CLOEXEC);
      const status = vfio_group_status.encode();
      vfioIoctl(groupFd, GroupIoctl.VFIO_GROUP_GET_STATUS, status, 'group', device);
      if (!(vfio_group_status.get(status, 'flags') & GroupStatusFlags.VIABLE)) throw notViable(bdf, group, options.sysfs);
      vfioIoctl(groupFd, GroupIoctl.VFIO_GROUP_SET_CONTAINER, new Int32Array([containerFd]), 'group', device);
      vfioIoctl(containerFd, ContainerIoctl.VFIO_SET_IOMMU, iommuType, 'container', device);
      const mapper = mode === 'noiommu' ? new NoIommuMapper(device) : new Type1Mapper(containerFd, device, readType1Info(containerFd, device));
      const handle = new GroupHandle(group, groupPath, mode, groupFd, containerFd, mapper);
      GroupHandle.#open.set(groupPath, handle);
      log('opened group %s (%s) for %s', groupPath, mode, bdf);
      return handle;
    } catch (e) {
      closeQuietly(groupFd >= 0 ? groupFd : undefined);
      closeQuietly(containerFd);
      throw e;
    }
  }

  /** VFIO_GROUP_GET_DEVICE_FD for "dddd:bb:dd.f". */
  deviceFd(bdf: string): number {
    const name = new TextEncoder().encode(`${bdf}\0`);
    return vfioIoctl(this.groupFd, GroupIoctl.VFIO_GROUP_GET_DEVICE_FD, name, 'group', `vfio:${bdf}`);
  }

  /** Drop one reference; the last one unsets the container and closes both fds. */
  release(): void {
    if (--this.#refs > 0) return;
    GroupHandle.#open.delete(this.path);
    if (this.mapper instanceof Type1Mapper) this.mapper.markClosed();
    try {
      vfioIoctl(this.groupFd, GroupIoctl.VFIO_GROUP_UNSET_CONTAINER, null, 'group', this.path);
    } catch {
      // The device may be gone (removed); closing the fds below releases everything anyway.
    }
    closeQuietly(this.groupFd);
    closeQuietly(this.containerFd);
    log('closed group %s', this.path);
  }
}

/** The error for a group that is not viable: which other devices keep it so and what to do. */
function notViable(bdf: string, group: string, sysfs: PciSysfs | undefined): GroupNotViableError {
  const others = iommuGroupMembers(Number(group), { sysfs }).filter((d) => d !== bdf);
  const described = others.map((d) => {
    try {
      const info = readPciDevice(d, { sysfs });
      return `${d} (${info.driver ?? 'no driver'})`;
    } catch {
      return d;
    }
  });
  const blockers = described.filter((d) => !/\((vfio-pci|no driver|pcieport)\)$/.test(d));
  return new GroupNotViableError('EVFIO_GROUP_NOT_VIABLE',
    `IOMMU group ${group} of ${bdf} is not viable: every device in a group must be bound to vfio-pci (or have no driver) before any can be used. Group members: ${described.join(', ') || '(none listed)'}. ${blockers.length ? `Bind ${blockers.map((b) => b.split(' ')[0]).join(', ')} to vfio-pci (bindDriver) or unbind them (unbindDriver).` : 'Check the members\' drivers.'}`,
    { device: `vfio:${bdf}`, group, members: described });
}
