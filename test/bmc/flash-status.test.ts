import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFlashStatus, statusKey, writeFlashStatus } from '../../src/afu/bmc/flash-status.js';

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
