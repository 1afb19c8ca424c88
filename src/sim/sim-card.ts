// The simulated N3000-class card: register-accurate against reference/dfl.md. It owns the
// config space, BAR0 (FME + private features, Port + private features, AFU), BAR4 (MSI-X table
// and PBA), the IOMMU table, and the models of pluggable features (PR engine, BMC; see
// feature-model.ts and defaults.ts). SimDevice (sim-device.ts) wraps it as a Device.
//
// BAR0 layout (512 KiB):
//   0x00000 FME header (FIU 0), then its private features 4 KiB apart (or the model's size):
//           thermal 0x1, power 0x2, global error 0x4, PR 0x5, and the BMC's SPI window:
//           N3000 Nios 0xd (sim:n3000*, dfl-n3000-nios.c) or MAX10 SPI 0xe (sim:d5005, spi-altera-dfl.c)
//   0x40000 Port header (FIU 1); port error 0x10 at +0x1000; UINT 0x12 at +0x2000 (EOL)
//   0x60000 AFU (NEXT_AFU = 0x20000 from the Port), 128 KiB of MMIO (PORT_CAP[23:8] = 128)
// With the VSEC (n3000, n3000-dfh1) BAR0 is one list: the FME's last feature links to the Port.
// Without it (n3000-no-vsec) the FME list ends with EOL and PORT_OFFSET(0) locates the Port.
// In n3000-dfh1 the BMC feature is DFH v1 too: its registers are its CSR block (dfl.c).
// MSI-X vectors: 0 FME global error, 1 Port error, 2..5 AFU user interrupts (UINT), 6..7 spare.
import type { Clock } from '../util/clock.js';
import { VirtualClock } from '../util/clock.js';
import { logger, type Logger } from '../util/log.js';
import { ArgumentError, DeviceError, VfiokitError } from '../errors.js';
import { hex } from '../util/bytes.js';
import { encodeDfh, encodeMsixParam, encodeParamHeader } from '../dfl/dfh.js';
import { DfhReg, DfhType, FiuId, ParamId } from '../dfl/regs/dfh.js';
import { parseGuid } from '../dfl/guid.js';
import { FmeFeatureId, PortFeatureId } from '../dfl/names.js';
import { PortPowerState } from '../dfl/regs/fiu.js';
import type { FeatureModel, FeatureModelFactory, SimContext } from './feature-model.js';
import { defaultFeatureModels } from './defaults.js';
import { RegisterFile, type SimBlock } from './register-file.js';
import { FeatureBlock, type V1Header } from './feature-block.js';
import { FmeGlobalErrorBlock, FmeHeaderBlock, PrInterfaceIdBlock } from './fme-model.js';
import { PortErrorBlock, PortHeaderBlock, PortUintBlock } from './port-model.js';
import { thermalModelOf } from './thermal-model.js';
import { AfuModel } from './afu-model.js';
import { SimDmaMapper } from './sim-dma-mapper.js';
import { SimConfigSpace } from './config-space.js';
import { bmcFeatureId, boardOf } from './bmc/sim-bmc.js';
import {
  SIM_AFU_GUID, SIM_BITSTREAM_ID, SIM_BITSTREAM_MD, SIM_PR_INTERFACE_ID, SIM_VARIANTS, simPciIdentity, type SimVariant,
} from './identity.js';

export const SIM_BAR0_SIZE = 0x8_0000;
export const SIM_BAR4_SIZE = 0x4000;
export const SIM_PORT_OFFSET = 0x4_0000;
export const SIM_AFU_OFFSET = 0x6_0000;
export const SIM_AFU_MMIO_SIZE = 0x2_0000;
export const SIM_FEATURE_SIZE = 0x1000;
/** MSI-X table size and vector assignment. */
export const SIM_MSIX_VECTORS = 8;
export const SimVector = { FME_ERROR: 0, PORT_ERROR: 1, AFU_USER0: 2, SPARE0: 6, SPARE1: 7 } as const;
export const SIM_USER_INTERRUPTS = 4;
/** Where v1 private features put their CSR block (relative to the DFH). */
export const SIM_V1_CSR_OFFSET = 0x40;
/** Default delay from PORT_CTRL[0] changing to PORT_CTRL[4] following it. */
export const SIM_RESET_ACK_DELAY_US = 4;
/** MSI-X table and PBA (BAR4). */
export const SIM_MSIX_BAR = 4;
export const SIM_MSIX_TABLE_OFFSET = 0x0;
export const SIM_MSIX_PBA_OFFSET = 0x2000;

