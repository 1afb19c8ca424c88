// The sys layer's public API: libc through koffi (typed wrappers throwing SysError), Linux
// constants, the C shim loader, and eventfd delivery to JS.
export * from './constants.js';
export * from './libc.js';
export { SysError, errnoName, errnoNumber, isSysError, type SysErrorContext } from './sys-error.js';
export { shim, shimLibrary, shimPath, type ShimFunctions } from './shim.js';
export { EventfdWatcher, eventfdWatcher, watchEventfd, type EventfdWatch } from './eventfd-watcher.js';
export { peerCred, type PeerCred } from './peer-cred.js';
