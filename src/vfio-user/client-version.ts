// The client's side of VERSION negotiation (vfio-user.rst "Version"): offer our version and
// capabilities, check the server's answer, and take the twin socket when the server passes one.
import { DeviceError } from '../errors.js';
import { closeQuietly } from '../sys/libc.js';
import { logger } from '../util/log.js';
import { decodeVersion, encodeVersion, type Capabilities } from './capabilities.js';
import type { RequestChannel } from './client-channel.js';
import { Command, malformed, REGION_BATCH_MAX_ENTRIES, MAX_MAX_DATA_XFER_SIZE, MAX_MAX_MSG_FDS, VFIO_USER_MAJOR, VFIO_USER_MINOR } from './protocol.js';

const log = logger('vfio-user:client');

export interface NegotiatedVersion {
  /** Capabilities the server stated in its VERSION reply. */
  server: Capabilities;
  /** Negotiated minor version. */
  minor: number;
}

/**
 * Negotiate VERSION on `channel`. `maxXfer` is the largest data transfer we accept; `twin` asks for
 * twin-socket mode, and when the server grants it the twin fd is attached to the channel.
 */
export function negotiateVersion(channel: RequestChannel, maxXfer: number, twin: boolean, regionBatch = true): NegotiatedVersion {
  const url = channel.url;
  const payload = encodeVersion(VFIO_USER_MAJOR, VFIO_USER_MINOR, {
    maxMsgFds: MAX_MAX_MSG_FDS,
    maxDataXferSize: maxXfer,
    writeMultiple: true,
    ...(regionBatch ? { regionBatch: { maxEntries: REGION_BATCH_MAX_ENTRIES } } : {}),
    ...(twin ? { twinSocket: { supported: true } } : {}),
  });
  const m = channel.call(Command.VERSION, payload, [], 'version negotiation');
  let v;
  try {
    v = decodeVersion(m.payload);
  } catch (err) {
    for (const fd of m.fds) closeQuietly(fd);
    throw err;
  }
  const fds = m.fds;
  try {
    if (v.major !== VFIO_USER_MAJOR || v.minor > VFIO_USER_MINOR) {
      throw new DeviceError('EVFIO_USER_VERSION', `${url}: the server answered version ${v.major}.${v.minor}; this client speaks ${VFIO_USER_MAJOR}.0..${VFIO_USER_MINOR}`, { major: v.major, minor: v.minor });
    }
    const c = v.capabilities;
    if (c.maxDataXferSize === 0 || c.maxDataXferSize > MAX_MAX_DATA_XFER_SIZE) throw malformed('VERSION reply', `max_data_xfer_size ${c.maxDataXferSize} is not in 1..${MAX_MAX_DATA_XFER_SIZE}`);
    if (c.pgsizes === 0 || c.pgsizes % 4096 !== 0) throw malformed('VERSION reply', `pgsizes 0x${c.pgsizes.toString(16)} has no page size of 4 KiB or more`);
    // A reply's capabilities are a subset of ours: a batch capability we did not offer is dropped.
    if (c.regionBatch && (!regionBatch || c.regionBatch.maxEntries === 0)) delete c.regionBatch;
    else if (c.regionBatch) c.regionBatch.maxEntries = Math.min(c.regionBatch.maxEntries, REGION_BATCH_MAX_ENTRIES);
    if (c.twinSocket?.supported && twin) {
      const idx = c.twinSocket.fdIndex;
      if (idx === undefined || idx >= fds.length) throw malformed('VERSION reply', `twin_socket is supported but fd_index ${String(idx)} names none of the ${fds.length} fds passed; closing (spec: inconsistent reply)`);
      const tfd = fds.splice(idx, 1)[0]!;
      channel.attachTwin(tfd);
    }
    log('%s: version %d.%d, server max_data_xfer_size %d max_msg_fds %d pgsizes 0x%s max_dma_maps %d twin %s region batch %s', url, v.major, v.minor, c.maxDataXferSize, c.maxMsgFds, c.pgsizes.toString(16), c.maxDmaMaps, channel.hasTwin ? 'yes' : 'no', c.regionBatch ? c.regionBatch.maxEntries : 'no');
    return { server: c, minor: v.minor };
  } finally {
    for (const fd of fds) closeQuietly(fd);
  }
}
