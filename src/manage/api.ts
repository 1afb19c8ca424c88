// The management API (`vfiokit/manage`): Cyborg-style scripting of cards, mirroring the DPDK ifpga
// "opae" Python module (get_api_version, set_log_level, enumerate, bind, probe, get_property, pr,
// flash, get_status, reboot, ...). Conventions, as that module documents them:
//   - functions that act return a number: 0 (or a positive count) for success, -errno for failure;
//   - functions that describe return an object/array/string, or null when they fail;
//   - with { throwOnError: true } every failure throws the typed VfiokitError instead;
//   - lastError() tells what the last failure was (code, errno, message) in number/null mode.
// Device ids are what enumerate() returns: a PCI address for vfio devices ("0000:3b:00.0"), a URL
// otherwise ("sim:n3000", "vfio-user:/run/card.sock"); reservation ids ("r-1a2b3c4d") also work.
import { createRequire } from 'node:module';
import { readInputFile } from '../util/input-file.js';
import { GBS_INPUT, SIGNED_IMAGE_INPUT } from '../afu/input-limits.js';
import { constants } from 'node:os';
import { VfiokitError, DeviceError, ArgumentError } from '../errors.js';
import type { Device } from '../device/device.js';
import type { DeviceFilter } from '../device/backend.js';
import { enumerateAll, finalizeBackends, loadBackends, openDevice, parseDeviceUrl } from '../device/registry.js';
import { canonicalDevice, deviceForReservationId, RESERVATION_ID } from '../lock/reservations.js';
import { errnoOf, negativeErrno } from './errno.js';
import { manageLog, setManageLogFile, setManageLogLevel, currentLogLevel } from './log.js';
import type { DriverOptions } from '../pci/driver.js';

const errno = constants.errno as Record<string, number>;

/** get_property type bits (the seed API's OPAE_PROP_*). */
export const PropertyMask = { PCI: 1, FME: 2, PORT: 4, BMC: 8, ALL: 15 } as const;

/** get_proc_type results. */
export const ProcType = { NOT_INITIALIZED: -1, PRIMARY: 0, SECONDARY: 1 } as const;

export interface ManagementOptions {
  /** Throw typed errors instead of returning -errno / null. */
  throwOnError?: boolean;
  /** Options for the PCI operations: sysfs root, /proc views, driver state directory (tests use a fake tree). */
  pci?: DriverOptions;
}

export interface EnumerateFilter {
  vid?: number;
  did?: number;
  cid?: number;
  subVid?: number;
  subDid?: number;
}

export interface ApiVersion {
  major: number;
  minor: number;
  micro: number;
}

export interface LastError {
  code: string;
  errno: number;
  message: string;
}

/** get_property()["pci"] keys, as the seed API names them. */
export interface PciProperty {
  id: { class_id: number; vendor_id: number; device_id: number; subsystem_vendor_id: number; subsystem_device_id: number };
  address: { domain: number; bus: number; device: number; function: number } | null;
  bdf: string | null;
  driver: string | null;
}

/** A device the API has probed: opened and kept until remove() or cleanupEal(). */
export interface ProbedDevice {
  id: string;
  url: string;
  device: Device;
}

const PCI_ADDRESS = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/;

function packageVersion(): ApiVersion {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  const [major = 0, minor = 0, micro = 0] = pkg.version.split(/[.-]/).map(Number);
  return { major, minor, micro };
}

export class ManagementApi {
  readonly options: ManagementOptions;
  #initialized = false;
  #last: LastError | undefined;
  readonly #probed = new Map<string, ProbedDevice>();

  constructor(options: ManagementOptions = {}) {
    this.options = options;
  }

  // ---- conventions ----

  /** The last failure in number/null mode (undefined after a success). */
  lastError(): LastError | undefined {
    return this.#last;
  }

