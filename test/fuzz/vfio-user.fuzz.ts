// Fuzz the vfio-user server: valid messages of every command (built with the codec), mutated
// (bit flips, truncation, extension, splices), sometimes with the header size fixed up so the
// stream stays in frame, sometimes with memfds / eventfds attached, plus pure random bytes. The
// server (a ServerConnection hosting an in-process sim card over a socketpair) must answer with
// replies only, never throw, never hang, and hold no fds after the connection is closed: the
// process's /proc/self/fd count before == after. Then every decoder a client runs on server
// bytes (region info cap chains, VERSION JSON, io-fds, accesses) on mutated replies.
import { readdirSync } from 'node:fs';
import { createSimCard } from '../../src/sim/sim-device.js';
import type { SimDevice } from '../../src/sim/sim-device.js';
import { ServerConnection, type ServerLimits } from '../../src/vfio-user/server-connection.js';
import { closeQuietly, createEventfd, createMemfd, dup, unixSocketPair } from '../../src/sys/libc.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';
import { MessageSocket } from '../../src/vfio-user/unix-socket.js';
import { buildCommand, Command, decodeHeader, HEADER_SIZE, isReply, putSize, seedMessages } from '../vfio-user/fuzz-seeds.js';
import { FLAG_ERROR, type Header } from '../../src/vfio-user/protocol.js';
import { FuzzFinding, mutate, newStats, Rng, runCase, type FuzzTarget, type FuzzStats } from './lib.js';
import { encodeVersion, decodeVersion } from '../../src/vfio-user/capabilities.js';
import { decodeRegionInfoReply, encodeRegionInfoReply } from '../../src/vfio-user/region-info.js';
import { DeviceFeatureFlags, IrqSetFlags, RegionInfoCap, RegionInfoFlags, encodeIrqSet, vfio_device_feature } from '../../src/sys/uapi/linux-vfio.js';
import { flagSet } from '../../src/sys/uapi/struct.js';
import { vfio_user_region_access } from '../../src/sys/uapi/vfio-user.js';
import {
  decodeIoFdsReply, encodeIoFdsReply, decodeRegionAccess, encodeRegionAccess, decodeDmaAccess, encodeDmaAccess,
  decodeWriteMulti, allocWriteMulti, putMultiWrite, decodeIrqSet, decodeDeviceFeature, decodeRegionBatchReply, encodeRegionBatchReply,
} from '../../src/vfio-user/messages.js';
import { VirtualClock } from '../../src/util/clock.js';

const LIMITS: ServerLimits = { maxMsgFds: 8, maxDataXferSize: 64 * 1024, pgsizes: 4096, maxDmaMaps: 64, twinSocket: false };
const MEMFD_SIZE = 64 * 1024;

const openFds = (): number => readdirSync('/proc/self/fd').length;

class Harness {
  device: SimDevice;
  conn!: ServerConnection;
  peer!: MessageSocket;
  memfd: number;
  eventfds: number[];
  replies = 0;

  constructor() {
    this.device = createSimCard('n3000');
    this.memfd = createMemfd('vfio-user-fuzz', MEMFD_SIZE);
    this.eventfds = [createEventfd(), createEventfd(), createEventfd(), createEventfd()];
    this.connect();
  }

  connect(): void {
    const [server, client] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
    this.conn = new ServerConnection(server, this.device, LIMITS, { name: 'fuzz server' });
    this.peer = new MessageSocket(client, { name: 'fuzz client', maxPayload: 1 << 22, maxFds: 16 });
    this.send(buildCommand(0, Command.VERSION, encodeVersion(0, 1, { maxMsgFds: 8 })), []);
    this.conn.service();
    this.drain();
  }

