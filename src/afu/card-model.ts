// The card model in one import: Card.discover, the FME, Port and AFU objects it builds, and the
// feature drivers it binds.
export { Card, type CardOptions } from './card.js';
export { FeatureDriverTable, type FeatureDriver, type BoundFeature, type FeatureDriverError } from './feature-driver.js';
export { defaultFeatureDrivers } from './default-drivers.js';
export { Fme, decodeFmeCap, decodeBitstreamVersion, PR_INTFC_ID_L, PR_INTFC_ID_H, type FmeCapabilities } from './fme.js';
export { Port, portErrorDriver, PORT_RESET_POLL_US, PORT_RESET_TIMEOUT_US, type PortCapabilities, type PortStatus, type ClearedPortErrors } from './port.js';
export { Afu } from './afu.js';
export { featureRef, type FeatureRef } from './feature-ref.js';
export { PortResetError } from './errors.js';
