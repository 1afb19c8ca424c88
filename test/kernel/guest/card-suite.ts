// Runs INSIDE the QEMU guest of the card lane's `card` half (test/kernel/run.ts --lane card): the
// simulated card served by `vfiokit serve` on the host is a PCI function of the guest, bound to
// the guest's vfio-pci (dfl-pci kept off it), and vfiokit's public API drives it through the real
// kernel VFIO: the legacy type1 container with the vIOMMU, and the iommufd cdev. DMA goes to
// allocator IOVAs the vIOMMU translates, interrupts come through the kernel's MSI-X path. What to
// expect comes from the host (VFIOKIT_EXPECT, test/kernel/card-lane.ts).
import fs from 'node:fs';
import {
  allocateDma, Card, IrqIndex, openBmc, openDevice, parseGbs, readCardProperties, reconfigureCard, type Device,
} from '../../../src/index.js';
import { flattenFeatures } from '../../../src/entry/dfl.js';
import { free, getReservation, reserve, withReservation } from '../../../src/entry/reservations.js';
import { prReservationHook, flashReserveHook } from '../../../src/lock/hooks.js';
import { buildSignedImage, patternPayload } from '../../../src/afu/image/image-writer.js';
import { SimAfuReg, DmaFault, DmaStatus, startAfuDma } from '../../../src/sim/afu-regs.js';
import { fieldGet } from '../../../src/util/bitfield.js';
import { afuCopy } from './afu-dma.js';
import { allocateHostMemory } from '../../../src/dma/host-memory.js';
import { iovaAllocatorFor } from '../../../src/dma/dma-buffer.js';
import { SimVector } from '../../../src/sim/sim-card.js';
import { listPciDevices } from '../../../src/pci/enumerate.js';
import { VfioDevice } from '../../../src/vfio/vfio-device.js';
import { LANE_FLASH_IMAGE_BYTES, type LaneExpect } from '../card-lane.js';
import { check, finish, hex, run } from './harness.js';
import { command as benchCommand } from '../../../src/cli/commands/bench.js';
import { command as bindCommand } from '../../../src/cli/commands/bind.js';
import type { Command } from '../../../src/cli/command.js';
import { hostControl } from './host-control.js';

const expect = JSON.parse(fs.readFileSync(process.env.VFIOKIT_EXPECT!, 'utf8')) as LaneExpect;
const card0 = expect.cards[0]!;
const url = `vfio:${card0.bdf}`;
const FLASH_IMAGE_BYTES = LANE_FLASH_IMAGE_BYTES;

/** AFU DMA of `n` bytes between two allocator buffers, completion signalled on an AFU user interrupt (MSI-X). */
async function afuDmaWithInterrupt(device: Device, card: Card, n: number): Promise<string> {
  const afu = card.afu(0)!;
  const [irq] = device.enableInterrupts(IrqIndex.MSIX, SimVector.AFU_USER0, 1);
  try {
    using src = allocateDma(device, 65536, { access: 'read' });
    using dst = allocateDma(device, 65536, { access: 'write' });
    for (let i = 0; i < n; i++) src.bytes[i] = (i * 13 + 5) & 0xff;
    const fired = irq!.wait({ timeoutMs: 20000 });
    startAfuDma(afu, src.iova, dst.iova, n, 0); // completion on user interrupt 0
    const events = await fired;
    const status = afu.read64(SimAfuReg.DMA_STATUS);
    check((status & DmaStatus.DONE) !== 0n, `DMA_STATUS ${hex(status)}`);
    let bad = 0;
    for (let i = 0; i < n; i++) if (dst.bytes[i] !== src.bytes[i]) bad++;
    check(bad === 0, `${bad} of ${n} bytes differ`);
    return `${n} bytes IOVA ${hex(src.iova)} -> ${hex(dst.iova)}, MSI-X vector ${SimVector.AFU_USER0}: ${events} event(s)`;
  } finally {
    device.disableInterrupts(IrqIndex.MSIX);
  }
}