  /** An EIO reply is only fine when the server refused the input; a handler that threw is a finding. */
  checkInternal(input: Uint8Array): void {
    const err = this.conn.internalErrors.at(-1);
    if (this.conn.internalErrorCount > 0) throw new FuzzFinding(`the server failed inside a handler (answered EIO) on ${Buffer.from(input).toString('hex').slice(0, 256)}: ${err?.stack ?? String(err)}`);
  }

  reconnect(): void {
    this.peer.close();
    this.conn.service(); // sees the close, drops DMA windows and IRQ eventfds
    this.conn.close();
    this.connect();
  }

  send(bytes: Uint8Array, fds: number[]): void {
    const dups = fds.map((fd) => dup(fd));
    try {
      this.peer.send(bytes, dups, 1000);
    } finally {
      for (const fd of dups) closeQuietly(fd); // the server got its own copies
    }
  }

  /** Read every reply; each must be a well-framed reply. Returns the replies' headers. */
  drain(): Header[] {
    const got: Header[] = [];
    for (;;) {
      const r = this.peer.receive();
      if (r.kind === 'again' || r.kind === 'closed') return got;
      if (r.kind === 'refused') throw new FuzzFinding(`server sent a malformed message: ${r.error.message}`);
      for (const fd of r.message.fds) closeQuietly(fd);
      if (!isReply(r.message.header)) throw new FuzzFinding(`server sent a non-reply (command ${r.message.header.command}) to the fuzzer`);
      got.push(r.message.header);
      this.replies++;
    }
  }

  /**
   * What the server accepted must have been acceptable: no two DMA windows overlap, and a region
   * access it answered without an error lies inside the region (and a write carried its data).
   */
  checkAccepted(sent: Uint8Array, replies: Header[]): void {
    const w = [...this.conn.dma.windows()].sort((a, b) => (a.iova < b.iova ? -1 : 1));
    for (let i = 1; i < w.length; i++) {
      if (w[i]!.iova < w[i - 1]!.iova + w[i - 1]!.size) throw new FuzzFinding(`server holds overlapping DMA windows 0x${w[i - 1]!.iova.toString(16)}+0x${w[i - 1]!.size.toString(16)} and 0x${w[i]!.iova.toString(16)}`);
    }
    if (sent.length < HEADER_SIZE + 16) return;
    let h: Header;
    try {
      h = decodeHeader(sent, 0);
    } catch {
      return; // a header the server refused as a whole
    }
    if (h.command !== Command.REGION_READ && h.command !== Command.REGION_WRITE) return;
    const ok = replies.find((r) => r.id === h.id && r.command === h.command && (r.flags & FLAG_ERROR) === 0);
    if (!ok) return;
    const { offset, region, count } = vfio_user_region_access.decode(sent, HEADER_SIZE);
    const size = region === 7 ? 4096 : region < this.device.regionCount ? this.device.regionInfo(region).size : 0;
    if (offset + BigInt(count) > BigInt(size)) throw new FuzzFinding(`server answered a ${count}-byte access at 0x${offset.toString(16)} of region ${region} (size 0x${size.toString(16)}) without an error`);
    if (h.command === Command.REGION_WRITE && sent.length - HEADER_SIZE - 16 < count) throw new FuzzFinding(`server accepted a ${count}-byte REGION_WRITE carrying ${sent.length - HEADER_SIZE - 16} data bytes`);
  }

  close(): void {
    this.peer.close();
    this.conn.close();
    this.device.close();
    closeQuietly(this.memfd);
    for (const fd of this.eventfds) closeQuietly(fd);
  }
}

