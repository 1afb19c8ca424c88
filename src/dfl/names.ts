// Feature names keyed by (FIU type, feature ID): the same ID means different things under the FME
// and under a Port (reference/dfl.md "Feature IDs"; dfl.h FME_FEATURE_ID_* / PORT_FEATURE_ID_*).
import { FiuId } from './regs/dfh.js';
import { hex } from '../util/bytes.js';

/** FME private feature IDs (dfl.h FME_FEATURE_ID_*, dfl.md). */
export const FmeFeatureId = {
  THERMAL: 0x1,
  POWER: 0x2,
  GLOBAL_PERF: 0x3,
  GLOBAL_ERROR: 0x4,
  PR: 0x5,
  HSSI: 0x6,
  GLOBAL_DPERF: 0x7,
  QSPI_FLASH: 0x8,
  EMIF: 0x9,
  NIOS_SPI: 0xd,
  MAX10_SPI: 0xe,
  I2C_MASTER: 0xf,
  ETHERNET_GROUP: 0x10,
  PMCI: 0x12,
} as const;

/** Port private feature IDs (dfl.h PORT_FEATURE_ID_*, dfl.md). */
export const PortFeatureId = {
  ERROR: 0x10,
  UMSG: 0x11,
  UINT: 0x12,
  STP: 0x13,
  USER_CLOCK: 0x14,
} as const;

const FIU_NAMES: Record<number, string> = { [FiuId.FME]: 'fme', [FiuId.PORT]: 'port' };

const FME_NAMES: Record<number, string> = {
  [FmeFeatureId.THERMAL]: 'thermal',
  [FmeFeatureId.POWER]: 'power',
  [FmeFeatureId.GLOBAL_PERF]: 'global-perf',
  [FmeFeatureId.GLOBAL_ERROR]: 'global-error',
  [FmeFeatureId.PR]: 'pr',
  [FmeFeatureId.HSSI]: 'hssi',
  [FmeFeatureId.GLOBAL_DPERF]: 'global-dperf',
  [FmeFeatureId.QSPI_FLASH]: 'qspi-flash',
  [FmeFeatureId.EMIF]: 'emif',
  [FmeFeatureId.NIOS_SPI]: 'nios-spi',
  [FmeFeatureId.MAX10_SPI]: 'max10-spi',
  [FmeFeatureId.I2C_MASTER]: 'i2c-master',
  [FmeFeatureId.ETHERNET_GROUP]: 'ethernet-group',
  [FmeFeatureId.PMCI]: 'pmci',
};

const PORT_NAMES: Record<number, string> = {
  [PortFeatureId.ERROR]: 'port-error',
  [PortFeatureId.UMSG]: 'umsg',
  [PortFeatureId.UINT]: 'uint',
  [PortFeatureId.STP]: 'stp',
  [PortFeatureId.USER_CLOCK]: 'user-clock',
};

/** Name of an FIU by its feature ID ('fme', 'port', or 'fiu-0x<id>'). */
export function fiuName(id: number): string {
  return FIU_NAMES[id] ?? `fiu-${hex(id)}`;
}

/**
 * Name of a private feature under an FIU of the given ID (FiuId.FME / FiuId.PORT); unknown
 * combinations get 'feature-0x<id>'.
 */
export function privateFeatureName(fiu: number | undefined, id: number): string {
  const table = fiu === FiuId.FME ? FME_NAMES : fiu === FiuId.PORT ? PORT_NAMES : undefined;
  return table?.[id] ?? `feature-${hex(id)}`;
}

/**
 * The key of a private feature under an FIU: '<fiu>:<feature id>' as in 'fme:0x5' (PR) or
 * 'port:0x10' (port error). The sim's feature models (src/sim/defaults.ts) and the host's feature
 * drivers (src/afu/feature-driver.ts) name a feature by the same key.
 */
export function featureKey(fiu: number, id: number): string {
  return `${fiuName(fiu)}:${hex(id)}`;
}