async function backendTests(mode: 'type1' | 'iommufd'): Promise<void> {
  let device: Device | undefined;
  const opened = await run(`${mode}: open ${url} with vfiokit's openDevice`, async () => {
    device = await openDevice(url, { iommu: mode });
    check(device instanceof VfioDevice && device.mode === mode, `opened in ${(device as VfioDevice).mode} mode`);
    check(device.identity.vendor === 0x8086 && device.identity.device === 0x0b30, `identity ${JSON.stringify(device.identity)}`);
    return `${device.regionCount} regions, ${device.irqCount} irq indexes, DMA page ${device.dma.pageSize}`;
  });
  if (!opened || !device) return;
  const dev = device;
  try {
    let card: Card | undefined;
    await run(`${mode}: Card.discover walks the same features as the host's walk of the served card`, () => {
      card = Card.discover(dev);
      const got = flattenFeatures(card.features).map((f) => `${f.type}:${f.id}@${hex(f.offset)}+${hex(f.size)}`);
      const want = card0.features.map((f) => `${f.type}:${f.id}@${hex(f.offset)}+${hex(f.size)}`);
      check(JSON.stringify(got) === JSON.stringify(want), `walked ${got.join(' ')}; host walked ${want.join(' ')}`);
      // The AFU the card holds now: the power-up one on type1; on iommufd the one type1's PR loaded
      // (the sim's FLR keeps the AFU, as a real card keeps its PR region: sim-card.ts reset).
      const afuGuid = mode === 'type1' ? card0.afuGuid : card0.pr.afuGuid;
      check(card.afu(0)?.readGuid() === afuGuid, `AFU ${card.afu(0)?.readGuid()}, expected ${afuGuid}`);
      return `${card.walk.discovery}: ${got.length} features, AFU ${card.afu(0)?.readGuid()}`;
    });
    if (!card) return;
    const c = card;

    if (mode === 'type1') {
      await run(`${mode}: FME thermal/power and the port's throttling read over vfio-pci as on the host, through heat and cool-down`, async () => {
        const t = card0.thermal;
        const same = (what: string, got: unknown, want: unknown): void => check(JSON.stringify(got) === JSON.stringify(want), `${what} ${JSON.stringify(got)}, host ${JSON.stringify(want)}`);
        const fme = c.fme!;
        const port = c.port(0)!;
        const portNow = (): unknown => { const { powerState, ap1Event, ap2Event } = port.status; return { powerState, ap1Event, ap2Event }; };
        same('thermal', fme.thermal().hwmon, t.thermal);
        same('power', fme.power().hwmon, t.power);
        for (const step of t.steps) {
          await hostControl(step.control);
          same(`at ${step.control.fpgaTemp} C thermal`, fme.thermal().hwmon, step.hwmon);
          same(`at ${step.control.fpgaTemp} C port`, portNow(), step.port);
        }
        port.clearPowerEvents();
        same('port after clearing its AP events', portNow(), t.cleared);
        return `${t.steps.length} steps; power states ${t.steps.map((s) => s.port.powerState).join(' -> ')}`;
      });
    }

    // The AFU resets with its port (dfl-afu-main.c __afu_port_disable asserts PORT_CTRL soft reset;
    // the sim: port-model.ts onReset -> AfuModel.reset): a scratch value written before is gone.
    await run(`${mode}: port 0 reset under a RESET reservation resets the AFU (scratch written before reads 0 after)`, async () => {
      const afu = c.afu(0)!;
      const value = 0x1234_5678_9abc_def0n;
      afu.write64(SimAfuReg.SCRATCH0, value);
      check(afu.read64(SimAfuReg.SCRATCH0) === value, `scratch before the reset ${hex(afu.read64(SimAfuReg.SCRATCH0))}`);
      await withReservation(url, 'RESET', () => c.port(0)!.reset());
      const after = afu.read64(SimAfuReg.SCRATCH0);
      check(after === 0n, `scratch after the reset ${hex(after)}, not 0`);
      check(getReservation(url).state === 'FREE', `reservation left ${getReservation(url).state}`);
      return `scratch ${hex(value)} -> ${hex(after)}`;
    });

    await run(`${mode}: AFU DMA at allocator IOVAs through the vIOMMU, completion by MSI-X through the kernel`, () => afuDmaWithInterrupt(dev, c, 40000));

    await run(`${mode}: after dma.unmap the card's DMA to that IOVA faults (the unmap reached the card through the vIOMMU)`, async () => {
      const allocator = iovaAllocatorFor(dev.dma);
      const iova = allocator.allocate(4096);
      using host = allocateHostMemory(4096);
      using src = allocateDma(dev, 4096, { access: 'read' });
      try {
        dev.dma.map(host, iova, { read: true, write: true });
        const afu = c.afu(0)!;
        src.bytes.fill(0x5a, 0, 256);
        check((await afuCopy(afu, src.iova, iova, 256) & DmaStatus.DONE) !== 0n && host.bytes[255] === 0x5a, 'the mapped copy did not land');
        dev.dma.unmap(iova, 4096);
        src.bytes.fill(0xa5, 0, 256);
        const st = await afuCopy(afu, src.iova, iova, 256);
        const code = Number(fieldGet(DmaStatus.FAULT_CODE, st));
        check((st & DmaStatus.FAULT) !== 0n && code === DmaFault.DST_UNMAPPED && host.bytes[0] === 0x5a, `status ${hex(st)}, host byte ${hex(host.bytes[0]!)}`);
        return `IOVA ${hex(iova)}: written while mapped; DST_UNMAPPED after unmap, host memory untouched`;
      } finally {
        allocator.free(iova);
      }
    });

    if (mode === 'type1') {
      await run('type1: port reset with the reset-ACK fault armed on the host fails with EPORT_DISABLE_TIMEOUT; enable() releases the port', async () => {
        const port = c.port(0)!;
        await hostControl({ card: card0.label, fault: 'reset-ack', on: true });
        let code: string | undefined;
        try {
          port.reset();
        } catch (e) {
          code = (e as { code?: string }).code;
        } finally {
          await hostControl({ card: card0.label, fault: 'reset-ack', on: false });
        }
        check(code === 'EPORT_DISABLE_TIMEOUT' && port.disabled, `reset ended with ${code}, port disabled ${port.disabled}`);
        port.enable();
        check(!port.disabled && c.afu(0)!.readGuid() === card0.afuGuid, 'the port did not come back');
        return `${code}; released, AFU answers again`;
      });
    }

    await cardFlows(mode, dev, c);
  } finally {
    dev.close();
  }
}