/** Injectable faults. */
export type SimFault =
  /** PORT_CTRL[4] never rises after PORT_CTRL[0] is set (port disable times out). */
  | 'reset-ack'
  /** Every DMA copy of the AFU ends with a device fault (DmaFault.INJECTED). */
  | 'dma'
  /** The port starts in power state AP6 (PORT_STS[11:8] = 6, fully throttled). */
  | 'ap6'
  /**
   * The function has no reset vfio-pci can do (no FLR, PM or bus reset: vfio_pci_core's
   * reset_works false, VFIO_DEVICE_FLAGS_RESET clear); reset() is refused.
   */
  | 'no-reset';
export const SIM_FAULTS: readonly SimFault[] = ['reset-ack', 'dma', 'ap6', 'no-reset'];

export interface SimCardOptions {
  /** The card's clock (default: a fresh VirtualClock). Flows wait through device.clock. */
  clock?: Clock;
  /** Faults switched on from the start (more can be switched later with device.sim.setFault). */
  faults?: readonly SimFault[] | Partial<Record<SimFault, boolean>>;
  /** GUID of the AFU at power-up (default SIM_AFU_GUID). */
  afuGuid?: string;
  /** The FIM's PR interface ID (default SIM_PR_INTERFACE_ID). */
  prInterfaceId?: string;
  /** Feature models keyed 'fme:0x5', 'port:0x10', ...; override defaultFeatureModels. */
  featureModels?: Record<string, FeatureModelFactory>;
  /** Plug no default models (only those in featureModels). */
  noDefaultModels?: boolean;
  /** PORT_CTRL ACK delay (default 4 us). */
  resetAckDelayUs?: number;
  /** AFU DMA engine timing (defaults 2 us + 4096 bytes/us). */
  dmaLatencyUs?: number;
  dmaBytesPerUs?: number;
}

/** A feature present on the card. */
export interface SimFeatureInfo {
  /** 'fme', 'fme:0x5', 'port', 'port:0x10', 'afu'. */
  key: string;
  bar: number;
  offset: number;
  size: number;
  version: number;
  model?: FeatureModel;
}

interface FeatureSpec {
  key: string;
  id: number;
  revision: number;
  body: SimBlock | undefined;
  model?: FeatureModel;
  size: number;
  v1?: V1Header;
}

const ALL_ONES = 0xffff_ffff_ffff_ffffn;

const loggers = new Map<string, Logger>();
/** One debug namespace per variant, made once (creating a debug instance per card is costly). */
function variantLogger(variant: string): Logger {
  let log = loggers.get(variant);
  if (!log) loggers.set(variant, (log = logger(`sim:${variant}`)));
  return log;
}
const PRIVATE_GUID_HIGH = 0x5ee0_0000_0000_4000n;
const PRIVATE_GUID_LOW = 0x8000_5c1a_7ed0_0000n;

function privateGuid(fiu: number, id: number): { high: bigint; low: bigint } {
  return { high: PRIVATE_GUID_HIGH | (BigInt(fiu) << 32n) | (BigInt(id) << 16n), low: PRIVATE_GUID_LOW | BigInt(id) };
}

function normalizeFaults(faults: SimCardOptions['faults']): Set<SimFault> {
  const out = new Set<SimFault>();
  if (!faults) return out;
  const list = Array.isArray(faults) ? faults : Object.entries(faults).filter(([, on]) => on).map(([k]) => k);
  for (const f of list as string[]) {
    if (!(SIM_FAULTS as readonly string[]).includes(f)) {
      throw new ArgumentError('EARG_SIM_FAULT', `unknown sim fault "${f}"; known: ${SIM_FAULTS.join(', ')}`, { fault: f });
    }
    out.add(f as SimFault);
  }
  return out;
}

