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
import { SimVector } from '../../src/sim/sim-card.js';
import { readFmeErrors } from '../../src/afu/fme-errors.js';

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

  it('latches FME, PCIe and port errors as the hardware detects them: readable, cleared only by writing back, raising the error vectors', () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    const port = card.port(0)!;
    expect(applySimControl(dev, { fmeError: '0x1' })).toBe('FME_ERROR latched 0x1');
    applySimControl(dev, { fmeError: 0x20 });
    // 64-bit values travel as strings (JSON numbers lose the bits above 2^53).
    expect(applySimControl(dev, { pcie0Error: '0x8000000000000002' })).toBe('PCIE0_ERROR latched 0x8000000000000002');
    applySimControl(dev, { pcie1Error: '128' });
    expect(readFmeErrors(card.fme!)).toMatchObject({ fmeErrors: 0x21n, firstError: 0x1n, nextError: 0x20n, pcie0Errors: 0x8000000000000002n, pcie1Errors: 0x80n });
    expect(dev.sim.raised[SimVector.FME_ERROR]).toBe(4);
    expect(applySimControl(dev, { portError: '0x100000000' })).toBe('PORT_ERROR latched 0x100000000');
    applySimControl(dev, { portError: '0x1' });
    expect(port.readErrors()).toEqual({ errors: 0x100000001n, firstError: 0x100000000n });
    expect(dev.sim.raised[SimVector.PORT_ERROR]).toBe(2);
    expect(port.clearErrors()).toEqual({ errors: 0x100000001n, firstError: 0x100000000n });
    expect(port.readErrors()).toEqual({ errors: 0n, firstError: 0n });
  });

  it('refuses error values that are not non-zero 64-bit numbers, and "on": false for them', () => {
    using dev = createSimCard('n3000');
    for (const [bad, re] of [
      [{ fmeError: '0x' }, /"fmeError" must be the error bits to latch/], [{ portError: -1 }, /"portError" must be/],
      [{ pcie0Error: 0 }, /"pcie0Error" must be/], [{ pcie1Error: '0x10000000000000000' }, /non-zero 64-bit/],
      [{ fmeError: 1.5 }, /must be/], [{ fmeError: 2 ** 60 }, /must be/], [{ fmeError: 'ff' }, /must be/],
      [{ portError: '0x1', on: false }, /no "on": false/], [{ portError: '0x1', fmeError: '0x1' }, /exactly one/],
    ] as [unknown, RegExp][]) {
      expect(() => applySimControl(dev, bad)).toThrow(expect.objectContaining({ code: 'EARG_SIM_CONTROL', message: expect.stringMatching(re) as string }) as Error);
    }
    expect(readFmeErrors(Card.discover(dev).fme!)).toMatchObject({ fmeErrors: 0n, pcie0Errors: 0n, pcie1Errors: 0n });
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
