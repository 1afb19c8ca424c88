// The MAX10 BMC of an N3000-class card, device side: its Avalon-MM address map (system registers
// at 0x300800, sensors, the flash window) and the secure-update DOORBELL state machine its NIOS
// firmware runs (include/linux/mfd/intel-m10-bmc.h, drivers/fpga/intel-m10-bmc-sec-update.c, DPDK
// ifpga_sec_mgr.c, reference/secure-update.md). The flash window (56 MiB staging area at
// 0x18000000, flash count, root entry hashes, authentication) is max10-flash.ts, the phase
// timings max10-timing.ts, the sensors max10-sensors.ts. Time comes from the card's clock only:
// the state is advanced lazily on every access, so a VirtualClock drives a 25-minute copy in
// microseconds.
//
// Doorbell (sys + 0x400): [0] RSU request, [7:4] progress, [11:8] host status, [23:16] RSU
// status, [28] config select, [29] reboot request, [30] reboot disabled. Host-writable: [0],
// [11:8], [28], [29]; the rest belongs to the BMC.
import type { Clock } from '../../util/clock.js';
import { ArgumentError } from '../../errors.js';
import { fieldGet, fieldPrep } from '../../util/bitfield.js';
import type { AvalonBus } from './avalon-bridge.js';
import {
  M10BMC_SYS_BASE, LEGACY_BUILD_VER, DOORBELL, AUTH_RESULT, STAGING_BASE, STAGING_SIZE, SYS_FW_VERSION, SYS_MAC_LOW, SYS_MAC_HIGH,
  SYS_FPGA_RECONF, SYS_TEST, SYS_BUILD_VER, SYS_FPGA_PAGE_INFO, SYS_PKVL_POLLING_CTRL, SYS_PKVL_LINK_STATUS, SYS_PKVL_A_VERSION,
  SYS_PKVL_B_VERSION, FPGA_RECONF_REQUEST, FPGA_RECONF_PAGE, FPGA_RECONF_COUNTDOWN_START, FPGA_PAGE, MAC_BYTE1, MAC_BYTE2, MAC_BYTE3,
  MAC_BYTE4, MAC_BYTE5, MAC_BYTE6, MAC_COUNT, DRBL_RSU_REQUEST, DRBL_RSU_PROGRESS, DRBL_HOST_STATUS, DRBL_RSU_STATUS, DRBL_CONFIG_SEL,
  DRBL_REBOOT_REQ, DRBL_REBOOT_DISABLED, RsuProgress, RsuStatus, HostStatus, PKVL_UPG_STATUS_GOOD, VER_LEGACY_INVALID,
} from '../../dfl/regs/max10-bmc.js';
import { Subtype } from '../../dfl/regs/signed-image-layout.js';
import { AuthResult, Max10Flash, type Max10Security, type StagedImage } from './max10-flash.js';
import { DEFAULT_TIMING, checkTiming, type Max10Timing } from './max10-timing.js';
import { fpgaDieSensor, invalidSensorOffsets, rawReading, sensorValue } from './max10-sensors.js';
import { SENSOR_INVALID } from '../../dfl/regs/m10-bmc-sensors.js';

// The address map and the doorbell fields are shared with the host (src/dfl/regs/max10-bmc.ts);
// the model's absolute names for the system registers follow.
export const SYS_BASE = M10BMC_SYS_BASE;
export { LEGACY_BUILD_VER, DOORBELL, AUTH_RESULT, STAGING_BASE, STAGING_SIZE };
export const FW_VERSION = SYS_BASE + SYS_FW_VERSION;
export const MAC_LOW = SYS_BASE + SYS_MAC_LOW;
export const MAC_HIGH = SYS_BASE + SYS_MAC_HIGH;
export const FPGA_RECONF = SYS_BASE + SYS_FPGA_RECONF;
export const TEST_REG = SYS_BASE + SYS_TEST;
export const BUILD_VER = SYS_BASE + SYS_BUILD_VER;
export const FPGA_PAGE_INFO = SYS_BASE + SYS_FPGA_PAGE_INFO;
export const PKVL_POLLING_CTRL = SYS_BASE + SYS_PKVL_POLLING_CTRL;
export const PKVL_LINK_STATUS = SYS_BASE + SYS_PKVL_LINK_STATUS;
export const PKVL_A_VERSION = SYS_BASE + SYS_PKVL_A_VERSION;
export const PKVL_B_VERSION = SYS_BASE + SYS_PKVL_B_VERSION;
/** Doorbell bits the host may write: [0], [11:8], [28], [29]; the rest belongs to the BMC. */
const HOST_WRITABLE = DRBL_RSU_REQUEST | DRBL_HOST_STATUS | DRBL_CONFIG_SEL | DRBL_REBOOT_REQ;

