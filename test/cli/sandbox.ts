// A scratch state for CLI tests that run `node bin/vfiokit.js` as users do: a temporary directory
// holding the lock and flash-state directories (and HOME), an environment without the user's
// config or DEBUG, and a spawnSync runner. Call at a test file's top level: it registers the
// beforeAll/afterAll that make and remove the directory.
import { afterAll, beforeAll } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const BIN = join(ROOT, 'bin/vfiokit.js');

export interface RunOptions {
  /** Variables added to the sandbox environment. */
  env?: NodeJS.ProcessEnv;
  /** Working directory (default the repository root). */
  cwd?: string;
  /** Options for node before the script (e.g. a heap limit). */
  nodeArgs?: string[];
  timeoutMs?: number;
}

export interface CliSandbox {
  /** The scratch directory (valid from beforeAll on). */
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  run(args: string[], options?: RunOptions): SpawnSyncReturns<string>;
}

export function cliSandbox(prefix: string): CliSandbox {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `vfiokit-${prefix}-`));
    env = { ...process.env, VFIOKIT_LOCK_DIR: join(dir, 'locks'), VFIOKIT_STATE_DIR: join(dir, 'state'), HOME: join(dir, 'home'), DEBUG: '' };
    delete env.VFIOKIT_CONFIG;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    get dir() { return dir; },
    get env() { return env; },
    run(args, o = {}) {
      return spawnSync(process.execPath, [...(o.nodeArgs ?? []), BIN, ...args], {
        encoding: 'utf8', env: { ...env, ...o.env }, cwd: o.cwd ?? ROOT, timeout: o.timeoutMs ?? 20_000,
      });
    },
  };
}
