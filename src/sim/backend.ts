// The 'sim' backend: opens simulated cards by URL. Every open gives a FRESH card (its own clock,
// registers, IOMMU table). URL: sim:<variant>[?fault=reset-ack&fault=dma&afuGuid=<guid>
// &prInterfaceId=<uuid>&resetAckDelayUs=<n>&clock=real&prFault=crc&fpgaTemp=<C>&fpgaPower=<W>].
import type { Backend, DeviceFilter, DeviceToken, OpenOptions } from '../device/backend.js';
import { DeviceError } from '../errors.js';
import { realClock } from '../util/clock.js';
import { checkCelsius, createThermalModelFactory } from './thermal-model.js';
import { checkWatts, createPowerModelFactory } from './power-model.js';
import { bmcFeatureKey, simBmcFeature, type SimBmcOptions } from './bmc/sim-bmc.js';
import { NIOS_FAULTS, type NiosFault } from './bmc/nios-spi-model.js';
import { MAX10_FAULTS, type Max10Fault } from './bmc/max10-model.js';
import { PROVISIONED_SECURITY, type Max10Security } from './bmc/max10-flash.js';
import { MAX10_TIMING_PRESETS, scaleTiming, type Max10TimingPreset } from './bmc/max10-timing.js';
import { SimDevice } from './sim-device.js';
import { createPrEngineFactory, PR_FAULTS, type PrFault } from './pr-engine.js';
import { SIM_FAULTS, type SimCardOptions, type SimFault } from './sim-card.js';
import {
  SIM_PCI_CLASS, SIM_PCI_SUBSYSTEM_DEVICE, SIM_PCI_SUBSYSTEM_VENDOR, SIM_PCI_VENDOR, SIM_VARIANTS,
  SIM_VARIANT_DESCRIPTIONS, simPciIdentity, type SimVariant,
} from './identity.js';

const QUERY_KEYS = ['fault', 'afuGuid', 'prInterfaceId', 'resetAckDelayUs', 'clock', 'bmcTiming', 'bmcTimeScale', 'bmcFault', 'bmcLegacy', 'bmcSecurity', 'niosInitMs', 'prFault', 'fpgaTemp', 'fpgaPower'];
const BMC_TIMING_PRESETS = Object.keys(MAX10_TIMING_PRESETS) as Max10TimingPreset[];

/** A comma-separated list of fault names from `known` (a typed error names an unknown one and the known). */
function faultList<T extends string>(url: string, key: string, value: string, known: readonly T[], what: string): T[] {
  return value.split(',').map((f) => {
    if (!(known as readonly string[]).includes(f)) throw new DeviceError('EDEVICE_URL', `${url}: unknown ${what} "${f}"; known: ${known.join(', ')}`, { url, [key]: f, known: [...known] });
    return f as T;
  });
}

/**
 * Parse "sim:<variant>[?query]" into the variant and card options. BMC options become a
 * featureModels entry for the card's BMC feature ('fme:0xd' on the N3000 variants, 'fme:0xe' on
 * d5005; bmcFeatureKey) in `options`, and are returned as `bmc` too. BMC conditions:
 * bmcFault= also takes the Nios faults (nios-init-never, nios-retimer-error); bmcLegacy=<hex> makes
 * the BMC legacy (LEGACY_BUILD_VER reads that build version); niosInitMs= the Nios retimer init time;
 * bmcSecurity=provisioned gives the BMC root entry hashes, canceled keys and a flash count.
 */
