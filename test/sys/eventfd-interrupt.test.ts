import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { EventfdInterrupt } from '../../src/device/eventfd-interrupt.js';
import { TimeoutError, DeviceError } from '../../src/errors.js';
import { createEventfd, close, eventfdWrite, pollFd } from '../../src/sys/libc.js';
import { POLLNVAL } from '../../src/sys/constants.js';

describe('EventfdInterrupt', () => {
  it('wait resolves with the count at the next signal; count accumulates', async () => {
    using irq = new EventfdInterrupt({ index: 2, vector: 3, name: 'test MSI-X' });
    expect(irq.index).toBe(2);
    expect(irq.vector).toBe(3);
    const p = irq.wait({ timeoutMs: 5000 });
    setTimeout(() => irq.signal(4), 5);
    expect(await p).toBe(4);
    const q = irq.wait();
    irq.signal();
    expect(await q).toBe(1);
    expect(irq.count).toBe(5);
  });

  it('a signal that arrived while nobody listened is delivered to the next wait', async () => {
    using irq = new EventfdInterrupt({ index: 2, vector: 0 });
    irq.signal(2);
    irq.signal(1);
    expect(await irq.wait({ timeoutMs: 5000 })).toBe(3);
  });

  it('timeout -> TimeoutError naming the vector; AbortSignal -> rejects with its reason', async () => {
    using irq = new EventfdInterrupt({ index: 2, vector: 7, name: 'dev MSI-X' });
    const err = await irq.wait({ timeoutMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('EIRQ_TIMEOUT');
    expect((err as Error).message).toMatch(/dev MSI-X \(eventfd \d+\): no interrupt within 20 ms/);
    const ac = new AbortController();
    const p = irq.wait({ signal: ac.signal });
    ac.abort(new Error('user cancelled'));
    await expect(p).rejects.toThrow('user cancelled');
    const pre = new AbortController();
    pre.abort();
    await expect(irq.wait({ signal: pre.signal })).rejects.toBeDefined();
    // After all that, a signal still arrives normally.
    const q = irq.wait({ timeoutMs: 5000 });
    irq.signal(1);
    expect(await q).toBe(1);
  });

  it('onEvent listeners see every signal; unsubscribe stops them; a throwing listener does not stop others', async () => {
    using irq = new EventfdInterrupt({ index: 2, vector: 0 });
    const seen: number[] = [];
    const off = irq.onEvent((n) => seen.push(n));
    irq.signal(1);
    await irq.wait({ timeoutMs: 5000 });
    irq.signal(2);
    await irq.wait({ timeoutMs: 5000 });
    expect(seen).toEqual([1, 2]);
    off();
    irq.signal(1);
    await irq.wait({ timeoutMs: 5000 });
    expect(seen).toEqual([1, 2]);
  });

  it('close rejects pending waits, releases the fd, and refuses new use', async () => {
    const irq = new EventfdInterrupt({ index: 2, vector: 0 });
    const fd = irq.fd;
    const p = irq.wait();
    irq.close();
    irq.close();
    await expect(p).rejects.toBeInstanceOf(DeviceError);
    await expect(irq.wait()).rejects.toMatchObject({ code: 'EIRQ_CLOSED' });
    expect(() => irq.signal()).toThrow(/closed interrupt/);
    expect(() => irq.onEvent(() => undefined)).toThrow(/closed interrupt/);
    expect(pollFd(fd, 0, 0) & POLLNVAL).toBe(POLLNVAL);
  });

  it('over a caller-owned eventfd, written from a worker thread; close leaves the fd open', async () => {
    const fd = createEventfd();
    try {
      const irq = new EventfdInterrupt({ index: 2, vector: 1, fd, ownsFd: false });
      const p = irq.wait({ timeoutMs: 5000 });
      const worker = new Worker(
        `const { workerData } = require('node:worker_threads');
         const b = Buffer.alloc(8); b.writeBigUInt64LE(3n);
         require('node:fs').writeSync(workerData, b);`,
        { eval: true, workerData: fd },
      );
      expect(await p).toBe(3);
      await worker.terminate();
      irq.close();
      eventfdWrite(fd, 1); // still open
    } finally {
      close(fd);
    }
  });
});
