// The conventions every vfiokit command keeps, checked on the command as users run it (`node
// bin/vfiokit.js ...` in a child process): --help with examples and exit codes on every command,
// one JSON document from every read command's --json, a reservation id accepted wherever a DEVICE
// is, and flash taking the card's reservation on a simulated card as pr does.
// Spawning node + tsx costs about a second, so independent runs go two at a time.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { buildSimGbs } from '../../src/sim-gbs.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin/vfiokit.js');
/** Every command, by the file name main.ts finds it under. */
const commands = readdirSync(join(root, 'src/cli/commands')).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).map((f) => basename(f, '.ts')).sort();
const AFU = '0d5e6f70-8192-4a3b-9c4d-5e6f70819203';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfiokit-cli-conv-'));
  env = { ...process.env, VFIOKIT_LOCK_DIR: join(dir, 'locks'), VFIOKIT_STATE_DIR: join(dir, 'state'), HOME: join(dir, 'home'), DEBUG: '' };
  delete env.VFIOKIT_CONFIG;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run { args: string[]; code: number; stdout: string; stderr: string }

function vfiokit(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...env, ...extra }, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', rej);
    child.once('close', (code) => res({ args, code: code ?? -1, stdout, stderr }));
  });
}

/** Run every job, at most two processes at a time (the machine has two cores); results in order. */
async function twoAtATime<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** Exit 0, nothing on stderr, and stdout is exactly one JSON document. */
function oneJson(r: Run): any {
  const what = `vfiokit ${r.args.join(' ')}`;
  expect(r.stderr, `${what}: ${r.stderr}`).toBe('');
  expect(r.code, what).toBe(0);
  return JSON.parse(r.stdout);
}

function oneLineError(r: Run, command: string): string {
  expect(r.stderr.startsWith(`vfiokit ${command}: `), r.stderr).toBe(true);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  return r.stderr;
}

