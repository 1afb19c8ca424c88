// vfio-user: the client Device (`vfio-user:/path.sock`), the server that hosts any Device on a
// UNIX socket (`vfiokit serve`), and the wire codec (reference/vfio-user.md).
export { VfioUserDevice, DEFAULT_REPLY_TIMEOUT_MS, DEFAULT_CLIENT_SPIN_US, type VfioUserClientOptions } from './client.js';
export { VfioUserServer, DEFAULT_SPIN_US, type ServerOptions, type VfioUserServerEvents } from './server.js';
export { ServerConnection, DMA_REPLY_TIMEOUT_MS, type ServerLimits, type MmapSource } from './server-connection.js';
export { backend as vfioUserBackend } from './backend.js';
export {
  Command, commandName, Errno, errnoName, VFIO_USER_MAJOR, VFIO_USER_MINOR, HEADER_SIZE, FLAG_NO_REPLY, FLAG_ERROR,
  TYPE_COMMAND, TYPE_REPLY, DEFAULT_MAX_DATA_XFER_SIZE, DEFAULT_MAX_MSG_FDS, DEFAULT_PGSIZES, DEFAULT_MAX_DMA_MAPS,
  VfioUserFormatError, VfioUserRemoteError, VfioUserConnectionError, encodeHeader, decodeHeader, buildCommand, buildReply,
  buildErrorReply, type Header, type Message,
} from './protocol.js';
export { encodeVersion, decodeVersion, defaultCapabilities, type Capabilities, type VersionMessage } from './capabilities.js';
export * from './messages.js';
export * from './region-info.js';
export { MessageSocket, type ReceiveResult, type MessageSocketOptions } from './unix-socket.js';
export { SparseRegion, type MappedArea } from './sparse-region.js';
export { RemoteRegion } from './remote-region.js';
export { watchFd } from './fd-watcher.js';
