// `vfiokit serve`: the socket file's mode and owner, a stale socket replaced, a live one refused,
// bad arguments, and a clean stop on SIGTERM (socket removed, exit 0).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, repoRoot } from './helpers/spawn.js';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { bindUnix, closeQuietly, socket } from '../../src/sys/libc.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM } from '../../src/sys/constants.js';

const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });

describe('vfiokit serve', () => {
  it('creates the socket with mode 0600, serves sim:n3000, and removes the socket on SIGTERM', async () => {
    const server = await spawnServer('src/cli/main.ts', ['serve', 'sim:n3000', '--socket', '{socket}'], /^serving /);
    expect(statSync(server.socket).mode & 0o777).toBe(0o600);
    expect(statSync(server.socket).isSocket()).toBe(true);
    {
      using dev = new VfioUserDevice(server.socket);
      expect(dev.identity.vendor).toBe(0x8086);
    }
    const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(server.socket)).toBe(false);
    await server.kill();
  });

  it('honours --mode and --owner, prints JSON with --json', async () => {
    const server = await spawnServer('src/cli/main.ts', ['serve', 'sim:n3000', '--socket', '{socket}', '--mode', '0660', '--owner', '0:12', '--json'], /"pid"/);
    const st = statSync(server.socket);
    expect(st.mode & 0o777).toBe(0o660);
    expect([st.uid, st.gid]).toEqual([0, 12]);
    await server.kill();
  });

  it('replaces a stale socket file but refuses a path another server listens on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfu-serve-'));
    const path = join(dir, 'card.sock');
    try {
      const stale = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
      bindUnix(stale, path); // a socket file nobody listens on
      closeQuietly(stale);
      const server = await spawnServer('src/cli/main.ts', ['serve', 'sim:n3000', '--socket', path], /^serving /);
      const second = cli(['serve', 'sim:n3000', '--socket', path]);
      expect(second.status).toBe(4);
      expect(second.stderr).toMatch(/another server is listening on/);
      await server.kill();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains bad arguments with exit code 2', () => {
    const noSocket = cli(['serve', 'sim:n3000']);
    expect(noSocket.status).toBe(2);
    expect(noSocket.stderr).toMatch(/--socket PATH/);
    const badMode = cli(['serve', 'sim:n3000', '--socket', '/tmp/x.sock', '--mode', '999']);
    expect(badMode.status).toBe(2);
    expect(badMode.stderr).toMatch(/octal permission mode/);
    const badOwner = cli(['serve', 'sim:n3000', '--socket', '/tmp/x.sock', '--owner', 'root']);
    expect(badOwner.status).toBe(2);
    const help = cli(['serve', '--help']);
    expect(help.stdout + help.stderr).toMatch(/examples:/);
  });
});
