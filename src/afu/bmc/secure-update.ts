// Secure flash update through the MAX10 BMC: the host half of the doorbell protocol with the
// kernel's sequence, poll intervals and timeouts (drivers/fpga/intel-m10-bmc-sec-update.c:
// m10bmc_sec_prepare / fw_write / poll_complete / cancel; include/linux/mfd/intel-m10-bmc.h), on
// the device's clock, against any BmcTransport. Progress is reported as the management API's
// six states (IDLE, PREPARING, READY with % written, COPYING with % copied, DONE, REBOOT), to the
// caller and to a status file other processes read (flash-status.ts).
import { ArgumentError, TimeoutError, VfiokitError } from '../../errors.js';
import { hex } from '../../util/bytes.js';
import { logger } from '../../util/log.js';
import { ImageError, parseSignedImage, verifySignedImage, type SignedImage } from '../image/signed-image.js';
import { flashRefusal } from '../image/flashable.js';
import { imageTypeNames } from '../../dfl/regs/signed-image-layout.js';
import { fieldPrep } from '../../util/bitfield.js';
import {
  AUTH_RESULT, DOORBELL, DRBL_HOST_STATUS, DRBL_RSU_REQUEST, HostStatus, NIOS_HANDSHAKE_INTERVAL_MS,
  NIOS_HANDSHAKE_TIMEOUT_MS, RSU_COMPLETE_INTERVAL_MS, RSU_COMPLETE_TIMEOUT_MS, RSU_PREP_INTERVAL_MS, RSU_PREP_TIMEOUT_MS,
  RsuProgress, RsuStatus, STAGING_BASE, STAGING_SIZE, WRITE_BLOCK_SIZE, decodeDoorbell, progressName, rsuProgress,
  rsuProgressBusy, rsuProgressDone, rsuStatus, rsuStatusOk, statusName, assertSecureBmc,
} from './registers.js';
import type { BmcTransport } from './transport.js';
import { FlashState, readFlashStatus, writeFlashStatus, type FlashStateName, type FlashStatus } from './flash-status.js';
import { cancelRequested, clearCancelRequest, refuseIfRunningElsewhere, runningElsewhere, requestCancel } from '../flash-coordination.js';
import { FlashError } from '../errors.js';
import type { VfiokitErrorCode } from '../../error-codes.js';

const log = logger('bmc:update');

/** DPDK IFPGA_N3000_COPY_SPEED: the BMC copies ~42,700 bytes/s; used to estimate % copied. */
export const N3000_COPY_BYTES_PER_SEC = 42_700;

export { FlashError };

export interface FlashProgress {
  state: FlashStateName;
  /** FlashState code. */
  status: number;
  /** Percent for READY (written) and COPYING (copied); 100 at DONE. */
  progress: number;
  bytesWritten?: number;
  totalBytes?: number;
  /** The BMC's own progress field by name (idle, preparing, ready, authenticating, copying...). */
  bmcProgress?: string;
}

/** Holds the device for the update (given by the reservation layer); released when the flash ends. */
export type ReserveHook = (purpose: string) => Promise<{ release(): void | Promise<void> }> | { release(): void | Promise<void> };

export interface FlashOptions {
  /** Required for root-key-hash and key-cancellation images (they cannot be undone). */
  confirm?: boolean;
  onProgress?(progress: FlashProgress): void;
  /** Check the payload hashes against block0 before sending (default true). false lets the card's authentication judge. */
  verifyHashes?: boolean;
  /** Cancels while READY (host writing staging); refused once the BMC authenticates or copies. */
  signal?: AbortSignal;
  reserve?: ReserveHook;
}

export interface FlashResult {
  state: 'DONE';
  image: { type: number; subtype: number; version: string; length: number };
  /** Virtual or real milliseconds on the device's clock. */
  ms: number;
}

export interface SecureUpdateOptions {
  /** Device URL: names the status file other processes read (default: no status file). */
  device?: string;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SecureUpdate {
  readonly transport: BmcTransport;
  readonly device: string | undefined;
  #cancel = false;
  #running = false;
  #status: FlashStatus | undefined;
  #lastEmit = '';
  #cancelRefused = false;

  constructor(transport: BmcTransport, options: SecureUpdateOptions = {}) {
    this.transport = transport;
    this.device = options.device;
  }

  get running(): boolean {
    return this.#running;
  }

  #doorbell(): number {
    return this.transport.read32(DOORBELL);
  }

