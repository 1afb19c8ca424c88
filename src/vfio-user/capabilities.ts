// VFIO_USER_VERSION: {u16 major, u16 minor, char json[]} where json is an optional NUL-terminated
// UTF-8 object {"capabilities": {...}} (vfio-user.rst "VFIO_USER_VERSION", libvfio-user lib/tran.c
// tran_parse_version_json). Unknown capabilities are ignored; known ones are type-checked.
import {
  DEFAULT_MAX_DATA_XFER_SIZE, DEFAULT_MAX_DMA_MAPS, DEFAULT_MAX_MSG_FDS, DEFAULT_PGSIZES,
  malformed, truncated,
} from './protocol.js';
import { parseBoundedJson } from '../util/bounded-json.js';

/** The vendor capability naming REGION_BATCH; peers that do not know it ignore it (tran_parse_version_json). */
export const REGION_BATCH_CAPABILITY = 'vfiokit_region_batch';

export interface TwinSocketCapability {
  supported: boolean;
  /** Index of the server-to-client socket in the reply's fd array (reply only). */
  fdIndex?: number;
}

export interface Capabilities {
  /** Fds the sender can receive in one message (default 1). */
  maxMsgFds: number;
  /** Largest `count` of a REGION/DMA READ/WRITE the sender accepts (default 1 MiB). */
  maxDataXferSize: number;
  /** Page sizes OR'ed together (default 4096). */
  pgsizes: number;
  /** DMA mappings valid at once (default 65535). */
  maxDmaMaps: number;
  migration?: { pgsize?: number; maxBitmapSize?: number };
  twinSocket?: TwinSocketCapability;
  writeMultiple?: boolean;
  /** vfiokit's vendor REGION_BATCH (protocol.ts): most entries per batch the sender takes. */
  regionBatch?: { maxEntries: number };
}

export interface VersionMessage {
  major: number;
  minor: number;
  capabilities: Capabilities;
  /** Which capabilities the sender stated (the others are defaults). */
  stated: ReadonlySet<string>;
}

export function defaultCapabilities(): Capabilities {
  return { maxMsgFds: DEFAULT_MAX_MSG_FDS, maxDataXferSize: DEFAULT_MAX_DATA_XFER_SIZE, pgsizes: DEFAULT_PGSIZES, maxDmaMaps: DEFAULT_MAX_DMA_MAPS };
}

/** Encode a VERSION payload; `capabilities` fields that are undefined are left out of the JSON. */
export function encodeVersion(major: number, minor: number, capabilities: Partial<Capabilities>): Uint8Array {
  const caps: Record<string, unknown> = {};
  if (capabilities.maxMsgFds !== undefined) caps.max_msg_fds = capabilities.maxMsgFds;
  if (capabilities.maxDataXferSize !== undefined) caps.max_data_xfer_size = capabilities.maxDataXferSize;
  if (capabilities.pgsizes !== undefined) caps.pgsizes = capabilities.pgsizes;
  if (capabilities.maxDmaMaps !== undefined) caps.max_dma_maps = capabilities.maxDmaMaps;
  if (capabilities.migration) {
    const m: Record<string, number> = {};
    if (capabilities.migration.pgsize !== undefined) m.pgsize = capabilities.migration.pgsize;
    if (capabilities.migration.maxBitmapSize !== undefined) m.max_bitmap_size = capabilities.migration.maxBitmapSize;
    caps.migration = m;
  }
  if (capabilities.twinSocket) {
    caps.twin_socket = capabilities.twinSocket.fdIndex !== undefined
      ? { supported: capabilities.twinSocket.supported, fd_index: capabilities.twinSocket.fdIndex }
      : { supported: capabilities.twinSocket.supported };
  }
  if (capabilities.writeMultiple !== undefined) caps.write_multiple = capabilities.writeMultiple;
  if (capabilities.regionBatch) caps[REGION_BATCH_CAPABILITY] = { max_entries: capabilities.regionBatch.maxEntries };
  const json = Buffer.from(JSON.stringify({ capabilities: caps }) + '\0', 'utf8');
  const out = new Uint8Array(4 + json.length);
  out[0] = major & 0xff;
  out[1] = (major >>> 8) & 0xff;
  out[2] = minor & 0xff;
  out[3] = (minor >>> 8) & 0xff;
  out.set(json, 4);
  return out;
}

