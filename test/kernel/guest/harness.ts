// The guest side of the kernel lane's result protocol: run one named test, print one
// VFIOKIT-RESULT line (test/kernel/protocol.ts) with pass, fail (and why) or skip.
import { formatResult, type Status } from '../protocol.js';

export function emit(test: string, status: Status, ms: number, detail?: string): void {
  process.stdout.write(`${formatResult({ test, status, ms: Math.round(ms), ...(detail ? { detail } : {}) })}\n`);
}

/** Run `fn` as test `test`: a returned string is the detail ("SKIP: why" skips); a throw fails. */
export async function run(test: string, fn: () => Promise<string | void> | string | void): Promise<boolean> {
  const t0 = performance.now();
  try {
    const detail = await fn();
    if (typeof detail === 'string' && detail.startsWith('SKIP:')) emit(test, 'skip', performance.now() - t0, detail.slice(5).trim());
    else emit(test, 'pass', performance.now() - t0, detail || undefined);
    return true;
  } catch (e) {
    const err = e as Error & { code?: string };
    emit(test, 'fail', performance.now() - t0, `${err.code ? `${err.code}: ` : ''}${err.message}`.slice(0, 600));
    return false;
  }
}

export function check(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** The guest program's last word: exit 0 after the tests, or one failing result for a crash. */
export function finish(main: () => Promise<void>): void {
  main().then(() => process.exit(0), (e) => {
    emit('guest suite', 'fail', 0, String((e as Error).stack ?? e).slice(0, 600));
    process.exit(1);
  });
}
