// The DFL walker (reference/dfl.md "Finding the lists"; drivers/fpga/dfl-pci.c
// find_dfls_by_vsec / find_dfls_by_default, drivers/fpga/dfl.c parse_feature_list). Finds the
// lists (VSEC, else the FME port table, else a Port at BAR0 on a VF), follows next offsets until
// EOL and NEXT_AFU from a Port, across BARs, and returns a tree of Feature nodes. Every malformed
// input is a DflError naming the BAR and offset; the walk always terminates (visited set,
// forward-only offsets, a feature cap).
import type { Region } from '../mmio/region.js';
import { logger } from '../util/log.js';
import { hex } from '../util/bytes.js';
import { fieldGet } from '../util/bitfield.js';
import { decodeDfh, decodeParamHeader, decodeV1Csr, decodeMsixParam, featureTypeOf, type Dfh } from './dfh.js';
import { DfhReg, DfhType, FiuId, DEFAULT_FEATURE_SIZE, DFH_SIZE, NEXT_AFU_NEXT_DFH_OFST, ParamId } from './regs/dfh.js';
import { dflError, DflError } from './errors.js';
import type { DflParam, Feature, FeatureIrq } from './feature.js';
import { formatGuid } from './guid.js';
import { fiuName, FmeFeatureId, PortFeatureId, privateFeatureName } from './names.js';
import { readDflVsec, PCI_STD_NUM_BARS, type ConfigSource } from './vsec.js';
import {
  FmeReg, fmePortOffsetReg, FME_CAP, FME_ERROR_CAP, FME_PORT_OFST, MAX_PORTS, PORT_CAP, PORT_ERROR_CAP, PORT_UINT_CAP, PortReg,
} from './regs/fiu.js';

const log = logger('dfl');

/** Default cap on the number of features in one walk (a corrupt list cannot run forever). */
export const MAX_FEATURES = 1024;

/** What the walker needs from a device (a Device satisfies it; tests pass hand-built ones). */
export interface DflSource extends ConfigSource {
  region(index: number): Region;
}

export interface WalkOptions {
  /** Give up with EDFL_TOO_MANY after this many features (default MAX_FEATURES). */
  maxFeatures?: number;
}

/** Where one list starts, and how it was found. */
export interface DflList {
  bar: number;
  offset: number;
  source: 'vsec' | 'fme' | 'port-table' | 'port-bar0';
  /** Port index in the FME port table (source 'port-table'). */
  port?: number;
  /** PORT_OFFSET[55]: the port is meant for a VF (still enumerated on the PF, as dfl-pci.c does). */
  vfOnly?: boolean;
}

export interface DflWalk {
  /** How the lists were found: the VSEC, the FME port table, or a Port at BAR0 (a VF). */
  discovery: 'vsec' | 'fme-port-table' | 'port';
  lists: DflList[];
  /** The roots (FIUs) in discovery order. */
  features: Feature[];
  /** Number of feature nodes in the tree. */
  count: number;
  /** Things skipped that the kernel also skips (unknown DFH types, ignored NEXT_AFU, ...). */
  warnings: string[];
}

/** Find every DFL of the device and walk them. */
export function walkDfl(dev: DflSource, options: WalkOptions = {}): DflWalk {
  const lists = locateDfls(dev, options);
  const walker = new Walker(dev, options.maxFeatures ?? MAX_FEATURES);
  for (const list of lists.lists) {
    if (list.source === 'port-table' && walker.isVisited(list.bar, list.offset)) {
      walker.warn(`port table entry ${list.port} points at BAR${list.bar}+${hex(list.offset)}, already walked from the FME list; not walked twice`);
      continue;
    }
    walker.walkList(list.bar, list.offset);
  }
  log('walked %d features in %d lists (%s)', walker.count, lists.lists.length, lists.discovery);
  return { discovery: lists.discovery, lists: lists.lists, features: walker.roots, count: walker.count, warnings: walker.warnings };
}

