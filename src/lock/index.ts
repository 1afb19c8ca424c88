// Reservations of cards between processes (see reservations.ts for the model, states.ts for the
// state machine, lock-file.ts for the flock protocol).
export * from './states.js';
export * from './reservations.js';
export { lockDir, LockError, LOCK_WAIT_MS, LOCK_FILE_MODE, LOCK_DIR_MODE } from './lock-file.js';
export { processAlive, processInfo, ancestry } from './process-info.js';
export * from './hooks.js';