export function parseSimUrl(url: string): { variant: SimVariant; options: SimCardOptions; bmc?: SimBmcOptions } {
  if (!url.startsWith('sim:')) throw new DeviceError('EDEVICE_URL', `"${url}" is not a sim URL; use sim:${SIM_VARIANTS.join(', sim:')}`, { url });
  const rest = url.slice(4);
  const q = rest.indexOf('?');
  const variant = (q < 0 ? rest : rest.slice(0, q)) as SimVariant;
  if (!(SIM_VARIANTS as readonly string[]).includes(variant)) {
    throw new DeviceError('EDEVICE_NOT_FOUND', `there is no simulated card "${variant}"; known: ${SIM_VARIANTS.map((v) => `sim:${v}`).join(', ')}`, { url, known: [...SIM_VARIANTS] });
  }
  const options: SimCardOptions = {};
  if (q >= 0) {
    const params = new URLSearchParams(rest.slice(q + 1));
    const faults: SimFault[] = [];
    const bmcFaults: Max10Fault[] = [];
    const prFaults: PrFault[] = [];
    const niosFaults: NiosFault[] = [];
    let legacy: number | undefined;
    let niosInitMs: number | undefined;
    let security: Max10Security | undefined;
    let bmcPreset: Max10TimingPreset | undefined;
    let bmcScale: number | undefined;
    for (const [key, value] of params) {
      switch (key) {
        case 'fault':
          faults.push(...faultList(url, key, value, SIM_FAULTS, 'fault'));
          break;
        case 'afuGuid': options.afuGuid = value; break;
        case 'prInterfaceId': options.prInterfaceId = value; break;
        case 'resetAckDelayUs': {
          const n = Number(value);
          if (!Number.isFinite(n) || n < 0) throw new DeviceError('EDEVICE_URL', `${url}: resetAckDelayUs "${value}" is not a non-negative number`, { url });
          options.resetAckDelayUs = n;
          break;
        }
        case 'clock':
          if (value !== 'real' && value !== 'virtual') throw new DeviceError('EDEVICE_URL', `${url}: clock must be "real" or "virtual", not "${value}"`, { url });
          if (value === 'real') options.clock = realClock;
          break;
        case 'bmcTiming':
          if (!(BMC_TIMING_PRESETS as string[]).includes(value)) {
            throw new DeviceError('EDEVICE_URL', `${url}: bmcTiming "${value}" is not a BMC timing preset; known: ${BMC_TIMING_PRESETS.join(', ')} (or give bmcTimeScale=<factor>)`, { url, bmcTiming: value, known: BMC_TIMING_PRESETS });
          }
          if (bmcPreset !== undefined && bmcPreset !== value) throw new DeviceError('EDEVICE_URL', `${url}: bmcTiming is given twice ("${bmcPreset}", "${value}"); give it once`, { url });
          bmcPreset = value as Max10TimingPreset;
          break;
        case 'bmcTimeScale': {
          const n = value.trim() === '' ? NaN : Number(value);
          if (!Number.isFinite(n) || n <= 0) {
            throw new DeviceError('EDEVICE_URL', `${url}: bmcTimeScale "${value}" is not a positive number; e.g. 0.01 runs the BMC 100x faster, 1 keeps the card's real timings`, { url, bmcTimeScale: value });
          }
          if (bmcScale !== undefined && bmcScale !== n) throw new DeviceError('EDEVICE_URL', `${url}: bmcTimeScale is given twice (${bmcScale}, ${n}); give it once`, { url });
          bmcScale = n;
          break;
        }
        case 'bmcFault':
          for (const f of value.split(',')) {
            if ((NIOS_FAULTS as readonly string[]).includes(f)) {
              niosFaults.push(f as NiosFault);
              continue;
            }
            if (!(MAX10_FAULTS as readonly string[]).includes(f)) {
              const known = [...MAX10_FAULTS, ...NIOS_FAULTS];
              throw new DeviceError('EDEVICE_URL', `${url}: unknown BMC fault "${f}"; known: ${known.join(', ')}`, { url, bmcFault: f, known });
            }
            bmcFaults.push(f as Max10Fault);
          }
          break;
        case 'prFault':
          prFaults.push(...faultList(url, key, value, PR_FAULTS, 'PR fault'));
          break;
        case 'bmcLegacy': {
          const n = /^(0x)?[0-9a-f]{1,8}$/i.test(value) ? parseInt(value, 16) : NaN;
          if (!Number.isInteger(n) || n === 0xffffffff) throw new DeviceError('EDEVICE_URL', `${url}: bmcLegacy "${value}" is not a legacy BMC build version (hex, not ffffffff)`, { url, bmcLegacy: value });
          legacy = n;
          break;
        }
        case 'bmcSecurity':
          // The BMC's security data at power-up (max10-flash.ts PROVISIONED_SECURITY); default none.
          if (value !== 'provisioned') throw new DeviceError('EDEVICE_URL', `${url}: bmcSecurity "${value}" is not a security preset; known: provisioned`, { url, bmcSecurity: value, known: ['provisioned'] });
          security = PROVISIONED_SECURITY;
          break;
        case 'niosInitMs': {
          const n = value.trim() === '' ? NaN : Number(value);
          if (!Number.isFinite(n) || n < 0) throw new DeviceError('EDEVICE_URL', `${url}: niosInitMs "${value}" is not a non-negative number of milliseconds`, { url, niosInitMs: value });
          niosInitMs = n;
          break;
        }
        case 'fpgaTemp':
        case 'fpgaPower': {
          // The FME thermal / power models start at this reading (degrees C / W).
          const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
          try {
            if (key === 'fpgaTemp') options.featureModels = { ...options.featureModels, 'fme:0x1': createThermalModelFactory({ temperatureC: checkCelsius('fpgaTemp', n) }) };
            else options.featureModels = { ...options.featureModels, 'fme:0x2': createPowerModelFactory({ consumedW: checkWatts('fpgaPower', n) }) };
          } catch (err) {
            throw new DeviceError('EDEVICE_URL', `${url}: ${(err as Error).message}`, { url, option: key, value });
          }
          break;
        }
        default:
          throw new DeviceError('EDEVICE_URL', `${url}: unknown option "${key}"; known: ${QUERY_KEYS.join(', ')}`, { url, option: key });
      }
    }
    if (faults.length) options.faults = faults;
    if (prFaults.length) options.featureModels = { ...options.featureModels, 'fme:0x5': createPrEngineFactory({ faults: prFaults }) };
    if (bmcPreset !== undefined || bmcScale !== undefined || bmcFaults.length || niosFaults.length || legacy !== undefined || niosInitMs !== undefined || security !== undefined) {
      const bmc: SimBmcOptions = {};
      if (security !== undefined) bmc.security = security;
      if (bmcPreset !== undefined || bmcScale !== undefined) bmc.timing = scaleTiming(MAX10_TIMING_PRESETS[bmcPreset ?? 'realistic'], bmcScale ?? 1);
      if (bmcFaults.length) bmc.faults = bmcFaults;
      if (legacy !== undefined) bmc.legacyBuildVersion = legacy;
      if (niosFaults.length || niosInitMs !== undefined) bmc.nios = { ...(niosFaults.length ? { faults: niosFaults } : {}), ...(niosInitMs !== undefined ? { initMs: niosInitMs } : {}) };
      options.featureModels = { ...options.featureModels, [bmcFeatureKey(variant)]: simBmcFeature(bmc) };
      return { variant, options, bmc };
    }
  }
  return { variant, options };
}