/** Where the device's lists start (without walking them). */
export function locateDfls(dev: DflSource, options: WalkOptions = {}): { discovery: DflWalk['discovery']; lists: DflList[] } {
  const vsec = readDflVsec(dev);
  if (vsec) {
    if (vsec.length === 0) {
      throw new DflError('EDFL_VSEC_EMPTY', 'DFL VSEC lists 0 DFLs; the card describes no features (check the FPGA image)', { count: 0 });
    }
    return { discovery: 'vsec', lists: vsec.map((d) => ({ bar: d.bar, offset: d.offset, source: 'vsec' as const })) };
  }
  // Fallback (dfl-pci.c find_dfls_by_default): BAR0 offset 0 is an FME or a Port.
  const bar0 = dev.regionCount > 0 ? dev.regionInfo(0).size : 0;
  if (bar0 < DFH_SIZE) {
    throw new DflError('EDFL_NO_LIST', `no DFL VSEC and BAR0 is ${bar0 === 0 ? 'absent' : 'too small'}; this is not a DFL device (or its BAR0 is not exposed)`, { bar: 0, size: bar0 });
  }
  const region = dev.region(0);
  const dfh = decodeDfh(region.read64(0));
  if (dfh.type === DfhType.FIU && dfh.id === FiuId.FME) {
    const lists: DflList[] = [{ bar: 0, offset: 0, source: 'fme' }];
    if (region.size < FmeReg.CAP + 8) throw dflError('EDFL_HEADER_SHORT', 0, 0, `BAR0 (size ${hex(region.size)}) ends inside the FME header; FME_CAP at +0x30 is missing`);
    const ports = Number(fieldGet(FME_CAP.NUM_PORTS, region.read64(FmeReg.CAP)));
    if (ports <= MAX_PORTS && region.size < fmePortOffsetReg(ports)) {
      throw dflError('EDFL_HEADER_SHORT', 0, 0, `BAR0 (size ${hex(region.size)}) ends inside the FME's port table (${ports} PORT_OFFSET registers from +0x38)`, { size: region.size });
    }
    if (ports > MAX_PORTS) {
      throw dflError('EDFL_PORT_COUNT', 0, FmeReg.CAP, `FME_CAP[19:17] says ${ports} ports, more than the ${MAX_PORTS} an FME can have (dfl.h MAX_DFL_FPGA_PORT_NUM); the FME header is corrupt`, { register: 'FME_CAP', count: ports, limit: MAX_PORTS });
    }
    for (let n = 0; n < ports; n++) {
      const reg = fmePortOffsetReg(n);
      const v = region.read64(reg);
      if ((v & FME_PORT_OFST.IMP) === 0n) continue;
      const bar = Number(fieldGet(FME_PORT_OFST.BAR_ID, v));
      const offset = Number(fieldGet(FME_PORT_OFST.DFH_OFST, v));
      // dfl-pci.c find_dfls_by_default: an unimplemented port (above) and BAR 7 are skipped; any
      // other BAR >= PCI_STD_NUM_BARS fails the whole enumeration ("bad BAR %d for port %d",
      // -EINVAL). It does not look at the access bit [55]: a VF-only port is enumerated on the PF
      // too (dfl.c releases it to a VF only when SR-IOV is enabled).
      if (bar === FME_PORT_OFST.BAR_SKIP) continue;
      if (bar >= PCI_STD_NUM_BARS) {
        throw dflError('EDFL_PORT_BAR', 0, reg, `PORT_OFFSET(${n}) names BAR${bar}: a PCI function has BARs 0-5, and 7 means "no port" (dfl-pci.c: "bad BAR ${bar} for port ${n}"); the FME header is corrupt`, { register: `PORT_OFFSET(${n})`, port: n, portBar: bar });
      }
      // A BAR 0-5 the device lacks, or an offset outside it, passes find_dfls_by_default but fails
      // the kernel's mapping of the list (a length that wraps); refused here with the reason.
      const size = bar < dev.regionCount ? dev.regionInfo(bar).size : 0;
      if (size === 0) {
        throw dflError('EDFL_PORT_BAR', 0, reg, `PORT_OFFSET(${n}) names BAR${bar}, which the device does not have; the FME header is corrupt`, { register: `PORT_OFFSET(${n})`, port: n, portBar: bar });
      }
      if (offset + DFH_SIZE > size || (offset & 7) !== 0) {
        throw dflError('EDFL_PORT_OFFSET', 0, reg, `PORT_OFFSET(${n}) puts port ${n} at BAR${bar}+${hex(offset)}, ${(offset & 7) !== 0 ? 'not on a 64-bit boundary' : `outside the BAR (size ${hex(size)})`}`, { register: `PORT_OFFSET(${n})`, port: n, portBar: bar, portOffset: offset, size });
      }
      lists.push({ bar, offset, source: 'port-table', port: n, ...((v & FME_PORT_OFST.ACC_CTRL) !== 0n ? { vfOnly: true } : {}) });
    }
    return { discovery: 'fme-port-table', lists };
  }
  if (dfh.type === DfhType.FIU && dfh.id === FiuId.PORT) return { discovery: 'port', lists: [{ bar: 0, offset: 0, source: 'port-bar0' }] };
  throw dflError('EDFL_NO_LIST', 0, 0, `no DFL VSEC, and the header at BAR0+0 (${hex(dfh.raw, 16)}) is neither an FME nor a Port FIU; this is not a DFL device, or the FPGA is not configured`, { dfh: hex(dfh.raw, 16) });
}

