// Spawn a vfio-user server in a separate process and wait until it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

export interface SpawnedServer {
  child: ChildProcess;
  socket: string;
  dir: string;
  /** Lines the server printed so far. */
  lines: string[];
  /** Resolves when a line matching `re` has been printed. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Run a native program (built by a test) the same way: `{socket}` replaced, "ready" awaited. */
export async function spawnExecutable(exe: string, args: string[], ready = /^ready/): Promise<SpawnedServer> {
  return spawnServer(exe, args, ready, true);
}

/** Run `node --import tsx <script> <args...>` (one process, so signals reach the server itself) (script relative to the repo); `{socket}` in args is replaced. */
export async function spawnServer(script: string, args: string[], ready = /^ready/, native = false): Promise<SpawnedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vfu-'));
  const socket = join(dir, 'dev.sock');
  const argv = args.map((a) => a.replace('{socket}', socket));
  const child = spawn(native ? script : process.execPath, native ? argv : ['--import', 'tsx', join(repoRoot, script), ...argv], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VFIOKIT_NO_PROGRESS: '1' },
  });
  const lines: string[] = [];
  let stderr = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waitFor = (re: RegExp, timeoutMs = 20_000): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const t = setTimeout(() => reject(new Error(`server did not print ${re} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => { clearTimeout(t); resolvePromise(l); } });
      void exited.then(() => { clearTimeout(t); reject(new Error(`server exited before printing ${re}; stderr: ${stderr}`)); });
    });
  };
  await waitFor(ready);
  return {
    child, socket, dir, lines, waitFor,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Open fds of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Let pending fd-watcher polls return (their wake-up eventfd closes when nothing is watched). */
export async function settle(ms = 50): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