function matches(filter: DeviceFilter | undefined, variant: SimVariant): boolean {
  if (!filter) return true;
  return (filter.vendor === undefined || filter.vendor === SIM_PCI_VENDOR) &&
    (filter.device === undefined || filter.device === simPciIdentity(variant).device) &&
    (filter.classCode === undefined || filter.classCode === SIM_PCI_CLASS) &&
    (filter.subsystemVendor === undefined || filter.subsystemVendor === SIM_PCI_SUBSYSTEM_VENDOR) &&
    (filter.subsystemDevice === undefined || filter.subsystemDevice === SIM_PCI_SUBSYSTEM_DEVICE);
}

export const backend: Backend = {
  name: 'sim',
  schemes: ['sim'],
  supports: (deviceType) => deviceType === 'sim',
  enumerate(filter?: DeviceFilter): DeviceToken[] {
    return SIM_VARIANTS.filter((variant) => matches(filter, variant)).map((variant) => ({
      backend: 'sim',
      url: `sim:${variant}`,
      vendor: SIM_PCI_VENDOR,
      device: simPciIdentity(variant).device,
      subsystemVendor: SIM_PCI_SUBSYSTEM_VENDOR,
      subsystemDevice: SIM_PCI_SUBSYSTEM_DEVICE,
      classCode: SIM_PCI_CLASS,
      description: SIM_VARIANT_DESCRIPTIONS[variant],
    }));
  },
  open(url: string, options?: OpenOptions): SimDevice {
    const parsed = parseSimUrl(url);
    // Programmatic options (e.g. { clock, featureModels }) add to what the URL says; a model
    // given for the same feature replaces the URL's.
    const extra = options as SimCardOptions | undefined;
    const merged: SimCardOptions = { ...parsed.options, ...extra };
    if (parsed.options.featureModels && extra?.featureModels) merged.featureModels = { ...parsed.options.featureModels, ...extra.featureModels };
    return new SimDevice(parsed.variant, merged, url);
  },
};
