// vfiokit/sim: the simulated N3000-class card (register-accurate FME, PR engine, Port, AFU with a
// DMA engine, BMC) and the GBS files its PR engine accepts.
export * from '../sim/index.js';
export { buildSimGbs, type SimGbsOptions } from '../sim-gbs.js';
export { SIM_IMAGE_MAGIC, SIM_IMAGE_HEADER_LENGTH, decodeSimImageHeader, type SimImageHeader } from '../sim/pr-engine-image.js';