/**
 * PR, BMC properties and secure updates (one failing authentication, one under a reservation held
 * across it), on each backend. type1 loads the lane's GBS and flashes the host's
 * LANE_FLASH_IMAGE_BYTES image; iommufd loads the second GBS (the AFU changes again) and flashes a
 * quarter-size image, which keeps the guest's time down (each byte crosses SPI-AVMM).
 */
async function cardFlows(mode: 'type1' | 'iommufd', dev: Device, card: Card): Promise<void> {
  const pr = mode === 'type1' ? card0.pr : card0.prNext;
  const before = card.afu(0)?.readGuid();
  await run(`${mode}: PR with progress through the card's FME: the AFU GUID changes and the reservation records the bitstream`, async () => {
    const gbs = parseGbs(new Uint8Array(fs.readFileSync(pr.gbs)), pr.gbs);
    const steps = new Set<string>();
    let streamed = 0;
    const r = await reconfigureCard(card, gbs, {
      port: 0,
      reservation: prReservationHook(url, { signature: 'lane', afuGuid: pr.afuGuid, file: pr.gbs }),
      onProgress: (p) => {
        steps.add(p.step);
        if (p.step === 'stream') streamed = p.written;
      },
    });
    const after = Card.discover(dev).afu(0)?.readGuid();
    check(before !== pr.afuGuid && after === pr.afuGuid, `AFU ${before} before the PR, ${after} after; expected ${pr.afuGuid}`);
    check(steps.has('stream') && streamed === gbs.bitstreamLength, `progress steps ${[...steps].join(',')}, streamed ${streamed}/${gbs.bitstreamLength}`);
    check(getReservation(url).bitstream?.afuGuid === pr.afuGuid, `reservation bitstream ${JSON.stringify(getReservation(url).bitstream)}`);
    return `${r.bytesWritten} bytes, steps ${[...steps].join(' -> ')}, AFU ${before} -> ${after}`;
  });

  await run(`${mode}: BMC properties read through SPI-AVMM (versions, MAC, boot page)`, async () => {
    const info = await (async () => {
      using bmc = await openBmc(dev);
      return bmc.info();
    })();
    const props = await readCardProperties(dev);
    const want = card0.bmc;
    check(!('error' in want), `the host could not read the sim's BMC: ${'error' in want ? want.error : ''}`);
    if ('error' in want) return;
    const got = { bmcVersion: info.bmcVersion.text, firmwareVersion: info.firmwareVersion.text, mac: info.mac, fpgaBootPage: info.fpgaBootPage };
    const host = { bmcVersion: want.bmcVersion, firmwareVersion: want.firmwareVersion, mac: want.mac, fpgaBootPage: want.fpgaBootPage };
    check(JSON.stringify(got) === JSON.stringify(host), `read ${JSON.stringify(got)}, the host's sim says ${JSON.stringify(host)}`);
    check(info.secure, 'BMC not in secure mode');
    // readCardProperties (OPAE's fpgaGetProperties over the same card): the same BMC, the FME's boot page from it.
    check(props.pci?.vendor === '0x8086' && props.pci.device === '0x0b30', `properties pci ${JSON.stringify(props.pci)}`);
    check(props.bmc?.mac === info.mac && props.bmc.bmcVersion.text === info.bmcVersion.text && props.fme?.bootPage === info.fpgaBootPage, `properties bmc ${props.bmc?.mac} ${props.bmc?.bmcVersion.text}, fme boot page ${props.fme?.bootPage}`);
    check(props.ports?.length === 1, `properties ports ${JSON.stringify(props.ports)}`);
    return `BMC ${info.bmcVersion.text}, NIOS ${info.firmwareVersion.text}, MAC ${info.mac}, FPGA page ${info.fpgaBootPage}; properties ${Object.keys(props).join(',')}`;
  });

  // The served card's URL arms one authentication failure (laneCards: bmcFault=auth-fail), taken by
  // type1's first update; iommufd arms the next one through the host's control channel.
  const bytes = mode === 'type1' ? FLASH_IMAGE_BYTES : FLASH_IMAGE_BYTES / 4;
  await run(`${mode}: secure update with the BMC's authentication failing (bmcFault=auth-fail) ends in EFLASH_AUTH and frees the reservation`, async () => {
    if (mode === 'iommufd') await hostControl({ card: card0.label, bmcFault: 'auth-fail' });
    using bmc = await openBmc(dev);
    // The fault does not depend on the image; 1 KiB keeps the SPI-AVMM time down.
    const image = buildSignedImage({ contentType: 1, version: `lane-bad-${mode}`, payload: patternPayload(1024, 4) });
    try {
      await bmc.update.flash(image, { reserve: flashReserveHook(url) });
    } catch (e) {
      check((e as { code?: string }).code === 'EFLASH_AUTH', `failed with ${(e as { code?: string }).code}: ${(e as Error).message}`);
      check(getReservation(url).state === 'FREE', `reservation after the failure: ${getReservation(url).state}`);
      return (e as Error).message.slice(0, 120);
    }
    throw new Error('the update succeeded with the authentication fault armed');
  });

  await run(`${mode}: secure update of a ${bytes}-byte image (fast BMC timing) under a reservation held across it`, async () => {
    reserve(url);
    try {
      using bmc = await openBmc(dev);
      const image = mode === 'type1'
        ? new Uint8Array(fs.readFileSync(card0.flashImage))
        : buildSignedImage({ contentType: 1, version: 'lane-2.0.2', payload: patternPayload(bytes, 5) });
      const states: string[] = [];
      const during: string[] = [];
      const r = await bmc.update.flash(image, {
        reserve: flashReserveHook(url),
        onProgress: (p) => {
          if (states[states.length - 1] !== p.state) {
            states.push(p.state);
            during.push(getReservation(url).state);
          }
        },
      });
      check(states.includes('READY') && states[states.length - 1] === 'DONE', `states ${states.join(' -> ')}`);
      check(during.includes('PROGRAM'), `reservation during the update: ${during.join(',')}`);
      check(getReservation(url).state === 'RESERVED', `reservation after: ${getReservation(url).state}`);
      return `states ${states.join(' -> ')}; reservation ${[...new Set(during)].join('/')} during, RESERVED after; ${Math.round(r.ms)} ms`;
    } finally {
      free(url);
    }
  });
}

