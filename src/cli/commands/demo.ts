// `vfiokit demo`: the full tour on a simulated card, every step through the same code a real card
// uses: enumerate the backends, walk the feature lists, reset the port, DMA through the AFU with an
// interrupt, partial reconfiguration of a generated GBS (the AFU GUID changes), a secure update
// with progress, its status, and a reboot of the FPGA from the user page.
import { randomUUID, createHash } from 'node:crypto';
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { progressBar } from '../progress.js';
import { resolveDevice, openDeviceArg } from '../resolve-device.js';
import { enumerateAll } from '../../device/registry.js';
import { IrqIndex, type Device } from '../../device/device.js';
import { Card } from '../../afu/card.js';
import { flattenFeatures } from '../../dfl/feature.js';
import { allocateDma } from '../../dma/index.js';
import { parseGbs } from '../../afu/pr/gbs.js';
import { reconfigureCard } from '../../afu/pr/card-pr.js';
import { openBmc } from '../../afu/bmc/bmc.js';
import { readFlashStatus } from '../../afu/bmc/flash-status.js';
import { buildSignedImage, patternPayload } from '../../afu/image/image-writer.js';
import { withReservation, getReservation } from '../../lock/reservations.js';
import { prReservationHook, flashReserveHook } from '../../lock/hooks.js';
import { buildSimGbs } from '../../sim-gbs.js';
import { SimAfuReg, DmaCtrl, DmaStatus } from '../../sim/afu-regs.js';
import { fieldGet } from '../../util/bitfield.js';
import { SimVector } from '../../sim/sim-card.js';
import { DeviceError } from '../../errors.js';
import { hex } from '../../util/bytes.js';

/** Bytes the DMA step copies. */
const DEMO_DMA_BYTES = 256 * 1024;
/** Payload of the generated BMC image for the secure-update step. */
const DEMO_IMAGE_BYTES = 256 * 1024;
/** Longest the DMA step waits on the device clock. */
const DEMO_DMA_TIMEOUT_MS = 1000;

type Step = { step: string; ok: true } & Record<string, unknown>;

async function dmaStep(device: Device, card: Card): Promise<Record<string, unknown>> {
  const afu = card.afu(0);
  if (!afu) throw new DeviceError('ENODEV', `${device.url}: port 0 has no AFU`);
  const [irq] = device.enableInterrupts(IrqIndex.MSIX, SimVector.AFU_USER0, 1);
  try {
    using src = allocateDma(device, DEMO_DMA_BYTES, { access: 'read' });
    using dst = allocateDma(device, DEMO_DMA_BYTES, { access: 'write' });
    const bytes = src.memory.bytes;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 17) & 0xff;
    const fired = irq!.wait({ timeoutMs: 5000 });
    fired.catch(() => undefined);
    afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.CLEAR);
    afu.write64(SimAfuReg.DMA_SRC, src.iova);
    afu.write64(SimAfuReg.DMA_DST, dst.iova);
    afu.write64(SimAfuReg.DMA_LEN, BigInt(DEMO_DMA_BYTES));
    afu.write64(SimAfuReg.DMA_CTRL, DmaCtrl.START | DmaCtrl.IRQ_ENABLE); // user interrupt 0
    const deadline = device.clock.now() + DEMO_DMA_TIMEOUT_MS;
    let status = afu.read64(SimAfuReg.DMA_STATUS);
    while ((status & (DmaStatus.DONE | DmaStatus.FAULT)) === 0n) {
      if (device.clock.now() > deadline) throw new DeviceError('ETIMEDOUT', `AFU DMA did not finish within ${DEMO_DMA_TIMEOUT_MS} ms (DMA_STATUS ${hex(status, 16)})`);
      await device.clock.sleep(0.01);
      status = afu.read64(SimAfuReg.DMA_STATUS);
    }
    if (status & DmaStatus.FAULT) throw new DeviceError('EIO', `AFU DMA fault: DMA_STATUS ${hex(status, 16)}`);
    const events = await fired;
    const same = Buffer.compare(src.memory.bytes, dst.memory.bytes) === 0;
    if (!same) throw new DeviceError('EIO', 'AFU DMA: destination differs from source');
    return { bytes: Number(fieldGet(DmaStatus.BYTES, status)), srcIova: hex(src.iova), dstIova: hex(dst.iova), interrupts: events, verified: same };
  } finally {
    device.disableInterrupts(IrqIndex.MSIX);
  }
}

