// The shim loader: found and loaded when built; JS fallbacks (and one debug line) when it is
// disabled or missing. Each case runs in a child process because the loader caches per process.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { shim, shimLibrary, shimPath } from '../../src/sys/shim.js';

const probe = `
import { shim, shimLibrary } from './src/sys/shim.ts';
import { MappedRegion } from './src/mmio/mapped-region.ts';
import { createMemfd } from './src/sys/libc.ts';
const s = shim();
const r = MappedRegion.mapFd('probe', createMemfd('probe', 4096), 4096);
r.write32(0, 5);
console.log(JSON.stringify({ loaded: s !== undefined, lib: shimLibrary() !== undefined, sab: r.sharedBuffer !== undefined, usesShim: r.usesShim, poll: r.poll32(0, 5, 5).timedOut }));
`;

function runProbe(env: Record<string, string>): { out: { loaded: boolean; lib: boolean; sab: boolean; usesShim: boolean; poll: boolean }; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, DEBUG: 'vfiokit:shim', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout.trim().split('\n').pop()!), stderr: r.stderr };
}

describe('shim loader', () => {
  it('VFIOKIT_NO_SHIM=1: JS fallbacks, said once', () => {
    const { out, stderr } = runProbe({ VFIOKIT_NO_SHIM: '1' });
    expect(out).toEqual({ loaded: false, lib: false, sab: false, usesShim: false, poll: false });
    expect(stderr.match(/VFIOKIT_NO_SHIM=1: using the JS fallbacks/g)).toHaveLength(1);
  });

  it('a missing shim file: JS fallbacks with the rebuild hint', () => {
    const { out, stderr } = runProbe({ VFIOKIT_NO_SHIM: '', VFIOKIT_SHIM_PATH: '/nonexistent/vfiokit_shim.node' });
    expect(out.loaded).toBe(false);
    expect(stderr).toMatch(/C shim not found .*node scripts\/build-shim\.mjs/);
  });

  it('a file that is not a shim: JS fallbacks with the load error', () => {
    const { out, stderr } = runProbe({ VFIOKIT_NO_SHIM: '', VFIOKIT_SHIM_PATH: '/etc/hostname' });
    expect(out.loaded).toBe(false);
    expect(stderr).toMatch(/could not be loaded/);
  });

  it('under CI=true the shim is built (a failed build fails the lane instead of skipping the shim paths)', () => {
    if (process.env.CI !== 'true' || process.env.VFIOKIT_NO_SHIM === '1') return;
    expect(shimPath(), 'npm ci did not build shim/build/Release/vfiokit_shim.node (needs build-essential and python3)').toBeDefined();
    expect(shim()).toBeDefined();
  });

  it('in this process: loaded exactly when built and not disabled', () => {
    if (process.env.VFIOKIT_NO_SHIM === '1' || !shimPath()) {
      expect(shim()).toBeUndefined();
      expect(shimLibrary()).toBeUndefined();
      return;
    }
    expect(existsSync(shimPath()!)).toBe(true);
    expect(shim()?.path).toBe(shimPath());
    expect(shimLibrary()).toBeDefined();
    const { out } = runProbe({ VFIOKIT_NO_SHIM: '' });
    expect(out).toEqual({ loaded: true, lib: true, sab: true, usesShim: true, poll: false });
  });
});