export function fuzzVfioUser(cases: number, seed: number): FuzzStats {
  const stats = newStats('vfio-user');
  const rng = new Rng(seed);
  // Warm-up: process-wide watchers (the eventfd watcher's epoll fd) open once and stay open.
  const warm = createSimCard('n3000');
  warm.enableInterrupts(2, 0, 1)[0]!.onEvent(() => {})();
  warm.close();
  const before = openFds();
  const h = new Harness();
  const seeds = seedMessages();
  try {
    for (let i = 0; i < cases; i++) {
      const seedMsg = rng.pick(seeds);
      let bytes: Uint8Array;
      const kind = rng.int(10);
      if (kind === 0) bytes = rng.bytes(rng.int(64));
      else if (kind <= 2) bytes = seedMsg.bytes;
      else if (kind <= 4) bytes = mutate(rng, seedMsg.bytes);
      else {
        // keep the header (a command the server will parse), mutate the payload
        const payload = mutate(rng, seedMsg.bytes.subarray(HEADER_SIZE));
        bytes = new Uint8Array(HEADER_SIZE + payload.length);
        bytes.set(seedMsg.bytes.subarray(0, HEADER_SIZE));
        bytes.set(payload, HEADER_SIZE);
      }
      if (bytes.length >= HEADER_SIZE && rng.bool(0.8)) putSize(bytes, bytes.length);
      const fds: number[] = [];
      if (seedMsg.fds === 'memfd' ? rng.bool(0.9) : rng.bool(0.05)) fds.push(h.memfd);
      if (seedMsg.fds === 'eventfds') for (let k = 0; k < seedMsg.count && k < 4; k++) fds.push(h.eventfds[k]!);
      else if (rng.bool(0.03)) fds.push(h.eventfds[0]!);
      runCase(stats, bytes, () => {
        h.send(bytes, fds);
        h.conn.service();
        h.checkInternal(bytes);
        // let the model's scheduled work (DMA copies into the mapped memfd, reset ACKs) run
        if (h.device.clock instanceof VirtualClock) h.device.clock.advance(0.05);
        h.checkAccepted(bytes, h.drain());
        if (h.conn.closed) h.reconnect();
      });
      // A header that promised more bytes than came leaves the server waiting: start afresh.
      if (h.conn.socket.buffered > 0 || rng.bool(0.01)) h.reconnect();
    }
  } finally {
    h.close();
  }
  const after = openFds();
  if (after !== before) throw new FuzzFinding(`fd leak: ${before} fds open before the run, ${after} after`);
  return stats;
}

/** Replies a client parses (server to client bytes), as the spec lays them out. */
function replySeeds(): { decode: (p: Uint8Array) => unknown; bytes: Uint8Array }[] {
  const { READ, WRITE, MMAP, CAPS } = RegionInfoFlags;
  const info = encodeRegionInfoReply({ flags: flagSet(READ, WRITE, MMAP, CAPS), index: 2, size: 0x10000n, offset: 0x20000n, caps: [
    { id: RegionInfoCap.SPARSE_MMAP, version: 1, areas: [{ offset: 0n, size: 0x1000n }, { offset: 0x3000n, size: 0xd000n }] },
    { id: RegionInfoCap.TYPE, version: 1, type: 3, subtype: 1 },
    { id: RegionInfoCap.MSIX_MAPPABLE, version: 1 },
  ] }, 4096);
  const multi = allocWriteMulti(1);
  putMultiWrite(multi, 0, 0, 0, Uint8Array.of(1, 2, 3, 4));
  return [
    { decode: decodeRegionInfoReply, bytes: info },
    { decode: decodeVersion, bytes: encodeVersion(0, 1, { maxMsgFds: 8, maxDataXferSize: 1 << 20, pgsizes: 0x201000, maxDmaMaps: 100, twinSocket: { supported: true, fdIndex: 0 }, writeMultiple: true, migration: { pgsize: 4096 } }) },
    { decode: decodeIoFdsReply, bytes: encodeIoFdsReply(0, [{ offset: 0x100n, size: 4n, fd_index: 0, type: 0, flags: 1, data: 7n }, { offset: 0x200n, size: 8n, fd_index: 1, type: 1, flags: 0, data: 9n }], 4096) },
    { decode: (p) => decodeRegionAccess(p, true, 1 << 20, 'REGION_READ reply'), bytes: encodeRegionAccess(0, 8n, 4, Uint8Array.of(1, 2, 3, 4)) },
    { decode: (p) => decodeDmaAccess(p, true, 1 << 20), bytes: encodeDmaAccess(0x1000n, 3, Uint8Array.of(1, 2, 3)) },
    { decode: decodeWriteMulti, bytes: multi },
    { decode: decodeIrqSet, bytes: encodeIrqSet(flagSet(IrqSetFlags.DATA_BOOL, IrqSetFlags.ACTION_TRIGGER), 2, 0, 3, { bools: [1, 0, 1] }) },
    { decode: decodeDeviceFeature, bytes: vfio_device_feature.encode({ argsz: 16, flags: flagSet(DeviceFeatureFlags.GET, 1 as typeof DeviceFeatureFlags.GET) }, 16) },
    { decode: (p) => decodeRegionBatchReply(p, 9, 3), bytes: encodeRegionBatchReply({ completed: 4, stop: 2, accesses: 12, values: BigUint64Array.of(1n, 0x1_0000_0080n) }) },
  ];
}

