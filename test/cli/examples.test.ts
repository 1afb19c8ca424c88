// The examples in examples/ are part of the product: the AFU driver runs against the simulated
// card (in-process and as a user would start it), and over the same code path on a fault.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { runAfuDriver } from '../../examples/afu-driver.js';

const root = resolve(__dirname, '../..');

describe('examples/afu-driver.ts', () => {
  it('finds the AFU, checks a scratch register, copies by DMA and sees the interrupt', async () => {
    const r = await runAfuDriver('sim:n3000', 16 * 1024);
    expect(r).toEqual({ guid: 'a5d1b2c3-7e4f-4b8a-9c6d-1f2e3d4c5b6a', copied: 16 * 1024, interrupts: 1 });
  });

  it('reports a DMA fault injected into the card', async () => {
    await expect(runAfuDriver('sim:n3000?fault=dma')).rejects.toThrow(/DMA fault, DMA_STATUS 0x/);
  });

  it('refuses a card whose AFU is not the one it drives', async () => {
    await expect(runAfuDriver('sim:n3000?afuGuid=11111111-2222-3333-4444-555555555555')).rejects.toThrow(/this driver wants a5d1b2c3/);
  });

  it('runs as a program', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(root, 'examples/afu-driver.ts'), 'sim:n3000'], { encoding: 'utf8', cwd: root });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('AFU a5d1b2c3-7e4f-4b8a-9c6d-1f2e3d4c5b6a: copied 65536 bytes by DMA, 1 interrupt(s)\n');
  }, 30_000);
});
