// The fd watcher: readiness delivered on the event loop, and a watch that survives its fd number
// being reused (unwatch + close + a new socket with the same number while a poll is in flight).
import { describe, expect, it } from 'vitest';
import { watchFd, watchedFdCount } from '../../src/vfio-user/fd-watcher.js';
import { closeQuietly, read, unixSocketPair, write } from '../../src/sys/libc.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';

const pair = (): [number, number] => unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fd watcher', () => {
  it('calls back when a socket becomes readable, and stops after unwatch', async () => {
    const [a, b] = pair();
    let calls = 0;
    const buf = new Uint8Array(16);
    const unwatch = watchFd(a, () => {
      calls++;
      read(a, buf);
    });
    write(b, Uint8Array.of(1));
    await tick();
    expect(calls).toBe(1);
    unwatch();
    write(b, Uint8Array.of(2));
    await tick();
    expect(calls).toBe(1);
    closeQuietly(a);
    closeQuietly(b);
    await tick();
    expect(watchedFdCount()).toBe(0);
  });

  it('keeps a new watch whose fd number was just freed by another (POLLNVAL of the old file)', async () => {
    let lost = 0;
    for (let round = 0; round < 60; round++) {
      const [a1, b1] = pair();
      const un1 = watchFd(a1, () => { try { read(a1, new Uint8Array(16)); } catch { /* EAGAIN */ } });
      await tick(round % 3);
      // Close the watched socket first (its poll slot turns POLLNVAL), then unwatch and reuse the number.
      closeQuietly(a1);
      closeQuietly(b1);
      un1();
      const [a2, b2] = pair(); // very likely the same numbers
      let got = 0;
      const un2 = watchFd(a2, () => {
        // Callbacks must tolerate spurious calls: count the bytes that arrived.
        try {
          got += read(a2, new Uint8Array(16));
        } catch { /* EAGAIN */ }
      });
      await tick(5);
      write(b2, Uint8Array.of(7));
      // A lost watch never delivers; a slow one (loaded machine) does within the deadline.
      const deadline = Date.now() + 2000;
      while (got !== 1 && Date.now() < deadline) await tick(5);
      if (got !== 1) lost++;
      un2();
      closeQuietly(a2);
      closeQuietly(b2);
    }
    expect(lost).toBe(0);
  });
});