/** Every decoder on mutated spec-shaped bytes: a typed error or a value, nothing else. */
export function fuzzDecoders(cases: number, seed: number): FuzzStats {
  const stats = newStats('vfio-user-decoders');
  const rng = new Rng(seed);
  const seeds = replySeeds();
  for (let i = 0; i < cases; i++) {
    const s = rng.pick(seeds);
    const bytes = rng.bool(0.1) ? rng.bytes(rng.int(128)) : mutate(rng, s.bytes);
    runCase(stats, bytes, () => { s.decode(bytes); });
  }
  return stats;
}

/**
 * Guided-mode input: byte 0 says which fds ride along (0 none, 1 the memfd, 2..5 that many
 * eventfds), the rest is one message (its size field fixed up when byte 0 has bit 7 set).
 */
function guidedInput(seed: { bytes: Uint8Array; fds: string; count: number }): Uint8Array {
  const sel = seed.fds === 'memfd' ? 1 : seed.fds === 'eventfds' ? 1 + Math.min(4, seed.count) : 0;
  const out = new Uint8Array(1 + seed.bytes.length);
  out[0] = 0x80 | sel;
  out.set(seed.bytes, 1);
  return out;
}

export const target: FuzzTarget = {
  name: 'vfio-user',
  guided() {
    const warm = createSimCard('n3000');
    warm.enableInterrupts(2, 0, 1)[0]!.onEvent(() => {})();
    warm.close();
    const h = new Harness();
    return {
      seeds: seedMessages().map(guidedInput),
      exec(input) {
        if (input.length === 0) return;
        const sel = input[0]! & 0x7f;
        const bytes = input.slice(1);
        if ((input[0]! & 0x80) !== 0 && bytes.length >= HEADER_SIZE) putSize(bytes, bytes.length);
        const fds = sel === 1 ? [h.memfd] : sel >= 2 && sel <= 5 ? h.eventfds.slice(0, sel - 1) : [];
        h.send(bytes, fds);
        h.conn.service();
        h.checkInternal(input);
        if (h.device.clock instanceof VirtualClock) h.device.clock.advance(0.05);
        h.checkAccepted(bytes, h.drain());
        if (h.conn.closed || h.conn.socket.buffered > 0) h.reconnect();
      },
      close: () => h.close(),
    };
  },
  fuzz: ({ cases, seed }) => {
    const server = fuzzVfioUser(cases, seed);
    const decoders = fuzzDecoders(cases, seed ^ 0x5a5a);
    const codes: Record<string, number> = { ...server.codes };
    for (const [k, v] of Object.entries(decoders.codes)) codes[`decode:${k}`] = v;
    return { target: 'vfio-user', cases: server.cases + decoders.cases, accepted: server.accepted + decoders.accepted, typedErrors: server.typedErrors + decoders.typedErrors, codes, ms: 0 };
  },
};
