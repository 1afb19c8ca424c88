// CLI habits: `vfiokit help CMD`, did-you-mean for typos and OPAE tool names, and --json errors
// as one JSON document on stdout (with the one-line error still on stderr).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { closestNames, editDistance, unknownCommandMessage } from '../../src/cli/suggest.js';
import { flashPositionals, rebootPositionals } from '../../src/cli/opae-habits.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';

const root = resolve(__dirname, '../..');
const vfiokit = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/vfiokit.js'), ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, DEBUG: '' }, timeout: 60_000 });
const names = ['bind', 'flash', 'free', 'gbs-info', 'image-info', 'info', 'ls', 'peek', 'poke', 'pr', 'reboot', 'reserve', 'reset', 'status', 'walk'];

describe('did you mean', () => {
  it('finds close names and transpositions, and names the vfiokit form of OPAE tools', () => {
    expect(editDistance('wlak', 'walk')).toBe(1);
    expect(closestNames('wlak', names)).toEqual(['walk']);
    expect(closestNames('flsh', names)).toEqual(['flash']);
    expect(closestNames('gbs', names)).toEqual(['gbs-info']);
    expect(closestNames('zzzzzz', names)).toEqual([]);
    expect(unknownCommandMessage('fpgasupdate', names)).toMatch(/OPAE tool; in vfiokit it is flash \(vfiokit flash DEVICE IMAGE\)/);
    expect(unknownCommandMessage('rsu', names)).toMatch(/vfiokit reboot DEVICE --target/);
    expect(unknownCommandMessage('qqqq', names)).toMatch(/run vfiokit --help/);
  });
});

describe('vfiokit (spawned)', () => {
  it('help CMD prints the command help; a typo says what was meant, with --json on stdout too', () => {
    const help = vfiokit(['help', 'walk']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: vfiokit walk/);
    const typo = vfiokit(['wlak', 'sim:n3000', '--json']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toBe('vfiokit: unknown command "wlak"; did you mean vfiokit walk?\n');
    expect(JSON.parse(typo.stdout)).toEqual({ error: { code: 'EUSAGE', message: 'unknown command "wlak"; did you mean vfiokit walk?', exitCode: 2 } });
  });

  it('a failing --json command prints {"error": {code, message, exitCode, ...details}} on stdout', () => {
    const r = vfiokit(['peek', 'sim:n3000', '0x3', '--json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^vfiokit peek: .*not 8-byte aligned/);
    const { error } = JSON.parse(r.stdout) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ code: 'EREGION_ALIGN', exitCode: 1, offset: 3 });
    expect(error.message).toMatch(/not 8-byte aligned/);
  });
});

describe('OPAE argument orders (fpgasupdate IMAGE BDF, rsu TYPE BDF)', () => {
  it('swaps them, says the vfiokit form, and leaves the vfiokit order alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfiokit-habits-'));
    try {
      const image = join(dir, 'fpga.bin');
      writeFileSync(image, buildSignedImage({ contentType: 0, subtype: 0, payload: patternPayload(4096, 1), version: '' }));
      const notes: string[] = [];
      expect(flashPositionals([image, 'sim:n3000'], (t) => notes.push(t))).toEqual(['sim:n3000', image]);
      expect(notes[0]).toBe(`reading "${image} sim:n3000" in fpgasupdate's order (IMAGE DEVICE); the vfiokit form is: vfiokit flash sim:n3000 ${image}`);
      expect(flashPositionals(['sim:n3000', image], (t) => notes.push(t))).toEqual(['sim:n3000', image]);
      expect(notes).toHaveLength(1);
      expect(rebootPositionals(['bmcimg', '3b:00.0'], (t) => notes.push(t))).toEqual({ device: '3b:00.0', target: 'bmc' });
      expect(notes[1]).toMatch(/the vfiokit form is: vfiokit reboot 3b:00.0 --target bmc$/);
      expect(rebootPositionals(['3b:00.0'], () => {})).toEqual({ device: '3b:00.0' });

      const env = { VFIOKIT_STATE_DIR: join(dir, 'state'), VFIOKIT_LOCK_DIR: join(dir, 'locks') };
      const r = spawnSync(process.execPath, [join(root, 'bin/vfiokit.js'), 'flash', image, 'sim:n3000', '--json'], { encoding: 'utf8', cwd: root, env: { ...process.env, ...env, DEBUG: '' }, timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/the vfiokit form is: vfiokit flash sim:n3000 /);
      expect(JSON.parse(r.stdout)).toMatchObject({ device: 'sim:n3000', state: 'DONE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
