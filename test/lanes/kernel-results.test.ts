// How the kernel lanes' host (test/kernel/run.ts) counts the guests' VFIOKIT-RESULT lines: a guest
// skip (test/kernel/guest/harness.ts "SKIP: why") is a failure under CI=true, with its reason.
import { describe, expect, it } from 'vitest';
import { formatResult, judgeResult, parseResults } from '../kernel/protocol.js';

describe('kernel lane results', () => {
  const output = [
    'boot noise',
    formatResult({ test: 'mmap BAR0', status: 'pass', ms: 3, detail: '4 KiB' }),
    formatResult({ test: 'the N3000 BMC chain probes', status: 'skip', ms: 1, detail: 'the served card has no N3000 Nios feature' }),
    formatResult({ test: 'reset', status: 'fail', ms: 9, detail: 'EIO: reset failed' }),
  ].join('\r\n');

  it('outside CI a guest skip stays a skip; pass and fail are as the guest said', () => {
    expect(parseResults(output).map((r) => judgeResult(r, false))).toEqual([
      { status: 'pass', detail: '4 KiB' },
      { status: 'skip', detail: 'the served card has no N3000 Nios feature' },
      { status: 'fail', detail: 'EIO: reset failed' },
    ]);
  });

  it('under CI=true a guest skip fails with its reason (a lane that lost its BMC chain is not green)', () => {
    expect(parseResults(output).map((r) => judgeResult(r, true))).toEqual([
      { status: 'pass', detail: '4 KiB' },
      { status: 'fail', detail: 'skipped in the guest, a failure under CI=true: the served card has no N3000 Nios feature' },
      { status: 'fail', detail: 'EIO: reset failed' },
    ]);
    expect(judgeResult({ test: 't', status: 'skip', ms: 0 }, true).detail).toMatch(/no reason given/);
  });
});
