// The flash rules of src/afu/flash-coordination.ts against records a real other process holds:
// a second flash or reboot refused EBUSY (firmware_upload_start, drivers/base/firmware_loader/
// sysfs_upload.c), a cancel asked only while PREPARING/READY (intel-m10-bmc-sec-update.c
// rsu_cancel), and followed until the flasher confirms or goes past the point of no return.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlashState, writeFlashStatus, type FlashStateName } from '../../src/afu/bmc/flash-status.js';
import { cancelFlash, cancelRequested, liveFlash, refuseIfRunningElsewhere, runningElsewhere } from '../../src/afu/flash-coordination.js';

let other: ChildProcess;
const record = (device: string, state: FlashStateName, pid = other.pid!, extra = {}): void =>
  writeFlashStatus({ device, state, status: FlashState[state], progress: 40, pid, updatedAt: Date.now(), ...extra });
const cancelFiles = (): string[] => readdirSync(join(process.env.VFIOKIT_STATE_DIR!, 'flash')).filter((f) => f.endsWith('.cancel'));

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-coordination-test-'));
  // A live process of this user that stands for the flasher (its pid is what the rules look at).
  other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
});
afterAll(() => {
  other.kill();
});

describe('flash coordination', () => {
  it('refuses a second flash or reboot while another live process runs one; a dead one does not count', () => {
    record('sim:busy', 'COPYING');
    expect(runningElsewhere('sim:busy')?.pid).toBe(other.pid);
    expect(() => refuseIfRunningElsewhere('sim:busy', 'reboot refused')).toThrow(expect.objectContaining({ code: 'EBUSY', details: expect.objectContaining({ pid: other.pid, state: 'COPYING' }) }));
    record('sim:rebooting', 'REBOOT');
    expect(() => refuseIfRunningElsewhere('sim:rebooting', 'secure update')).toThrow(/already running a reboot of sim:rebooting \(REBOOT\)/);
    record('sim:dead', 'READY', 0x3ffffff0);
    expect(liveFlash('sim:dead')).toBeUndefined();
    expect(() => refuseIfRunningElsewhere('sim:dead', 'secure update')).not.toThrow();
    // This process's own record is live but not "elsewhere".
    record('sim:mine', 'READY', process.pid);
    expect(liveFlash('sim:mine')?.pid).toBe(process.pid);
    expect(runningElsewhere('sim:mine')).toBeUndefined();
  });

  it('cancel: EINVAL with nothing running and nothing to abort; EFLASH_CANCEL_STATE once COPYING; a request otherwise', async () => {
    await expect(cancelFlash('sim:idle')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(cancelFlash('sim:dead')).rejects.toThrow(/its process is gone: cancel aborts what it left/);
    let aborted = 0;
    expect(await cancelFlash('sim:dead', { abortLeftover: async () => { aborted++; } })).toEqual({ how: 'device' });
    expect(aborted).toBe(1);
    await expect(cancelFlash('sim:busy')).rejects.toMatchObject({ code: 'EFLASH_CANCEL_STATE', details: { state: 'COPYING', progress: 40 } });
    expect(cancelFiles()).toEqual([]);
    record('sim:ready', 'READY');
    expect(await cancelFlash('sim:ready')).toEqual({ how: 'process', pid: other.pid, confirmed: false });
    expect(cancelFiles()).toHaveLength(1);
    // The request names the other pid: this process's own flash is not the one asked.
    expect(cancelRequested('sim:ready')).toBe(false);
  });

  it('follows the flasher: confirmed when it records ECANCELED, EFLASH_TOO_LATE when it went on to COPYING', async () => {
    record('sim:c1', 'READY');
    const asked: number[] = [];
    const confirmed = cancelFlash('sim:c1', { confirmMs: 5000, pollMs: 10, onAsked: (pid) => asked.push(pid) });
    setTimeout(() => record('sim:c1', 'IDLE', other.pid, { error: { code: 'ECANCELED', message: 'cancelled' } }), 50);
    expect(await confirmed).toEqual({ how: 'process', pid: other.pid, confirmed: true });
    expect(asked).toEqual([other.pid]);

    record('sim:c2', 'READY');
    const late = cancelFlash('sim:c2', { confirmMs: 5000, pollMs: 10 });
    setTimeout(() => record('sim:c2', 'COPYING'), 50);
    await expect(late).rejects.toMatchObject({ code: 'EFLASH_TOO_LATE', details: { state: 'COPYING' } });

    record('sim:c3', 'READY');
    const failed = cancelFlash('sim:c3', { confirmMs: 5000, pollMs: 10 });
    setTimeout(() => record('sim:c3', 'IDLE', other.pid, { error: { code: 'EFLASH_AUTH', message: 'authentication failed' } }), 50);
    await expect(failed).rejects.toMatchObject({ code: 'EFLASH_STOPPED' });

    record('sim:c4', 'READY');
    await expect(cancelFlash('sim:c4', { confirmMs: 60, pollMs: 10 })).rejects.toMatchObject({ code: 'ETIMEDOUT', details: { pid: other.pid } });
  });
});
