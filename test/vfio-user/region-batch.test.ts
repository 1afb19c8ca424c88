// vfiokit's vendor REGION_BATCH (protocol.ts, messages.ts, src/mmio/access-batch.ts): offered
// only through the "vfiokit_region_batch" VERSION capability, run in order on the device region,
// and refused whole (typed errno, nothing run, the server goes on) when malformed. In-process: a
// ServerConnection over a socketpair, as in server-raw.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerConnection } from '../../src/vfio-user/server-connection.js';
import { MessageSocket } from '../../src/vfio-user/unix-socket.js';
import { unixSocketPair } from '../../src/sys/libc.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';
import { buildCommand, Command, VendorCommand, Errno, REGION_BATCH_MAX_ENTRIES, type Message } from '../../src/vfio-user/protocol.js';
import { decodeVersion, encodeVersion } from '../../src/vfio-user/capabilities.js';
import { decodeRegionBatchReply, encodeRegionBatch } from '../../src/vfio-user/messages.js';
import { AccessBatch, BatchStop } from '../../src/mmio/access-batch.js';
import { putLe32, putLe64 } from '../../src/util/bytes.js';
import { BAR0_SIZE, MemoryDevice, REG_FIFO, REG_FIFO_COUNT, REG_FIFO_SUM, REG_SCRATCH } from './fixtures/memory-device.js';