  #fail(err: unknown, what: string): VfiokitError {
    const e = err instanceof VfiokitError ? err : new VfiokitError('EIO', `${what}: ${(err as Error)?.message ?? String(err)}`, {}, { cause: err });
    this.#last = { code: e.code, errno: errnoOf(err), message: e.message };
    manageLog(1, '%s', e.message);
    return e;
  }

  /** Run an action that returns a status number: 0/count on success, -errno on failure. */
  async #status(what: string, fn: () => number | void | Promise<number | void>): Promise<number> {
    try {
      const r = await fn();
      this.#last = undefined;
      return typeof r === 'number' ? r : 0;
    } catch (err) {
      const e = this.#fail(err, what);
      if (this.options.throwOnError) throw e;
      return negativeErrno(err);
    }
  }

  /** Run a query that returns a value, or null on failure. */
  async #query<T>(what: string, fn: () => T | Promise<T>): Promise<T | null> {
    try {
      const r = await fn();
      this.#last = undefined;
      return r;
    } catch (err) {
      const e = this.#fail(err, what);
      if (this.options.throwOnError) throw e;
      return null;
    }
  }

  /** An id (PCI address, URL or reservation id) -> canonical device URL. */
  resolve(id: string): string {
    if (typeof id !== 'string' || id === '') throw new ArgumentError('EINVAL', 'a device id is required: one of the strings enumerate() returns');
    if (RESERVATION_ID.test(id)) {
      const device = deviceForReservationId(id);
      if (!device) throw new DeviceError('ENODEV', `no reservation with id ${id}`, { id });
      return device;
    }
    return canonicalDevice(id);
  }

  /** The PCI address of an id, or a typed error when the device is not a local PCI function. */
  #bdf(id: string): string {
    const url = this.resolve(id);
    const m = /^vfio:(.*)$/.exec(url);
    if (!m || !PCI_ADDRESS.test(m[1]!)) {
      throw new DeviceError('EOPNOTSUPP', `${id} is not a local PCI function (${url}); PCI operations need a vfio device such as 0000:3b:00.0`, { id, url });
    }
    return m[1]!;
  }

  #idFor(url: string): string {
    return url.startsWith('vfio:') && PCI_ADDRESS.test(url.slice(5)) ? url.slice(5) : url;
  }

  async #pci() {
    return import('../pci/index.js');
  }

  #pciOptions(): DriverOptions {
    return this.options.pci ?? {};
  }

  // ---- version, logging ----

  /** API version: { major, minor, micro }, or "major.minor.micro" when `format` is non-zero. */
  getApiVersion(format?: 0): ApiVersion;
  getApiVersion(format: number): ApiVersion | string;
  getApiVersion(format = 0): ApiVersion | string {
    const v = packageVersion();
    return format === 0 ? v : `${v.major}.${v.minor}.${v.micro}`;
  }

  /** Set the log level 0..4 (0 off, 1 error, 2 warning, 3 info, 4 debug); returns the level in effect. */
  setLogLevel(level?: number): number {
    return setManageLogLevel(level);
  }

  /** Also log to `path` (`clean` truncates it first); without a path, stop logging to a file. 0 or -errno. */
  setLogFile(path?: string, clean: boolean | number = false): Promise<number> {
    return this.#status('set_log_file', () => setManageLogFile(path, Boolean(clean)));
  }

  // ---- environment (the EAL equivalents) ----

  /**
   * Initialise the backends from the configuration (the init_eal equivalent). Returns the number of
   * backends that loaded (>= 0), or -ENODEV when none did (see `vfiokit backends` for why).
   */
  initEal(): Promise<number> {
    return this.#status('init_eal', async () => {
      const report = await loadBackends();
      for (const b of report.backends) if (b.state === 'failed') manageLog(2, 'backend %s failed: %s', b.name, b.error?.message);
      if (report.configError) manageLog(2, '%s', report.configError.message);
      const ready = report.backends.filter((b) => b.state === 'ready').length;
      if (ready === 0) throw new DeviceError('ENODEV', `no backend loaded from ${report.config}; loadBackends() reports why`);
      this.#initialized = true;
      manageLog(3, 'initialised %d backend(s) from %s', ready, report.config);
      return ready;
    });
  }

  /**
   * -1 before initEal(); 0 (primary) when this process drives the card itself (vfio, sim); 1
   * (secondary) when it reaches the card through a vfio-user server owned by another process.
   * With an id: that device's answer; without: 1 only when every probed device is served remotely.
   */
  getProcType(id?: string): number {
    if (!this.#initialized) return ProcType.NOT_INITIALIZED;
    const remote = (url: string) => parseDeviceUrl(url).scheme === 'vfio-user';
    if (id !== undefined) return remote(this.resolve(id)) ? ProcType.SECONDARY : ProcType.PRIMARY;
    const urls = [...this.#probed.values()].map((p) => p.url);
    return urls.length > 0 && urls.every(remote) ? ProcType.SECONDARY : ProcType.PRIMARY;
  }

  /** Close every probed device and finalise the backends (the cleanup_eal equivalent). 0 or -errno. */
  cleanupEal(): Promise<number> {
    return this.#status('cleanup_eal', async () => {
      const errors: unknown[] = [];
      for (const p of this.#probed.values()) {
        try {
          p.device.close();
        } catch (err) {
          errors.push(err);
        }
      }
      this.#probed.clear();
      const failures = await finalizeBackends();
      this.#initialized = false;
      if (errors.length) throw errors[0];
      if (failures.length) throw new DeviceError('EIO', `finalize failed for backend ${failures[0]!.backend}: ${failures[0]!.message}`);
    });
  }

  // ---- discovery ----

  /** Ids of the devices matching the filter (all devices of every backend when empty); null on failure. */
  enumerate(filter: EnumerateFilter = {}): Promise<string[] | null> {
    return this.#query('enumerate', async () => {
      const f: DeviceFilter = {};
      if (filter.vid !== undefined) f.vendor = filter.vid;
      if (filter.did !== undefined) f.device = filter.did;
      if (filter.cid !== undefined) f.classCode = filter.cid;
      if (filter.subVid !== undefined) f.subsystemVendor = filter.subVid;
      if (filter.subDid !== undefined) f.subsystemDevice = filter.subDid;
      const { tokens, failures } = await enumerateAll(f);
      for (const fl of failures) manageLog(2, 'enumerate on %s failed: %s', fl.backend, fl.message);
      return [...new Set(tokens.map((t) => this.#idFor(canonicalDevice(t.url))))];
    });
  }

  /** The bridge above a PCI device, or null (none, or not a PCI device). */
  getParent(id: string): Promise<string | null> {
    return this.#query('get_parent', async () => (await this.#pci()).parentBridge(this.#bdf(id), this.#pciOptions()) ?? null);
  }

  /** PCI functions below a bridge ([] when none); null on failure. */
  getChild(id: string): Promise<string[] | null> {
    return this.#query('get_child', async () => (await this.#pci()).children(this.#bdf(id), this.#pciOptions()));
  }

  /** The card's other physical functions in the same slot (PF1...); [] when none; null on failure. */
  getPf1(id: string): Promise<string[] | null> {
    return this.#query('get_pf1', async () => (await this.#pci()).slotFunctions(this.#bdf(id), this.#pciOptions()));
  }

  // ---- driver binding, probe/remove ----

  /** Bind a kernel driver (e.g. "vfio-pci") to a PCI device. 0 or -errno. */
  bind(id: string, driver: string): Promise<number> {
    return this.#status('bind', async () => {
      if (typeof driver !== 'string' || !driver) throw new ArgumentError('EINVAL', 'bind needs a driver name such as "vfio-pci"');
      const r = (await this.#pci()).bindDriver(this.#bdf(id), driver, this.#pciOptions());
      manageLog(3, 'bound %s to %s (was %s)', r.bdf, r.driver, r.previousDriver ?? 'unbound');
    });
  }

  /** Unbind the kernel driver of a PCI device. 0 or -errno. */
  unbind(id: string): Promise<number> {
    return this.#status('unbind', async () => {
      const r = (await this.#pci()).unbindDriver(this.#bdf(id), this.#pciOptions());
      manageLog(3, 'unbound %s from %s', r.bdf, r.previousDriver ?? 'nothing');
    });
  }

  /** Open the device so it is managed by this process (the seed API's probe). 0 or -errno. */
  probe(id: string): Promise<number> {
    return this.#status('probe', async () => {
      const url = this.resolve(id);
      if (this.#probed.has(url)) return;
      if (!this.#initialized) await this.initEal();
      // Options after "?" (sim:n3000?clock=real) say how to open the card; the key stays canonical.
      const device = await openDevice(id.includes('?') ? id : url);
      this.#probed.set(url, { id, url, device });
      manageLog(3, 'probed %s (%s)', url, device.transport);
    });
  }

  /** Stop managing a probed device (close it). 0, or -ENODEV when it was not probed. */
  remove(id: string): Promise<number> {
    return this.#status('remove', () => {
      const url = this.resolve(id);
      const p = this.#probed.get(url);
      if (!p) throw new DeviceError('ENOTPROBED', `${id} is not probed; probe(id) first`, { id });
      this.#probed.delete(url);
      p.device.close();
    });
  }

  /** The probed device for an id (throws ENOTPROBED). */
  probed(id: string): ProbedDevice {
    const url = this.resolve(id);
    const p = this.#probed.get(url);
    if (!p) throw new DeviceError('ENOTPROBED', `${id} must be probed first (probe(id)) for this information`, { id, url });
    return p;
  }

  // ---- properties ----

  async #pciProperty(id: string): Promise<PciProperty> {
    const url = this.resolve(id);
    const m = /^vfio:([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(url);
    if (m) {
      const info = (await this.#pci()).readPciDevice(url.slice(5), this.#pciOptions());
      return {
        id: { class_id: info.classCode, vendor_id: info.vendor, device_id: info.device, subsystem_vendor_id: info.subsystemVendor, subsystem_device_id: info.subsystemDevice },
        address: { domain: parseInt(m[1]!, 16), bus: parseInt(m[2]!, 16), device: parseInt(m[3]!, 16), function: Number(m[4]) },
        bdf: info.bdf,
        driver: info.driver ?? null,
      };
    }
    // Not a local PCI function: the identity comes from the device's config space.
    const open = this.#probed.get(url)?.device;
    const device = open ?? (await openDevice(url));
    try {
      const i = device.identity;
      return {
        id: { class_id: i.classCode, vendor_id: i.vendor, device_id: i.device, subsystem_vendor_id: i.subsystemVendor, subsystem_device_id: i.subsystemDevice },
        address: null,
        bdf: device.bdf ?? null,
        driver: device.transport,
      };
    } finally {
      if (!open) device.close();
    }
  }

  /**
   * Properties selected by `mask` (PropertyMask bits; 0 = all): { pci, fme, port: [...], bmc } with
   * the seed API's key names. PCI needs no probe; FME, port and BMC need probe(id). null on failure.
   */
  getProperty(id: string, mask = 0): Promise<Record<string, unknown> | null> {
    return this.#query('get_property', async () => {
      const m = mask === 0 ? PropertyMask.ALL : mask;
      if (!Number.isInteger(m) || m < 0 || m > PropertyMask.ALL) throw new ArgumentError('EINVAL', `property mask ${mask} is not a combination of 1 (PCI), 2 (FME), 4 (port), 8 (BMC)`);
      const out: Record<string, unknown> = {};
      if (m & PropertyMask.PCI) out.pci = await this.#pciProperty(id);
      if (m & (PropertyMask.FME | PropertyMask.PORT | PropertyMask.BMC)) {
        Object.assign(out, await this.cardProperties(this.probed(id), m));
      }
      return out;
    });
  }

  /** FME / port / BMC properties of a probed card (see card-properties.ts). */
  protected async cardProperties(p: ProbedDevice, mask: number): Promise<Record<string, unknown>> {
    const { cardProperties } = await import('./card-properties.js');
    return cardProperties(p.device, mask);
  }

  // ---- images and flash status ----

  /**
   * Validate an image file and describe it: { type, subtype, total_len, payload_offset,
   * payload_len } (type 0 FPGA, 1 BMC, 2 GBS, 3 PR; subtype 0 update, 1 cancellation, 2/3 root key
   * hash) plus version and hashes. A plain (unsigned) GBS is reported as type 2. null when invalid.
   */
  getImageInfo(file: string): Promise<Record<string, unknown> | null> {
    return this.#query('get_image_info', async () => {
      const bytes = readInputFile(file, SIGNED_IMAGE_INPUT);
      const { imageInfo } = await import('../afu/image/signed-image.js');
      const info = imageInfo(bytes);
      if (info) {
        return {
          type: info.type, subtype: info.subtype, total_len: info.totalLength, payload_offset: info.payloadOffset, payload_len: info.payloadLength,
          type_name: info.typeName, subtype_name: info.subtypeName, version: info.version, slot: info.slot, hashes_match: info.hashesMatch,
        };
      }
      const { parseGbs } = await import('../afu/pr/gbs.js');
      const gbs = parseGbs(bytes, file);
      return {
        type: 2, subtype: 0, total_len: bytes.length, payload_offset: bytes.length - gbs.bitstream.length, payload_len: gbs.bitstream.length,
        type_name: 'GBS', subtype_name: 'update', interface_uuid: gbs.interfaceUuid, afu_uuid: gbs.acceleratorUuid ?? null,
      };
    });
  }

  /**
   * Flash update status: { status, progress } with DPDK's numbers (rte_pmd_ifpga.h IFPGA_RSU_*):
   * 0 IDLE, 1 PREPARING, 2 READY (host writing staging, progress = % written), 3 COPYING
   * (progress = % copied), 4 REBOOT; a finished update is state DONE, status 0, progress 100.
   * Works from any process (the flashing process publishes it). null on failure.
   */
  getStatus(id: string): Promise<{ status: number; progress: number; state: string; stale: boolean } | null> {
    return this.#query('get_status', async () => {
      const url = this.resolve(id);
      const { readFlashStatus } = await import('../afu/bmc/flash-status.js');
      const s = readFlashStatus(url);
      return { status: s.status, progress: s.progress, state: s.state, stale: s.stale === true };
    });
  }

  /** Ask the process flashing the card to cancel (honoured only while READY). 0 or -errno. */
  cancel(id: string): Promise<number> {
    return this.#status('cancel', async () => {
      const url = this.resolve(id);
      const { cancelFlash } = await import('../afu/flash-coordination.js');
      // A flash running in any process (the daemon's own included) is asked; one that is not
      // running is not the API's to abort (vfiokit cancel opens the card for that).
      const result = await cancelFlash(url, { name: id });
      if (result.how === 'process') manageLog(3, 'cancel requested for %s (pid %d)', url, result.pid);
    });
  }

  // ---- partial reconfiguration (needs probe) ----

  /**
   * Load an AFU bitstream (GBS) into `port` of a probed card (the seed API's pr(id=, port=, file=)).
   * Holds the card's reservation in PROGRAM for the duration; on success the reservation records
   * the GBS signature (sha256) and the new AFU GUID. 0 or -errno.
   */
  pr(args: { id: string; port?: number; file: string; force?: boolean; onProgress?: (p: { state: string; progress: number }) => void }): Promise<number> {
    return this.#status('pr', async () => {
      const p = this.probed(args.id);
      const bytes = readInputFile(args.file, GBS_INPUT);
      const port = args.port ?? 0;
      if (!Number.isInteger(port) || port < 0) throw new ArgumentError('EINVAL', `port ${String(args.port)} is not a port index (0..3)`);
      const [{ parseGbs }, { Card }, { reconfigureCard }, { prReservationHook }, { createHash }] = await Promise.all([
        import('../afu/pr/gbs.js'), import('../afu/card.js'), import('../afu/pr/card-pr.js'), import('../lock/hooks.js'), import('node:crypto'),
      ]);
      const gbs = parseGbs(bytes, args.file);
      const card = Card.discover(p.device);
      const signature = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
      const result = await reconfigureCard(card, gbs, {
        port,
        force: args.force,
        onProgress: args.onProgress ? (pg) => args.onProgress!({ state: pg.step, progress: pg.total > 0 ? Math.floor((pg.written * 100) / pg.total) : 0 }) : undefined,
        reservation: prReservationHook(p.url, { signature, file: args.file, ...(gbs.acceleratorUuid ? { afuGuid: gbs.acceleratorUuid } : {}) }),
      });
      manageLog(3, 'PR of port %d of %s with %s: %d bytes in %d ms', port, p.url, args.file, result.bytesWritten, Math.round(result.durationMs));
    });
  }

  // ---- flash, reboot, PHY (need probe) ----

  /**
   * Update the card's FPGA or BMC flash with a signed image (the seed API's flash(id=, file=)).
   * Takes the card's reservation for the duration (PROGRAM), publishes status and progress for
   * getStatus() in any process, honours cancel() while READY. 0 or -errno.
   */
  flash(args: { id: string; file: string; confirm?: boolean; onProgress?: (p: { state: string; progress: number }) => void }): Promise<number> {
    return this.#status('flash', async () => {
      const p = this.probed(args.id);
      const bytes = readInputFile(args.file, SIGNED_IMAGE_INPUT);
      const { openBmc } = await import('../afu/bmc/bmc.js');
      const { flashReserveHook } = await import('../lock/hooks.js');
      using bmc = await openBmc(p.device);
      const result = await bmc.update.flash(bytes, {
        confirm: args.confirm,
        reserve: flashReserveHook(p.url),
        onProgress: args.onProgress ? (pr) => args.onProgress!({ state: pr.state, progress: pr.progress }) : undefined,
      });
      manageLog(3, 'flashed %s with %s (%s) in %d ms', p.url, args.file, result.image.version, Math.round(result.ms));
    });
  }

  /**
   * Reboot the card (the seed API's reboot(id, type, page)): type 0 reloads the FPGA, 1 the BMC;
   * page 0 factory, 1 user (default). Takes the reservation in RESET for the duration. 0 or -errno.
   */
  reboot(id: string, type = 0, page = 1): Promise<number> {
    return this.#status('reboot', async () => {
      if (type !== 0 && type !== 1) throw new ArgumentError('EINVAL', `reboot type ${type} is not 0 (FPGA) or 1 (BMC)`);
      if (page !== 0 && page !== 1) throw new ArgumentError('EINVAL', `boot page ${page} is not 0 (factory) or 1 (user)`);
      const p = this.probed(id);
      const { openBmc } = await import('../afu/bmc/bmc.js');
      const { rebootWithReload } = await import('../afu/flash-coordination.js');
      // A local PCI function drops off the bus (src/pci/reload.ts): the device is released first
      // and must be probed again afterwards.
      await rebootWithReload(p.device, () => openBmc(p.device), p.url, {
        target: type === 0 ? 'fpga' : 'bmc',
        page: page === 0 ? 'factory' : 'user',
        pci: this.#pciOptions(),
        release: () => this.#probed.delete(p.url),
        onStep: (m) => manageLog(3, '%s', m),
      });
      manageLog(3, 'rebooted %s (%s, %s page)', p.url, type === 0 ? 'FPGA' : 'BMC', page === 0 ? 'factory' : 'user');
    });
  }

  /** Retimer information: { num_retimers, link_speed (0: not reported), link_status, links_up }; null on failure. */
  getPhyInfo(id: string): Promise<import('./card-properties.js').PhyProperty | null> {
    return this.#query('get_phy_info', async () => {
      const { phyInfo } = await import('./card-properties.js');
      return phyInfo(this.probed(id).device);
    });
  }

  /** Logged messages go through the API's level; exposed for scripts. */
  get logLevel(): number {
    return currentLogLevel();
  }

  /** Errno numbers by name, for comparing results: api.errno.EBUSY === 16. */
  get errno(): Readonly<Record<string, number>> {
    return errno;
  }
}