export class SimCard {
  readonly variant: SimVariant;
  readonly clock: Clock;
  readonly log: Logger;
  readonly config: SimConfigSpace;
  readonly bar0 = new RegisterFile(SIM_BAR0_SIZE);
  readonly bar4 = new RegisterFile(SIM_BAR4_SIZE);
  readonly iommu: SimDmaMapper;
  readonly port: PortHeaderBlock;
  readonly portError: PortErrorBlock;
  /** The FME global error feature's registers (tests latch errors through it). */
  readonly fmeError: FmeGlobalErrorBlock;
  readonly afu: AfuModel;
  readonly prInterfaceId: string;
  readonly features: SimFeatureInfo[] = [];
  readonly context: SimContext;
  readonly #faults: Set<SimFault>;
  readonly #models: FeatureModel[] = [];
  readonly #msix = new BigUint64Array(SIM_MSIX_VECTORS * 2);
  #pending = 0n;
  /** Where raised vectors go (set by the SimDevice: the vector's eventfd). Returns false if not armed. */
  deliver: (vector: number) => boolean = () => false;
  /** Interrupts raised per vector (tests). */
  readonly raised = new Uint32Array(SIM_MSIX_VECTORS);

  constructor(variant: SimVariant, options: SimCardOptions = {}) {
    if (!(SIM_VARIANTS as readonly string[]).includes(variant)) {
      throw new ArgumentError('EARG_SIM_VARIANT', `unknown sim card variant "${String(variant)}"; known: ${SIM_VARIANTS.join(', ')}`, { variant });
    }
    this.variant = variant;
    for (const [name, min] of [['resetAckDelayUs', 0], ['dmaLatencyUs', 0], ['dmaBytesPerUs', Number.MIN_VALUE]] as const) {
      const v = options[name];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < min)) {
        throw new ArgumentError('EARG_SIM_OPTION', `sim card option ${name} = ${String(v)} must be a finite number ${min === 0 ? '>= 0' : '> 0'}`, { option: name, value: String(v) });
      }
    }
    this.clock = options.clock ?? new VirtualClock();
    this.log = variantLogger(variant);
    this.#faults = normalizeFaults(options.faults);
    this.prInterfaceId = (options.prInterfaceId ?? SIM_PR_INTERFACE_ID).toLowerCase();
    parseGuid(this.prInterfaceId);
    const afuGuid = options.afuGuid ?? SIM_AFU_GUID;
    parseGuid(afuGuid);
    this.iommu = new SimDmaMapper(`sim:${variant} IOMMU`);
    const v1 = variant === 'n3000-dfh1';
    const vsec = variant !== 'n3000-no-vsec';

    this.context = {
      clock: this.clock,
      log: this.log,
      prInterfaceId: this.prInterfaceId,
      variant,
      loadAfu: (port, guid) => this.loadAfu(port, guid),
      // A port the card does not have is never held in reset (a PR engine then refuses the
      // region the host named, as hardware would, instead of failing the register write).
      portInReset: (port) => port === 0 && this.port.inReset,
      raiseInterrupt: (vector) => this.raiseInterrupt(vector),
    };

    this.port = new PortHeaderBlock({
      number: 0,
      clock: this.clock,
      nextAfu: SIM_AFU_OFFSET - SIM_PORT_OFFSET,
      mmioSizeKiB: SIM_AFU_MMIO_SIZE / 1024,
      userInterrupts: SIM_USER_INTERRUPTS,
      resetAckDelayUs: options.resetAckDelayUs ?? SIM_RESET_ACK_DELAY_US,
      onReset: () => this.afu.reset(),
      ackNever: () => this.#faults.has('reset-ack'),
      throttle: () => thermalModelOf(this.context),
    });
    if (this.#faults.has('ap6')) this.port.powerState = PortPowerState.AP6;
    this.portError = new PortErrorBlock(SimVector.PORT_ERROR, () => this.raiseInterrupt(SimVector.PORT_ERROR));
    this.afu = new AfuModel({
      guid: afuGuid,
      clock: this.clock,
      log: this.log,
      dma: this.iommu,
      inReset: () => this.port.inReset,
      userInterrupt: (n) => this.raiseInterrupt(SimVector.AFU_USER0 + n),
      userInterrupts: SIM_USER_INTERRUPTS,
      dmaFault: () => this.#faults.has('dma'),
      dmaLatencyUs: options.dmaLatencyUs,
      dmaBytesPerUs: options.dmaBytesPerUs,
    });

    // Pluggable models: defaults, overridden by options; unknown keys in options are an error.
    const factories: Record<string, FeatureModelFactory> = { ...(options.noDefaultModels ? {} : defaultFeatureModels), ...(options.featureModels ?? {}) };
    const bmcId = bmcFeatureId(boardOf(variant));
    const known = ['fme:0x1', 'fme:0x2', 'fme:0x4', 'fme:0x5', `fme:${hex(bmcId)}`, 'port:0x10', 'port:0x12'];
    for (const key of Object.keys(options.featureModels ?? {})) {
      if (!known.includes(key)) throw new ArgumentError('EARG_SIM_MODEL', `the sim card has no feature "${key}" to plug a model into; features: ${known.join(', ')}`, { key });
    }
    const modelFor = (key: string): FeatureModel | undefined => {
      const factory = factories[key];
      if (!factory) return undefined;
      const model = factory(this.context);
      if (!model || !Number.isInteger(model.size) || model.size < 8 || model.size % 8 !== 0 || model.size > 0x2_0000) {
        throw new ArgumentError('EARG_SIM_MODEL', `feature model "${key}" reports size ${String(model?.size)}; it must be a multiple of 8 between 8 and 0x20000 bytes`, { key });
      }
      this.#models.push(model);
      return model;
    };
    const v1Header = (fiu: number, id: number, irq?: { first: number; count: number }): V1Header | undefined => {
      if (!v1) return undefined;
      const g = privateGuid(fiu, id);
      const params = irq ? [encodeParamHeader({ id: ParamId.MSI_X, version: 0, eop: true, nextWords: 2 }), encodeMsixParam(irq.first, irq.count)] : [];
      return { guidHigh: g.high, guidLow: g.low, csrOffset: SIM_V1_CSR_OFFSET, csrSize: SIM_FEATURE_SIZE - SIM_V1_CSR_OFFSET, params };
    };
    // Features a model answers keep the v0 layout (their drivers index registers from the DFH,
    // which the v1 header words at +0x08..+0x28 would shadow), except thermal, power, PR and the BMC window: in
    // the v1 variant they are v1 with their registers in the CSR block, as the kernel maps them
    // (dfl.c create_feature_instance: mmio_res = the CSR block) and the host uses them
    // (card-pr.ts, feature-ref.ts).
    const v1Model = new Set([`fme:${hex(FmeFeatureId.THERMAL)}`, `fme:${hex(FmeFeatureId.POWER)}`, `fme:${hex(FmeFeatureId.PR)}`, `fme:${hex(bmcId)}`]);
    const privateSpec = (fiu: number, id: number, revision: number, body: SimBlock | undefined, irq?: { first: number; count: number }): FeatureSpec => {
      const key = `${fiu === FiuId.FME ? 'fme' : 'port'}:${hex(id)}`;
      const model = modelFor(key);
      if (model) {
        const size = Math.ceil(model.size / SIM_FEATURE_SIZE) * SIM_FEATURE_SIZE;
        return { key, id, revision, body: guardModel(key, model), model, size, v1: v1Model.has(key) ? v1Header(fiu, id) : undefined };
      }
      return { key, id, revision, body, size: SIM_FEATURE_SIZE, v1: v1Header(fiu, id, irq) };
    };

    // FME list.
    const fmeHeader = new FmeHeaderBlock({ ports: [{ bar: 0, offset: SIM_PORT_OFFSET }], bitstreamId: SIM_BITSTREAM_ID, bitstreamMd: SIM_BITSTREAM_MD });
    const fmeFeatures: FeatureSpec[] = [
      privateSpec(FiuId.FME, FmeFeatureId.THERMAL, 1, undefined),
      privateSpec(FiuId.FME, FmeFeatureId.POWER, 1, undefined),
      privateSpec(FiuId.FME, FmeFeatureId.GLOBAL_ERROR, 1, (this.fmeError = new FmeGlobalErrorBlock(SimVector.FME_ERROR, () => this.raiseInterrupt(SimVector.FME_ERROR))), { first: SimVector.FME_ERROR, count: 1 }),
      privateSpec(FiuId.FME, FmeFeatureId.PR, 2, new PrInterfaceIdBlock(this.prInterfaceId)),
      privateSpec(FiuId.FME, bmcId, 0, undefined),
    ];
    let offset = 0;
    const fmeBlock = new FeatureBlock(0n, fmeHeader);
    this.#place('fme', 0, SIM_FEATURE_SIZE, fmeBlock, 0);
    const blocks: { block: FeatureBlock; offset: number; size: number }[] = [{ block: fmeBlock, offset: 0, size: SIM_FEATURE_SIZE }];
    offset = SIM_FEATURE_SIZE;
    for (const f of fmeFeatures) {
      if (offset + f.size > SIM_PORT_OFFSET) throw new ArgumentError('EARG_SIM_MODEL', `the FME features (with feature model sizes) do not fit below the Port at ${hex(SIM_PORT_OFFSET)}`);
      const block = new FeatureBlock(0n, f.body, f.v1);
      this.#place(f.key, offset, f.size, block, f.v1 ? 1 : 0, f.model);
      blocks.push({ block, offset, size: f.size });
      offset += f.size;
    }
    // Chain the FME list: FIU header, then private features; the last links to the Port (VSEC
    // variants: one list) or ends the list (port-table variant).
    fmeBlock.dfh = encodeDfh({ type: DfhType.FIU, id: FiuId.FME, revision: 1, next: SIM_FEATURE_SIZE });
    for (let i = 1; i < blocks.length; i++) {
      const b = blocks[i]!;
      const f = fmeFeatures[i - 1]!;
      const last = i === blocks.length - 1;
      const next = last ? (vsec ? SIM_PORT_OFFSET - b.offset : 0) : blocks[i + 1]!.offset - b.offset;
      b.block.dfh = encodeDfh({ type: DfhType.PRIVATE, id: f.id, revision: f.revision, next, eol: last && !vsec, version: f.v1 ? 1 : 0 });
    }

    // Port list: header, error, UINT (EOL); NEXT_AFU -> AFU.
    const portFeatures = [
      privateSpec(FiuId.PORT, PortFeatureId.ERROR, 1, this.portError, { first: SimVector.PORT_ERROR, count: 1 }),
      privateSpec(FiuId.PORT, PortFeatureId.UINT, 0, new PortUintBlock(SimVector.AFU_USER0, SIM_USER_INTERRUPTS), { first: SimVector.AFU_USER0, count: SIM_USER_INTERRUPTS }),
    ];
    const portBlock = new FeatureBlock(encodeDfh({ type: DfhType.FIU, id: FiuId.PORT, revision: 1, next: SIM_FEATURE_SIZE }), this.port);
    this.#place('port', SIM_PORT_OFFSET, SIM_FEATURE_SIZE, portBlock, 0);
    offset = SIM_PORT_OFFSET + SIM_FEATURE_SIZE;
    portFeatures.forEach((f, i) => {
      const last = i === portFeatures.length - 1;
      if (offset + f.size > SIM_AFU_OFFSET) throw new ArgumentError('EARG_SIM_MODEL', `the Port features do not fit below the AFU at ${hex(SIM_AFU_OFFSET)}`);
      const dfh = encodeDfh({ type: DfhType.PRIVATE, id: f.id, revision: f.revision, next: last ? 0 : f.size, eol: last, version: f.v1 ? 1 : 0 });
      this.#place(f.key, offset, f.size, new FeatureBlock(dfh, f.body, f.v1), f.v1 ? 1 : 0, f.model);
      offset += f.size;
    });

    // AFU: v1 in the dfh1 variant (CSR block = its MMIO, MSI-X parameter = its user interrupts).
    const afuHeader: V1Header | undefined = v1
      ? { guidHigh: 0n, guidLow: 0n, csrOffset: 0, csrSize: SIM_AFU_MMIO_SIZE, params: [encodeParamHeader({ id: ParamId.MSI_X, eop: true, nextWords: 2 }), encodeMsixParam(SimVector.AFU_USER0, SIM_USER_INTERRUPTS)] }
      : undefined;
    const afuBlock = new AfuBlock(encodeDfh({ type: DfhType.AFU, id: 0, revision: 0, eol: true, version: v1 ? 1 : 0 }), this.afu, afuHeader);
    this.#place('afu', SIM_AFU_OFFSET, SIM_AFU_MMIO_SIZE, afuBlock, v1 ? 1 : 0);

    // BAR4: MSI-X table (16 bytes per vector) and PBA.
    this.bar4.add(SIM_MSIX_TABLE_OFFSET, 0x1000, {
      read64: (rel) => (rel >> 3 < this.#msix.length ? this.#msix[rel >> 3]! : 0n),
      write64: (rel, v) => { if (rel >> 3 < this.#msix.length) this.#msix[rel >> 3] = v; },
    });
    this.bar4.add(SIM_MSIX_PBA_OFFSET, 0x1000, { read64: (rel) => (rel === 0 ? this.#pending : 0n), write64: () => {} });

    this.config = new SimConfigSpace(`sim:${variant}`, {
      ...simPciIdentity(variant),
      bars: [
        { index: 0, size: SIM_BAR0_SIZE, address: 0x38_0000_0000n },
        { index: SIM_MSIX_BAR, size: SIM_BAR4_SIZE, address: 0x38_0008_0000n },
      ],
      msix: { vectors: SIM_MSIX_VECTORS, tableBar: SIM_MSIX_BAR, tableOffset: SIM_MSIX_TABLE_OFFSET, pbaBar: SIM_MSIX_BAR, pbaOffset: SIM_MSIX_PBA_OFFSET },
      vsec: vsec ? [{ bar: 0, offset: 0 }] : undefined,
    });
  }

  #place(key: string, offset: number, size: number, block: SimBlock, version: number, model?: FeatureModel): void {
    this.bar0.add(offset, size, block);
    this.features.push({ key, bar: 0, offset, size, version, ...(model ? { model } : {}) });
  }

  hasFault(fault: SimFault): boolean {
    return this.#faults.has(fault);
  }

  setFault(fault: SimFault, on: boolean): void {
    normalizeFaults([fault]);
    if (on) this.#faults.add(fault);
    else this.#faults.delete(fault);
  }

  /** PR success: the port's AFU becomes `guid` (state reset). */
  loadAfu(port: number, guid: string): void {
    if (port !== 0) throw new ArgumentError('EARG_SIM_PORT', `the sim card has 1 port (0); cannot load an AFU into port ${port}`, { port });
    this.afu.setGuid(guid);
    this.log('port %d: AFU is now %s', port, guid);
  }

  /** Signal an MSI-X vector: to its eventfd when armed, else it stays pending in the PBA. */
  raiseInterrupt(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector >= SIM_MSIX_VECTORS) {
      throw new ArgumentError('EARG_SIM_VECTOR', `MSI-X vector ${String(vector)} does not exist; the sim card has vectors 0..${SIM_MSIX_VECTORS - 1}`, { vector });
    }
    this.raised[vector]!++;
    if (this.deliver(vector)) this.#pending &= ~(1n << BigInt(vector));
    else this.#pending |= 1n << BigInt(vector);
  }

  /** Function-level reset: every model back to power-on state (the AFU keeps its GUID). */
  reset(): void {
    this.port.reset();
    this.portError.reset();
    this.afu.reset();
    this.#msix.fill(0n);
    this.#pending = 0n;
    for (const m of this.#models) m.reset?.();
  }

  /** Stop timers (device close). */
  close(): void {
    this.afu.reset();
    this.iommu.close();
  }
}

/**
 * A plugged model's registers, with any failure inside the model turned into a typed DeviceError
 * (naming the feature and offset) instead of an untyped exception out of a register access.
 */
function guardModel(key: string, model: FeatureModel): SimBlock {
  const fail = (what: string, rel: number, err: unknown): never => {
    if (err instanceof VfiokitError) throw err;
    throw new DeviceError('ESIM_MODEL', `sim feature model ${key}: ${what} at +${hex(rel)} failed: ${(err as Error)?.message ?? String(err)}`, { feature: key, offset: rel }, { cause: err });
  };
  return {
    read64(rel: number): bigint {
      try {
        return model.read64(rel);
      } catch (err) {
        return fail('read', rel, err);
      }
    },
    write64(rel: number, value: bigint): void {
      try {
        model.write64(rel, value);
      } catch (err) {
        fail('write', rel, err);
      }
    },
  };
}

/** The AFU's DFH and v1 header, with the AFU model behind (GUID registers come from the model). */
class AfuBlock extends FeatureBlock {
  readonly #afu: AfuModel;
  constructor(dfh: bigint, afu: AfuModel, v1: V1Header | undefined) {
    super(dfh, afu, v1);
    this.#afu = afu;
  }
  override read64(rel: number): bigint {
    // The AFU answers all ones while its port is in reset; GUID_L/H follow the loaded AFU.
    if (this.#afu.silent) return ALL_ONES;
    if (rel === DfhReg.GUID_L || rel === DfhReg.GUID_H) return this.#afu.read64(rel);
    return super.read64(rel);
  }
}