/** The RSU progress and status codes this model reports (a subset of RsuProgress / RsuStatus). */
export const Progress = {
  IDLE: RsuProgress.IDLE, PREPARE: RsuProgress.PREPARE, READY: RsuProgress.READY, AUTHENTICATING: RsuProgress.AUTHENTICATING,
  COPYING: RsuProgress.COPYING, UPDATE_CANCEL: RsuProgress.UPDATE_CANCEL, PROGRAM_KEY_HASH: RsuProgress.PROGRAM_KEY_HASH, RSU_DONE: RsuProgress.RSU_DONE,
} as const;
export const Status = {
  NORMAL: RsuStatus.NORMAL, TIMEOUT: RsuStatus.TIMEOUT, AUTH_FAIL: RsuStatus.AUTH_FAIL, COPY_FAIL: RsuStatus.COPY_FAIL,
  ERASE_FAIL: RsuStatus.ERASE_FAIL, WEAROUT: RsuStatus.WEAROUT, NIOS_OK: RsuStatus.NIOS_OK,
} as const;

export type Max10Fault = 'wearout' | 'erase-fail' | 'auth-fail' | 'prepare-timeout' | 'copy-timeout' | 'busy';
/** Every fault the model can inject (injectFault, Max10Options.faults, the sim URL's bmcFault=). */
export const MAX10_FAULTS: readonly Max10Fault[] = ['wearout', 'erase-fail', 'auth-fail', 'prepare-timeout', 'copy-timeout', 'busy'];

/** The card class the BMC belongs to: register map and boot-page semantics differ (BOARD_BOOT). */
export type Max10Board = 'n3000' | 'd5005';

export interface Max10Options {
  /** Card class (default 'n3000'): the D5005 has no FPGA_RECONF and its BMC factory page is config select 0. */
  board?: Max10Board;
  /**
   * A legacy (non-secure) BMC: LEGACY_BUILD_VER reads this build version instead of 0xffffffff
   * (intel-m10-bmc-spi.c check_m10bmc_version refuses such a BMC).
   */
  legacyBuildVersion?: number;
  timing?: Partial<Max10Timing>;
  /**
   * Faults armed at power-up, as if passed to injectFault one by one: each is taken by the next
   * update that reaches its check ('busy' starts a competing update at power-up).
   */
  faults?: readonly Max10Fault[];
  /** NIOS firmware version: [31:24] board ('D'), [23:16] major, [15:8] minor, [7:0] patch. */
  fwVersion?: number;
  /** BMC build version: [31:24] PCB info, [23:16] major, [15:8] minor, [7:0] patch. */
  buildVersion?: number;
  mac?: string;
  /** Retimer (PKVL) link status bits, one per line (2 retimers x 4 lines). */
  linkStatus?: number;
  /** Link speed the retimers run at, in Mb/s (reported through the properties). */
  linkSpeedMbps?: number;
  fpgaPage?: number;
  rebootDisabled?: boolean;
  /** Sensor labels whose reading is invalid now (an empty QSFP cage): they read 0xdeadbeef. */
  invalidSensors?: readonly string[];
  /** Root entry hashes, canceled keys and flash count at power-up (default: none, 0). */
  security?: Max10Security;
  /** The FPGA die temperature (C) now, when the card models it (its FME thermal feature): the FPGA die sensor reads it. */
  fpgaTemperature?: () => number | undefined;
}

