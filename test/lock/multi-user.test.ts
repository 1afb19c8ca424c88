// Two real users sharing a card through a shared group state directory (issue 14 item 5; README
// "Security"): the directory is root:<group> mode 3775 (setgid + sticky), each record belongs to
// the user who wrote it, and only that user or root may release, force or cancel. The CLI runs as
// each user with setpriv(1); users and group are created here (root needed; under CI it must run).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { statusKey } from '../../src/afu/bmc/flash-status.js';
import { skipUnlessCi } from '../helpers/skip-unless-ci.js';

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin/vfiokit.js');
const GROUP = 'vfkshare';
const USERS = ['vfk-a', 'vfk-b'] as const;
const skipNotRoot = skipUnlessCi(process.getuid?.() === 0 ? undefined : 'not root (the test creates two users with useradd)', '.ci/run runs as root');

let base = '';
let state = '';
const uid: Record<string, number> = {};
const gid = { share: 0 };
const sleepers: ChildProcess[] = [];

function sh(cmd: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8' });
}

function as(user: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync('setpriv', [`--reuid=${user}`, `--regid=${GROUP}`, '--init-groups', ...args], {
    encoding: 'utf8', cwd: root, timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: join(base, user), VFIOKIT_STATE_DIR: state, DEBUG: '' },
  });
}

function vfiokit(user: string, args: string[]): SpawnSyncReturns<string> {
  return as(user, [process.execPath, bin, ...args]);
}

/** A long-lived process of `user`: the owner a reservation names. */
function sleeper(user: string): number {
  const child = spawn('setpriv', [`--reuid=${user}`, `--regid=${GROUP}`, '--init-groups', 'sleep', '600'], { stdio: 'ignore' });
  sleepers.push(child);
  return child.pid!;
}

beforeAll(() => {
  if (skipNotRoot) return;
  if (sh('getent', ['group', GROUP]).status !== 0) expect(sh('groupadd', [GROUP]).status).toBe(0);
  for (const u of USERS) {
    if (sh('id', ['-u', u]).status !== 0) expect(sh('useradd', ['-M', '-N', '-g', GROUP, '-s', '/bin/false', u]).status).toBe(0);
    uid[u] = Number(sh('id', ['-u', u]).stdout.trim());
  }
  gid.share = Number(sh('getent', ['group', GROUP]).stdout.split(':')[2]);
  base = mkdtempSync(join(tmpdir(), 'vfiokit-users-'));
  chmodSync(base, 0o755);
  state = join(base, 'state');
  // The administrator's setup (README "Security"): root:<group>, 3775, for the base and both subdirectories.
  for (const d of [state, join(state, 'locks'), join(state, 'flash')]) {
    mkdirSync(d);
    chownSync(d, 0, gid.share);
    chmodSync(d, 0o3775);
  }
  for (const u of USERS) mkdirSync(join(base, u), { mode: 0o777 });
});

