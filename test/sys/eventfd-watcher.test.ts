import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { close, createEventfd, eventfdWrite } from '../../src/sys/libc.js';
import { EventfdWatcher, eventfdWatcher, watchEventfd } from '../../src/sys/eventfd-watcher.js';
import { EventfdInterrupt } from '../../src/device/eventfd-interrupt.js';
import { readdirSync, readlinkSync } from 'node:fs';

/** fds of this process that are epoll instances. */
function epollFds(): number[] {
  return readdirSync('/proc/self/fd').map(Number).filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventpoll]';
    } catch {
      return false;
    }
  });
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fixture = fileURLToPath(new URL('./fixtures/watch-then-exit.ts', import.meta.url));

function nextEvent(fd: number): Promise<number> {
  return new Promise((resolve) => {
    const w = watchEventfd(fd, (count) => {
      w.close();
      resolve(count);
    });
  });
}

describe('EventfdWatcher', () => {
  it('an epoll_wait failure ends the watches through onError (no crash) and the next watch works', async () => {
    const watcher = new EventfdWatcher();
    const fd = createEventfd();
    const before = epollFds();
    const events: number[] = [];
    const errors: Error[] = [];
    watcher.watch(fd, (n) => events.push(n), (e) => errors.push(e));
    const [epfd] = epollFds().filter((x) => !before.includes(x));
    expect(epfd).toBeDefined();
    close(epfd!); // behind the watcher's back
    // Either the in-flight epoll_wait (which holds the file) delivers this and the re-armed one
    // fails with EBADF, or the wait had not started and fails first: the count stays in the eventfd.
    eventfdWrite(fd, 1);
    await until(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: 'EBADF' });
    expect(watcher.watching).toBe(0);
    expect(watcher.running).toBe(false);
    const again: number[] = [];
    const w = watcher.watch(fd, (n) => again.push(n));
    eventfdWrite(fd, 2);
    const total = (): number => [...events, ...again].reduce((a, b) => a + b, 0);
    await until(() => total() === 3);
    expect(total()).toBe(3); // nothing lost
    w.close();
    close(fd);
  });

  it('an interrupt whose watcher fails rejects its pending wait and keeps its listeners going', async () => {
    const watcher = new EventfdWatcher();
    const irq = new EventfdInterrupt({ index: 2, vector: 0, watcher });
    const seen: number[] = [];
    const before = epollFds();
    const off = irq.onEvent((n) => seen.push(n));
    const [epfd] = epollFds().filter((x) => !before.includes(x));
    const pending = irq.wait({ timeoutMs: 5000 });
    close(epfd!);
    irq.signal(1);
    // The pending wait gets the event (in-flight epoll_wait) or the watcher's typed error.
    const outcome = await pending.then((n) => `event ${n}`, (e: { code?: string }) => e.code);
    expect(['event 1', 'EBADF']).toContain(outcome);
    await until(() => watcher.running || seen.length > 0); // listeners re-armed on a fresh epoll fd
    irq.signal(4);
    const total = (): number => seen.reduce((a, b) => a + b, 0);
    await until(() => total() === 5);
    expect(total()).toBe(5); // no signal lost across the failure
    off();
    irq.close();
  });

  it('an eventfd written from JS gives an async event with the count; the loop stays responsive', async () => {
    const fd = createEventfd();
    try {
      let ticks = 0;
      const interval = setInterval(() => ticks++, 2);
      const got = nextEvent(fd);
      await new Promise((r) => setTimeout(r, 40));
      expect(ticks).toBeGreaterThan(3); // the event loop ran while epoll_wait blocked elsewhere
      eventfdWrite(fd, 2);
      eventfdWrite(fd, 3);
      expect(await got).toBe(5);
      clearInterval(interval);
    } finally {
      close(fd);
    }
  });

  it('delivers repeated events to one listener, several fds at once, and stops when unwatched', async () => {
    const watcher = new EventfdWatcher();
    const a = createEventfd();
    const b = createEventfd();
    try {
      const seen: string[] = [];
      let done!: () => void;
      const all = new Promise<void>((r) => (done = r));
      const check = (): void => {
        if (seen.length === 3) done();
      };
      const wa = watcher.watch(a, (n) => (seen.push(`a${n}`), check()));
      const wb = watcher.watch(b, (n) => (seen.push(`b${n}`), check()));
      expect(() => watcher.watch(a, () => undefined)).toThrow(/already watched/);
      expect(watcher.running).toBe(true);
      eventfdWrite(a, 1);
      eventfdWrite(b, 4);
      await new Promise((r) => setTimeout(r, 20));
      eventfdWrite(a, 7);
      await all;
      expect(seen.sort()).toEqual(['a1', 'a7', 'b4']);
      wa.close();
      wa.close();
      wb.close();
      expect(watcher.watching).toBe(0);
      // The control eventfd ends the in-flight epoll_wait: the loop stops.
      for (let i = 0; i < 100 && watcher.running; i++) await new Promise((r) => setTimeout(r, 5));
      expect(watcher.running).toBe(false);
      // And starts again on the next watch.
      const again = new Promise<number>((resolve) => {
        const w = watcher.watch(b, (n) => (w.close(), resolve(n)));
      });
      eventfdWrite(b, 9);
      expect(await again).toBe(9);
    } finally {
      close(a);
      close(b);
    }
  });

  it('an eventfd written from a worker thread', async () => {
    const fd = createEventfd();
    try {
      const got = nextEvent(fd);
      const worker = new Worker(
        `const { workerData } = require('node:worker_threads');
         const fs = require('node:fs');
         const b = Buffer.alloc(8); b.writeBigUInt64LE(11n);
         setTimeout(() => fs.writeSync(workerData, b), 10);`,
        { eval: true, workerData: fd },
      );
      expect(await got).toBe(11);
      await worker.terminate();
    } finally {
      close(fd);
    }
  });

  it('an eventfd written by a child process that inherited it', async () => {
    const fd = createEventfd();
    try {
      const got = nextEvent(fd);
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(3, Buffer.from([6,0,0,0,0,0,0,0])), 20)'], { stdio: ['ignore', 'ignore', 'inherit', fd] });
      const exited = new Promise((r) => child.once('exit', r));
      expect(await got).toBe(6);
      expect(await exited).toBe(0);
    } finally {
      close(fd);
    }
  });

  it('the thread watcher is a singleton; a bad fd is an ArgumentError, a non-pollable fd a SysError', () => {
    expect(eventfdWatcher()).toBe(eventfdWatcher());
    expect(() => watchEventfd(-1, () => undefined)).toThrow(/not a file descriptor/);
    expect(() => watchEventfd(999_999, () => undefined)).toThrow(expect.objectContaining({ code: 'EBADF' }) as Error);
  });

  it.each(['watch', 'interrupt', 'armed'])('a process exits by itself once nothing is watched (%s)', (mode) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, mode], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal, 'the child had to be killed: the watcher kept it alive').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(mode === 'watch' ? /^event 3$/m : mode === 'interrupt' ? /^event 2$/m : /^armed \d+$/m);
  }, 30_000);

  it('process.exit() while an interrupt is still watched exits at once with its code', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, 'exit-while-watched'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal, 'process.exit() hung on the in-flight epoll_wait').toBeNull();
    expect(r.status, r.stderr).toBe(7);
    expect(r.stdout).toMatch(/^exiting 7$/m);
  }, 30_000);
});