export interface Max10Events {
  /** An FPGA reload from `page` was triggered through FPGA_RECONF (the full DPDK sequence). */
  onFpgaReload?(page: number): void;
  /** The BMC rebooted with the doorbell's config select `configSel` (N3000: 1 factory; D5005: 0 factory). */
  onBmcReboot?(configSel: number): void;
}

type Phase = 'idle' | 'handshake' | 'erasing' | 'ready' | 'write-done' | 'authenticating' | 'copying' | 'cancel' | 'busy' | 'rebooting';

export class Max10Model implements AvalonBus {
  readonly timing: Max10Timing;
  readonly events: Max10Events = {};
  /** Counters for tests. */
  readonly counters = { rsuRequests: 0, updatesDone: 0, updatesFailed: 0, cancels: 0, fpgaReloads: 0, bmcReboots: 0, lockedStagingWrites: 0 };
  /** The last image that completed (kind and version string from its block0). */
  lastUpdate: Omit<StagedImage, 'payload'> | undefined;
  fwVersion: number;
  buildVersion: number;
  linkStatus: number;
  linkSpeedMbps: number;
  fpgaPage: number;
  /** Config select the BMC last booted with (N3000: 0 user, 1 factory; D5005: 0 factory, 1 user). */
  bmcPage = 0;
  readonly board: Max10Board;
  readonly legacyBuildVersion: number;
  /** Staging area, flash count and root entry hashes. */
  readonly flash: Max10Flash;
  #clock: Clock;
  #mac: [number, number];
  #faults: Max10Fault[] = [];
  #activeFault: Max10Fault | undefined;
  // doorbell fields
  #rsuRequest = false;
  #progress: number = Progress.IDLE;
  #hostStatus = 0;
  #status: number = Status.NORMAL;
  #configSel = false;
  #rebootDisabled: boolean;
  #authResult = 0;
  #fpgaReconf = 0;
  /** RP_LOAD rose with this page; the reload waits for COUNTDOWN_START to rise (n3000_reload_fpga). */
  #reloadArmed: number | undefined;
  #test = 0;
  #phase: Phase = 'idle';
  #phaseEnds = Infinity;
  /** The time transitions happen at (the end of the phase being left, or now). */
  #at = 0;
  #copyTarget: number = Progress.COPYING;
  #staged: StagedImage | undefined;

  readonly #invalidSensors: Set<number>;
  readonly #fpgaTemperature: (() => number | undefined) | undefined;

