// card.events(): OPAE's fpgaRegisterEvent ERROR and POWER_THERMAL. Error events ride the error
// features' MSI-X vectors (FME_ERROR_CAP / PORT_ERROR_CAP, dfl.c parse_feature_irqs; the sim
// raises vector 0 for FME errors and 1 for port errors) or, without them, a poll of the error
// registers; power/thermal events are always polled: dfl-fme-main.c has no IRQ for the FME's
// thermal and power features. Over the in-process sim and over vfio-user (a served sim in another
// process, its temperature raised through `vfiokit serve --control`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createSimCard } from '../../src/sim/sim-device.js';
import { Card } from '../../src/afu/card.js';
import { injectFmeErrors } from '../../src/afu/fme-errors.js';
import { thermalModelOf } from '../../src/sim/thermal-model.js';
import { powerModelOf } from '../../src/sim/power-model.js';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { SimVector } from '../../src/sim/sim-card.js';
import type { CardEvent } from '../../src/afu/events.js';
import { VfiokitError } from '../../src/errors.js';
import { repoRoot } from '../vfio-user/helpers/spawn.js';

/** The next event, or a clear failure after `ms`. */
async function nextEvent(events: { next(): Promise<IteratorResult<CardEvent>> }, ms = 5000): Promise<CardEvent> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no card event within ${ms} ms`)), ms); });
  try {
    const r = await Promise.race([events.next(), timeout]);
    if (r.done) throw new Error('the event stream ended');
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

describe('card events on the in-process sim', () => {
  it('an injected FME error arrives on MSI-X vector 0, decoded', async () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    using events = card.events({ pollMs: 10 });
    expect(events.sources).toEqual({ fme: 'interrupt', port0: 'interrupt', thermal: 'poll', power: 'poll' });
    injectFmeErrors(card.fme!, 0b001);
    const e = await nextEvent(events);
    expect(e).toMatchObject({ type: 'error', source: 'fme', via: 'interrupt', errors: { catFatalErrors: 0x800n, injectErrors: 1n } });
    expect(dev.sim.raised[SimVector.FME_ERROR]).toBe(1);
  });

  it('a latched port error arrives on vector 1 and reaches listeners too', async () => {
    using dev = createSimCard('n3000-dfh1');
    const card = Card.discover(dev);
    using events = card.events({ pollMs: 10 });
    const heard: CardEvent[] = [];
    events.on('error', (e) => heard.push(e));
    dev.sim.portError.inject(0x4n);
    expect(await nextEvent(events)).toMatchObject({ type: 'error', source: 'port', port: 0, errors: 0x4n, firstError: 0x4n, via: 'interrupt' });
    expect(heard).toHaveLength(1);
  });

  it('without interrupts the error registers are polled for a change', async () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    using events = card.events({ pollMs: 5, interrupts: false });
    expect(events.sources.fme).toBe('poll');
    dev.sim.fmeError.latch('FME_ERROR', 0x40n);
    expect(await nextEvent(events)).toMatchObject({ type: 'error', source: 'fme', via: 'poll', errors: { fmeErrors: 0x40n, firstError: 0x40n } });
  });

  it('raising the temperature trips temp-max then temp-crit; cooling clears them; a lowered power threshold trips power-max', async () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    using events = card.events({ pollMs: 5 });
    const thermal = thermalModelOf(dev.sim.context)!;
    thermal.setTemperature(93);
    expect(await nextEvent(events)).toEqual({ type: 'power-thermal', alarm: 'temp-max', tripped: true, value: 93, threshold: 90, via: 'poll' });
    thermal.setTemperature(102);
    expect(await nextEvent(events)).toMatchObject({ alarm: 'temp-crit', tripped: true, value: 102, threshold: 100 });
    thermal.setTemperature(60);
    const cleared = [await nextEvent(events), await nextEvent(events)];
    expect(cleared.map((e) => [e.type === 'power-thermal' && e.alarm, e.type === 'power-thermal' && e.tripped])).toEqual([['temp-max', false], ['temp-crit', false]]);
    card.fme!.setPowerThresholds({ maxW: 40 });
    expect(await nextEvent(events)).toMatchObject({ alarm: 'power-max', tripped: true, value: 48, threshold: 40 });
    powerModelOf(dev.sim.context)!.setConsumption(20);
    expect(await nextEvent(events)).toMatchObject({ alarm: 'power-max', tripped: false });
  });

  it('alarms already tripped when watching starts are reported first', async () => {
    using dev = createSimCard('n3000');
    thermalModelOf(dev.sim.context)!.setTemperature(95);
    const card = Card.discover(dev);
    using events = card.events({ pollMs: 1000 });
    const heard: CardEvent[] = [];
    events.on('power-thermal', (e) => heard.push(e));
    expect(await nextEvent(events)).toMatchObject({ alarm: 'temp-max', tripped: true });
    expect(heard).toHaveLength(1);
  });

  it('an abort signal or close() ends the iteration and releases the vectors; bad options are refused', async () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    const ac = new AbortController();
    const events = card.events({ pollMs: 5, signal: ac.signal });
    const seen: CardEvent[] = [];
    const loop = (async () => { for await (const e of events) seen.push(e); })();
    ac.abort();
    await loop;
    expect(events.closed).toBe(true);
    // The vector is disarmed: a later error stays pending in the PBA instead of reaching an eventfd.
    injectFmeErrors(card.fme!, 0b100);
    expect(dev.sim.raised[SimVector.FME_ERROR]).toBe(1);
    expect(seen).toEqual([]);
    expect(() => card.events({ pollMs: 0 })).toThrow(/pollMs/);
    expect(() => card.events({ queueLimit: 0 })).toThrow(/queueLimit/);
  });

  it('a register read that fails (the device was closed) ends the stream with that typed error', async () => {
    const dev = createSimCard('n3000');
    const card = Card.discover(dev);
    using events = card.events({ pollMs: 5, interrupts: false });
    dev.close();
    const err = await events.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VfiokitError);
    expect((err as Error).message).toMatch(/closed/);
    expect(events.closed).toBe(true);
  });

  it('keeps at most queueLimit events for a slow reader and counts the dropped ones', async () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    using events = card.events({ pollMs: 5, queueLimit: 2 });
    for (let i = 0; i < 4; i++) {
      // One interrupt at a time: an eventfd coalesces signals nobody has read yet.
      const heard = new Promise<CardEvent>((resolve) => { const off = events.on('error', (e) => { off(); resolve(e); }); });
      dev.sim.portError.inject(1n << BigInt(i));
      await heard;
    }
    expect(events.dropped).toBe(2);
    expect(await nextEvent(events)).toMatchObject({ source: 'port', errors: 0x7n });
    expect(await nextEvent(events)).toMatchObject({ source: 'port', errors: 0xfn });
  });
});

describe('card events over vfio-user (a served sim in another process)', () => {
  it('an error injected through the client and a temperature raised by the server reach the client as events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfiokit-events-'));
    const sock = join(dir, 'card.sock');
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', 'sim:n3000', '--socket', sock, '--control'], {
      cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '', VFIOKIT_NO_PROGRESS: '1' },
    });
    try {
      const lines = readline.createInterface({ input: child.stdout! });
      const next = (): Promise<string> => new Promise((res) => lines.once('line', res));
      expect(await next()).toMatch(/^serving sim:n3000/);
      using dev = new VfioUserDevice(sock);
      const card = Card.discover(dev);
      using events = card.events({ pollMs: 20 });
      expect(events.sources).toMatchObject({ fme: 'interrupt', port0: 'interrupt', thermal: 'poll' });
      injectFmeErrors(card.fme!, 0b100);
      expect(await nextEvent(events, 10_000)).toMatchObject({ type: 'error', source: 'fme', via: 'interrupt', errors: { nonFatalErrors: 0x40n } });
      child.stdin!.write('{"fpgaTemp":99}\n');
      expect(JSON.parse(await next())).toEqual({ ok: true, done: 'fpga temperature 99 C' });
      expect(await nextEvent(events, 10_000)).toEqual({ type: 'power-thermal', alarm: 'temp-max', tripped: true, value: 99, threshold: 90, via: 'poll' });
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.stdin!.end();
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
