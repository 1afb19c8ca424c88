// The fuzzers as CI runs them: seconds per target. Coverage-guided targets replay their corpus
// (test/fuzz/corpus/<target>/) and mutate from it; the real `vfiokit serve` process is fuzzed over
// its socket; a handler that throws inside the server is a finding, not an honest EIO reply.
import { describe, expect, it } from 'vitest';
import { fuzzGuided, readCorpus, startCoverage } from './coverage.js';
import { Rng } from './lib.js';
import { target as vfioUser } from './vfio-user.fuzz.js';
import { target as gbs } from './gbs.fuzz.js';
import { target as avalon } from './avalon.fuzz.js';
import { target as serve } from './serve.fuzz.js';
import { ServerConnection } from '../../src/vfio-user/server-connection.js';
import { createSimCard } from '../../src/sim/sim-device.js';
import { closeQuietly, unixSocketPair } from '../../src/sys/libc.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';
import { MessageSocket } from '../../src/vfio-user/unix-socket.js';
import { encodeVersion } from '../../src/vfio-user/capabilities.js';
import { buildCommand, Command, Errno, FLAG_ERROR } from '../../src/vfio-user/protocol.js';

startCoverage();

describe('coverage-guided fuzzing (a few seconds per target)', () => {
  for (const t of [vfioUser, gbs, avalon]) {
    it(`${t.name}: replays its corpus and finds nothing in 2 s`, () => {
      const g = t.guided!(new Rng(1));
      try {
        const s = fuzzGuided({ target: t.name, rng: new Rng(2), cases: 1_000_000, seconds: 2, seeds: g.seeds, exec: (i) => g.exec(i), mutateMore: g.mutateMore });
        expect(s.cases).toBeGreaterThan(g.seeds.length + readCorpus(t.name).length);
        expect(s.blocks).toBeGreaterThan(0);
      } finally {
        g.close?.();
      }
    }, 60_000);
  }

  it('keeps a corpus in the repository for the guided targets', () => {
    for (const t of ['vfio-user', 'gbs', 'avalon']) expect(readCorpus(t).length, t).toBeGreaterThan(0);
  });

  it('fuzzes the real vfiokit serve process over its socket', async () => {
    const s = await serve.fuzz({ cases: 120, seed: 5 });
    expect(s.cases).toBe(120);
    expect(s.accepted + s.typedErrors).toBeGreaterThan(40);
  }, 120_000);
});

describe('an EIO reply is not success when the server threw', () => {
  it('counts an untyped handler failure as an internal error (the client still gets EIO)', () => {
    const device = createSimCard('n3000');
    device.reset = () => { throw new TypeError('a bug inside the device model'); };
    const [server, client] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
    const seen: string[] = [];
    const conn = new ServerConnection(server, device, { maxMsgFds: 1, maxDataXferSize: 4096, pgsizes: 4096, maxDmaMaps: 4, twinSocket: false }, { name: 'eio test', onInternalError: (e, c) => seen.push(`${c}: ${e.message}`) });
    const peer = new MessageSocket(client, { name: 'peer', maxPayload: 1 << 16, maxFds: 4 });
    try {
      peer.send(buildCommand(1, Command.VERSION, encodeVersion(0, 1, {})));
      conn.service();
      peer.receiveBlocking(1000, 'VERSION');
      peer.send(buildCommand(2, Command.DEVICE_RESET, new Uint8Array(0)));
      conn.service();
      const r = peer.receiveBlocking(1000, 'DEVICE_RESET');
      expect(r.kind === 'message' && (r.message.header.flags & FLAG_ERROR) !== 0 && r.message.header.error === Errno.EIO).toBe(true);
      expect(conn.internalErrorCount).toBe(1);
      expect(seen).toEqual(['DEVICE_RESET: a bug inside the device model']);
    } finally {
      peer.close();
      conn.close();
      device.close();
      closeQuietly(-1);
    }
  });
});
