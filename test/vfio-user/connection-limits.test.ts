// Connections that cannot be served: a server whose listen backlog is full, a server busy with
// another client, and a client that connects and never speaks. Each side gives up after a
// deadline with a message that says which of these happened; the server keeps serving.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { bindUnix, closeQuietly, connectUnix, listen, read, socket } from '../../src/sys/libc.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';
import { isSysError } from '../../src/sys/sys-error.js';
import { repoRoot, spawnServer, type SpawnedServer } from './helpers/spawn.js';

function connectInChild(path: string, timeoutMs: number): { ok: boolean; code?: string; message?: string; ms: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/vfio-user/fixtures/connect-client.ts'), path, String(timeoutMs)], {
    cwd: repoRoot, encoding: 'utf8', timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`client child did not finish (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** Wait until the server has let go of every client it served (`vfiokit serve` prints both). */
async function serverIdle(s: SpawnedServer, timeoutMs = 20_000): Promise<void> {
  const count = (line: string): number => s.lines.filter((l) => l === line).length;
  const deadline = Date.now() + timeoutMs;
  while (count('client connected') > count('client disconnected')) {
    if (Date.now() > deadline) throw new Error(`the server still serves a client after ${timeoutMs} ms: ${s.lines.slice(-5).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('vfio-user connection limits', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer('src/cli/main.ts', ['serve', 'sim:n3000', '--socket', '{socket}', '--handshake-timeout', '300'], /^serving /);
  });
  afterAll(async () => {
    await server.kill();
  });

  it('gives up connecting to a server whose listen backlog is full, and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfu-backlog-'));
    const path = join(dir, 'full.sock');
    const listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    const fillers: number[] = [];
    try {
      bindUnix(listener, path);
      listen(listener, 0); // never accepts
      for (let i = 0; i < 16; i++) {
        const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
        fillers.push(fd);
        try {
          connectUnix(fd, path);
        } catch (err) {
          if (isSysError(err, 'EAGAIN')) break;
          throw err;
        }
      }
      const r = connectInChild(path, 400);
      expect(r.ok).toBe(false);
      expect(r.code).toBe('EVFIO_USER_CONNECT_TIMEOUT');
      expect(r.message).toMatch(/backlog is full/);
      expect(r.ms).toBeLessThan(5000);
    } finally {
      for (const fd of fillers) closeQuietly(fd);
      closeQuietly(listener);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a server busy with another client as busy (EBUSY), not stuck', () => {
    using first = new VfioUserDevice(server.socket);
    expect(first.identity.vendor).toBe(0x8086);
    const r = connectInChild(server.socket, 600);
    expect(r.ok).toBe(false);
    expect(r.code).toBe('EBUSY');
    expect(r.message).toMatch(/serving another client/);
    expect(r.message).not.toMatch(/stuck/);
    expect(r.ms).toBeLessThan(5000);
  });

  it('closes a client that connects while another is served and never speaks, and says so', async () => {
    await serverIdle(server);
    using first = new VfioUserDevice(server.socket);
    const silent = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    try {
      connectUnix(silent, server.socket);
      await server.waitFor(/is served and sent nothing within 300 ms: closed/, 20_000);
      expect(read(silent, new Uint8Array(16))).toBe(0);
      expect(first.identity.vendor).toBe(0x8086); // the served client is untouched
    } finally {
      closeQuietly(silent);
    }
  }, 30_000);

  it('drops a client that connects and never sends VERSION, then serves the next one', async () => {
    // The previous test's client may still be closing on the server's side; connected then, this
    // client would meet the busy refusal instead of the handshake timeout.
    await serverIdle(server);
    const silent = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    try {
      connectUnix(silent, server.socket);
      await server.waitFor(/no VERSION within 300 ms/, 20_000);
      expect(read(silent, new Uint8Array(16))).toBe(0); // the server closed its end
      using next = new VfioUserDevice(server.socket, { connectTimeoutMs: 2000 });
      expect(next.identity.vendor).toBe(0x8086);
    } finally {
      closeQuietly(silent);
    }
  }, 30_000); // a spawned server on a loaded 2-core CI machine
});