class Walker {
  readonly roots: Feature[] = [];
  readonly warnings: string[] = [];
  count = 0;
  #visited = new Set<number>();
  #dev: DflSource;
  #max: number;

  constructor(dev: DflSource, max: number) {
    this.#dev = dev;
    this.#max = max;
  }

  warn(message: string): void {
    this.warnings.push(message);
    log(message);
  }

  isVisited(bar: number, offset: number): boolean {
    return this.#visited.has(bar * 0x1_0000_0000 + offset);
  }

  #visit(bar: number, offset: number): void {
    const key = bar * 0x1_0000_0000 + offset;
    if (this.#visited.has(key)) {
      throw dflError('EDFL_CYCLE', bar, offset, 'this feature is reached a second time (a cycle, or two lists overlapping); the card\'s DFL is corrupt');
    }
    this.#visited.add(key);
    if (++this.count > this.#max) {
      throw dflError('EDFL_TOO_MANY', bar, offset, `more than ${this.#max} features; the list does not end (raise maxFeatures only if the card really has that many)`, { limit: this.#max });
    }
  }

  #region(bar: number): Region {
    return this.#dev.region(bar);
  }

  /** Walk one list from its first DFH until EOL. FIUs become roots; what follows an FIU is its child. */
  walkList(bar: number, start: number): void {
    const region = this.#region(bar);
    const barSize = region.size;
    let fiu: Feature | undefined;
    // A Port's AFU goes after the Port's private features in its children.
    let afu: Feature | undefined;
    const closeGroup = (): void => {
      if (fiu && afu) fiu.children.push(afu);
      afu = undefined;
    };
    let offset = start;
    if (offset + DFH_SIZE > barSize) throw dflError('EDFL_OUTSIDE', bar, offset, `the list starts outside BAR${bar} (size ${hex(barSize)})`, { size: barSize });
    if ((offset & 7) !== 0) throw dflError('EDFL_MISALIGNED', bar, offset, 'the list does not start on a 64-bit boundary');
    for (;;) {
      this.#visit(bar, offset);
      const dfh = decodeDfh(region.read64(offset));
      const size = this.#featureSize(bar, offset, dfh, barSize);
      const type = featureTypeOf(dfh.type);
      if (type === 'fiu') {
        closeGroup();
        const node = this.#fiu(region, bar, offset, dfh, size);
        fiu = node.fiu;
        afu = node.afu;
        this.roots.push(fiu);
      } else if (type === 'private' || type === 'bbb') {
        if (!fiu) {
          throw dflError('EDFL_ORPHAN', bar, offset, `a ${type} feature (ID ${hex(dfh.id)}) comes before any FIU header in its list; it belongs to no FME or Port (dfl.c parse_feature_private)`, { id: dfh.id });
        }
        fiu.children.push(this.#leaf(region, bar, offset, dfh, size, type, fiu.id));
      } else if (type === 'afu') {
        if (fiu?.id === FiuId.PORT) fiu.children.push(this.#afuNode(region, bar, offset, dfh, fiu, false));
        else this.warn(`BAR${bar}+${hex(offset)}: AFU header outside a Port; ignored (dfl.c: AFUs are only supported under a Port)`);
      } else {
        this.warn(`BAR${bar}+${hex(offset)}: DFH type ${dfh.type} is not defined; skipped`);
      }
      // dfl.c parse_feature_list: "stop parsing if EOL(End of List) is set or offset is 0".
      if (dfh.eol || dfh.next === 0) {
        if (!dfh.eol) this.warn(`BAR${bar}+${hex(offset)}: DFH ${hex(dfh.raw, 16)} has next offset 0 without EOL; the list ends here, as in dfl.c parse_feature_list`);
        closeGroup();
        return;
      }
      offset = this.#nextOffset(bar, offset, dfh, barSize);
    }
  }

  /**
   * Feature span: the next offset, or 4 KiB when it is 0 (dfl.c feature_size(), "workaround for
   * private features with invalid size"), EOL or not; a span past the end of the BAR is refused as
   * create_feature_instance refuses it (binfo->len - ofst < size: -EINVAL).
   */
  #featureSize(bar: number, offset: number, dfh: Dfh, barSize: number): number {
    if (dfh.next === 0) {
      if (DEFAULT_FEATURE_SIZE > barSize - offset) {
        throw dflError('EDFL_FEATURE_SIZE', bar, offset, `next offset 0 gives the feature the kernel's default 4 KiB (dfl.c feature_size), which runs past the end of BAR${bar} (size ${hex(barSize)}); the kernel refuses this list too`, { size: DEFAULT_FEATURE_SIZE, barSize });
      }
      return DEFAULT_FEATURE_SIZE;
    }
    if (dfh.next > barSize - offset) {
      if (dfh.eol) throw dflError('EDFL_FEATURE_SIZE', bar, offset, `the last feature's size ${hex(dfh.next)} runs past the end of BAR${bar} (size ${hex(barSize)})`, { size: dfh.next, barSize });
      throw dflError('EDFL_NEXT_OUTSIDE', bar, offset, `next offset ${hex(dfh.next)} points to ${hex(offset + dfh.next)}, outside BAR${bar} (size ${hex(barSize)})`, { next: dfh.next, target: offset + dfh.next, size: barSize });
    }
    if ((dfh.next & 7) !== 0) {
      throw dflError('EDFL_MISALIGNED', bar, offset, `next offset ${hex(dfh.next)} is not a multiple of 8; every DFH is a 64-bit register`, { next: dfh.next });
    }
    return dfh.next;
  }

  #nextOffset(bar: number, offset: number, dfh: Dfh, barSize: number): number {
    const next = offset + dfh.next;
    if (next + DFH_SIZE > barSize) {
      throw dflError('EDFL_NEXT_OUTSIDE', bar, offset, `next offset ${hex(dfh.next)} points to ${hex(next)}, outside BAR${bar} (size ${hex(barSize)})`, { next: dfh.next, target: next, size: barSize });
    }
    return next;
  }