  constructor(clock: Clock, options: Max10Options = {}) {
    this.#clock = clock;
    this.#at = clock.now();
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    checkTiming(this.timing);
    this.board = options.board ?? 'n3000';
    this.legacyBuildVersion = (options.legacyBuildVersion ?? VER_LEGACY_INVALID) >>> 0;
    this.fwVersion = options.fwVersion ?? 0x44020006;
    this.buildVersion = options.buildVersion ?? 0x44020105;
    this.linkStatus = options.linkStatus ?? 0xff;
    this.linkSpeedMbps = options.linkSpeedMbps ?? 25_000;
    this.fpgaPage = options.fpgaPage ?? 1;
    this.#rebootDisabled = options.rebootDisabled ?? false;
    this.#invalidSensors = invalidSensorOffsets(this.board, options.invalidSensors ?? []);
    this.#fpgaTemperature = options.fpgaTemperature;
    this.flash = new Max10Flash(options.security);
    const mac = (options.mac ?? '64:4c:36:00:2f:a0').split(':').map((h) => parseInt(h, 16));
    this.#mac = [
      (fieldPrep(MAC_BYTE1, mac[0]!) | fieldPrep(MAC_BYTE2, mac[1]!) | fieldPrep(MAC_BYTE3, mac[2]!) | fieldPrep(MAC_BYTE4, mac[3]!)) >>> 0,
      (fieldPrep(MAC_COUNT, 2) | fieldPrep(MAC_BYTE5, mac[4]!) | fieldPrep(MAC_BYTE6, mac[5]!)) >>> 0, // two ports
    ];
    for (const fault of options.faults ?? []) this.injectFault(fault);
  }

  /** Arm a fault for the next update (or, for 'busy', start a competing update now). */
  injectFault(fault: Max10Fault): void {
    if (!(MAX10_FAULTS as readonly string[]).includes(fault)) {
      throw new ArgumentError('EARG_BMC_FAULT', `unknown BMC fault "${String(fault)}"; known: ${MAX10_FAULTS.join(', ')}`, { fault });
    }
    this.#advance();
    if (fault === 'busy') {
      this.#progress = Progress.COPYING;
      this.#status = Status.NORMAL;
      this.#enter('busy', this.timing.busyMs);
      return;
    }
    this.#faults.push(fault);
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** The doorbell as the host reads it. */
  get doorbell(): number {
    this.#advance();
    return this.#doorbellValue();
  }

  get phase(): string {
    this.#advance();
    return this.#phase;
  }

  /** The staged bytes at `offset` of the staging area (erased flash reads 0xff). */
  stagingBytes(offset: number, length: number): Uint8Array {
    return this.flash.stagingBytes(offset, length);
  }

  /** Pages of staging that hold data (sparse storage). */
  get stagingPages(): number {
    return this.flash.stagingPages;
  }

  /** Flashes of the staging area (the flash-count bit vector). */
  get flashCount(): number {
    return this.flash.flashCount;
  }

  /** Device reset (FLR) does not reset the BMC: it is a separate chip with its own power. */
  reset(): void {}

  #doorbellValue(): number {
    return ((this.#rsuRequest ? DRBL_RSU_REQUEST : 0) | fieldPrep(DRBL_RSU_PROGRESS, this.#progress) | fieldPrep(DRBL_HOST_STATUS, this.#hostStatus) | fieldPrep(DRBL_RSU_STATUS, this.#status) |
      (this.#configSel ? DRBL_CONFIG_SEL : 0) | (this.#phase === 'rebooting' ? DRBL_REBOOT_REQ : 0) | (this.#rebootDisabled ? DRBL_REBOOT_DISABLED : 0)) >>> 0;
  }

  #enter(phase: Phase, durationMs: number): void {
    this.#phase = phase;
    this.#phaseEnds = this.#at + durationMs;
  }

  #takeFault(...kinds: Max10Fault[]): Max10Fault | undefined {
    const i = this.#faults.findIndex((f) => kinds.includes(f));
    if (i < 0) return undefined;
    return this.#faults.splice(i, 1)[0];
  }

  /** Run every phase transition whose time has come. */
  #advance(): void {
    const now = this.#clock.now();
    // Phases chain from the moment the previous one ended, not from when the host looked.
    while (now >= this.#phaseEnds) {
      this.#at = this.#phaseEnds;
      this.#endPhase();
    }
    this.#at = now;
  }

  #idle(status: number): void {
    this.#progress = Progress.IDLE;
    this.#status = status;
    this.#rsuRequest = false;
    this.#activeFault = undefined;
    this.#phase = 'idle';
    this.#phaseEnds = Infinity;
  }

  #endPhase(): void {
    const t = this.timing;
    switch (this.#phase) {
      case 'handshake': {
        // The NIOS saw the RSU request: clear it and start erasing staging, unless a fault says otherwise.
        this.#rsuRequest = false;
        this.counters.rsuRequests++;
        const fault = this.#takeFault('wearout', 'erase-fail', 'prepare-timeout', 'auth-fail', 'copy-timeout');
        if (fault === 'wearout') { this.counters.updatesFailed++; this.#idle(Status.WEAROUT); return; }
        if (fault === 'erase-fail') { this.counters.updatesFailed++; this.#idle(Status.ERASE_FAIL); return; }
        this.#activeFault = fault;
        this.#progress = Progress.PREPARE;
        this.#status = Status.NORMAL;
        this.#authResult = 0;
        this.flash.eraseStaging();
        this.#staged = undefined;
        this.#enter('erasing', fault === 'prepare-timeout' ? t.stuckMs : t.eraseMs);
        return;
      }
      case 'erasing':
        if (this.#activeFault === 'prepare-timeout') { this.counters.updatesFailed++; this.#idle(Status.TIMEOUT); return; }
        this.#progress = Progress.READY;
        this.#enter('ready', t.readyWatchdogMs);
        return;
      case 'ready':
        this.counters.updatesFailed++;
        this.#idle(Status.TIMEOUT);
        return;
      case 'write-done':
        this.#progress = Progress.AUTHENTICATING;
        this.#enter('authenticating', t.authMs);
        return;
      case 'authenticating': {
        const result = this.#authenticate();
        this.#authResult = result;
        if (result !== AuthResult.PASS) { this.counters.updatesFailed++; this.#idle(Status.AUTH_FAIL); return; }
        const staged = this.#staged!;
        this.#copyTarget = staged.subtype === Subtype.UPDATE ? Progress.COPYING : Progress.PROGRAM_KEY_HASH;
        this.#progress = this.#copyTarget;
        const copyMs = Math.max(t.copyMinMs, (staged.payloadLength / t.copyBytesPerSec) * 1000);
        this.#enter('copying', this.#activeFault === 'copy-timeout' ? t.stuckMs : copyMs);
        return;
      }
      case 'copying': {
        if (this.#activeFault === 'copy-timeout') { this.counters.updatesFailed++; this.#idle(Status.TIMEOUT); return; }
        this.#commit();
        this.#progress = Progress.RSU_DONE;
        this.#status = Status.NORMAL;
        this.#activeFault = undefined;
        this.#phase = 'idle';
        this.#phaseEnds = Infinity;
        return;
      }
      case 'cancel':
        this.counters.cancels++;
        this.#idle(Status.NORMAL);
        return;
      case 'busy':
        this.#idle(Status.NORMAL);
        return;
      case 'rebooting':
        this.counters.bmcReboots++;
        this.bmcPage = this.#configSel ? 1 : 0;
        this.#hostStatus = 0;
        this.#idle(Status.NIOS_OK);
        this.events.onBmcReboot?.(this.bmcPage);
        return;
      default:
        this.#phaseEnds = Infinity;
    }
  }

  /** The NIOS authenticates the staged image (Max10Flash.authenticate), unless a fault says it fails. */
  #authenticate(): number {
    if (this.#takeFault('auth-fail') === 'auth-fail' || this.#activeFault === 'auth-fail') return AuthResult.INJECTED;
    const { result, staged } = this.flash.authenticate();
    if (staged) this.#staged = staged;
    return result;
  }

  #commit(): void {
    const staged = this.#staged!;
    this.counters.updatesDone++;
    this.lastUpdate = { contentType: staged.contentType, subtype: staged.subtype, version: staged.version, payloadLength: staged.payloadLength };
    this.flash.commit(staged);
  }

  read32(address: number): number {
    this.#advance();
    switch (address) {
      case LEGACY_BUILD_VER: return this.legacyBuildVersion; // 0xffffffff (VER_LEGACY_INVALID): a secure BMC
      case FW_VERSION: return this.fwVersion;
      case MAC_LOW: return this.#mac[0];
      case MAC_HIGH: return this.#mac[1];
      case FPGA_RECONF: return this.board === 'n3000' ? this.#fpgaReconf : 0xffffffff;
      case TEST_REG: return this.#test;
      case BUILD_VER: return this.buildVersion;
      case FPGA_PAGE_INFO: return this.fpgaPage & FPGA_PAGE;
      case PKVL_POLLING_CTRL: return PKVL_UPG_STATUS_GOOD; // both retimers: preload done, header checksum good
      case PKVL_LINK_STATUS: return this.linkStatus;
      case PKVL_A_VERSION: return 0x0109_20a6;
      case PKVL_B_VERSION: return 0x0109_20a6;
      case DOORBELL: return this.#doorbellValue();
      case AUTH_RESULT: return this.#authResult;
      default: break;
    }
    if (this.#invalidSensors.has(address - SYS_BASE)) return SENSOR_INVALID;
    const die = fpgaDieSensor(this.board);
    const dieC = address - SYS_BASE === die.input ? this.#fpgaTemperature?.() : undefined;
    if (dieC !== undefined) return rawReading(die, dieC);
    const sensor = sensorValue(this.board, address - SYS_BASE);
    if (sensor !== undefined) return sensor;
    return this.flash.read32(address) ?? 0xffffffff;
  }

  write32(address: number, value: number): void {
    this.#advance();
    switch (address) {
      case DOORBELL: this.#writeDoorbell(value >>> 0); return;
      case FPGA_RECONF: if (this.board === 'n3000') this.#writeReconf(value >>> 0); return;
      case TEST_REG: this.#test = value >>> 0; return;
      default: break;
    }
    if (this.flash.inStaging(address)) {
      if (this.#phase !== 'ready') {
        this.counters.lockedStagingWrites++; // staging is only writable while progress = ready
        return;
      }
      this.flash.writeStaging32(address, value);
    }
  }

  #writeDoorbell(value: number): void {
    const t = this.timing;
    const host = fieldGet(DRBL_HOST_STATUS, value);
    const prevHost = this.#hostStatus;
    this.#hostStatus = host;
    this.#configSel = (value & DRBL_CONFIG_SEL) !== 0;
    if ((value & DRBL_REBOOT_REQ) !== 0 && !this.#rebootDisabled && (this.#phase === 'idle')) {
      this.#enter('rebooting', t.rebootMs);
      return;
    }
    if ((value & DRBL_RSU_REQUEST) !== 0 && !this.#rsuRequest) {
      if (this.#phase === 'idle' && (this.#progress === Progress.IDLE || this.#progress === Progress.RSU_DONE)) {
        this.#rsuRequest = true;
        this.#enter('handshake', t.handshakeMs);
      }
      return;
    }
    if (host !== prevHost && this.#phase === 'ready') {
      if (host === HostStatus.WRITE_DONE) {
        this.flash.countStagingFlash();
        this.#enter('write-done', t.handshakeMs);
      }
      else if (host === HostStatus.ABORT_RSU) {
        this.#progress = Progress.UPDATE_CANCEL;
        this.#enter('cancel', t.handshakeMs);
      }
    }
  }

  /**
   * DPDK n3000_reload_fpga (secure BMC): RP_LOAD [23] cleared, then set with the page in [22:20];
   * then COUNTDOWN_START [18] cleared and set. The reload starts on that last rising edge only,
   * with RP_LOAD still set; clearing RP_LOAD disarms it.
   */
  #writeReconf(value: number): void {
    const prev = this.#fpgaReconf;
    this.#fpgaReconf = value & (FPGA_RECONF_REQUEST | FPGA_RECONF_PAGE | FPGA_RECONF_COUNTDOWN_START);
    const rising = (bit: number): boolean => (prev & bit) === 0 && (value & bit) !== 0;
    if ((value & FPGA_RECONF_REQUEST) === 0) {
      this.#reloadArmed = undefined;
      return;
    }
    if (rising(FPGA_RECONF_REQUEST)) this.#reloadArmed = fieldGet(FPGA_RECONF_PAGE, value);
    if (this.#reloadArmed !== undefined && rising(FPGA_RECONF_COUNTDOWN_START)) {
      const page = this.#reloadArmed;
      this.#reloadArmed = undefined;
      this.fpgaPage = page;
      this.counters.fpgaReloads++;
      this.events.onFpgaReload?.(page);
    }
  }
}
