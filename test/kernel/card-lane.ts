// The host side of the card lanes (test/kernel/run.ts --lane dfl | card): serve simulated cards
// with `vfiokit serve --control` on UNIX sockets, describe them to QEMU's vfio-user-pci, write
// what the guest must find (LaneExpect, from vfiokit's own walk of the same card) and the GBS
// files it loads, and carry the guest's fault requests (VFIOKIT-CONTROL) to the right server.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openDevice } from '../../src/device/registry.js';
import { walkDfl } from '../../src/dfl/walk.js';
import { Card } from '../../src/afu/card.js';
import { applySimControl } from '../../src/sim/control.js';
import { SimDevice } from '../../src/sim/sim-device.js';
import { openBmc, type Bmc } from '../../src/afu/bmc/bmc.js';
import type { BmcBoard } from '../../src/afu/bmc/registers.js';
import type { SecurityArea } from '../../src/afu/bmc/security.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import type { Feature } from '../../src/dfl/feature.js';
import { buildSimGbs } from '../../src/sim-gbs.js';
import { SIM_AFU_GUID, SIM_BITSTREAM_ID, SIM_BITSTREAM_MD, SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';
import { SIM_AFU_MMIO_SIZE, SIM_USER_INTERRUPTS } from '../../src/sim/sim-card.js';
import { clearFmeErrors, injectFmeErrors, readFmeErrors, type FmeErrors } from '../../src/afu/fme-errors.js';
import type { Fme } from '../../src/afu/fme.js';
import type { Port } from '../../src/afu/port.js';
import type { CardEvent } from '../../src/afu/events.js';
import { VfiokitError } from '../../src/errors.js';
import { hex } from '../../src/util/bytes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The AFU GUID a PR in the card lanes loads. */
export const LANE_PR_AFU_GUID = 'c0ffee00-1234-4abc-8def-0123456789ab';
/** The AFU GUID of the lane's second GBS: a PR after the first one changes the AFU again. */
export const LANE_PR_NEXT_AFU_GUID = 'c0ffee01-5678-4abc-8def-0123456789ab';
/** Payload of the lane's GBS: small, every 32-bit word is one trapped register write under TCG. */
const LANE_GBS_PAYLOAD = 16 * 1024;
/** Payload of the lane's signed BMC image: a few KiB, it crosses SPI-AVMM byte by byte. */
export const LANE_FLASH_IMAGE_BYTES = 4096;

export interface WalkedFeature { type: string; fiu: 'fme' | 'port'; id: number; name: string; offset: number; size: number }

export interface CardExpect {
  label: string;
  url: string;
  bdf: string;
  socket: string;
  features: WalkedFeature[];
  bitstreamId: string;
  bitstreamMd: string;
  afuGuid: string;
  prInterfaceId: string;
  userInterrupts: number;
  afuMmioSize: number;
  /** PR: the GBS to load, the AFU it carries, and the errno name the kernel must return (a fault is armed). */
  pr: { gbs: string; afuGuid: string; expectError?: string; fault?: string; managerStatus?: string };
  /** A second GBS (another AFU) for a PR that follows the first (the card lane PRs on each backend). */
  prNext: { gbs: string; afuGuid: string };
  /** What vfiokit's BMC code reads from the same card on the host (openBmc(sim).info()), or why it could not. */
  bmc: BmcExpect | { error: string };
  /** A signed image for the fw_upload secure update. */
  flashImage: string;
  /** Only the card's binding and its BMC chain are tested (a second card class, for its BMC). */
  bmcOnly?: boolean;
  /** The card's BMC fails the first update's authentication (bmcFault=auth-fail). */
  bmcAuthFails?: boolean;
  /** Arm the reset-ACK fault at run time and expect the kernel's ETIMEDOUT. */
  resetFault?: boolean;
  /** What vfiokit reads from the FME thermal/power features and the port of the same card (thermalExpect). */
  thermal: ThermalExpect;
  /** What vfiokit reads from the FME global error and port error features through the same steps (errorsExpect). */
  errors: ErrorsExpect;
}

/** One step of the thermal check: a sim control request, then what the kernel must show. */
export interface ThermalStep {
  control: { fpgaTemp: number };
  /** dfl_fme_thermal hwmon files (readFmeThermal(...).hwmon) and the port's PORT_STS as vfiokit reads them. */
  hwmon: Record<string, number>;
  port: { powerState: number; ap1Event: boolean; ap2Event: boolean };
}

export interface ThermalExpect {
  /** dfl_fme_thermal / dfl_fme_power hwmon files at power-up (readFmeThermal / readFmePower .hwmon). */
  thermal: Record<string, number>;
  power: Record<string, number>;
  /** Heat the card past threshold 1, past threshold 2, then cool it back; each with its expected reading. */
  steps: ThermalStep[];
  /** After the steps: the port once its AP events are cleared (Port.clearPowerEvents). */
  cleared: { powerState: number; ap1Event: boolean; ap2Event: boolean };
  /** power1_max written to this (W) and read back with its alarm (Fme.setPowerThresholds). */
  powerMax: { watts: number; hwmon: Record<string, number> };
}

/** The card's BMC as vfiokit reads it on the host (openBmc(dev): info(), sensors(), security()). */
export interface BmcExpect {
  /** The FME feature the BMC's SPI master sits behind (0xd N3000 Nios, 0xe MAX10 SPI) and the SPI device the kernel names. */
  featureId: number;
  device: string;
  board: BmcBoard;
  bmcVersion: string; firmwareVersion: string; mac: string; fpgaBootPage: string;
  bmcVersionRaw: number; firmwareVersionRaw: number; macCount: number;
  /** Each hwmon channel of the board's table (intel-m10-bmc-hwmon.c): its label and every file with its value; 'ENODATA' for an invalid input. */
  sensors: { channel: string; label: string; files: Record<string, number | 'ENODATA'> }[];
  /** security/*: root entry hash per area (hex, null = not programmed), canceled CSK IDs, flash_count. */
  security: { rootEntryHash: Record<SecurityArea, string | null>; canceledCsks: Record<SecurityArea, number[]>; flashCount: number };
}

/**
 * The kernel's error files and what vfiokit reads from the registers behind them, as "0x.." strings:
 * dfl-fme.N/errors/<file> (dfl-fme-error.c) and dfl-port.N/errors/<file> (dfl-afu-error.c).
 */
export interface ErrorReading { fme: Record<string, string>; port: Record<string, string> }

/** A sim control request that latches error bits (src/sim/control.ts). */
export type ErrorControl = Partial<Record<'fmeError' | 'pcie0Error' | 'pcie1Error' | 'portError', string>>;

export interface ErrorsExpect {
  initial: ErrorReading;
  /** Errors latched one control request after another (first_error / next_error follow the order). */
  latched: { control: ErrorControl; reading: ErrorReading }[];
  /** errors/inject_errors (RAS_ERROR_INJECT[2:0]) written with each value; the last is 0. */
  injected: { inject: number; reading: ErrorReading }[];
  /** After writing back fme_errors, pcie0_errors, pcie1_errors and the port's errors (clearFmeErrors, Port.clearErrors). */
  cleared: ErrorReading;
  /** A port error latched, the card heated into AP6: the clear is refused with `refused`; cooled: it succeeds. */
  ap6: {
    control: ErrorControl; hot: { fpgaTemp: number }; cool: { fpgaTemp: number };
    powerState: number; refused: string; whileHot: ErrorReading; afterClear: ErrorReading;
    /** The port once its AP events are cleared. */
    power: { powerState: number; ap1Event: boolean; ap2Event: boolean };
  };
  /** An error latched with the feature's interrupt armed: vfiokit's event (via 'interrupt') and its reading; then cleared. */
  irq: { source: 'fme' | 'port'; control: ErrorControl; via: string; reading: ErrorReading; cleared: ErrorReading }[];
}

export interface LaneExpect { cards: CardExpect[] }

interface CardSpec { label: string; url: string; slot: number; prFault?: string; managerStatus?: string; resetFault?: boolean; bmcAuthFails?: boolean; bmcOnly?: boolean }

/** The hwmon files the kernel must show for the BMC's sensors: vfiokit's decoding (sensors.ts) of the same registers. */
function expectedSensors(bmc: Bmc): BmcExpect['sensors'] {
  return bmc.sensors().map((s) => ({
    channel: s.channel,
    label: s.label,
    // do_sensor_read: 0xdeadbeef means "no valid value" and the input reads fail with ENODATA.
    files: { ...(s.value === undefined ? { [`${s.channel}_input`]: 'ENODATA' as const } : {}), ...s.hwmon },
  }));
}

/** vfiokit's reading of the BMC the kernel must agree with. */
function bmcExpect(bmc: Bmc): BmcExpect {
  const info = bmc.info();
  const sec = bmc.security();
  const rootEntryHash = Object.fromEntries(Object.entries(sec.rootEntryHash).map(([k, v]) => [k, v ?? null])) as BmcExpect['security']['rootEntryHash'];
  return {
    featureId: bmc.location.featureId, device: bmc.location.device, board: bmc.board,
    bmcVersion: info.bmcVersion.text, firmwareVersion: info.firmwareVersion.text, mac: info.mac, fpgaBootPage: info.fpgaBootPage,
    bmcVersionRaw: info.bmcVersion.raw, firmwareVersionRaw: info.firmwareVersion.raw, macCount: info.macCount,
    sensors: expectedSensors(bmc),
    security: { rootEntryHash, canceledCsks: sec.canceledCsks, flashCount: sec.flashCount },
  };
}

/** The cards each lane attaches. */
export function laneCards(lane: 'dfl' | 'card'): CardSpec[] {
  const fast = 'bmcTiming=fast';
  if (lane === 'dfl') {
    return [
      // Its BMC erases staging for 1.5 s (fast timing x10), so the fw_upload cancel test's cancel
      // reliably lands while the kernel still prepares (dfl-suite.ts). card0 and card2 leave the
      // factory with security data (root entry hashes, canceled keys, a flash count) to compare.
      { label: 'card0', url: `sim:n3000?${fast}&bmcTimeScale=10&bmcSecurity=provisioned`, slot: 4, resetFault: true },
      // PR with the engine's CRC fault armed (dfl-fme-mgr.c fme_mgr_write_complete: -EIO, status "reconfig CRC error").
      // ... and its BMC fails the secure update's authentication (intel-m10-bmc-sec-update.c: hw-error).
      { label: 'card1', url: `sim:n3000?${fast}&prFault=crc&bmcFault=auth-fail`, slot: 5, prFault: 'crc', managerStatus: 'reconfig CRC error', bmcAuthFails: true },
      // The D5005 class: dfl-pci binds 0x0b2b, spi-altera-dfl.c claims FME feature 0xe and names the BMC m10-d5005
      // (d5005bmc-hwmon, d5005bmc-sec-update). Only its BMC chain is judged (the FIU/PR paths are card0's).
      { label: 'card2', url: `sim:d5005?${fast}&bmcSecurity=provisioned`, slot: 6, bmcOnly: true },
    ];
  }
  // The first secure update meets an authentication failure (taken once), the next one succeeds.
  return [{ label: 'card0', url: `sim:n3000?${fast}&bmcFault=auth-fail`, slot: 4 }];
}

/** Run `fn` on a fresh instance of the sim card at `url` (its FME and port 0), closed afterwards. */
async function withFreshCard<T>(url: string, fn: (c: { dev: SimDevice; card: Card; fme: Fme; port: Port }) => T | Promise<T>): Promise<T> {
  const dev = await openDevice(url);
  try {
    if (!(dev instanceof SimDevice)) throw new Error(`${url} is not a sim card`);
    const card = Card.discover(dev);
    return await fn({ dev, card, fme: card.fme!, port: card.ports[0]! });
  } finally {
    dev.close();
  }
}

/**
 * The thermal check's expectations, from vfiokit driving a fresh instance of the card (same URL)
 * through the same steps: heat past threshold 1, past threshold 2, cool to power-up, clear the
 * port's AP events; and power1_max set below the consumption.
 */
export function thermalExpect(url: string): Promise<ThermalExpect> {
  return withFreshCard(url, ({ dev, fme, port }) => {
    const status = (): ThermalStep['port'] => {
      const { powerState, ap1Event, ap2Event } = port.status;
      return { powerState, ap1Event, ap2Event };
    };
    const thermal = fme.thermal();
    const power = fme.power().hwmon;
    const steps: ThermalStep[] = [];
    for (const fpgaTemp of [thermal.thresholds!.maxC + 2, thermal.thresholds!.critC + 1, thermal.temperatureC]) {
      applySimControl(dev, { fpgaTemp });
      steps.push({ control: { fpgaTemp }, hwmon: fme.thermal().hwmon, port: status() });
    }
    const { powerState, ap1Event, ap2Event } = port.clearPowerEvents();
    const watts = fme.power().consumedW - 8;
    const powerMax = { watts, hwmon: fme.setPowerThresholds({ maxW: watts }).hwmon };
    return { thermal: thermal.hwmon, power, steps, cleared: { powerState, ap1Event, ap2Event }, powerMax };
  });
}

/** The FME's errors/ files and the FmeErrors field each shows (dfl-fme-error.c fme_global_err_attrs). */
const FME_ERROR_FILES = {
  fme_errors: 'fmeErrors', pcie0_errors: 'pcie0Errors', pcie1_errors: 'pcie1Errors', nonfatal_errors: 'nonFatalErrors',
  catfatal_errors: 'catFatalErrors', inject_errors: 'injectErrors', first_error: 'firstError', next_error: 'nextError',
} as const satisfies Record<string, keyof FmeErrors>;

function errorReading(fme: Fme, port: Port): ErrorReading {
  const f = readFmeErrors(fme);
  const p = port.readErrors();
  return { fme: Object.fromEntries(Object.entries(FME_ERROR_FILES).map(([file, key]) => [file, hex(f[key])])), port: { errors: hex(p.errors), first_error: hex(p.firstError) } };
}

/** The error steps of the dfl lane, in order (the guest applies the same through hostControl and sysfs). */
export const LANE_ERROR_STEPS = {
  latched: [{ fmeError: '0x1' }, { fmeError: '0x20' }, { pcie0Error: '0x8000000000000002' }, { pcie1Error: '0x80' }, { portError: '0x100000000' }, { portError: '0x1' }] as ErrorControl[],
  injected: [0x1, 0x2, 0x4, 0x7, 0],
  ap6: { portError: '0x4000000000000' } as ErrorControl, // PORT_ERROR[50] AP6 event (DPDK ifpga_defines.h feature_port_err_key ap6_event)
  irq: [{ source: 'fme', control: { fmeError: '0x2' } }, { source: 'port', control: { portError: '0x10000' } }] as { source: 'fme' | 'port'; control: ErrorControl }[],
};

/**
 * The error check's expectations, from vfiokit driving a fresh instance of the card (same URL)
 * through the lane's steps: latch errors as the hardware would, inject RAS errors, clear them the
 * kernel's way, try to clear a port error in AP6 and after cooling down, and take each error
 * feature's interrupt on its armed MSI-X vector.
 */
export function errorsExpect(url: string): Promise<ErrorsExpect> {
  return withFreshCard(url, async ({ dev, card, fme, port }) => {
    const reading = (): ErrorReading => errorReading(fme, port);
    const initial = reading();
    const latched = LANE_ERROR_STEPS.latched.map((control) => {
      applySimControl(dev, control);
      return { control, reading: reading() };
    });
    const injected = LANE_ERROR_STEPS.injected.map((inject) => {
      injectFmeErrors(fme, inject);
      return { inject, reading: reading() };
    });
    clearFmeErrors(fme);
    port.clearErrors();
    const cleared = reading();

    const thresholds = fme.thermal().thresholds!;
    const hot = { fpgaTemp: thresholds.critC + 1 };
    const cool = { fpgaTemp: fme.thermal().temperatureC };
    applySimControl(dev, LANE_ERROR_STEPS.ap6);
    applySimControl(dev, hot);
    const powerState = port.status.powerState;
    let refused = 'accepted';
    try {
      port.clearErrors();
    } catch (err) {
      if (!(err instanceof VfiokitError)) throw err;
      refused = err.code;
    }
    const whileHot = reading();
    applySimControl(dev, cool);
    port.clearErrors();
    const afterClear = reading();
    const { powerState: ps, ap1Event, ap2Event } = port.clearPowerEvents();

    const irq: ErrorsExpect['irq'] = [];
    for (const step of LANE_ERROR_STEPS.irq) {
      using events = card.events({ pollMs: 60_000 });
      if (events.sources[step.source === 'fme' ? 'fme' : 'port0'] !== 'interrupt') throw new Error(`${url}: vfiokit watches the ${step.source} errors by ${String(events.sources[step.source === 'fme' ? 'fme' : 'port0'])}, not by interrupt`);
      const heard = new Promise<CardEvent>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${url}: no ${step.source} error event within 10 s`)), 10_000);
        events.on('error', (e) => {
          if (e.source !== step.source) return;
          clearTimeout(timer);
          resolve(e);
        });
      });
      applySimControl(dev, step.control);
      const event = await heard;
      const r = reading();
      if (step.source === 'fme') clearFmeErrors(fme);
      else port.clearErrors();
      irq.push({ ...step, via: event.via, reading: r, cleared: reading() });
    }
    return { initial, latched, injected, cleared, ap6: { control: LANE_ERROR_STEPS.ap6, hot, cool, powerState, refused, whileHot, afterClear, power: { powerState: ps, ap1Event, ap2Event } }, irq };
  });
}

function walked(features: Feature[]): WalkedFeature[] {
  const out: WalkedFeature[] = [];
  const visit = (f: Feature, fiu: 'fme' | 'port'): void => {
    out.push({ type: f.type, fiu, id: f.id, name: f.name, offset: f.offset, size: f.size });
    for (const c of f.children) visit(c, fiu);
  };
  for (const root of features) visit(root, root.id === 0 ? 'fme' : 'port');
  return out;
}

export interface ServedCards {
  cards: CardExpect[];
  expectPath: string;
  /** QEMU -device arguments, one vfio-user-pci per card at its slot. */
  qemuDevices: string[];
  /** Forward one VFIOKIT-CONTROL request; resolves with the server's JSON answer. */
  control(request: { card?: string } & Record<string, unknown>): Promise<{ ok: boolean; error?: string }>;
  stop(): void;
}

interface Server { child: ChildProcess; lines: readline.Interface; waiting: ((reply: { ok: boolean; error?: string }) => void)[]; log: string[] }

/** Start one `vfiokit serve --control` per card in `dir` and wait until each socket exists. */
export async function serveCards(lane: 'dfl' | 'card', dir: string): Promise<ServedCards> {
  const specs = laneCards(lane);
  const servers = new Map<string, Server>();
  const stop = (): void => {
    for (const s of servers.values()) {
      s.lines.close();
      if (s.child.exitCode === null && s.child.pid) s.child.kill('SIGTERM');
    }
  };
  const cards: CardExpect[] = [];
  try {
    for (const spec of specs) {
      const socket = path.join(dir, `${spec.label}.sock`);
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve', spec.url, '--socket', socket, '--control', '--spin-us', '0'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      const lines = readline.createInterface({ input: child.stdout! });
      const server: Server = { child, lines, waiting: [], log: [] };
      lines.on('line', (line) => {
        server.log.push(line);
        if (line.startsWith('{') && server.waiting.length) server.waiting.shift()!(JSON.parse(line) as { ok: boolean; error?: string });
      });
      child.stderr!.on('data', (d: Buffer) => server.log.push(d.toString()));
      // VFIOKIT_SERVE_LOG_DIR=DIR keeps each server's stderr (with DEBUG=vfiokit:* its protocol log) in DIR/<card>.log.
      if (process.env.VFIOKIT_SERVE_LOG_DIR) child.stderr!.pipe(fs.createWriteStream(path.join(process.env.VFIOKIT_SERVE_LOG_DIR, `${spec.label}.log`)));
      servers.set(spec.label, server);
      const deadline = Date.now() + 30000;
      while (!fs.existsSync(socket)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`vfiokit serve ${spec.url} did not listen on ${socket}: ${server.log.join(' ').slice(-400)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // What the guest must find: vfiokit's own walk of the same card (a fresh instance, same URL).
      const dev = await openDevice(spec.url);
      let features: WalkedFeature[];
      let bmc: CardExpect['bmc'];
      try {
        features = walked(walkDfl(dev).features);
        try {
          using b = await openBmc(dev);
          bmc = bmcExpect(b);
        } catch (err) {
          bmc = { error: (err as Error).message };
        }
      } finally {
        dev.close();
      }
      const gbsPath = path.join(dir, `${spec.label}-pr.gbs`);
      fs.writeFileSync(gbsPath, buildSimGbs({ afuGuid: LANE_PR_AFU_GUID, payloadBytes: LANE_GBS_PAYLOAD }));
      const nextGbsPath = path.join(dir, `${spec.label}-pr-next.gbs`);
      fs.writeFileSync(nextGbsPath, buildSimGbs({ afuGuid: LANE_PR_NEXT_AFU_GUID, payloadBytes: LANE_GBS_PAYLOAD }));
      const flashImage = path.join(dir, `${spec.label}-bmc.bin`);
      fs.writeFileSync(flashImage, buildSignedImage({ contentType: 1, version: 'lane-2.0.1', payload: patternPayload(LANE_FLASH_IMAGE_BYTES, 3) }));
      cards.push({
        label: spec.label,
        url: spec.url,
        bdf: `0000:00:${spec.slot.toString(16).padStart(2, '0')}.0`,
        socket,
        features,
        bitstreamId: `0x${SIM_BITSTREAM_ID.toString(16)}`,
        bitstreamMd: `0x${SIM_BITSTREAM_MD.toString(16)}`,
        afuGuid: SIM_AFU_GUID,
        prInterfaceId: SIM_PR_INTERFACE_ID,
        userInterrupts: SIM_USER_INTERRUPTS,
        afuMmioSize: SIM_AFU_MMIO_SIZE,
        bmc,
        flashImage,
        ...(spec.bmcAuthFails ? { bmcAuthFails: true } : {}),
        pr: { gbs: gbsPath, afuGuid: LANE_PR_AFU_GUID, ...(spec.prFault ? { expectError: 'EIO', fault: spec.prFault, managerStatus: spec.managerStatus } : {}) },
        prNext: { gbs: nextGbsPath, afuGuid: LANE_PR_NEXT_AFU_GUID },
        ...(spec.resetFault ? { resetFault: true } : {}),
        ...(spec.bmcOnly ? { bmcOnly: true } : {}),
        thermal: await thermalExpect(spec.url),
        errors: await errorsExpect(spec.url),
      });
    }
  } catch (err) {
    stop();
    throw err;
  }
  const expectPath = path.join(dir, 'expect.json');
  fs.writeFileSync(expectPath, JSON.stringify({ cards } satisfies LaneExpect, null, 1));
  const qemuDevices = specs.map((s, i) => JSON.stringify({ driver: 'vfio-user-pci', socket: { type: 'unix', path: cards[i]!.socket }, addr: `0x${s.slot.toString(16)}` }));
  return {
    cards,
    expectPath,
    qemuDevices,
    stop,
    control(request) {
      const { card, ...rest } = request;
      const server = servers.get(card ?? specs[0]!.label);
      if (!server || server.child.exitCode !== null) return Promise.resolve({ ok: false, error: `no running server for card ${String(card)}` });
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ ok: false, error: 'the server did not answer within 10 s' }), 10000);
        server.waiting.push((reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        server.child.stdin!.write(`${JSON.stringify(rest)}\n`);
      });
    },
  };
}