describe('REGION_BATCH (vendor command)', () => {
  let device: MemoryDevice;
  let conn: ServerConnection;
  let peer: MessageSocket;
  let id = 1;

  function exchange(command: number, payload: Uint8Array): Message {
    peer.send(buildCommand(id++, command, payload), []);
    conn.service();
    const r = peer.receive();
    if (r.kind !== 'message') throw new Error(`no reply (${r.kind})`);
    return r.message;
  }
  const errnoOf = (m: Message): number => ((m.header.flags & 0x20) !== 0 ? m.header.error : 0);
  const negotiate = (maxEntries?: number): Message => exchange(Command.VERSION, encodeVersion(0, 1, maxEntries === undefined ? {} : { regionBatch: { maxEntries } }));
  const send = (b: AccessBatch, region = 0, count = b.entries): Message => exchange(VendorCommand.REGION_BATCH, encodeRegionBatch(region, count, b.bytes));
  const fifoCount = (): bigint => device.region(0).read64(REG_FIFO_COUNT);
  /** A batch that pushes `n` values into the FIFO and reads its count back. */
  const fifoBatch = (n: number): AccessBatch => {
    const b = new AccessBatch();
    for (let i = 1; i <= n; i++) b.write(8, REG_FIFO, BigInt(i));
    b.poll(8, REG_FIFO_COUNT, 0n, 0n, 1);
    return b;
  };

  beforeEach(() => {
    device = new MemoryDevice();
    const [a, b] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
    conn = new ServerConnection(a, device, { maxMsgFds: 8, maxDataXferSize: 1 << 20, pgsizes: 4096, maxDmaMaps: 4, twinSocket: false }, { name: 'batch' });
    peer = new MessageSocket(b, { name: 'peer', maxPayload: 1 << 20, maxFds: 8 });
  });
  afterEach(() => {
    peer.close();
    conn.close();
    device.close();
  });

  it('is offered only to a client that asks, capped at the server maximum', () => {
    expect(decodeVersion(negotiate(1 << 30).payload).capabilities.regionBatch).toEqual({ maxEntries: REGION_BATCH_MAX_ENTRIES });
  });

  it('without the capability it is an unknown command (EINVAL), as libvfio-user answers one, and the server goes on', () => {
    expect(decodeVersion(negotiate().payload).capabilities.regionBatch).toBeUndefined();
    expect(errnoOf(send(fifoBatch(2)))).toBe(Errno.EINVAL);
    expect(fifoCount()).toBe(0n);
    expect(errnoOf(exchange(Command.REGION_READ, Uint8Array.of(...new Array<number>(8).fill(0), 0, 0, 0, 0, 8, 0, 0, 0)))).toBe(0);
  });

  it('runs the accesses in order on the device and answers each poll\'s last value', () => {
    negotiate(64);
    const b = fifoBatch(5);
    b.write(8, REG_SCRATCH, 0x1234n);
    b.poll(8, REG_SCRATCH, 0xffffn, 0x1234n, 10);
    b.poll(8, REG_FIFO_SUM, 0n, 0n, 1);
    const m = send(b);
    expect(errnoOf(m)).toBe(0);
    const r = decodeRegionBatchReply(m.payload, b.entries, b.polls);
    expect(r).toMatchObject({ completed: b.entries, stop: BatchStop.DONE, accesses: 9 });
    expect([...r.values]).toEqual([5n, 0x1234n, 15n]);
    expect(conn.internalErrorCount).toBe(0);
  });

  it('a poll that does not match stops the batch there: later entries never run', () => {
    negotiate(64);
    const b = new AccessBatch();
    b.write(8, REG_FIFO, 1n);
    b.poll(8, REG_FIFO_COUNT, 0xffn, 7n, 50);
    b.write(8, REG_FIFO, 2n);
    const r = decodeRegionBatchReply(send(b).payload, b.entries, b.polls);
    expect(r).toMatchObject({ completed: 1, stop: BatchStop.POLL_TIMEOUT, accesses: 51 });
    expect(fifoCount()).toBe(1n);
  });

  /** Entry bytes with one field changed: `at` is the byte offset within the whole entries block. */
  const patched = (b: AccessBatch, edit: (bytes: Uint8Array) => void): Uint8Array => {
    const bytes = b.bytes.slice();
    edit(bytes);
    return bytes;
  };
  const raw = (region: number, count: number, entries: Uint8Array): Message => exchange(VendorCommand.REGION_BATCH, encodeRegionBatch(region, count, entries));

  it.each([
    ['a payload shorter than its head', () => exchange(VendorCommand.REGION_BATCH, new Uint8Array(5)), Errno.EINVAL],
    ['no entries', () => raw(0, 0, new Uint8Array(0)), Errno.EINVAL],
    ['more entries than negotiated', () => raw(0, 65, new Uint8Array(65 * 24)), Errno.E2BIG],
    ['a count larger than the entries sent', () => raw(0, 4, fifoBatch(2).bytes), Errno.EINVAL],
    ['bytes after the last entry', () => raw(0, 3, Uint8Array.from([...fifoBatch(2).bytes, 0, 0, 0, 0])), Errno.EINVAL],
    ['an unknown op', () => raw(0, 3, patched(fifoBatch(2), (x) => { x[24] = 9; })), Errno.EINVAL],
    ['width 2', () => raw(0, 3, patched(fifoBatch(2), (x) => { x[25] = 2; })), Errno.EINVAL],
    ['a misaligned offset', () => raw(0, 3, patched(fifoBatch(2), (x) => { putLe32(x, 24 + 8, REG_FIFO + 4); })), Errno.EINVAL],
    ['an offset past the region', () => raw(0, 3, patched(fifoBatch(2), (x) => { putLe32(x, 24 + 8, BAR0_SIZE); })), Errno.EINVAL],
    ['a 64-bit offset near 2^64', () => raw(0, 3, patched(fifoBatch(2), (x) => { putLe64(x, 24 + 8, 0xffff_ffff_ffff_fff8n); })), Errno.EINVAL],
    ['a poll with maxReads 0', () => raw(0, 3, patched(fifoBatch(2), (x) => { putLe32(x, 48 + 4, 0); })), Errno.EINVAL],
    ['a poll with maxReads over the limit', () => raw(0, 3, patched(fifoBatch(2), (x) => { putLe32(x, 48 + 4, 0xffffffff); })), Errno.E2BIG],
    ['a check with no poll before it', () => { const b = new AccessBatch(); b.poll(8, 0, 0n, 0n, 1); b.check(0n, 0n); return raw(0, 1, b.bytes.subarray(32)); }, Errno.EINVAL],
    ['a check that loops forward', () => { const b = fifoBatch(1); b.check(1n, 1n); return raw(0, 3, patched(b, (x) => { putLe32(x, 56 + 8, 7); })); }, Errno.EINVAL],
    ['the config region', () => raw(7, 3, fifoBatch(2).bytes), Errno.EINVAL],
    ['a region that does not exist', () => raw(99, 3, fifoBatch(2).bytes), Errno.EINVAL],
  ])('refuses %s with a typed errno, runs nothing, and serves the next batch', (_what, send_, errno) => {
    negotiate(64);
    const m = send_();
    expect(errnoOf(m)).toBe(errno);
    expect(fifoCount()).toBe(0n);
    expect(conn.internalErrorCount).toBe(0);
    expect(errnoOf(send(fifoBatch(3)))).toBe(0);
    expect(fifoCount()).toBe(3n);
  });
});
