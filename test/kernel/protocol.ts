// Lines the guest prints on the serial console and the host parses.
export const RESULT_PREFIX = 'VFIOKIT-RESULT ';
export const BENCH_PREFIX = 'VFIOKIT-BENCH ';
/** Guest -> host: "VFIOKIT-CONTROL <id> <json request>"; host -> guest (console input): "VFIOKIT-ACK <id> <json reply>". */
export const CONTROL_PREFIX = 'VFIOKIT-CONTROL ';
export const ACK_PREFIX = 'VFIOKIT-ACK ';

/** Where the guest writes into ivshmem BAR2 (the host checks the file afterwards). */
export const IVSHMEM_MARKER_OFFSET = 0xf0000;
export const IVSHMEM_MARKER = 0x2154494b4f494656n; // "VFIOKIT!" little-endian

export type Status = 'pass' | 'fail' | 'skip';

export interface ResultLine {
  test: string;
  status: Status;
  ms: number;
  detail?: string;
}

export function formatResult(r: ResultLine): string {
  return RESULT_PREFIX + JSON.stringify(r);
}

/** Results in console output (other lines, kernel messages and partial lines are ignored). */
export function parseResults(output: string): ResultLine[] {
  const out: ResultLine[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const at = raw.indexOf(RESULT_PREFIX);
    if (at < 0) continue;
    try {
      const r = JSON.parse(raw.slice(at + RESULT_PREFIX.length)) as ResultLine;
      if (typeof r.test === 'string' && (r.status === 'pass' || r.status === 'fail' || r.status === 'skip')) out.push(r);
    } catch {
      // a line cut by the console: ignored
    }
  }
  return out;
}

/**
 * How the host counts a guest's result. A guest test that skips (test/kernel/guest/harness.ts
 * "SKIP: why": a device or the BMC chain it needs is not there) counts as skipped, but under
 * CI=true as failed with the skip's reason: CI serves everything the guests need, so a skip there
 * means the lane silently lost part of its coverage.
 */
export function judgeResult(r: ResultLine, ci: boolean): { status: Status; detail?: string } {
  if (r.status === 'skip' && ci) return { status: 'fail', detail: `skipped in the guest, a failure under CI=true: ${r.detail ?? 'no reason given'}` };
  return { status: r.status, ...(r.detail ? { detail: r.detail } : {}) };
}

export function parseBench(output: string): unknown[] {
  const out: unknown[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const at = raw.indexOf(BENCH_PREFIX);
    if (at < 0) continue;
    try {
      out.push(JSON.parse(raw.slice(at + BENCH_PREFIX.length)));
    } catch {
      // ignored
    }
  }
  return out;
}