export const command: Command = {
  summary: 'the full tour on a simulated card: walk, reset, DMA + IRQ, PR, secure update, reboot',
  help: `usage: vfiokit demo [DEVICE] [--json]

Runs every major flow against a simulated N3000-class card (default sim:n3000), through the same
code a real card uses: list the backends and their devices, walk the feature lists, reset port 0
(under a RESET reservation), copy ${DEMO_DMA_BYTES / 1024} KiB with the AFU's DMA engine and wait for its MSI-X
interrupt, generate a GBS for a new AFU and load it by partial reconfiguration (the AFU GUID
changes; the reservation records the bitstream), build a signed BMC image and flash it through
the BMC's secure-update doorbell with progress, read the published status, and reboot the FPGA
from the user page. The card's clock is virtual, so the flash's minutes of copying take
milliseconds.

options:
  --json   one JSON document with every step's result instead of the narrated tour

exit codes: 0 every step passed, 1 a step failed (its message says which), 4 device unavailable

examples:
  vfiokit demo
  vfiokit demo sim:n3000-dfh1
  vfiokit demo --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' } });
    if (positionals.length > 1) throw new UsageError('EUSAGE', `demo takes at most one DEVICE; see --help`);
    const arg = positionals[0] ?? 'sim:n3000';
    const url = resolveDevice(arg);
    if (!url.startsWith('sim:')) throw new UsageError('EUSAGE', `demo runs on a simulated card (sim:...), not ${url}: it reprograms and flashes the card`);
    const json = values.json === true;
    const steps: Step[] = [];
    const say = (line: string) => { if (!json) process.stdout.write(line + '\n'); };
    const done = (step: string, result: Record<string, unknown>) => { steps.push({ step, ok: true, ...result }); };

    say('== 1. backends and devices');
    const found = await enumerateAll();
    for (const t of found.tokens) say(`   ${t.url.padEnd(22)} ${t.backend.padEnd(10)} ${t.vendor.toString(16).padStart(4, '0')}:${t.device.toString(16).padStart(4, '0')} ${t.description ?? ''}`);
    done('enumerate', { devices: found.tokens.map((t) => t.url), failures: found.failures });

    using device = await openDeviceArg(url);
    say(`== 2. walk ${url}`);
    let card = Card.discover(device);
    const features = flattenFeatures(card.features);
    for (const f of features) say(`   BAR${f.bar}+${hex(f.offset, 5)} ${f.type.padEnd(7)} ${hex(f.id, 3)} ${f.name}${f.guid ? ` ${f.guid}` : ''}`);
    const afuBefore = card.afu(0)?.readGuid();
    done('walk', { discovery: card.walk.discovery, features: features.length, ports: card.ports.length, afu: afuBefore });

    say('== 3. port reset');
    await withReservation(url, 'RESET', () => card.port(0)!.reset());
    say(`   port 0 reset (PORT_CTRL soft reset asserted and released, ACK seen both ways)`);
    done('port-reset', { port: 0 });

    say(`== 4. DMA through the AFU with an interrupt`);
    const dma = await dmaStep(device, card);
    say(`   copied ${dma.bytes} bytes ${dma.srcIova} -> ${dma.dstIova}, MSI-X vector ${SimVector.AFU_USER0} fired (${dma.interrupts} event), contents verified`);
    done('dma', dma);

    say('== 5. partial reconfiguration');
    const fme = card.fme!;
    const newAfu = randomUUID();
    const gbsBytes = buildSimGbs({ interfaceUuid: fme.prInterfaceId!, afuGuid: newAfu, name: 'demo', payload: patternPayload(512 * 1024, 7) });
    const gbs = parseGbs(gbsBytes, 'demo.gbs');
    const prBar = progressBar('pr', { quiet: json });
    const signature = 'sha256:' + createHash('sha256').update(gbsBytes).digest('hex');
    const pr = await reconfigureCard(card, gbs, {
      port: 0,
      reservation: prReservationHook(url, { signature, afuGuid: newAfu, file: 'demo.gbs' }),
      onProgress: (p) => { if (p.step === 'stream') prBar.update(p.written, p.total, 'streaming'); },
    });
    prBar.complete();
    card = Card.discover(device);
    const afuAfter = card.afu(0)?.readGuid();
    if (afuAfter !== newAfu) throw new DeviceError('EIO', `after PR the AFU reports ${afuAfter}, expected ${newAfu}`);
    say(`   AFU GUID ${afuBefore} -> ${afuAfter} (${pr.bytesWritten} bytes, interface ${pr.fmeInterfaceUuid})`);
    say(`   reservation remembers bitstream ${getReservation(url).bitstream?.signature.slice(0, 23)}...`);
    done('pr', { before: afuBefore, after: afuAfter, bytes: pr.bytesWritten, signature });

    say('== 6. secure update (BMC image)');
    using bmc = await openBmc(device);
    const before = bmc.info();
    const image = buildSignedImage({ contentType: 1, version: 'demo-2.0.99', payload: patternPayload(DEMO_IMAGE_BYTES, 9) });
    const flashBar = progressBar('flash', { quiet: json });
    const states: string[] = [];
    const flash = await bmc.update.flash(image, {
      reserve: flashReserveHook(url),
      onProgress: (p) => {
        if (states[states.length - 1] !== p.state) states.push(p.state);
        if (p.state === 'READY') flashBar.update(p.bytesWritten ?? 0, image.length, 'writing staging');
        else if (p.state === 'COPYING') flashBar.update((p.progress / 100) * image.length, image.length, 'BMC copying');
      },
    });
    flashBar.complete();
    say(`   states ${states.join(' -> ')}; ${Math.round(flash.ms / 1000)} s of card time (BMC ${before.bmcVersion.text})`);
    done('flash', { states, cardMs: flash.ms, bmcVersion: before.bmcVersion.text });

    say('== 7. status');
    const status = readFlashStatus(url);
    say(`   ${status.state} (status ${status.status}, progress ${status.progress}%)`);
    done('status', { state: status.state, status: status.status, progress: status.progress });

    say('== 8. reboot the FPGA from the user page');
    await withReservation(url, 'RESET', () => bmc.reboot({ target: 'fpga', page: 'user' }));
    const after = bmc.info();
    say(`   FPGA reloaded; boot page ${after.fpgaBootPage}`);
    done('reboot', { fpgaBootPage: after.fpgaBootPage });

    if (json) printJson({ device: url, steps });
    else say('demo complete: every step passed');
    return ExitCode.OK;
  },
};
