// The mmio layer's public API: Region and its two backings, the checks' error codes, and the
// credit-gated stream used by partial reconfiguration.
export type { Region, PollOptions, PollResult } from './region.js';
export { DEFAULT_POLL_TIMEOUT_MS, DEFAULT_POLL_INTERVAL_US } from './region.js';
export { MappedRegion, type MappedRegionOptions, type MapFdOptions } from './mapped-region.js';
export { TrappedRegion, type RegisterAccess } from './trapped-region.js';
export { creditStream, DEFAULT_CREDIT_CHUNK_WORDS, type CreditStreamOptions, type CreditStreamResult } from './credit-stream.js';
export { poll32Async, poll64Async, DEFAULT_POLL_SLICE_MS, type AsyncPollOptions } from './poll-async.js';
export { setBits32, clearBits32, updateBits32, setBits64, clearBits64, updateBits64, waitBits32, waitBits64, waitBits32Async, waitBits64Async } from './bits.js';
