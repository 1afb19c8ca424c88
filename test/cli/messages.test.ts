// "Messages speak CLI in the CLI and API in the library": library errors say what to do in API
// terms, and the CLI adds the command that does it, keyed by the error code (src/cli/advice.ts).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { cliSandbox, ROOT } from './sandbox.js';
import { cliAdvice } from '../../src/cli/advice.js';
import { VfioError } from '../../src/vfio/errors.js';
import { ReservationError } from '../../src/lock/reservations.js';
import { VfiokitError } from '../../src/errors.js';

const sandbox = cliSandbox('messages');
const commands = readdirSync(join(ROOT, 'src/cli/commands')).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('library messages', () => {
  it('outside src/cli, no code line names a vfiokit command (comments may)', () => {
    const cli = new RegExp(`\\bvfiokit (${commands.join('|')})\\b`);
    const found: string[] = [];
    // src/error-codes.ts is exempt: its advice column is operator documentation (vfiokit errors
    // --codes, docs/error-codes.md) and never part of a library error's message.
    const exempt = (f: string): boolean => f.startsWith(join(ROOT, 'src/cli/')) || f === join(ROOT, 'src/error-codes.ts');
    for (const file of sources(join(ROOT, 'src')).filter((f) => !exempt(f))) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        const code = line.trim();
        if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
        if (cli.test(code)) found.push(`${relative(ROOT, file)}:${i + 1}: ${code.slice(0, 120)}`);
      });
    }
    expect(found).toEqual([]);
  });
});

describe('CLI advice keyed by error code', () => {
  it('names the command with the device from the error details, shell-quoted', () => {
    expect(cliAdvice(new VfioError('EVFIO_NOT_BOUND', 'x', { device: 'vfio:0000:03:00.0' }))).toBe('as root, run: vfiokit bind 0000:03:00.0');
    expect(cliAdvice(new ReservationError('ESTALE', 'x', { device: 'sim:n3000?fault=dma&x=1' }))).toBe(`run: vfiokit free 'sim:n3000?fault=dma&x=1' --force`);
    expect(cliAdvice(new VfiokitError('ENOENT', 'x', { path: '/tmp/a.sock', server: 'vfio-user' }))).toBe('e.g. run: vfiokit serve sim:n3000 --socket /tmp/a.sock');
    // The same errno from elsewhere gets no vfio-user advice; codes without advice get none.
    expect(cliAdvice(new VfiokitError('ENOENT', 'x', { path: '/tmp/a' }))).toBeUndefined();
    expect(cliAdvice(new VfiokitError('EREGION_ALIGN', 'x'))).toBeUndefined();
  });

  it('the command adds it after the library message on stderr, and as "advice" in the --json error', () => {
    const r = sandbox.run(['walk', 'vfio:0000:ff:1f.7', '--json']);
    expect(r.status).toBe(4);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; advice: string } };
    expect(error.code).toBe('EPCI_NO_DEVICE');
    expect(error.message).not.toMatch(/vfiokit/);
    expect(error.advice).toBe('run: vfiokit ls --all');
    expect(r.stderr).toBe(`vfiokit walk: ${error.message}; run: vfiokit ls --all\n`);
  });
});
