// Feature models the simulated card plugs in by default, keyed '<fiu>:<feature id>' as in
// 'fme:0x1' / 'fme:0x2' (thermal and power management), 'fme:0x5' (PR engine), 'fme:0xd' (the N3000's MAX10 BMC behind the Nios) and 'fme:0xe' (a
// D5005-class BMC behind the MAX10 SPI window); a card plugs only the features it has.
// createSimCard's options.featureModels override these per card. Each helper that owns a model adds its line.
import type { FeatureModelFactory } from './feature-model.js';
import { simBmcFeature } from './bmc/sim-bmc.js';
import { prEngineFactory } from './pr-engine.js';
import { thermalModelFactory } from './thermal-model.js';
import { powerModelFactory } from './power-model.js';

export const defaultFeatureModels: Record<string, FeatureModelFactory> = {
  'fme:0xd': simBmcFeature(),
  'fme:0xe': simBmcFeature(),
  'fme:0x5': prEngineFactory,
  'fme:0x1': thermalModelFactory,
  'fme:0x2': powerModelFactory,
};