describe('vfiokit conventions (spawned)', () => {
  it('every command answers --help with its usage, exit codes and examples, exit 0', async () => {
    expect(commands.length).toBeGreaterThanOrEqual(20);
    const runs = await twoAtATime([
      ...commands.map((cmd) => () => vfiokit([cmd, '--help'])),
      () => vfiokit(['--help']),
      () => vfiokit([]),
      () => vfiokit(['no-such-command']),
    ]);
    for (const [i, cmd] of commands.entries()) {
      const r = runs[i]!;
      expect(r.code, cmd).toBe(0);
      expect(r.stderr, cmd).toBe('');
      expect(r.stdout, cmd).toMatch(new RegExp(`^usage: vfiokit ${cmd}\\b`));
      expect(r.stdout, cmd).toMatch(/example/i);
      expect(r.stdout, cmd).toContain('exit codes:');
      // Usage lines name the device the same way everywhere.
      expect(r.stdout, cmd).not.toContain('<device>');
    }
    const [list, none, unknown] = runs.slice(commands.length);
    expect(list!.code).toBe(0);
    for (const cmd of commands) expect(list!.stdout).toContain(`  ${cmd} `);
    expect(none!.code).toBe(2);
    expect(unknown!.code).toBe(2);
    expect(unknown!.stderr).toBe('vfiokit: unknown command "no-such-command"; run vfiokit --help for the list\n');
  }, 240_000); // 26 spawned commands, two at a time, on a shared 2-core machine

  it('a reservation id is a DEVICE for walk, info, peek and status; every read command prints one JSON document', async () => {
    const holder = spawn('sleep', ['300']);
    try {
      const reserved = oneJson(await vfiokit(['reserve', 'sim:n3000', '--owner', String(holder.pid), '--json']));
      const id: string = reserved.id;
      expect(id).toMatch(/^r-[0-9a-f]{8}$/);

      const gbs = join(dir, 'afu.gbs');
      writeFileSync(gbs, buildSimGbs({ afuGuid: AFU, payloadBytes: 4096, name: 'conv' }));
      const image = join(dir, 'fpga.bin');
      writeFileSync(image, buildSignedImage({ contentType: 0, version: 'conv-1.0', payload: patternPayload(8192) }));
      const badConfig = join(dir, 'bad.json');
      writeFileSync(badConfig, '{ "plugins": [ }');

      const [walk, info, peek, status, ls, reservations, gbsInfo, imageInfo, backends, unknownId, warned] = await twoAtATime([
        () => vfiokit(['walk', id, '--json']),
        () => vfiokit(['info', id, '--json']),
        () => vfiokit(['peek', id, '0x0', '-n', '2', '--json']),
        () => vfiokit(['status', id, '--json']),
        () => vfiokit(['ls', '--json']),
        () => vfiokit(['reservations', '--json']),
        () => vfiokit(['gbs-info', gbs, '--json']),
        () => vfiokit(['image-info', image, '--json']),
        () => vfiokit(['backends', '--json']),
        () => vfiokit(['walk', 'r-00000000']),
        // The resolver warns about an unusable configuration for every command that opens a device.
        () => vfiokit(['info', id, '--mask', '2', '--json'], { VFIOKIT_CONFIG: badConfig }),
      ]);

      const w = oneJson(walk!);
      expect(w).toMatchObject({ device: 'sim:n3000', discovery: 'vsec' });
      expect(w.features.map((f: { name: string }) => f.name)).toContain('fme');
      const i = oneJson(info!);
      expect(i).toMatchObject({ device: 'sim:n3000', pci: { transport: 'sim' }, fme: { ports: 1 } });
      expect(i.ports).toHaveLength(1);
      const p = oneJson(peek!);
      expect(p).toMatchObject({ device: 'sim:n3000', region: 0, width: 64 });
      expect(p.registers.map((x: { offset: string }) => x.offset)).toEqual(['0x0', '0x8']);
      expect(BigInt(p.registers[0].value) >> 60n).toBe(4n); // DFH[63:60] = 4: an FIU (the FME)
      expect(oneJson(status!)).toMatchObject({ device: 'sim:n3000', state: 'IDLE', status: 0 });
      expect(Array.isArray(oneJson(ls!))).toBe(true);
      expect(oneJson(reservations!).reservations).toEqual([expect.objectContaining({ id, device: 'sim:n3000', state: 'RESERVED' })]);
      expect(oneJson(gbsInfo!)).toMatchObject({ path: gbs, acceleratorUuid: AFU, format: 'json' });
      expect(oneJson(imageInfo!)).toMatchObject({ path: image, typeName: 'FPGA', version: 'conv-1.0', hashesMatch: true });
      expect(oneJson(backends!).backends.map((b: { name: string }) => b.name)).toEqual(expect.arrayContaining(['sim', 'vfio', 'vfio-user']));

      expect(unknownId!.code).toBe(4);
      expect(oneLineError(unknownId!, 'walk')).toContain('no reservation with id r-00000000; list them with: vfiokit reservations');
      expect(warned!.code).toBe(0);
      expect(warned!.stderr).toMatch(new RegExp(`^vfiokit: warning: ${badConfig}:1:\\d+: .*\\(using the built-in backends\\)\\n$`));
      expect(JSON.parse(warned!.stdout)).toMatchObject({ device: 'sim:n3000', fme: { ports: 1 } });

      // flash takes the reservation on a simulated card too: another live owner's card is refused.
      const refused = await vfiokit(['flash', id, image]);
      expect(refused.code).toBe(4);
      expect(oneLineError(refused, 'flash')).toContain(`RESERVED by pid ${holder.pid}`);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 120_000);

  it('flash of a free simulated card reserves it for the update, frees it after, and status finds it by any name', async () => {
    const image = join(dir, 'dfh1.bin');
    writeFileSync(image, buildSignedImage({ contentType: 0, version: 'conv-2.0', payload: patternPayload(8192) }));
    // Options after "?" choose how to open the card, not which card: the record is sim:n3000-dfh1's.
    const done = oneJson(await vfiokit(['flash', 'sim:n3000-dfh1?clock=virtual', image, '--json']));
    expect(done).toMatchObject({ device: 'sim:n3000-dfh1?clock=virtual', state: 'DONE', image: { version: 'conv-2.0' } });
    const [all, status] = await twoAtATime([
      () => vfiokit(['reservations', '--all', '--json']),
      () => vfiokit(['status', 'sim:n3000-dfh1', '--json']),
    ]);
    const record = oneJson(all!).reservations.find((r: { device: string }) => r.device === 'sim:n3000-dfh1');
    expect(record).toMatchObject({ state: 'FREE', owner: null });
    expect(oneJson(status!)).toMatchObject({ device: 'sim:n3000-dfh1', state: 'DONE', status: 0, progress: 100, image: { version: 'conv-2.0' } });
    // The reservation id the flash left behind names the same status record.
    expect(oneJson(await vfiokit(['status', record.id, '--json']))).toMatchObject({ state: 'DONE' });
  }, 120_000);
});
