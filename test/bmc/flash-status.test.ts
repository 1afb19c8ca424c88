import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFlashStatus, statusKey, writeFlashStatus } from '../../src/afu/bmc/flash-status.js';
import { cliAdvice } from '../../src/cli/advice.js';
import type { FlashError } from '../../src/afu/bmc/secure-update.js';

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-status-test-'));
});

describe('flash status records', () => {
  it('name a PCI function the same way whatever the spelling', () => {
    expect(statusKey('3b:00.0')).toBe(statusKey('vfio:0000:3B:00.0'));
    expect(statusKey('0000:3b:00.0')).toBe(statusKey('vfio:0000:3b:00.0'));
    expect(statusKey('sim:n3000')).not.toBe(statusKey('vfio:0000:3b:00.0'));
  });

  it('reads IDLE without a record, writes atomically, marks a dead writer stale', () => {
    expect(readFlashStatus('sim:none')).toMatchObject({ state: 'IDLE', status: 0, pid: 0 });
    writeFlashStatus({ device: '0000:3b:00.0', state: 'READY', status: 2, progress: 40, pid: process.pid, updatedAt: Date.now() });
    expect(readFlashStatus('vfio:0000:3b:00.0')).toMatchObject({ state: 'READY', progress: 40 });
    expect(readdirSync(join(process.env.VFIOKIT_STATE_DIR!, 'flash')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    writeFlashStatus({ device: 'sim:dead', state: 'COPYING', status: 3, progress: 10, pid: 0x3ffffff0, updatedAt: Date.now() });
    expect(readFlashStatus('sim:dead').stale).toBe(true);
  });
});

describe('after a killed flash (issue 14 item 8)', () => {
  it('a flash is told to cancel (not to wait), cancel returns the BMC and the status to IDLE', async () => {
    const { bmcRig } = await import('./helpers.js');
    const { SecureUpdate } = await import('../../src/afu/bmc/secure-update.js');
    const { DOORBELL, DRBL_RSU_REQUEST, DRBL_HOST_STATUS, RsuProgress, rsuProgress, rsuProgressDone } = await import('../../src/afu/bmc/registers.js');
    const { buildSignedImage, patternPayload } = await import('../../src/afu/image/image-writer.js');
    const { formatStatus } = await import('../../src/cli/commands/status.js');
    const rig = bmcRig();
    const url = 'sim:killed-flash';
    // What a flash killed while writing leaves: the BMC prepared and waiting for the image
    // (rsu_update_init done, progress READY: intel-m10-bmc-sec-update.c), and a READY record of a dead pid.
    rig.host.updateBits(DOORBELL, DRBL_RSU_REQUEST | DRBL_HOST_STATUS, DRBL_RSU_REQUEST);
    for (let i = 0; i < 1000 && rsuProgress(rig.host.read32(DOORBELL)) !== RsuProgress.READY; i++) await rig.clock.sleep(100);
    expect(rsuProgress(rig.host.read32(DOORBELL))).toBe(RsuProgress.READY);
    writeFlashStatus({ device: url, state: 'READY', status: 2, progress: 40, pid: 0x3ffffff0, updatedAt: Date.now() });
    expect(readFlashStatus(url)).toMatchObject({ state: 'READY', stale: true });
    expect(formatStatus(readFlashStatus(url))).toContain(`vfiokit cancel ${url} returns it to idle`);

    const image = buildSignedImage({ contentType: 0, payload: patternPayload(4096) });
    const refused = await new SecureUpdate(rig.host, { device: url }).flash(image).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'EFLASH_ABANDONED' });
    expect((refused as Error).message).toContain('cancel it (SecureUpdate.cancel(), or requestCancel for an update another process left) and flash again');
    // The CLI adds the command, keyed by the code (src/cli/advice.ts).
    expect(cliAdvice(refused as FlashError)).toBe(`run: vfiokit cancel ${url}`);
    expect((refused as Error).message).not.toMatch(/wait for it to finish/);

    expect(await new SecureUpdate(rig.host, { device: url }).cancel()).toBe('aborted');
    const after = readFlashStatus(url);
    expect(after).toMatchObject({ state: 'IDLE', status: 0, error: { code: 'ECANCELED' } });
    expect(after.stale).toBeUndefined();
    expect(formatStatus(after)).not.toContain('stale');
    // The BMC passes "update cancel" back to idle; then a new flash goes through.
    for (let i = 0; i < 1000 && !rsuProgressDone(rsuProgress(rig.host.read32(DOORBELL))); i++) await rig.clock.sleep(100);
    await expect(new SecureUpdate(rig.host, { device: url }).flash(image)).resolves.toMatchObject({ state: 'DONE' });
  });
});

describe('the flash state directory is protected as the lock directory is (issue 14 item 4)', () => {
  it('a planted symlink is never followed: the victim file keeps its content', async () => {
    const { flashDir, statusPath } = await import('../../src/afu/bmc/flash-status.js');
    const { symlinkSync, writeFileSync, readFileSync, lstatSync } = await import('node:fs');
    const victim = join(mkdtempSync(join(tmpdir(), 'vfiokit-victim-')), 'root-owned');
    writeFileSync(victim, 'precious\n');
    const url = 'sim:planted';
    const dir = flashDir();
    // The old temp name (<record>.<pid>.tmp) and the record itself, both links to the victim.
    symlinkSync(victim, join(dir, `${statusKey(url)}.json.${process.pid}.tmp`));
    symlinkSync(victim, `${statusPath(url)}.${process.pid}.tmp`);
    symlinkSync(victim, statusPath(url));
    writeFlashStatus({ device: url, state: 'READY', status: 2, progress: 1, pid: process.pid, updatedAt: Date.now() });
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(statusPath(url)).isSymbolicLink()).toBe(false);
    expect(readFlashStatus(url)).toMatchObject({ state: 'READY', progress: 1 });
  });

  it('is tightened when ours and writable by others, refused when it belongs to another user', async () => {
    const { flashDir } = await import('../../src/afu/bmc/flash-status.js');
    const { chmodSync, statSync, chownSync } = await import('node:fs');
    const dir = flashDir();
    chmodSync(dir, 0o777);
    flashDir();
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    if (process.getuid?.() !== 0) return; // chown to another uid needs root
    chownSync(dir, 4242, 4242);
    try {
      expect(() => flashDir()).toThrow(expect.objectContaining({ code: 'EFLASH_DIR', message: expect.stringContaining('belongs to uid 4242') }));
    } finally {
      chownSync(dir, 0, 0);
    }
  });

  it('a record planted under another uid name, or faking another user\'s live process, is not believed', async () => {
    const { flashDir } = await import('../../src/afu/bmc/flash-status.js');
    const { writeFileSync } = await import('node:fs');
    const url = 'sim:faked';
    // File owned by us but named for uid 4242: ignored.
    writeFileSync(join(flashDir(), `${statusKey(url)}.u4242.json`), JSON.stringify({ device: url, state: 'COPYING', status: 3, progress: 5, pid: process.pid, updatedAt: Date.now() }));
    expect(readFlashStatus(url)).toMatchObject({ state: 'IDLE', pid: 0 });
  });
});
