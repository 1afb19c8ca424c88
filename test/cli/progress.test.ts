// The CLI progress bar: nothing drawn before the first update (a refused command prints no
// progress line), no rate while no bytes move, the elapsed time redrawn during a wait on a
// terminal, and complete() ending at 100% with the final state.
import { describe, it, expect } from 'vitest';
import { progressBar } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { out: string } {
  const s = { isTTY, out: '', write(chunk: string) { s.out += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { out: string };
}

describe('progressBar', () => {
  it('prints nothing for an operation refused before its first update', () => {
    const stream = fakeStream(false);
    const bar = progressBar('pr x.gbs', { stream });
    bar.finish();
    expect(stream.out).toBe('');
  });

  it('names the rate as wall time only while bytes move, and completes at 100% with the final state', () => {
    const stream = fakeStream(false);
    const bar = progressBar('pr x.gbs', { stream });
    bar.update(0, 4096, 'disabling port');
    bar.update(2048, 4096, 'writing');
    const t = performance.now();
    while (performance.now() - t < 5) { /* let time pass */ }
    bar.update(4096, 4096, 'writing');
    bar.update(4096, 4096, 'enabling port');
    bar.complete('done');
    const lines = stream.out.trimEnd().split('\n');
    expect(lines[0]).toBe('pr x.gbs disabling port   0.0% 0 B/4.0 KiB 00:00 elapsed');
    expect(lines.find((l) => l.startsWith('pr x.gbs writing 100.0%'))).toMatch(/KiB\/s wall ETA 00:00$/);
    expect(lines.some((l) => /enabling port.* 0 B\/s/.test(l))).toBe(false);
    expect(lines.at(-1)).toMatch(/^pr x\.gbs done 100\.0% 4\.0 KiB\/4\.0 KiB in 00:00$/);
  });

  it('keeps redrawing on a terminal during a wait, and stops after finish', async () => {
    const stream = fakeStream(true);
    const bar = progressBar('flash', { stream });
    bar.update(10, 100, 'copying');
    const before = stream.out.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(stream.out.length).toBeGreaterThan(before); // redrawn with the elapsed time
    bar.finish();
    const after = stream.out.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.out.length).toBe(after);
    expect(stream.out).toContain('copying  10.0%');
  });
});