afterAll(() => {
  for (const s of sleepers) s.kill();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe.skipIf(skipNotRoot)('two users sharing a card (skipped: needs root to create users; runs under CI)', () => {
  it('user B can neither take, release, force nor cancel user A\'s reservation or flash; both share through the group directory', () => {
    const [A, B] = USERS;
    const pidA = sleeper(A);
    const pidB = sleeper(B);

    // A reserves; the record is A's file in the shared directory.
    let r = vfiokit(A, ['reserve', 'sim:n3000', '--owner', String(pidA), '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const file = JSON.parse(r.stdout).file as string;
    expect(statSync(file).uid).toBe(uid[A]);

    // B cannot take it, release it, or force it.
    r = vfiokit(B, ['reserve', 'sim:n3000', '--owner', String(pidB)]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/RESERVED by pid \d+ \(sleep, user vfk-a\)/);
    r = vfiokit(B, ['free', 'sim:n3000']);
    expect(r.status).toBe(4);
    r = vfiokit(B, ['free', 'sim:n3000', '--force']);
    expect(r.stderr).toContain('only user vfk-a or root may force it');
    expect(r.status).toBe(4);
    // Nor name A's process as the owner of a reservation of their own.
    r = vfiokit(B, ['reserve', 'sim:n3000', '--owner', String(pidA)]);
    expect(r.stderr).toContain('belongs to user vfk-a');
    expect(r.status).toBe(4);
    // Nor replace A's file behind vfiokit's back: 0644 and a sticky directory.
    expect(as(B, ['sh', '-c', `echo '{}' > '${file}'`]).status).not.toBe(0);
    writeFileSync(join(base, 'forged'), '{}');
    chmodSync(join(base, 'forged'), 0o644);
    expect(as(B, ['sh', '-c', `cp '${join(base, 'forged')}' '${file}.b' && mv -f '${file}.b' '${file}'`]).status).not.toBe(0);
    expect(statSync(file).uid).toBe(uid[A]);

    // A's flash (its live process publishes READY): B's cancel is refused and leaves no request.
    const record = join(state, 'flash', `${statusKey('sim:n3000')}.u${uid[A]}.json`);
    expect(as(A, ['sh', '-c', `echo '${JSON.stringify({ device: 'sim:n3000', state: 'READY', status: 2, progress: 30, pid: pidA, updatedAt: Date.now() })}' > '${record}'`]).status).toBe(0);
    r = vfiokit(B, ['status', 'sim:n3000', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'READY', pid: pidA, uid: uid[A] });
    r = vfiokit(B, ['cancel', 'sim:n3000']);
    expect(r.stderr).toContain('run by process');
    expect(r.stderr).toContain('of user vfk-a; only that user or root may cancel it');
    expect(r.status).toBe(4);
    expect(readdirSync(join(state, 'flash')).filter((f) => f.endsWith('.cancel'))).toEqual([]);
    // B cannot fake A's flash either: a record of B's naming A's pid is not believed.
    expect(as(B, ['sh', '-c', `echo '${JSON.stringify({ device: 'sim:n3000', state: 'COPYING', status: 3, progress: 1, pid: pidA, updatedAt: Date.now() + 1000 })}' > '${record.replace(`.u${uid[A]}.`, `.u${uid[B]}.`)}'`]).status).toBe(0);
    expect(JSON.parse(vfiokit(A, ['status', 'sim:n3000', '--json']).stdout)).toMatchObject({ state: 'READY', uid: uid[A] });
    expect(as(A, ['rm', '-f', record]).status).toBe(0);

    // A releases (its own user may force it); the FREE card has no file, so B can take it.
    r = vfiokit(A, ['free', 'sim:n3000', '--force']);
    expect(r.status).toBe(0);
    r = vfiokit(B, ['reserve', 'sim:n3000', '--owner', String(pidB), '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(statSync(JSON.parse(r.stdout).file as string).uid).toBe(uid[B]);
    // Now A is the outsider; both see the same listing.
    r = vfiokit(A, ['free', 'sim:n3000', '--force']);
    expect(r.stderr).toContain('only user vfk-b or root may force it');
    const listA = JSON.parse(vfiokit(A, ['reservations', '--json']).stdout);
    const listB = JSON.parse(vfiokit(B, ['reservations', '--json']).stdout);
    expect(listA.reservations).toEqual(listB.reservations.map((x: { ageSeconds: number }) => ({ ...x, ageSeconds: expect.any(Number) })));
    expect(listA.reservations[0]).toMatchObject({ device: 'sim:n3000', state: 'RESERVED', owner: { pid: pidB, user: 'vfk-b' } });
    // Root may clear anyone's.
    const rootFree = spawnSync(process.execPath, [bin, 'free', 'sim:n3000', '--force'], { encoding: 'utf8', cwd: root, env: { ...process.env, VFIOKIT_STATE_DIR: state, DEBUG: '' } });
    expect(rootFree.status).toBe(0);
  }, 300_000);

  it('a shared directory without the sticky bit, or owned by a user, is refused', () => {
    const loose = join(base, 'loose');
    mkdirSync(loose);
    chownSync(loose, 0, gid.share);
    chmodSync(loose, 0o2775); // setgid, group-writable, no sticky: anyone in the group could rename others' files
    let r = spawnSync('setpriv', [`--reuid=${USERS[0]}`, `--regid=${GROUP}`, '--init-groups', process.execPath, bin, 'reservations'], { encoding: 'utf8', cwd: root, env: { PATH: process.env.PATH, HOME: base, VFIOKIT_LOCK_DIR: loose, DEBUG: '' } });
    expect(r.stderr).toContain('without being a shared group directory; chmod 755');
    expect(r.status).toBe(4);
    chownSync(loose, uid[USERS[0]]!, gid.share);
    chmodSync(loose, 0o3775);
    r = spawnSync('setpriv', [`--reuid=${USERS[1]}`, `--regid=${GROUP}`, '--init-groups', process.execPath, bin, 'reservations'], { encoding: 'utf8', cwd: root, env: { PATH: process.env.PATH, HOME: base, VFIOKIT_LOCK_DIR: loose, DEBUG: '' } });
    expect(r.stderr).toContain(`belongs to uid ${uid[USERS[0]]}`);
    expect(r.status).toBe(4);
  }, 120_000);
});