/**
 * Run a vfiokit command with --json as the CLI does (its own argument parsing and output), in this
 * process: a second node + tsx start under TCG costs minutes. Its stdout is parsed.
 */
async function vfiokitJson<T>(command: Command, args: string[]): Promise<T> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  let code: number;
  try {
    code = await command.run([...args, '--json']);
  } finally {
    process.stdout.write = write;
  }
  check(code === 0, `exit ${code}: ${out.slice(0, 300)}`);
  return JSON.parse(out) as T;
}

interface BenchRow { path: string; op: string; skipped?: string; opsPerSec?: number; latency?: { p50: number; p99: number; p999: number; max: number; samples: number; histogram: { count: number }[] } }

/** `vfiokit bench mmio` on the guest's vfio-pci BAR: every path measured or skipped with a reason, figures sane. */
async function benchMmio(): Promise<string> {
  const j = await vfiokitJson<{ device: string; regionKind: string; rows: BenchRow[] }>(benchCommand, ['mmio', card0.bdf, '--ms', '50']);
  check(j.regionKind === 'mapped', `BAR0 is ${j.regionKind}, not mapped through vfio-pci`);
  const ops = ['read32', 'read64'];
  check(j.rows.length === ops.length * 3 && ops.every((op) => ['region', 'c-loop', 'ffi-call'].every((p) => j.rows.some((r) => r.op === op && r.path === p))), `rows ${j.rows.map((r) => `${r.path}/${r.op}`).join(',')}`);
  const figures: string[] = [];
  for (const r of j.rows) {
    if (r.skipped) {
      check(r.path !== 'region', `the Region path was skipped: ${r.skipped}`);
      figures.push(`${r.op} ${r.path} skipped`);
      continue;
    }
    const l = r.latency!;
    const counted = l.histogram.reduce((a, b) => a + b.count, 0);
    check(l.p50 > 0 && l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, `${r.path} ${r.op} percentiles ${l.p50}/${l.p99}/${l.p999}/${l.max}`);
    check(l.samples > 0 && counted === l.samples, `${r.path} ${r.op}: histogram counts ${counted} of ${l.samples} samples`);
    check((r.opsPerSec ?? 0) > 0, `${r.path} ${r.op}: ${r.opsPerSec} ops/s`);
    figures.push(`${r.op} ${r.path} p50 ${Math.round(l.p50)} ns p99 ${Math.round(l.p99)} ns ${Math.round(r.opsPerSec!)}/s`);
  }
  return `${j.device} BAR0 (mapped, vfio-pci under TCG): ${figures.join('; ')}`;
}

