// The one list of error codes (src/error-codes.ts) against everything that uses it: every throw
// site's class, the codes it lists (each one thrown somewhere), the CLI's exit codes, the
// management API's errno, docs/error-codes.md and the Python module's mapping.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type RegisteredCode } from '../../src/error-codes.js';
import { codeError, codeSpec, errorMessage } from '../../src/error-lookup.js';
import { ERROR_CLASSES, errorCodeTable, exitCodeOf } from '../../src/cli/error-classes.js';
import { ArgumentError, DeviceError, RegionError, VfiokitError } from '../../src/errors.js';
import { errnoOf } from '../../src/manage/errno.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts')) out.push({ path: rel, text: readFileSync(join(root, rel), 'utf8') });
  }
  return out;
}
const src = sources('src');

/** Class name -> its parent, from every `class X extends Y` in src/. */
const parents = new Map<string, string>();
for (const f of src) for (const m of f.text.matchAll(/class (\w+) extends (\w+)/g)) parents.set(m[1]!, m[2]!);
const chain = (name: string): string[] => {
  const out = [name];
  while (parents.has(out.at(-1)!)) out.push(parents.get(out.at(-1)!)!);
  return out;
};

describe('the error-code registry', () => {
  it('every `new XError(\'CODE\'` in src/ uses the class the registry gives the code (or a subclass)', () => {
    const wrong: string[] = [];
    let sites = 0;
    for (const f of src) {
      for (const m of f.text.matchAll(/new (\w+Error)\(\s*(?:RpcErrorCode\.\w+,\s*|\w+\.\w+,\s*)?'(E[A-Z0-9_]+)'/g)) {
        const [, cls, code] = m;
        const spec = codeSpec(code!);
        sites++;
        if (!spec) wrong.push(`${f.path}: ${code} is not in the registry`);
        else if (spec.family === 'listed' && !chain(cls!).includes(spec.class)) wrong.push(`${f.path}: ${code} thrown as ${cls}, registered as ${spec.class}`);
      }
    }
    expect(sites).toBeGreaterThan(200);
    expect(wrong).toEqual([]);
  });

  it('lists only codes that something in src/ uses', () => {
    const text = src.filter((f) => f.path !== join('src', 'error-codes.ts')).map((f) => f.text).join('\n');
    const unused = (Object.keys(ERROR_CODES) as RegisteredCode[]).filter((c) => !text.includes(`'${c}'`));
    expect(unused).toEqual([]);
  });

  it('resolves every class name, with the exit code and errno each code gives', () => {
    for (const code of Object.keys(ERROR_CODES) as RegisteredCode[]) {
      const spec = ERROR_CODES[code];
      expect(ERROR_CLASSES[spec.class], code).toBeTypeOf('function');
      expect(constants.errno[spec.errno], `${code} errno ${spec.errno}`).toBeTypeOf('number');
    }
    expect(exitCodeOf('ArgumentError', 'EARG_IRQ_RANGE')).toBe(ExitCode.USAGE);
    expect(exitCodeOf('DflError', 'EDFL_CYCLE')).toBe(ExitCode.BAD_INPUT);
    expect(exitCodeOf('DeviceError', 'EDEVICE_NO_RESET')).toBe(ExitCode.UNAVAILABLE);
    expect(exitCodeOf('FlashError', 'EFLASH_AUTH')).toBe(ExitCode.FAILURE);
    const row = errorCodeTable().find((r) => r.code === 'EDEVICE_NO_REGION');
    expect(row).toMatchObject({ class: 'DeviceError', exitCode: ExitCode.UNAVAILABLE, errno: 'ENODEV' });
  });

  it('builds templated errors of the registered class with the arguments as details', () => {
    const e = codeError('EARG_IRQ_RANGE', { device: 'sim:n3000', index: 2, start: 3, count: 4, available: 4 });
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.message).toBe('sim:n3000: IRQ index 2 has 4 vector(s); vectors 3..6 do not exist: arm vectors inside 0..3');
    expect(e.details).toMatchObject({ device: 'sim:n3000', index: 2, start: 3, count: 4, available: 4 });
    expect(codeError('EDEVICE_NO_RESET', { device: 'x' })).toBeInstanceOf(DeviceError);
    expect(codeError('EREGION_ALIGN', { region: 'r', offset: 2, width: 4 })).toBeInstanceOf(RegionError);
    expect(errorMessage('EREGION_BOUNDS', { region: 'r', offset: 0x10, length: 8, size: 0x10 })).toBe('r: 8 bytes at 0x10 run past the end of the region (size 0x10)');
  });

  it('gives the management API the registry\'s errno (families included), by class for unlisted codes', () => {
    const E = constants.errno;
    expect(errnoOf(new DeviceError('EDEVICE_NO_RESET', 'x'))).toBe(E.EOPNOTSUPP);
    expect(errnoOf(new DeviceError('ERESERVED', 'x'))).toBe(E.EBUSY);
    expect(errnoOf(new DeviceError('EVFIO_EBUSY', 'x'))).toBe(E.EBUSY);
    expect(errnoOf(new DeviceError('EVFIO_OPEN_EACCES', 'x'))).toBe(E.EACCES);
    expect(errnoOf(new VfiokitError('ENOSPC', 'x'))).toBe(E.ENOSPC);
    expect(errnoOf(new ArgumentError('EUNLISTED' as never, 'x'))).toBe(E.EINVAL);
  });

  it('docs/error-codes.md and python/vfiokit/_codes.py are what scripts/error-codes.mjs generates', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'error-codes.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the Python module maps every code the daemon can send to the errno the registry gives', () => {
    // The daemon's own refusals (RpcError codes in src/daemon) and any library error it relays.
    const daemonCodes = new Set<string>();
    for (const f of src.filter((s) => s.path.startsWith(join('src', 'daemon')))) {
      for (const m of f.text.matchAll(/new RpcError\(\s*RpcErrorCode\.\w+,\s*'(E[A-Z0-9_]+)'/g)) daemonCodes.add(m[1]!);
    }
    expect([...daemonCodes]).toEqual(expect.arrayContaining(['EPARSE', 'EREQUEST_TOO_LARGE', 'EREQUEST_TIMEOUT', 'EINTERNAL', 'EINVAL', 'ENOSYS', 'EPERM', 'EBUSY']));
    const codes = [...daemonCodes, ...Object.keys(ERROR_CODES), 'EVFIO_EBUSY', 'EVFIO_OPEN_ENOENT'];
    const script = 'import errno, json, sys\nfrom vfiokit._codes import errno_name\nprint(json.dumps({c: getattr(errno, errno_name(c) or "", None) for c in json.loads(sys.stdin.read())}))';
    const r = spawnSync('python3', ['-c', script], { cwd: join(root, 'python'), input: JSON.stringify(codes), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const py = JSON.parse(r.stdout) as Record<string, number | null>;
    for (const c of codes) expect(py[c], c).toBe(constants.errno[codeSpec(c)!.errno]);
  });
});