function uint(what: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw malformed('VERSION', `capability "${what}" is ${JSON.stringify(value)}, not an integer in 0..${max}`, { capability: what });
  }
  return value;
}

function object(what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('VERSION', `"${what}" is ${JSON.stringify(value)}, not a JSON object`, { capability: what });
  }
  return value as Record<string, unknown>;
}

/** Decode a VERSION payload (request or reply). Missing JSON means all defaults. */
export function decodeVersion(payload: Uint8Array): VersionMessage {
  if (payload.length < 4) throw truncated('VERSION', 4, payload.length);
  const major = payload[0]! | (payload[1]! << 8);
  const minor = payload[2]! | (payload[3]! << 8);
  const capabilities = defaultCapabilities();
  const stated = new Set<string>();
  if (payload.length > 4) {
    if (payload[payload.length - 1] !== 0) throw malformed('VERSION', 'the capability JSON is not NUL-terminated');
    const end = payload.indexOf(0, 4);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(4, end));
    } catch {
      throw malformed('VERSION', 'the capability JSON is not valid UTF-8');
    }
    let top: unknown;
    try {
      top = text.length === 0 ? {} : parseBoundedJson(text, 'capability JSON');
    } catch (err) {
      throw malformed('VERSION', `the capability JSON does not parse: ${(err as Error).message}`);
    }
    const root = object('version data', top);
    if (root.capabilities !== undefined) {
      const caps = object('capabilities', root.capabilities);
      if (caps.max_msg_fds !== undefined) { capabilities.maxMsgFds = uint('max_msg_fds', caps.max_msg_fds, 0x7fffffff); stated.add('max_msg_fds'); }
      if (caps.max_data_xfer_size !== undefined) { capabilities.maxDataXferSize = uint('max_data_xfer_size', caps.max_data_xfer_size, 0xffffffff); stated.add('max_data_xfer_size'); }
      if (caps.pgsizes !== undefined) { capabilities.pgsizes = uint('pgsizes', caps.pgsizes); stated.add('pgsizes'); }
      if (caps.max_dma_maps !== undefined) { capabilities.maxDmaMaps = uint('max_dma_maps', caps.max_dma_maps, 0xffffffff); stated.add('max_dma_maps'); }
      if (caps.migration !== undefined) {
        const m = object('migration', caps.migration);
        capabilities.migration = {
          ...(m.pgsize !== undefined ? { pgsize: uint('migration.pgsize', m.pgsize) } : {}),
          ...(m.max_bitmap_size !== undefined ? { maxBitmapSize: uint('migration.max_bitmap_size', m.max_bitmap_size) } : {}),
        };
        stated.add('migration');
      }
      if (caps.twin_socket !== undefined) {
        const t = object('twin_socket', caps.twin_socket);
        if (t.supported !== undefined && typeof t.supported !== 'boolean') throw malformed('VERSION', `"twin_socket.supported" is ${JSON.stringify(t.supported)}, not a boolean`);
        capabilities.twinSocket = {
          supported: t.supported === true,
          ...(t.fd_index !== undefined ? { fdIndex: uint('twin_socket.fd_index', t.fd_index, 0xffff) } : {}),
        };
        stated.add('twin_socket');
      }
      if (caps.write_multiple !== undefined) {
        if (typeof caps.write_multiple !== 'boolean') throw malformed('VERSION', `"write_multiple" is ${JSON.stringify(caps.write_multiple)}, not a boolean`);
        capabilities.writeMultiple = caps.write_multiple;
        stated.add('write_multiple');
      }
      const batch = caps[REGION_BATCH_CAPABILITY];
      if (batch !== undefined) {
        const b = object(REGION_BATCH_CAPABILITY, batch);
        capabilities.regionBatch = { maxEntries: uint(`${REGION_BATCH_CAPABILITY}.max_entries`, b.max_entries, 0xffffffff) };
        stated.add(REGION_BATCH_CAPABILITY);
      }
    }
  }
  return { major, minor, capabilities, stated };
}
