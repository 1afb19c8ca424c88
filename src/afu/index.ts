// The card layer in one import: the card model (Card, Fme, Port, Afu), partial reconfiguration
// (GBS files, the PR flow), signed images, and the BMC (secure update, reboot, properties).
export * from './card-model.js';
export * from './pr/gbs.js';
export * from './pr/partial-reconfiguration.js';
export * from './pr/card-pr.js';
export * from './image/signed-image.js';
export * from './image/image-writer.js';
export * from './bmc/bmc.js';
export * from './bmc/secure-update.js';
export * from './bmc/flash-status.js';
export * from './flash-coordination.js';
export * from './bmc/reboot.js';
export * from './bmc/properties.js';
export * from './bmc/transport.js';
