// Command-line mistakes get exit 2 (usage) and a message that says what to type instead (issue 14
// item 9): malformed PCI addresses, a --sysfs tree that is not there, --create sizes and types the
// image writer would change or not know, a state directory on /proc, advice that itself works.
import { describe, it, expect } from 'vitest';
import { cliSandbox } from './sandbox.js';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const sandbox = cliSandbox('badargs');
const vfiokit = (args: string[], extra: NodeJS.ProcessEnv = {}) => sandbox.run(args, { env: extra });

describe('bad arguments', () => {
  it.each(['0000:zz:00.0', '3b:00.9', '3b:20.0', 'vfio:0000:3b:00'])('%s is not a PCI address: exit 2', (bdf) => {
    for (const cmd of ['status', 'reserve']) {
      const r = vfiokit([cmd, bdf]);
      expect(r.stderr).toContain(`'${bdf.replace(/^vfio:/, '')}' is not a PCI address`);
      expect(r.status, `${cmd} ${bdf}`).toBe(2);
    }
  });

  it('a five-digit PCI domain is an address (VMD domains start at 0x10000), missing here: exit 4', () => {
    const r = vfiokit(['info', '10000:3b:00.0']);
    expect(r.stderr).not.toContain('no backend opens');
    expect(r.stderr).toContain('10000:3b:00.0');
    expect(r.status).toBe(4);
  });

  it('ls --sysfs with no sysfs tree there: exit 2', () => {
    const r = vfiokit(['ls', '--sysfs', '/nonexistent']);
    expect(r.stderr).toContain('--sysfs /nonexistent: no bus/pci/devices under it');
    expect(r.status).toBe(2);
  });

  it('image-info --create refuses sizes the writer would pad and unknown content types', () => {
    for (const size of ['0', '3', '127']) {
      const r = vfiokit(['image-info', '--create', join(sandbox.dir, `s${size}.bin`), '--size', size]);
      expect(r.stderr).toContain('below the 128-byte minimum payload');
      expect(r.status).toBe(2);
    }
    const r = vfiokit(['image-info', '--create', join(sandbox.dir, 't.bin'), '--type', '99']);
    expect(r.stderr).toContain('--type 99 is not a known content type: 0 static region');
    expect(r.status).toBe(2);
    expect(vfiokit(['image-info', '--create', join(sandbox.dir, 'ok.bin'), '--size', '128']).status).toBe(0);
  });

  it('a state directory under /proc is an error at once, not a spin', () => {
    for (const [cmd, extra] of [['status', { VFIOKIT_STATE_DIR: '/proc/vfiokit-test' }], ['reserve', { VFIOKIT_LOCK_DIR: '/proc/vfiokit-test' }]] as const) {
      const r = vfiokit([cmd, 'sim:n3000'], extra);
      expect(r.signal, `${cmd} hung`).toBeNull();
      expect(r.stderr).toMatch(/directory \/proc\/vfiokit-test\S* cannot be created: a component of the path does not exist \(ENOENT\)/);
      expect(r.status).toBe(4);
    }
  });

  it('a path through a file names the problem instead of a bare ENOTDIR', () => {
    const file = join(sandbox.dir, 'plain');
    writeFileSync(file, '');
    const r = vfiokit(['reservations'], { VFIOKIT_LOCK_DIR: join(file, 'locks') });
    expect(r.stderr).toContain('cannot be created: a component of the path is not a directory (ENOTDIR)');
    expect(r.status).toBe(4);
  });

  it('the advice for a corrupt lock file is a command that works', () => {
    const locks = join(sandbox.dir, 'locks-corrupt');
    mkdirSync(locks, { mode: 0o755 });
    writeFileSync(join(locks, 'sim_broken.lock'), '{not json');
    const r = vfiokit(['reservations', '--all', '--json'], { VFIOKIT_LOCK_DIR: locks });
    const out = JSON.parse(r.stdout) as { corrupt: { file: string; message: string }[] };
    const advice = out.corrupt[0]!.message;
    expect(advice).not.toMatch(/vfiokit free \//);
    expect(advice).toContain(`rm ${join(locks, 'sim_broken.lock')}`);
  });
});