  #need(bar: number, offset: number, size: number, bytes: number, what: string): void {
    if (size < bytes) {
      throw dflError('EDFL_HEADER_SHORT', bar, offset, `the feature is ${hex(size)} bytes, too small for its ${what} (${hex(bytes)} bytes)`, { size, need: bytes });
    }
  }

  #guid(region: Region, offset: number): string {
    return formatGuid(region.read64(offset + DfhReg.GUID_H), region.read64(offset + DfhReg.GUID_L));
  }

  #fiu(region: Region, bar: number, offset: number, dfh: Dfh, size: number): { fiu: Feature; afu?: Feature } {
    // FIU headers keep the v0 layout in both DFH versions: GUID at +0x08/+0x10, NEXT_AFU at +0x18
    // (dfl.c parse_feature_fiu reads NEXT_AFU whatever the version).
    this.#need(bar, offset, size, DfhReg.NEXT_AFU + 8, 'FIU header (GUID, NEXT_AFU)');
    const node = this.#node(bar, offset, dfh, size, 'fiu', fiuName(dfh.id));
    node.guid = this.#guid(region, offset);
    const nextAfu = Number(fieldGet(NEXT_AFU_NEXT_DFH_OFST, region.read64(offset + DfhReg.NEXT_AFU)));
    if (nextAfu !== 0) {
      if (dfh.id !== FiuId.PORT) {
        this.warn(`BAR${bar}+${hex(offset)}: ${node.name} has NEXT_AFU ${hex(nextAfu)}; only a Port has an AFU (dfl.c), ignored`);
      } else {
        const afuOffset = offset + nextAfu;
        if ((nextAfu & 7) !== 0) {
          throw dflError('EDFL_MISALIGNED', bar, offset, `NEXT_AFU ${hex(nextAfu)} is not a multiple of 8; the AFU's DFH must be a 64-bit register`, { register: 'NEXT_AFU', next: nextAfu });
        }
        if (afuOffset + DfhReg.NEXT_AFU > region.size) {
          throw dflError('EDFL_NEXT_OUTSIDE', bar, offset, `NEXT_AFU ${hex(nextAfu)} points to ${hex(afuOffset)}, outside BAR${bar} (size ${hex(region.size)})`, { register: 'NEXT_AFU', target: afuOffset, size: region.size });
        }
        this.#visit(bar, afuOffset);
        return { fiu: node, afu: this.#afuNode(region, bar, afuOffset, decodeDfh(region.read64(afuOffset)), node, true) };
      }
    }
    return { fiu: node };
  }

  /** The AFU behind a Port: its MMIO span is PORT_CAP[23:8] KiB (dfl.c parse_feature_port_afu). */
  #afuNode(region: Region, bar: number, offset: number, dfh: Dfh, port: Feature, walkChain: boolean): Feature {
    if (port.size < PortReg.CAP + 8) this.#need(port.bar, port.offset, port.size, PortReg.CAP + 8, 'Port header (PORT_CAP)');
    let size = Number(fieldGet(PORT_CAP.MMIO_SIZE, this.#region(port.bar).read64(port.offset + PortReg.CAP))) * 1024;
    if (size === 0) {
      this.warn(`BAR${port.bar}+${hex(port.offset)}: PORT_CAP MMIO size is 0; the AFU span is taken from its DFH`);
      size = dfh.next !== 0 ? dfh.next : DEFAULT_FEATURE_SIZE;
    }
    if (size > region.size - offset) {
      throw dflError('EDFL_AFU_SIZE', bar, offset, `the AFU's MMIO (${hex(size)} bytes from PORT_CAP) runs past the end of BAR${bar} (size ${hex(region.size)})`, { size, barSize: region.size });
    }
    this.#need(bar, offset, size, DfhReg.GUID_H + 8, 'AFU header (GUID)');
    if (dfh.type !== DfhType.AFU) this.warn(`BAR${bar}+${hex(offset)}: the Port's AFU header has DFH type ${dfh.type}, not 1 (AFU)`);
    const node = this.#node(bar, offset, dfh, size, 'afu', 'afu');
    node.guid = this.#guid(region, offset);
    if (dfh.version === 1) this.#v1(region, node, size);
    if (walkChain && !dfh.eol && dfh.next !== 0) this.#afuChain(region, node);
    return node;
  }

  /**
   * BBBs and private features an AFU chains from its own DFH, confined to the AFU's MMIO span. The
   * kernel does not walk this chain; it is AFU-defined content, so a malformed chain is a warning.
   */
  #afuChain(region: Region, afu: Feature): void {
    const end = afu.offset + afu.size;
    let offset = afu.offset;
    let dfh = decodeDfh(region.read64(offset));
    try {
      while (!dfh.eol) {
        if (dfh.next === 0) throw dflError('EDFL_ZERO_SIZE', afu.bar, offset, 'next offset 0 without EOL in the AFU chain');
        if ((dfh.next & 7) !== 0) throw dflError('EDFL_MISALIGNED', afu.bar, offset, `AFU chain next offset ${hex(dfh.next)} is not a multiple of 8`);
        offset += dfh.next;
        if (offset + DFH_SIZE > end) throw dflError('EDFL_NEXT_OUTSIDE', afu.bar, offset - dfh.next, `AFU chain next offset points to ${hex(offset)}, outside the AFU's MMIO (ends at ${hex(end)})`);
        this.#visit(afu.bar, offset);
        dfh = decodeDfh(region.read64(offset));
        const size = dfh.next === 0 ? Math.min(DEFAULT_FEATURE_SIZE, end - offset) : Math.min(dfh.next, end - offset);
        const type = featureTypeOf(dfh.type) ?? 'bbb';
        afu.children.push(this.#leaf(region, afu.bar, offset, dfh, size, type === 'fiu' ? 'bbb' : type, undefined));
      }
    } catch (err) {
      if (!(err instanceof DflError) || err.code === 'EDFL_TOO_MANY') throw err;
      this.warn(`AFU at BAR${afu.bar}+${hex(afu.offset)}: its feature chain is malformed and was not followed further: ${err.message}`);
    }
  }

  #leaf(region: Region, bar: number, offset: number, dfh: Dfh, size: number, type: 'private' | 'bbb' | 'afu', fiuId: number | undefined): Feature {
    const name = type === 'private' ? privateFeatureName(fiuId, dfh.id) : `${type}-${hex(dfh.id)}`;
    const node = this.#node(bar, offset, dfh, size, type, name);
    if ((type !== 'private' || dfh.version === 1) && size >= DfhReg.GUID_H + 8) node.guid = this.#guid(region, offset);
    if (dfh.version === 1) this.#v1(region, node, size);
    else if (type === 'private') {
      const irq = this.#v0Irq(region, offset, size, fiuId, dfh.id);
      if (irq) node.irq = irq;
    }
    return node;
  }

  #node(bar: number, offset: number, dfh: Dfh, size: number, type: Feature['type'], name: string): Feature {
    if (dfh.version > 1) this.warn(`BAR${bar}+${hex(offset)}: DFH version ${dfh.version} is unknown; decoded as v0`);
    return { bar, offset, type, id: dfh.id, name, revision: dfh.revision, minorRevision: dfh.minorRevision, version: dfh.version, size, children: [] };
  }

  /** v1: the CSR block and the parameter list, bound-checked against the feature (dfl.c dfh_get_param_size). */
  #v1(region: Region, node: Feature, size: number): void {
    const { bar, offset } = node;
    this.#need(bar, offset, size, DfhReg.V1_PARAM_HDR, 'DFHv1 header (CSR address and size)');
    node.csr = decodeV1Csr(region.read64(offset + DfhReg.V1_CSR_ADDR), region.read64(offset + DfhReg.V1_CSR_SIZE_GRP));
    if (!node.csr.hasParams) return;
    const params: DflParam[] = [];
    let rel: number = DfhReg.V1_PARAM_HDR;
    for (;;) {
      if (rel + 8 > size) {
        throw dflError('EDFL_PARAM_OVERRUN', bar, offset, `DFHv1 parameter header at +${hex(rel)} lies past the end of the feature (size ${hex(size)}); the parameter list has no end-of-parameters bit`, { param: rel, size });
      }
      const h = decodeParamHeader(region.read64(offset + rel));
      if (h.nextWords === 0) {
        throw dflError('EDFL_PARAM_NEXT', bar, offset, `DFHv1 parameter ${h.id} at +${hex(rel)} has next offset 0; every parameter must give its size (dfl.c dfh_get_param_size)`, { param: rel, paramId: h.id });
      }
      const end = rel + h.nextWords * 8;
      if (end > size) {
        throw dflError('EDFL_PARAM_OVERRUN', bar, offset, `DFHv1 parameter ${h.id} at +${hex(rel)} runs to +${hex(end)}, past the end of the feature (size ${hex(size)})`, { param: rel, paramId: h.id, end, size });
      }
      const data: bigint[] = [];
      for (let p = rel + 8; p < end; p += 8) data.push(region.read64(offset + p));
      params.push({ id: h.id, version: h.version, offset: rel, data });
      if (h.id === ParamId.MSI_X && data.length > 0) {
        const m = decodeMsixParam(data[0]!);
        node.irq = { firstVector: m.firstVector, count: m.count, source: 'msix-param' };
      }
      if (h.eop) break;
      rel = end;
    }
    node.params = params;
  }

  /** v0 interrupt capability registers (dfl.c parse_feature_irqs; dfl.md "IRQ capability registers"). */
  #v0Irq(region: Region, offset: number, size: number, fiuId: number | undefined, id: number): FeatureIrq | undefined {
    const read = (reg: number): bigint | undefined => (reg + 8 <= size ? region.read64(offset + reg) : undefined);
    if (fiuId === FiuId.PORT && id === PortFeatureId.UINT) {
      const v = read(PORT_UINT_CAP.OFFSET);
      if (v === undefined) return undefined;
      const count = Number(fieldGet(PORT_UINT_CAP.INT_NUM, v));
      return count ? { firstVector: Number(fieldGet(PORT_UINT_CAP.FST_VECT, v)), count, source: 'port-uint-cap' } : undefined;
    }
    if (fiuId === FiuId.PORT && id === PortFeatureId.ERROR) {
      const v = read(PORT_ERROR_CAP.OFFSET);
      if (v === undefined || (v & PORT_ERROR_CAP.SUPP_INT) === 0n) return undefined;
      return { firstVector: Number(fieldGet(PORT_ERROR_CAP.INT_VECT, v)), count: 1, source: 'port-error-cap' };
    }
    if (fiuId === FiuId.FME && id === FmeFeatureId.GLOBAL_ERROR) {
      const v = read(FME_ERROR_CAP.OFFSET);
      if (v === undefined || (v & FME_ERROR_CAP.SUPP_INT) === 0n) return undefined;
      return { firstVector: Number(fieldGet(FME_ERROR_CAP.INT_VECT, v)), count: 1, source: 'fme-error-cap' };
    }
    return undefined;
  }
}
