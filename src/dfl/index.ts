// Device Feature List: DFH codec (v0/v1), discovery (VSEC, FME port table), the walker and its tree,
// and the DFH/FIU register maps (src/dfl/regs, drivers/fpga/dfl.h) as named masks.
export {
  decodeDfh, encodeDfh, featureTypeOf, decodeV1Csr, encodeV1Csr, decodeParamHeader, encodeParamHeader, decodeMsixParam, encodeMsixParam,
  type Dfh, type DfhFields, type DfhV1Csr, type FeatureType, type ParamHeader,
} from './dfh.js';
export * from './regs/dfh.js';
export { formatGuid, parseGuid, isGuid, FME_GUID, PORT_GUID } from './guid.js';
export { fiuName, privateFeatureName, FmeFeatureId, PortFeatureId } from './names.js';
export { flattenFeatures, findPrivateFeature, type Feature, type FeatureIrq, type DflParam } from './feature.js';
export { walkDfl, locateDfls, MAX_FEATURES, type DflSource, type DflWalk, type DflList, type WalkOptions } from './walk.js';
export { walkDfhChain, type DfhChain, type DfhChainEntry, type DfhChainOptions } from './chain.js';
export { findExtendedCapability, findDflVsec, readDflVsec, type VsecDfl, type ConfigSource } from './vsec.js';
export { DflError } from './errors.js';
export * from './regs/fiu.js';
