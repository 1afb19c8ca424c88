// Run-time control of a simulated card (src/sim/control.ts; `vfiokit serve --control`): the card
// lane arms the reset-ACK fault after Linux's port driver probed, so the kernel's own
// DFL_FPGA_PORT_RESET meets it (drivers/fpga/dfl-afu-main.c __afu_port_disable: -ETIMEDOUT).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { applySimControl } from '../../src/sim/control.js';
import { createSimCard } from '../../src/sim/sim-device.js';
import { openDevice } from '../../src/device/registry.js';
import { Card } from '../../src/afu/card.js';
import { prEngineOf } from '../../src/sim/pr-engine.js';
import { simBmcOf } from '../../src/sim/bmc/sim-bmc.js';
import { openBmc } from '../../src/afu/bmc/bmc.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { VirtualClock } from '../../src/util/clock.js';
import type { SimDevice } from '../../src/sim/sim-device.js';

describe('sim control requests', () => {
  it('arm and clear a card fault: the port reset ACK then never comes', async () => {
    using dev = createSimCard('n3000');
    const port = Card.discover(dev).port(0)!;
    expect(applySimControl(dev, { fault: 'reset-ack', on: true })).toBe('fault reset-ack armed');
    expect(dev.sim.hasFault('reset-ack')).toBe(true);
    await expect(Promise.resolve().then(() => port.reset())).rejects.toThrow(/soft reset ACK\) did not become 1/);
    expect(applySimControl(dev, { fault: 'reset-ack', on: false })).toBe('fault reset-ack cleared');
    expect(dev.sim.hasFault('reset-ack')).toBe(false);
  });

  it('arm and clear a PR engine fault', () => {
    using dev = createSimCard('n3000');
    applySimControl(dev, { prFault: 'crc' });
    expect(prEngineOf(dev.sim.context)!.faults).toEqual(['crc']);
    applySimControl(dev, { prFault: 'crc', on: false });
    expect(prEngineOf(dev.sim.context)!.faults).toEqual([]);
  });

  it('arm a BMC fault: the next secure update meets it, the one after succeeds; clearing disarms it', async () => {
    process.env.VFIOKIT_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'vfiokit-control-test-'));
    using dev = createSimCard('n3000', { clock: new VirtualClock() });
    using bmc = await openBmc(dev);
    const image = buildSignedImage({ contentType: 1, payload: patternPayload(2048, 7), version: 'control-1' });
    expect(applySimControl(dev, { bmcFault: 'auth-fail' })).toBe('BMC fault auth-fail armed');
    await expect(bmc.update.flash(image)).rejects.toMatchObject({ code: 'EFLASH_AUTH' });
    expect((await bmc.update.flash(image)).state).toBe('DONE');
    applySimControl(dev, { bmcFault: 'auth-fail' });
    expect(applySimControl(dev, { bmcFault: 'auth-fail', on: false })).toBe('BMC fault auth-fail cleared');
    expect((await bmc.update.flash(image)).state).toBe('DONE');
    expect(simBmcOf(dev.sim.context)!.max10.counters).toMatchObject({ updatesDone: 2, updatesFailed: 1 });
  });

  it('refuses malformed requests with a typed error that says what is allowed', () => {
    using dev = createSimCard('n3000');
    for (const [bad, re] of [
      [[1], /JSON object/], [null, /JSON object/], [{ fault: 'nope' }, /unknown sim fault "nope"; known: reset-ack, dma/],
      [{ prFault: 'x' }, /unknown PR fault/], [{ bmcFault: 'melt' }, /unknown BMC fault "melt"; known: wearout/], [{ fault: 'dma', prFault: 'crc' }, /exactly one/], [{}, /exactly one/],
      [{ fault: 'dma', on: 'yes' }, /"on" must be true or false/], [{ fault: 'dma', extra: 1 }, /unknown sim control key\(s\) extra/],
    ] as [unknown, RegExp][]) {
      expect(() => applySimControl(dev, bad)).toThrow(re);
    }
  });

  it('the sim URL arms PR faults from power-up (prFault=crc,timeout) and refuses unknown ones', async () => {
    const dev = (await openDevice('sim:n3000?prFault=crc,timeout')) as SimDevice;
    try {
      expect(prEngineOf(dev.sim.context)!.faults.sort()).toEqual(['crc', 'timeout']);
    } finally {
      dev.close();
    }
    await expect(openDevice('sim:n3000?prFault=bogus')).rejects.toThrow(/unknown PR fault "bogus"/);
  });
});

describe('vfiokit serve --control', () => {
  it('answers one JSON line per request on stdout while serving, and stops when stdin closes', async () => {
    const root = resolve(__dirname, '../..');
    const dir = mkdtempSync(join(tmpdir(), 'vfiokit-serve-control-'));
    const sock = join(dir, 'card.sock');
    const child = spawn(process.execPath, [join(root, 'bin/vfiokit.js'), 'serve', 'sim:n3000', '--socket', sock, '--control'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } });
    try {
      const lines = readline.createInterface({ input: child.stdout! });
      const next = (): Promise<string> => new Promise((res) => lines.once('line', res));
      expect(await next()).toMatch(/^serving sim:n3000/);
      expect(existsSync(sock)).toBe(true);
      child.stdin!.write('{"fault":"reset-ack","on":true}\n');
      expect(JSON.parse(await next())).toEqual({ ok: true, done: 'fault reset-ack armed' });
      child.stdin!.write('not json\n');
      expect(JSON.parse(await next())).toMatchObject({ ok: false });
      child.stdin!.write('{"fault":"nope"}\n');
      expect(JSON.parse(await next()).error).toMatch(/unknown sim fault/);
      // Its controller going away (stdin closed) stops the server and removes the socket.
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.stdin!.end();
      expect(await exited).toBe(0);
      expect(existsSync(sock)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