  #details(doorbell: number): Record<string, unknown> {
    let authResult: string | undefined;
    try {
      authResult = hex(this.transport.read32(AUTH_RESULT), 8);
    } catch {
      authResult = undefined;
    }
    return { ...decodeDoorbell(doorbell), authResult, ...(this.device ? { device: this.device } : {}) };
  }

  #fail(code: VfiokitErrorCode, doorbell: number, what: string, remedy: string): FlashError {
    const d = this.#details(doorbell);
    return new FlashError(code, `secure update: ${what} (DOORBELL ${d.doorbell as string}: progress ${d.progress as string}, RSU status ${d.rsuStatus as string}, host status ${d.hostStatus as string}; AUTH_RESULT ${String(d.authResult)}); ${remedy}`, d);
  }

  #emit(onProgress: FlashOptions['onProgress'], p: FlashProgress, image?: SignedImage): void {
    const key = `${p.state}:${Math.floor(p.progress)}`;
    if (key === this.#lastEmit) return;
    this.#lastEmit = key;
    if (this.device) {
      this.#status = {
        device: this.device,
        state: p.state,
        status: p.status,
        progress: Math.floor(p.progress),
        pid: process.pid,
        updatedAt: Date.now(),
        ...(image ? { image: { type: image.contentType, typeName: imageTypeNames[image.contentType] ?? `unknown (${image.contentType})`, subtype: image.subtype, subtypeName: image.subtypeName, version: image.version, length: image.bytes.length } } : this.#status?.image ? { image: this.#status.image } : {}),
      };
      writeFlashStatus(this.#status);
    }
    onProgress?.(p);
  }

  #cancelPending(signal: AbortSignal | undefined): boolean {
    if (this.#cancel || signal?.aborted) return true;
    if (this.device && cancelRequested(this.device)) return true;
    return false;
  }

  /** rsu_cancel: only legal while progress = READY; sets host status = abort. */
  #abort(doorbell: number): FlashError {
    const progress = rsuProgress(doorbell);
    if (progress !== RsuProgress.READY) {
      return this.#fail('EFLASH_CANCEL_STATE', doorbell, `cannot cancel: the BMC is ${progressName(progress)}, and an update can only be cancelled while the host writes the staging area (progress ready)`, 'wait for the update to finish');
    }
    this.transport.updateBits(DOORBELL, DRBL_HOST_STATUS, fieldPrep(DRBL_HOST_STATUS, HostStatus.ABORT_RSU));
    log('update cancelled (host status = abort)');
    return new FlashError('ECANCELED', 'secure update cancelled while writing the staging area; the flash is unchanged', decodeDoorbell(doorbell));
  }

  /** Wait until `done(doorbell)` or the timeout, polling every `intervalMs` on the device's clock. */
  async #poll(intervalMs: number, timeoutMs: number, done: (doorbell: number) => boolean, first = true): Promise<{ doorbell: number; timedOut: boolean }> {
    const clock = this.transport.clock;
    const deadline = clock.now() + timeoutMs;
    let doorbell = this.#doorbell();
    if (first && done(doorbell)) return { doorbell, timedOut: false };
    for (;;) {
      await clock.sleep(intervalMs);
      doorbell = this.#doorbell();
      if (done(doorbell)) return { doorbell, timedOut: false };
      if (clock.now() >= deadline) return { doorbell, timedOut: true };
    }
  }

  /**
   * Flash a signed image: prepare (staging erase), write in 16 KiB blocks, hand over, wait for
   * authentication and the copy. Resolves when the BMC reports RSU done; the new image runs after
   * a reboot (reboot.ts). Throws FlashError / TimeoutError / ImageError; the BMC is returned to
   * idle (the update aborted) whenever it is still waiting for the host.
   */
  async flash(input: Uint8Array | SignedImage, options: FlashOptions = {}): Promise<FlashResult> {
    const image = input instanceof Uint8Array ? parseSignedImage(input) : input;
    const refusal = flashRefusal(image.contentType, image.subtype);
    if (refusal) throw new ImageError('EIMAGE_TYPE', `secure update: ${refusal}`, { contentType: image.contentType, subtype: image.subtype });
    if (image.irreversible && !options.confirm) {
      throw new ArgumentError('ECONFIRM', `secure update: this is a ${image.subtypeName} image for the ${image.contentTypeName}; it cannot be undone. pass confirm: true if you mean it`, { subtype: image.subtype, contentType: image.contentType });
    }
    if (options.verifyHashes !== false) verifySignedImage(image);
    const size = image.bytes.length;
    if (size === 0 || size > STAGING_SIZE) {
      throw new ImageError('EIMAGE_SIZE', `secure update: image of ${size} bytes does not fit the ${STAGING_SIZE}-byte staging area`, { size, limit: STAGING_SIZE });
    }
    if (this.#running) throw new FlashError('EBUSY', 'secure update: a flash is already running on this BMC in this process', {});
    assertSecureBmc(this.transport, 'secure update');
    if (this.device) {
      refuseIfRunningElsewhere(this.device, 'secure update', (code, message, details) => new FlashError(code, message, details));
      clearCancelRequest(this.device);
    }
    const reservation = options.reserve ? await options.reserve('flash') : undefined;
    this.#running = true;
    this.#cancel = false;
    this.#cancelRefused = false;
    this.#lastEmit = '';
    const clock = this.transport.clock;
    const started = clock.now();
    let prepared = false;
    try {
      this.#emit(options.onProgress, { state: 'PREPARING', status: FlashState.PREPARING, progress: 0, bmcProgress: 'idle' }, image);
      await this.#prepare();
      prepared = true;
      await this.#write(image, options);
      await this.#complete(image, options);
      this.#emit(options.onProgress, { state: 'DONE', status: FlashState.DONE, progress: 100, bytesWritten: size, totalBytes: size });
      log('update done: %s %s in %d ms', image.contentTypeName, image.version, clock.now() - started);
      return { state: 'DONE', image: { type: image.contentType, subtype: image.subtype, version: image.version, length: size }, ms: clock.now() - started };
    } catch (err) {
      if (prepared) this.#cleanup();
      if (this.device) {
        const e = err instanceof VfiokitError ? err : new VfiokitError('EFLASH', String((err as Error)?.message ?? err));
        this.#status = { device: this.device, state: 'IDLE', status: FlashState.IDLE, progress: 0, pid: process.pid, updatedAt: Date.now(), ...(this.#status?.image ? { image: this.#status.image } : {}), error: { code: e.code, message: e.message } };
        writeFlashStatus(this.#status);
      }
      options.onProgress?.({ state: 'IDLE', status: FlashState.IDLE, progress: 0 });
      throw err;
    } finally {
      this.#running = false;
      if (this.device) clearCancelRequest(this.device);
      await reservation?.release();
    }
  }

  /** m10bmc_sec_cleanup: after a failure, abort the update if the BMC still waits for the host. */
  #cleanup(): void {
    try {
      const doorbell = this.#doorbell();
      if (rsuProgress(doorbell) === RsuProgress.READY) {
        this.transport.updateBits(DOORBELL, DRBL_HOST_STATUS, fieldPrep(DRBL_HOST_STATUS, HostStatus.ABORT_RSU));
        log('cleanup: aborted the update the BMC was waiting on');
      }
    } catch (err) {
      log('cleanup failed: %s', (err as Error).message);
    }
  }

  /** rsu_check_idle + rsu_update_init + rsu_prog_ready. */
  async #prepare(): Promise<void> {
    let doorbell = this.#doorbell();
    if (rsuProgress(doorbell) === RsuProgress.READY) {
      // Waiting for an image no live process is writing (refuseIfRunningElsewhere was checked): an update
      // that stopped half way (killed). Only a cancel returns the BMC to idle (m10bmc_sec_cancel).
      throw this.#fail('EFLASH_ABANDONED', doorbell, 'the BMC still waits for the image of an update that stopped before it was written (a killed flash)', 'cancel it (SecureUpdate.cancel(), or requestCancel for an update another process left) and flash again');
    }
    if (!rsuProgressDone(rsuProgress(doorbell))) {
      throw this.#fail('EBUSY', doorbell, `the BMC is busy (progress ${progressName(rsuProgress(doorbell))})`, 'another update or a reboot is running; wait for it to finish (readFlashStatus) and retry');
    }
    this.transport.updateBits(DOORBELL, DRBL_RSU_REQUEST | DRBL_HOST_STATUS, DRBL_RSU_REQUEST | fieldPrep(DRBL_HOST_STATUS, HostStatus.IDLE));
    const start = await this.#poll(NIOS_HANDSHAKE_INTERVAL_MS, NIOS_HANDSHAKE_TIMEOUT_MS, (d) => {
      if ((d & DRBL_RSU_REQUEST) !== 0) return false;
      const s = rsuStatus(d);
      return s === RsuStatus.ERASE_FAIL || s === RsuStatus.WEAROUT || !rsuProgressDone(rsuProgress(d));
    }, false);
    doorbell = start.doorbell;
    if (start.timedOut) {
      throw this.#timeout('ETIMEDOUT', doorbell, `the BMC did not take the update request within ${NIOS_HANDSHAKE_TIMEOUT_MS} ms`);
    }
    const status = rsuStatus(doorbell);
    if (status === RsuStatus.WEAROUT) {
      throw this.#fail('EFLASH_WEAROUT', doorbell, 'the BMC refused the update: excessive flash update count (flash wear-out protection)', 'wait (the BMC throttles updates to protect the flash) and retry later');
    }
    if (status === RsuStatus.ERASE_FAIL) {
      throw this.#fail('EFLASH_ERASE', doorbell, 'the BMC could not erase the staging area', 'this is a hardware error: retry once, then contact support for the card');
    }
    this.#emit(undefined, { state: 'PREPARING', status: FlashState.PREPARING, progress: 0, bmcProgress: progressName(rsuProgress(doorbell)) });
    const ready = await this.#poll(RSU_PREP_INTERVAL_MS, RSU_PREP_TIMEOUT_MS, (d) => rsuProgress(d) !== RsuProgress.PREPARE);
    doorbell = ready.doorbell;
    if (rsuProgress(doorbell) === RsuProgress.PREPARE) {
      throw this.#timeout('ETIMEDOUT', doorbell, `the BMC was still erasing the staging area after ${RSU_PREP_TIMEOUT_MS / 1000} s`);
    }
    if (rsuProgress(doorbell) !== RsuProgress.READY) {
      throw this.#fail('EFLASH_HW', doorbell, `the BMC left the prepare phase for ${progressName(rsuProgress(doorbell))} instead of ready`, 'retry; if it repeats, reboot the BMC (rebootCard with target \'bmc\')');
    }
  }

  #timeout(code: VfiokitErrorCode, doorbell: number, what: string): TimeoutError {
    const d = this.#details(doorbell);
    return new TimeoutError(code, `secure update: ${what} (DOORBELL ${d.doorbell as string}: progress ${d.progress as string}, RSU status ${d.rsuStatus as string}; AUTH_RESULT ${String(d.authResult)}); retry, and reboot the BMC if it stays busy`, d);
  }

  /** m10bmc_sec_fw_write, block by block. */
  async #write(image: SignedImage, options: FlashOptions): Promise<void> {
    const data = image.bytes;
    const total = data.length;
    const t = this.transport;
    for (let offset = 0; offset < total; offset += WRITE_BLOCK_SIZE) {
      const doorbell = this.#doorbell();
      if (this.#cancelPending(options.signal)) throw this.#abort(doorbell);
      if (rsuProgress(doorbell) !== RsuProgress.READY) {
        throw this.#fail('EFLASH_HW', doorbell, `the BMC left the ready state while ${offset} of ${total} bytes were written`, 'retry the update');
      }
      const n = Math.min(WRITE_BLOCK_SIZE, total - offset);
      const whole = n & ~3;
      if (whole) t.writeBlock(STAGING_BASE + offset, data.subarray(offset, offset + whole));
      if (whole < n) {
        // Trailing bytes go out as one zero-padded word (m10bmc_sec_write's leftover path).
        const word = new Uint8Array(4);
        word.set(data.subarray(offset + whole, offset + n));
        t.writeBlock(STAGING_BASE + offset + whole, word);
      }
      const written = offset + n;
      this.#emit(options.onProgress, { state: 'READY', status: FlashState.READY, progress: (written / total) * 100, bytesWritten: written, totalBytes: total, bmcProgress: 'ready' });
      await yieldToEventLoop();
    }
  }

  /** m10bmc_sec_poll_complete: rsu_send_data, then rsu_check_complete every second for up to 40 minutes. */
  async #complete(image: SignedImage, options: FlashOptions): Promise<void> {
    let doorbell = this.#doorbell();
    if (this.#cancelPending(options.signal)) throw this.#abort(doorbell);
    this.transport.updateBits(DOORBELL, DRBL_HOST_STATUS, fieldPrep(DRBL_HOST_STATUS, HostStatus.WRITE_DONE));
    const left = await this.#poll(NIOS_HANDSHAKE_INTERVAL_MS, NIOS_HANDSHAKE_TIMEOUT_MS, (d) => rsuProgress(d) !== RsuProgress.READY);
    doorbell = left.doorbell;
    if (left.timedOut) throw this.#timeout('ETIMEDOUT', doorbell, `the BMC did not take the written image within ${NIOS_HANDSHAKE_TIMEOUT_MS} ms`);
    this.#checkStatus(doorbell);
    const clock = this.transport.clock;
    const total = image.bytes.length;
    const deadline = clock.now() + RSU_COMPLETE_TIMEOUT_MS;
    let copyStarted: number | undefined;
    for (;;) {
      const progress = rsuProgress(doorbell);
      if (progress === RsuProgress.COPYING || progress === RsuProgress.PROGRAM_KEY_HASH) copyStarted ??= clock.now();
      const pct = copyStarted === undefined ? 0 : Math.min(99, ((clock.now() - copyStarted) / 1000) * N3000_COPY_BYTES_PER_SEC * 100 / Math.max(1, image.payloadLength));
      this.#emit(options.onProgress, { state: 'COPYING', status: FlashState.COPYING, progress: pct, totalBytes: total, bytesWritten: total, bmcProgress: progressName(progress) });
      if (this.#cancelPending(options.signal) && !this.#cancelRefused) {
        this.#cancelRefused = true;
        log('cancel refused: the BMC is %s', progressName(progress));
      }
      await clock.sleep(RSU_COMPLETE_INTERVAL_MS);
      doorbell = this.#doorbell();
      this.#checkStatus(doorbell);
      const p = rsuProgress(doorbell);
      if (rsuProgressDone(p)) return;
      if (!rsuProgressBusy(p)) {
        throw this.#fail('EFLASH_HW', doorbell, `the BMC reported progress ${progressName(p)} while finishing the update`, 'read the card\'s flash status and retry');
      }
      if (clock.now() > deadline) {
        throw this.#timeout('ETIMEDOUT', doorbell, `the BMC did not finish authenticating and copying within ${RSU_COMPLETE_TIMEOUT_MS / 60000} minutes`);
      }
    }
  }

  #checkStatus(doorbell: number): void {
    const status = rsuStatus(doorbell);
    if (rsuStatusOk(status)) return;
    if (status === RsuStatus.AUTH_FAIL) {
      throw this.#fail('EFLASH_AUTH', doorbell, 'the BMC rejected the image: authentication failed', 'the image is corrupt, modified, or signed with a key this card does not trust; check it with parseSignedImage / verifySignedImage');
    }
    if (status === RsuStatus.TIMEOUT) {
      throw this.#fail('EFLASH_BMC_TIMEOUT', doorbell, 'the BMC timed out the update', 'retry; if it repeats, reboot the BMC (rebootCard with target \'bmc\')');
    }
    throw this.#fail('EFLASH_HW', doorbell, `the BMC failed the update with RSU status ${statusName(status)}`, 'retry; if it repeats the flash may be damaged: contact support for the card');
  }

  /**
   * Cancel the update: only while the BMC is READY (the host writing staging). A flash running in
   * this process stops at its next block. A flash running in another live process is judged by
   * its status record and asked through the state directory, without touching the BMC (two
   * processes must not drive the SPI master at once). A BMC left READY by a dead process is
   * aborted directly. Refused in any other state, naming it. Returns how the cancel was delivered.
   */
  async cancel(): Promise<'in-process' | 'requested' | 'aborted'> {
    if (this.#running) {
      const doorbell = this.#doorbell();
      const progress = rsuProgress(doorbell);
      if (progress !== RsuProgress.READY) throw this.#refuse(doorbell);
      this.#cancel = true;
      return 'in-process';
    }
    const other = this.device ? runningElsewhere(this.device) : undefined;
    if (other) {
      requestCancel(other); // the user and state rules of flash-coordination.ts
      log('asked process %d to cancel', other.pid);
      return 'requested';
    }
    const doorbell = this.#doorbell();
    if (rsuProgress(doorbell) !== RsuProgress.READY) throw this.#refuse(doorbell);
    this.transport.updateBits(DOORBELL, DRBL_HOST_STATUS, fieldPrep(DRBL_HOST_STATUS, HostStatus.ABORT_RSU));
    log('aborted an update no live process was writing');
    if (this.device) {
      // The record the killed process left (READY, stale) is over: the BMC is idle again.
      const before = readFlashStatus(this.device);
      writeFlashStatus({ device: this.device, state: 'IDLE', status: FlashState.IDLE, progress: 0, pid: process.pid, updatedAt: Date.now(), ...(before.image ? { image: before.image } : {}), error: { code: 'ECANCELED', message: `secure update cancelled: the BMC dropped the staged image${before.stale ? ` left by process ${before.pid}` : ''}; the flash is unchanged` } });
    }
    return 'aborted';
  }

  #refuse(doorbell: number): FlashError {
    const progress = rsuProgress(doorbell);
    return this.#fail('EFLASH_CANCEL_STATE', doorbell, `cannot cancel: the BMC is ${progressName(progress)}; an update can only be cancelled while the host writes the staging area (READY)`, rsuProgressBusy(progress) ? 'the BMC is authenticating or copying and must finish; wait for it (readFlashStatus)' : 'nothing to cancel');
  }
}
