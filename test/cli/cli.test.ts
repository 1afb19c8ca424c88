// The CLI end to end as a user runs it: `node bin/vfiokit.js ...` in a child process, against the
// simulated card and the sample plugin; exit codes, one-line errors, --json parsed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin/vfiokit.js');
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfiokit-cli-'));
  env = { ...process.env, VFIOKIT_LOCK_DIR: join(dir, 'locks'), VFIOKIT_STATE_DIR: join(dir, 'state'), HOME: join(dir, 'home'), DEBUG: '' };
  delete env.VFIOKIT_CONFIG;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function vfiokit(args: string[], extra: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...env, ...extra }, cwd: root, timeout: 60_000 });
}

function json(r: SpawnSyncReturns<string>): any {
  expect(r.stderr, r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/** A one-line error: "vfiokit <cmd>: ...\n" and nothing else. */
function oneLineError(r: SpawnSyncReturns<string>, command: string): string {
  expect(r.stderr.startsWith(`vfiokit ${command}: `), r.stderr).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  return r.stderr;
}

describe('vfiokit (spawned)', () => {
  // --help of every command, --json of every read command: conventions.test.ts.
  it('peek and poke a simulated card: values, --json, errors and exit codes', () => {
    const dfh = json(vfiokit(['peek', 'sim:n3000', '0x0', '--json']));
    expect(dfh).toMatchObject({ device: 'sim:n3000', region: 0, width: 64 });
    expect(BigInt(dfh.registers[0].value) >> 60n).toBe(4n); // DFH[63:60] = 4: an FIU (the FME)
    const four = json(vfiokit(['peek', 'sim:n3000', '0x40000', '-n', '4', '-a', '32', '--json']));
    expect(four.registers.map((r: { offset: string }) => r.offset)).toEqual(['0x40000', '0x40004', '0x40008', '0x4000c']);
    const text = vfiokit(['peek', 'sim:n3000', '0x60000']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^ {3}0x60000: 0x[0-9a-f]{16}\n$/);
    expect(vfiokit(['poke', 'sim:n3000', '0x60100', '0xfeed']).stdout).toBe('0x60100 <- 0x000000000000feed\n');

    let r = vfiokit(['peek', 'sim:n3000', '0x3']);
    expect(r.status).toBe(1);
    expect(oneLineError(r, 'peek')).toContain('not 8-byte aligned');
    r = vfiokit(['peek', 'sim:n3000', '0x80000']);
    expect(r.status).toBe(1);
    expect(oneLineError(r, 'peek')).toContain('outside the region');
    r = vfiokit(['peek', 'sim:n3000', 'zz']);
    expect(r.status).toBe(2);
    oneLineError(r, 'peek');
    r = vfiokit(['poke', 'sim:n3000', '0x100', '0x1ffffffff', '-a', '32']);
    expect(r.status).toBe(2);
    expect(oneLineError(r, 'poke')).toContain('does not fit a 32-bit register');
    r = vfiokit(['peek', 'sim:nothing', '0']);
    expect(r.status).toBe(4);
    oneLineError(r, 'peek');
    r = vfiokit(['peek', 'sim:n3000', '0', '-r', '3']);
    expect(r.status).toBe(2);
    expect(oneLineError(r, 'peek')).toContain('has no region 3');
  }, 120_000);

  it('reserve, reservations, free: ownership, ids, stale owners, --force', async () => {
    const shell = spawn('sleep', ['300']);
    try {
      const reserved = json(vfiokit(['reserve', 'sim:n3000', '--owner', String(shell.pid), '--json']));
      expect(reserved).toMatchObject({ device: 'sim:n3000', state: 'RESERVED', owner: { pid: shell.pid, command: 'sleep' }, stale: false });
      const id: string = reserved.id;
      expect(id).toMatch(/^r-[0-9a-f]{8}$/);
      const dirMode = statSync(join(dir, 'locks')).mode & 0o777;
      expect(dirMode).toBe(0o755);
      expect(statSync(reserved.file).mode & 0o777).toBe(0o644);

      // Someone else's reservation: refused with exit 4 and a one-line error naming the owner.
      let r = vfiokit(['reserve', 'sim:n3000']);
      expect(r.status).toBe(4);
      expect(oneLineError(r, 'reserve')).toContain(`by pid ${shell.pid} (sleep`);
      r = vfiokit(['free', id]);
      expect(r.status).toBe(4);
      r = vfiokit(['poke', 'sim:n3000', '0x60100', '1']);
      expect(r.status).toBe(4);
      expect(oneLineError(r, 'poke')).toContain('pass --force');
      r = vfiokit(['reset', 'sim:n3000', '--port', '0']);
      expect(r.status).toBe(4);

      const list = json(vfiokit(['reservations', '--json']));
      expect(list.reservations).toEqual([expect.objectContaining({ id, device: 'sim:n3000', state: 'RESERVED', stale: false })]);
      expect(vfiokit(['reservations']).stdout).toMatch(new RegExp(`${id}\\s+sim:n3000\\s+RESERVED\\s+${shell.pid} `));

      // The owner dies: the reservation is stale, refused with advice, cleared with --force.
      shell.kill('SIGKILL');
      await new Promise((res) => shell.once('exit', res));
      expect(json(vfiokit(['reservations', '--json'])).reservations[0]).toMatchObject({ id, stale: true });
      expect(vfiokit(['reservations']).stdout).toContain('STALE');
      r = vfiokit(['reserve', 'sim:n3000']);
      expect(r.status).toBe(4);
      expect(oneLineError(r, 'reserve')).toContain('free sim:n3000 --force');
      r = vfiokit(['free', id, '--force']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`freed sim:n3000 (${id}) (forced)\n`);
      expect(json(vfiokit(['reservations', '--json'])).reservations).toEqual([]);
      expect(json(vfiokit(['reservations', '--all', '--json'])).reservations[0]).toMatchObject({ state: 'FREE' });
      expect(vfiokit(['free', 'sim:n3000']).stdout).toBe('sim:n3000 was not reserved\n');
      r = vfiokit(['free', 'r-00000000']);
      expect(r.status).toBe(4);
      r = vfiokit(['reserve', 'sim:n3000', '--owner', '999999999']);
      expect(r.status).toBe(2);
    } finally {
      shell.kill('SIGKILL');
    }
  }, 120_000);

  it('two CLI processes racing for one device: exactly one wins, every round', async () => {
    const holder = spawn('sleep', ['300']);
    try {
      for (let round = 0; round < 5; round++) {
        const device = `sim:cli-race-${round}`;
        const run = () => new Promise<number>((res) => {
          const p = spawn(process.execPath, [bin, 'reserve', device, '--owner', String(holder.pid)], { env, stdio: 'ignore' });
          p.once('exit', (code) => res(code ?? -1));
        });
        const codes = (await Promise.all([run(), run()])).sort();
        expect(codes, `round ${round}`).toEqual([0, 4]);
        expect(vfiokit(['free', device, '--force']).status).toBe(0);
      }
    } finally {
      holder.kill('SIGKILL');
    }
  }, 120_000);

  it('reset: port reset, device reset, bad port, and a reset-ACK fault', () => {
    expect(json(vfiokit(['reset', 'sim:n3000', '--port', '0', '--json']))).toEqual({ device: 'sim:n3000', port: 0, reset: 'port' });
    expect(json(vfiokit(['reset', 'sim:n3000', '--json']))).toEqual({ device: 'sim:n3000', port: null, reset: 'device' });
    let r = vfiokit(['reset', 'sim:n3000', '--port', '2']);
    expect(r.status).toBe(4);
    expect(oneLineError(r, 'reset')).toContain('has no port 2');
    r = vfiokit(['reset', 'sim:n3000?fault=reset-ack', '--port', '0']);
    expect(r.status).toBe(1);
    expect(oneLineError(r, 'reset')).toMatch(/PORT_CTRL .* bit 4/);
    // The failed reset left no reservation behind.
    expect(json(vfiokit(['reservations', '--json'])).reservations.filter((x: { device: string }) => x.device === 'sim:n3000')).toEqual([]);
  }, 120_000);

  it('backends: the built-in default, a plugin by path, and bad configurations survived', () => {
    const def = json(vfiokit(['backends', '--json']));
    expect(def.config).toBe('built-in');
    expect(def.backends.find((b: { name: string }) => b.name === 'sim')).toMatchObject({ state: 'ready', schemes: ['sim'] });

    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({
      configurations: {
        sim: { enabled: true, plugin: 'sim' },
        mem: { enabled: true, plugin: resolve(root, 'examples/plugins/memory-backend.ts'), configuration: { devices: [{ name: 'scratch' }] } },
        broken: { enabled: true, plugin: resolve(root, 'test/plugins/fixtures/failing-init.mjs'), configuration: { endpoint: 'tcp://nowhere' } },
        ghost: { enabled: true, plugin: './no/such/plugin.mjs' },
      },
      plugins: ['sim', 'mem', 'broken', 'ghost'],
    }));
    let r = vfiokit(['backends', '--json', '--devices'], { VFIOKIT_CONFIG: good });
    expect(r.status).toBe(1); // some backend failed
    const rep = JSON.parse(r.stdout);
    expect(rep.backends.map((b: { name: string; state: string }) => `${b.name}:${b.state}`)).toEqual(['sim:ready', 'mem:ready', 'broken:failed', 'ghost:failed']);
    expect(rep.devices.map((t: { url: string }) => t.url)).toContain('mem:scratch');
    r = vfiokit(['backends'], { VFIOKIT_CONFIG: good });
    expect(r.stdout).toContain('cannot reach the card manager at tcp://nowhere');
    // The failures do not stop the working backends.
    expect(json(vfiokit(['poke', 'mem:scratch', '0x8', '0x42', '--json'], { VFIOKIT_CONFIG: good }))).toMatchObject({ value: '0x0000000000000042' });
    expect(json(vfiokit(['peek', 'sim:n3000', '0', '--json'], { VFIOKIT_CONFIG: good })).registers).toHaveLength(1);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "plugins": ["sim",]\n}\n');
    r = vfiokit(['backends'], { VFIOKIT_CONFIG: bad });
    expect(r.status).toBe(3);
    expect(r.stdout).toContain(`${bad}:2:21: invalid JSON`);
    // Other commands warn once and carry on with the built-in backends.
    r = vfiokit(['peek', 'sim:n3000', '0'], { VFIOKIT_CONFIG: bad });
    expect(r.status).toBe(0);
    expect(r.stderr.startsWith(`vfiokit: warning: ${bad}:2:21: invalid JSON`), r.stderr).toBe(true);
    expect(r.stderr.endsWith('(using the built-in backends)\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 120_000);

  it('demo: the full tour passes, --json lists every step', () => {
    const out = json(vfiokit(['demo', '--json']));
    expect(out.steps.map((s: { step: string }) => s.step)).toEqual(['enumerate', 'walk', 'port-reset', 'dma', 'pr', 'flash', 'status', 'reboot']);
    const pr = out.steps.find((s: { step: string }) => s.step === 'pr');
    expect(pr.after).not.toBe(pr.before);
    expect(out.steps.find((s: { step: string }) => s.step === 'dma')).toMatchObject({ bytes: 256 * 1024, verified: true, interrupts: 1 });
    expect(out.steps.find((s: { step: string }) => s.step === 'flash').states).toEqual(['PREPARING', 'READY', 'COPYING', 'DONE']);
    expect(out.steps.find((s: { step: string }) => s.step === 'status')).toMatchObject({ state: 'DONE', status: 0, progress: 100 });
    const r = vfiokit(['demo', 'vfio:0000:3b:00.0']);
    expect(r.status).toBe(2);
  }, 120_000);
});
