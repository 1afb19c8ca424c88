// Fuzz the real `vfiokit serve sim:n3000` process over its UNIX socket: the vfio-user seeds and
// corpus, mutated, sent on one connection (memfds attached to DMA_MAPs), replies read back. Every
// 25 cases, and whenever the stream is out of frame, the fuzzer reconnects and checks the server
// still negotiates VERSION and answers DEVICE_GET_INFO. A finding: the process died, stopped
// answering, or reported an internal error (a handler that threw: the client only saw EIO).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closeQuietly, connectUnix, createMemfd, socket } from '../../src/sys/libc.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM } from '../../src/sys/constants.js';
import { encodeVersion } from '../../src/vfio-user/capabilities.js';
import { vfio_user_device_info } from '../../src/sys/uapi/vfio-user.js';
import { MessageSocket } from '../../src/vfio-user/unix-socket.js';
import { FLAG_ERROR, FLAG_NO_REPLY, VfioUserConnectionError } from '../../src/vfio-user/protocol.js';
import { getLe32 } from '../../src/util/bytes.js';
import { buildCommand, Command, HEADER_SIZE, putSize, seedMessages } from '../vfio-user/fuzz-seeds.js';
import { readCorpus } from './coverage.js';
import { FuzzFinding, mutate, newStats, Rng, type FuzzTarget } from './lib.js';

const root = resolve(import.meta.dirname, '../..');

async function startServer(): Promise<{ path: string; lines: string[]; alive(): boolean; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'vfu-fuzz-serve-'));
  const path = join(dir, 'card.sock');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', 'sim:n3000', '--socket', path, '--handshake-timeout', '5000'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n')) if (l) lines.push(l);
      if (lines.some((l) => l.startsWith('serving '))) ok();
    });
    child.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    void exit.then(() => fail(new Error(`vfiokit serve exited before listening: ${lines.join(' | ')}`)));
  });
  return {
    path, lines,
    alive: () => !exited,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

class Client {
  sock: MessageSocket;
  constructor(path: string) {
    const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    try {
      connectUnix(fd, path);
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
    this.sock = new MessageSocket(fd, { name: 'fuzz client', maxPayload: 1 << 22, maxFds: 16 });
  }

  /** Send and wait for the reply with `id` (true: a reply came; false: no reply wanted or framing lost). */
  call(bytes: Uint8Array, fds: number[], timeoutMs: number): { error: boolean } | undefined {
    this.sock.send(bytes, fds, timeoutMs);
    const id = bytes.length >= 2 ? bytes[0]! | (bytes[1]! << 8) : -1;
    for (;;) {
      const r = this.sock.receiveBlocking(timeoutMs, 'waiting for the fuzzed reply');
      if (r.kind === 'refused') throw new FuzzFinding(`server sent a malformed message: ${r.error.message}`);
      for (const fd of r.message.fds) closeQuietly(fd);
      if (r.message.header.id === id) return { error: (r.message.header.flags & FLAG_ERROR) !== 0 };
    }
  }

  close(): void {
    this.sock.close();
  }
}

/** Connect, negotiate and ask DEVICE_GET_INFO: the server must still work. */
function healthy(path: string): Client {
  const c = new Client(path);
  const v = c.call(buildCommand(1, Command.VERSION, encodeVersion(0, 1, { maxMsgFds: 8 })), [], 5000);
  const info = c.call(buildCommand(2, Command.DEVICE_GET_INFO, vfio_user_device_info.encode()), [], 5000);
  if (!v || v.error || !info || info.error) throw new FuzzFinding('the server no longer negotiates VERSION / answers DEVICE_GET_INFO');
  return c;
}

export const target: FuzzTarget = {
  name: 'serve',
  async fuzz({ cases, seed }) {
    const rng = new Rng(seed);
    const stats = newStats('serve');
    const seeds = [...seedMessages().map((s) => ({ bytes: s.bytes, memfd: s.fds === 'memfd' })), ...readCorpus('vfio-user').map((b) => ({ bytes: b.slice(1), memfd: (b[0]! & 0x7f) === 1 }))];
    const memfd = createMemfd('fuzz-serve', 64 * 1024);
    const server = await startServer();
    let client: Client | undefined;
    try {
      client = healthy(server.path);
      for (let i = 0; i < cases; i++) {
        const s = rng.pick(seeds);
        const bytes = rng.bool(0.2) ? s.bytes : mutate(rng, s.bytes);
        if (bytes.length >= HEADER_SIZE && rng.bool(0.9)) putSize(bytes, bytes.length);
        // A frame the server cannot answer (no-reply flag, a size that is not the byte count) is
        // sent without waiting; the stream is then out of step, so reconnect.
        const framed = bytes.length >= HEADER_SIZE && getLe32(bytes, 4) === bytes.length && (getLe32(bytes, 8) & FLAG_NO_REPLY) === 0;
        let resync = !framed || i % 25 === 24;
        try {
          const fds = s.memfd && rng.bool(0.9) ? [memfd] : [];
          const r = framed ? client.call(bytes, fds, 2000) : (client.sock.send(bytes, fds, 1000), undefined);
          if (r) r.error ? stats.typedErrors++ : stats.accepted++;
        } catch (err) {
          if (err instanceof FuzzFinding) throw err;
          if (!(err instanceof VfioUserConnectionError)) throw err;
          resync = true; // no reply (no-reply flag, a header promising more bytes) or the server dropped us
        }
        stats.cases++;
        if (!server.alive()) throw new FuzzFinding(`vfiokit serve died at case ${i} (${Buffer.from(bytes).toString('hex').slice(0, 200)}): ${server.lines.slice(-5).join(' | ')}`);
        const internal = server.lines.find((l) => l.startsWith('internal error'));
        if (internal) throw new FuzzFinding(`vfiokit serve: ${internal} (case ${i}: ${Buffer.from(bytes).toString('hex').slice(0, 200)})`);
        if (resync) {
          client.close();
          client = undefined;
          // The server notices the close on its own watcher: give it a moment, then check it.
          await new Promise((r) => setTimeout(r, 5));
          for (let attempt = 0; ; attempt++) {
            try {
              client = healthy(server.path);
              break;
            } catch (err) {
              if (err instanceof FuzzFinding || attempt > 50) throw err;
              await new Promise((r) => setTimeout(r, 20));
            }
          }
        }
      }
    } finally {
      client?.close();
      closeQuietly(memfd);
      await server.stop();
    }
    return stats;
  },
};