/** `vfiokit bind BDF USER:GROUP` on the real /dev/vfio nodes of the guest's vfio-pci device (opae.io init). */
async function bindOwner(group: number): Promise<string> {
  const nodes = [`/dev/vfio/${group}`, ...fs.readdirSync(`/sys/bus/pci/devices/${card0.bdf}/vfio-dev`).filter((n) => /^vfio\d+$/.test(n)).map((n) => `/dev/vfio/devices/${n}`)];
  const before = nodes.map((n) => fs.statSync(n));
  try {
    const r = await vfiokitJson<{ changed: boolean; nodes: { path: string; uid: number; gid: number; mode: number }[] }>(bindCommand, [card0.bdf, 'nobody:nogroup']);
    check(r.changed === false, 'the card was bound again');
    check(JSON.stringify(r.nodes.map((n) => n.path)) === JSON.stringify(nodes), `nodes ${r.nodes.map((n) => n.path).join(',')}, expected ${nodes.join(',')}`);
    for (const n of nodes) {
      const st = fs.statSync(n);
      check(st.isCharacterDevice() && st.uid === 65534 && st.gid === 65534 && (st.mode & 0o777) === 0o660, `${n}: ${st.uid}:${st.gid} ${(st.mode & 0o777).toString(8)}`);
    }
    return `${nodes.join(', ')} -> 65534:65534 0660`;
  } finally {
    nodes.forEach((n, i) => {
      fs.chownSync(n, before[i]!.uid, before[i]!.gid);
      fs.chmodSync(n, before[i]!.mode & 0o7777);
    });
  }
}

async function main(): Promise<void> {
  const dev = listPciDevices({ vendor: 0x8086, device: 0x0b30 }).find((d) => d.bdf === card0.bdf);
  await run(`the served card ${card0.bdf} is bound to vfio-pci in its own IOMMU group; dfl-pci is kept off`, () => {
    check(dev !== undefined && dev.driver === 'vfio-pci', `device ${JSON.stringify(dev)}`);
    check(dev!.iommuGroup !== undefined, 'no IOMMU group');
    const members = fs.readdirSync(`/sys/kernel/iommu_groups/${dev!.iommuGroup}/devices`);
    check(members.length === 1, `group ${dev!.iommuGroup} holds ${members.join(',')}`);
    check(!fs.existsSync('/dev/dfl-fme.0'), 'dfl-fme.0 exists: dfl-pci bound a card');
    return `group ${dev!.iommuGroup}`;
  });
  if (!dev || dev.driver !== 'vfio-pci') return;
  await backendTests('type1');
  await backendTests('iommufd');
  await run(`vfiokit bench mmio ${card0.bdf}: Region, C loop and FFI paths on the vfio-pci BAR, figures sane`, () => benchMmio());
  await run(`vfiokit bind ${card0.bdf} nobody:nogroup gives the IOMMU group node and the iommufd cdev to the user (opae.io init)`, () => bindOwner(dev.iommuGroup!));
}

finish(main);
