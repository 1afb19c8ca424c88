// The flash status and cancel across processes: a child process runs the real CLI (vfiokit status,
// vfiokit cancel) while this process runs a flash against the sim BMC on the real clock.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bmcRig } from './helpers.js';
import { SecureUpdate, FlashError } from '../../src/afu/bmc/secure-update.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { realClock } from '../../src/util/clock.js';

let stateDir = '';
beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'vfiokit-xproc-'));
  process.env.VFIOKIT_STATE_DIR = stateDir;
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), ...args], { env: { ...process.env, VFIOKIT_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

// The copy phase outlasts the child CLI's start (tsx compiles it: 3.5-5 s on a loaded 2-core machine).
const fast = { handshakeMs: 5, eraseMs: 50, authMs: 50, copyMinMs: 15_000, copyBytesPerSec: 1e9 };

describe('flash status and cancel from another process', () => {
  it('vfiokit status in a child sees the running flash', async () => {
    const rig = bmcRig({ timing: fast }, {}, realClock);
    const url = 'sim:xproc-status';
    let child: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
    const result = await new SecureUpdate(rig.host, { device: url }).flash(buildSignedImage({ contentType: 0, payload: patternPayload(4096) }), {
      onProgress: (p) => { if (p.state === 'COPYING' && !child) child = cli(['status', url, '--json']); },
    });
    expect(result.state).toBe('DONE');
    const out = await child!;
    expect(out.code).toBe(0);
    const seen = JSON.parse(out.stdout) as { state: string; status: number; pid: number; image: { typeName: string } };
    expect(seen).toMatchObject({ state: 'COPYING', status: 3, pid: process.pid, image: { typeName: 'FPGA' } });
    const after = await cli(['status', url, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ state: 'DONE', status: 0, progress: 100 });
  }, 60_000);

  it('vfiokit cancel in a child cancels a flash while READY; refused while COPYING', async () => {
    const rig = bmcRig({ timing: fast }, {}, realClock);
    const url = 'sim:xproc-cancel';
    let child: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
    // A large image on the real clock keeps the host writing (READY) for seconds.
    const err = await new SecureUpdate(rig.host, { device: url }).flash(buildSignedImage({ contentType: 0, payload: patternPayload(24 << 20) }), {
      onProgress: (p) => { if (p.state === 'READY' && !child) child = cli(['cancel', url]); },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('ECANCELED');
    const out = await child!;
    expect(out.stdout).toMatch(/cancelled: the flash is unchanged/);
    expect(out.code).toBe(0);

    let refused: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
    await new SecureUpdate(rig.host, { device: url }).flash(buildSignedImage({ contentType: 0, payload: patternPayload(4096) }), {
      onProgress: (p) => { if (p.state === 'COPYING' && !refused) refused = cli(['cancel', url]); },
    });
    const r = await refused!;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/COPYING/);
  }, 60_000);
});
