// A sample third-party backend plugin: "mem:" devices whose BAR0 is plain host memory.
//
// Load it from a configuration file (see docs/cli.md "Configuration"):
//
//   { "configurations": {
//       "mem": { "enabled": true, "plugin": "./examples/plugins/memory-backend.ts",
//                "configuration": { "devices": [{ "name": "scratch", "bar0Size": 4096 }] } } },
//     "plugins": ["sim", "mem"] }
//
// then `vfiokit peek mem:scratch 0x0`. A plugin is an ES module exporting `backend` (or a default
// export, or createBackend(configuration)); it sees its `configuration` in initialize() and is
// finalised when the registry shuts down. Useful as a template and for testing tools without a card.
import type { Backend, DeviceFilter, DeviceToken, Device, IrqInfo, PciIdentity, RegionInfo, Interrupt, DmaAccess, DmaMapper, DmaMemory, IovaRange, Region } from 'vfiokit/backend';
import { TrappedRegion, checkIrqIndex, checkIrqRange, checkOpen, checkRegionExists, checkRegionIndex } from 'vfiokit/backend';
import { realClock, ArgumentError, DeviceError } from 'vfiokit';

interface MemDeviceSpec {
  name: string;
  vendor: number;
  device: number;
  bar0Size: number;
}

const specs = new Map<string, MemDeviceSpec>();
/** Register contents survive close/open within one process, like a card's RAM would. */
const memories = new Map<string, BigUint64Array>();

function parseSpec(raw: unknown, index: number): MemDeviceSpec {
  const r = (raw ?? {}) as Record<string, unknown>;
  const name = r.name;
  if (typeof name !== 'string' || !/^[a-z0-9_-]+$/i.test(name)) {
    throw new ArgumentError('ECONFIG_SHAPE', `configuration.devices[${index}].name must be a simple name such as "scratch"`);
  }
  const size = r.bar0Size ?? 4096;
  if (typeof size !== 'number' || size < 8 || size % 8 !== 0 || size > 1 << 24) {
    throw new ArgumentError('ECONFIG_SHAPE', `configuration.devices[${index}].bar0Size must be a multiple of 8 between 8 and 16 MiB`);
  }
  return { name, vendor: Number(r.vendor ?? 0x1af4), device: Number(r.device ?? 0x10f0), bar0Size: size };
}

class MemDevice implements Device {
  readonly transport = 'mem';
  readonly bdf = undefined;
  readonly clock = realClock;
  readonly regionCount = 1;
  readonly irqCount = 0;
  readonly identity: PciIdentity;
  readonly dma: DmaMapper;
  readonly #words: BigUint64Array;
  #bar0: Region | undefined;
  #closed = false;
  readonly #mappings = new Map<bigint, number>();

  constructor(readonly url: string, readonly spec: MemDeviceSpec) {
    this.identity = { vendor: spec.vendor, device: spec.device, subsystemVendor: spec.vendor, subsystemDevice: 0, classCode: 0x120000, revision: 1 };
    let words = memories.get(spec.name);
    if (!words) memories.set(spec.name, (words = new BigUint64Array(spec.bar0Size / 8)));
    this.#words = words;
    const mappings = this.#mappings;
    this.dma = {
      pageSize: 4096,
      mappingsAvailable: Infinity,
      iovaRanges: (): IovaRange[] => [{ start: 0n, end: (1n << 48n) - 1n }],
      map: (memory: DmaMemory, iova: bigint, _access: DmaAccess) => void mappings.set(iova, memory.size),
      unmap: (iova: bigint) => void mappings.delete(iova),
    };
  }

  readonly resettable = true;

  regionInfo(index: number): RegionInfo {
    checkRegionIndex(this.url, index, this.regionCount);
    const size = index === 0 ? this.spec.bar0Size : 0;
    return { index, size, readable: size > 0, writable: size > 0, mappable: false };
  }

  region(index: number): Region {
    // The shared checks: the same mistakes give the same codes as on the built-in transports.
    checkOpen(this.url, this.#closed, 'region');
    checkRegionExists(this.url, index, this.regionInfo(index).size);
    if (this.#bar0) return this.#bar0;
    const w = this.#words;
    const lo = 0xffffffffn;
    this.#bar0 = new TrappedRegion(`${this.url} BAR0`, this.spec.bar0Size, {
      read64: (o) => w[o >>> 3]!,
      write64: (o, v) => { w[o >>> 3] = v; },
      read32: (o) => Number((w[o >>> 3]! >> BigInt((o & 4) * 8)) & lo),
      write32: (o, v) => {
        const shift = BigInt((o & 4) * 8);
        w[o >>> 3] = (w[o >>> 3]! & ~(lo << shift)) | (BigInt(v >>> 0) << shift);
      },
    }, { clock: this.clock, onClose: () => { this.#bar0 = undefined; } });
    return this.#bar0;
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    const id = this.identity;
    const dword = [id.vendor | (id.device << 16), 0, id.revision | (id.classCode << 8), 0][offset >> 2] ?? 0;
    return ((dword >>> ((offset & 3) * 8)) & (width === 4 ? 0xffffffff : (1 << (width * 8)) - 1)) >>> 0;
  }

  configWrite(): void { /* config space of a memory device is read-only */ }

  irqInfo(index: number): IrqInfo {
    checkIrqIndex(this.url, index, this.irqCount);
    return { index, count: 0, eventfd: false, maskable: false, automasked: false };
  }

  enableInterrupts(index: number, start: number, count: number): Interrupt[] {
    checkIrqRange(this.url, this.irqInfo(index), start, count); // no vectors: always EARG_IRQ_RANGE
    return [];
  }

  disableInterrupts(): void { /* nothing armed */ }

  reset(): void {
    this.#words.fill(0n);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bar0?.close();
    this.#mappings.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export const backend: Backend = {
  name: 'mem',
  schemes: ['mem'],
  supports: (deviceType) => deviceType === 'mem',
  initialize(configuration) {
    specs.clear();
    const devices = configuration.devices ?? [{ name: 'scratch' }];
    if (!Array.isArray(devices)) throw new ArgumentError('ECONFIG_SHAPE', 'configuration.devices must be an array of { name, bar0Size, vendor, device }');
    devices.forEach((d, i) => { const s = parseSpec(d, i); specs.set(s.name, s); });
  },
  finalize() {
    specs.clear();
    memories.clear();
  },
  enumerate(filter: DeviceFilter = {}): DeviceToken[] {
    return [...specs.values()]
      .filter((s) => (filter.vendor === undefined || filter.vendor === s.vendor) && (filter.device === undefined || filter.device === s.device))
      .map((s) => ({ backend: 'mem', url: `mem:${s.name}`, vendor: s.vendor, device: s.device, description: `memory device, ${s.bar0Size} bytes` }));
  },
  open(url: string): Device {
    const name = url.replace(/^mem:/, '');
    const spec = specs.get(name);
    if (!spec) throw new DeviceError('ENODEV', `no memory device "${name}"; configured: ${[...specs.keys()].join(', ') || 'none'}`, { url });
    return new MemDevice(url, spec);
  },
};
