// Reservations: who owns a card, in which state, with which bitstream loaded; shared between
// processes through one lock file per device (lock-file.ts) and enforced by the state machine in
// states.ts. The owner is a process (pid + start time): a shell that ran `vfiokit reserve` owns
// the card for as long as it lives, and every command it starts acts as the owner. An owner that
// died leaves a stale reservation: reported as such, and cleared with a forced free.
import { readdirSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { createHash } from 'node:crypto';
import { DeviceError, ArgumentError } from '../errors.js';
import { normalizeBdf } from '../pci/address.js';
import { parseBoundedJson } from '../util/bounded-json.js';
import { readOwnedFile } from '../util/state-dir.js';
import { logger } from '../util/log.js';
import { lockDir, lockDirChecked, lockFile, LockError } from './lock-file.js';
import { checkTransition, isReservationState, ReservationState, TransitionError } from './states.js';
import { isSelfOrAncestor, processAlive, processInfo, processUid, userName } from './process-info.js';

const log = logger('lock');
const FORMAT_VERSION = 1;

export interface ReservationOwner {
  pid: number;
  /** Start time of the pid (clock ticks since boot), so a reused pid is not the owner. */
  startTime: number;
  uid: number;
  user: string;
  /** The owner's executable name, for listings. */
  command: string;
}

/** What was last loaded into the card (by PR or flash). */
export interface BitstreamRecord {
  /** A signature of the image: e.g. "sha256:<hex>" of the GBS, or its AFU GUID. */
  signature: string;
  afuGuid?: string;
  file?: string;
  /** ISO time it was loaded. */
  loadedAt: string;
}

export interface ReservationRecord {
  version: number;
  /** Reservation id (stable per device): "r-" + 8 hex digits. */
  id: string;
  device: string;
  state: ReservationState;
  owner: ReservationOwner | null;
  /** ISO time the current owner reserved it. */
  since: string | null;
  /** ISO time of the last change. */
  updated: string;
  bitstream: BitstreamRecord | null;
}

export interface Reservation extends ReservationRecord {
  /** The owner process is gone (or its pid was reused): the reservation is stale. */
  stale: boolean;
  /** Seconds since `since` (0 when free). */
  ageSeconds: number;
  /** The lock file. */
  file: string;
}

/** The card is reserved by someone else, the reservation is stale, or the caller is not the owner. */
export class ReservationError extends DeviceError {}

export interface CallerOptions {
  /** The process acting (default: this process). It acts as owner when it is, or descends from, the owner. */
  caller?: number;
  /** Override ownership and transition checks (a forced free or reset). */
  force?: boolean;
}

const BDF_SHAPE = /^(?:[0-9a-f]+:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-9]$/i;
export const RESERVATION_ID = /^r-[0-9a-f]{8}$/;

/** The canonical device URL a reservation is kept under: BDFs and vfio URLs with a domain, sockets absolute. */
export function canonicalDevice(device: string): string {
  const bare = device.startsWith('vfio:') ? device.slice(5) : device;
  // A URL scheme starts with a letter (RFC 3986 section 3.1): a digit first, a hex bus:device.fn
  // shape, or anything after vfio: is a PCI address, parsed (or refused) by the one BDF parser.
  if (/^[0-9]/.test(bare) || BDF_SHAPE.test(bare) || device.startsWith('vfio:')) return `vfio:${normalizeBdf(bare)}`;
  if (device.startsWith('vfio-user:')) return `vfio-user:${resolvePath(device.slice('vfio-user:'.length))}`;
  // Options after "?" (sim faults, clocks...) choose how to open the card, not which card it is.
  const query = device.indexOf('?');
  if (query > 0) return canonicalDevice(device.slice(0, query));
  const colon = device.indexOf(':');
  if (colon <= 0) throw new DeviceError('EDEVICE_URL', `"${device}" is not a device: give a PCI address (3b:00.0), a device URL (sim:n3000, vfio-user:/run/card.sock) or a reservation id (r-1a2b3c4d)`, { device });
  return device;
}

/** The stable reservation id of a device. */
export function reservationId(device: string): string {
  return 'r-' + createHash('sha256').update(canonicalDevice(device)).digest('hex').slice(0, 8);
}

function fileName(device: string): string {
  return canonicalDevice(device).replace(/[^A-Za-z0-9._-]+/g, '_') + '.lock';
}

function nowIso(): string {
  return new Date().toISOString();
}

function freeRecord(device: string): ReservationRecord {
  return { version: FORMAT_VERSION, id: reservationId(device), device, state: 'FREE', owner: null, since: null, updated: nowIso(), bitstream: null };
}

/** How to clear a broken lock file: by its device when known, else by removing the file. */
function resetAdvice(file: string, device: string | undefined): string {
  return device ? `reset it with free(${JSON.stringify(device)}, { force: true })` : `remove it (rm ${file}) as its owner or root`;
}

function parseRecord(text: string, file: string, device?: string, fileUid?: number): ReservationRecord {
  if (text.trim() === '') {
    if (!device) throw new LockError('ELOCK_CORRUPT', `lock file ${file} is empty`, { file });
    return freeRecord(device);
  }
  let r: Partial<ReservationRecord>;
  try {
    r = parseBoundedJson(text, 'lock file') as Partial<ReservationRecord>;
  } catch {
    throw new LockError('ELOCK_CORRUPT', `lock file ${file} is corrupt (not JSON); ${resetAdvice(file, device)}`, { file });
  }
  if (typeof r !== 'object' || r === null || typeof r.device !== 'string' || typeof r.state !== 'string' || !isReservationState(r.state)) {
    throw new LockError('ELOCK_CORRUPT', `lock file ${file} does not hold a reservation (device/state missing); ${resetAdvice(file, device ?? (typeof r?.device === 'string' ? r.device : undefined))}`, { file });
  }
  // A record is written by its owner (or root): one naming another user's process was planted.
  const owner = r.owner ?? null;
  if (owner && fileUid !== undefined && fileUid !== 0 && fileUid !== owner.uid) {
    throw new LockError('ELOCK_FORGED', `lock file ${file} belongs to uid ${fileUid} but names a reservation of uid ${owner.uid} (${owner.user}); it was not written by vfiokit for that user: ${resetAdvice(file, undefined)}`, { file, fileUid, ownerUid: owner.uid });
  }
  return {
    version: r.version ?? FORMAT_VERSION,
    id: r.id ?? reservationId(r.device),
    device: r.device,
    state: r.state,
    owner: r.owner ?? null,
    since: r.since ?? null,
    updated: r.updated ?? nowIso(),
    bitstream: r.bitstream ?? null,
  };
}

function view(record: ReservationRecord, file: string): Reservation {
  const stale = record.owner !== null && !processAlive(record.owner.pid, record.owner.startTime);
  const ageSeconds = record.since ? Math.max(0, Math.round((Date.now() - Date.parse(record.since)) / 1000)) : 0;
  return { ...record, stale, ageSeconds, file };
}

/** Describe the owner process `pid` (must be running). */
export function ownerOf(pid: number): ReservationOwner {
  const info = processInfo(pid);
  if (!info || info.state === 'Z') throw new ArgumentError('EOWNER', `owner pid ${pid} is not a running process; give the pid of a live process (default: the calling shell)`, { pid });
  const uid = processUid(pid) ?? process.getuid?.() ?? 0;
  return { pid, startTime: info.startTime, uid, user: userName(uid), command: info.comm };
}

/** The uid a calling process acts as. */
function callerUid(caller: number): number {
  return processUid(caller) ?? process.getuid?.() ?? 0;
}

/** Root, or the user the reservation belongs to: the only ones who may act on it (force included). */
function sameUserOrRoot(record: ReservationRecord, caller: number): boolean {
  const uid = callerUid(caller);
  return uid === 0 || record.owner === null || record.owner.uid === uid;
}

function isOwner(record: ReservationRecord, caller: number): boolean {
  return record.owner !== null && sameUserOrRoot(record, caller) && isSelfOrAncestor(record.owner.pid, record.owner.startTime, caller);
}

/** A forced change of another user's reservation: refused (only its user or root may force it). */
function mustMayForce(current: Reservation, caller: number, want: string): void {
  if (sameUserOrRoot(current, caller)) return;
  const o = current.owner!;
  throw new ReservationError('EPERM', `${current.device} is ${current.state} by ${describeOwner(o)}${current.stale ? ' (stale)' : ''}; cannot ${want}: only user ${o.user} or root may force it`, { device: current.device, id: current.id, state: current.state, owner: o, stale: current.stale });
}

function describeOwner(o: ReservationOwner): string {
  return `pid ${o.pid} (${o.command}, user ${o.user})`;
}

function heldError(r: Reservation, want: string): ReservationError {
  const o = r.owner!;
  if (r.stale) {
    return new ReservationError('ESTALE', `${r.device} is ${r.state} by ${describeOwner(o)}, which is no longer running (stale reservation ${r.id}); clear it with free(device, { force: true })`, { device: r.device, id: r.id, state: r.state, owner: o, stale: true });
  }
  return new ReservationError('ERESERVED', `${r.device} is ${r.state} by ${describeOwner(o)} since ${r.since}; cannot ${want}: wait for it to be freed (listReservations shows it) or ask its owner`, { device: r.device, id: r.id, state: r.state, owner: o, stale: false });
}

/** Read-modify-write one device's record under its lock. */
function update<T>(device: string, fn: (current: Reservation, write: (next: ReservationRecord) => void) => T, options: { replaceCorrupt?: boolean } = {}): T {
  const canonical = canonicalDevice(device);
  const { dir, shared } = lockDirChecked();
  using locked = lockFile(dir, fileName(canonical));
  let record: ReservationRecord;
  try {
    const { text, uid } = locked.read();
    record = parseRecord(text, locked.path, canonical, uid);
  } catch (err) {
    // A forced free is the documented way out of a corrupt file: start over from FREE.
    if (!options.replaceCorrupt || !(err instanceof LockError)) throw err;
    log('replacing corrupt lock file %s', locked.path);
    record = { ...freeRecord(canonical), state: 'RESET' };
  }
  return fn(view(record, locked.path), (next) => {
    // In a shared directory a FREE card has no file: the next user creates their own (sticky
    // directory: nobody could replace a file this user left behind).
    if (shared && next.state === 'FREE') locked.remove();
    else locked.write(JSON.stringify(next, null, 2) + '\n');
  });
}

/** The reservation of a device (FREE when it has none). */
export function getReservation(device: string): Reservation {
  const canonical = canonicalDevice(device);
  const file = join(lockDir(), fileName(canonical));
  let text = '';
  let uid: number | undefined;
  try {
    ({ text, uid } = readOwnedFile(file));
  } catch {
    /* no file: FREE */
  }
  return view(parseRecord(text, file, canonical, uid), file);
}

/** Every device with a lock file (FREE ones included), sorted by device. Corrupt files are reported, not thrown. */
export function listReservations(): { reservations: Reservation[]; corrupt: { file: string; message: string }[] } {
  const dir = lockDir();
  const reservations: Reservation[] = [];
  const corrupt: { file: string; message: string }[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.lock')) continue;
    const file = join(dir, name);
    let text: string;
    let uid: number;
    try {
      ({ text, uid } = readOwnedFile(file));
    } catch {
      continue; // replaced or removed meanwhile
    }
    if (text.trim() === '') continue; // created by a locker that has not written yet: FREE
    try {
      reservations.push(view(parseRecord(text, file, undefined, uid), file));
    } catch (err) {
      corrupt.push({ file, message: (err as Error).message });
    }
  }
  reservations.sort((a, b) => a.device.localeCompare(b.device));
  return { reservations, corrupt };
}

/** Map a reservation id back to its device, or undefined. */
export function deviceForReservationId(id: string): string | undefined {
  if (!RESERVATION_ID.test(id)) return undefined;
  return listReservations().reservations.find((r) => r.id === id)?.device;
}

/**
 * Reserve a FREE device for `owner` (default: this process). Exactly one of several racing
 * callers wins; the others get ERESERVED (ESTALE when the holder died).
 */
export function reserve(device: string, options: { owner?: number } = {}): Reservation {
  const owner = ownerOf(options.owner ?? process.pid);
  const me = process.getuid?.() ?? 0;
  if (me !== 0 && owner.uid !== me) {
    throw new ReservationError('EPERM', `pid ${owner.pid} belongs to user ${owner.user}: a reservation can only be owned by a process of your own user (or made by root)`, { owner });
  }
  return update(device, (current, write) => {
    if (current.state !== 'FREE') throw heldError(current, 'reserve it');
    const t = nowIso();
    const next: ReservationRecord = { ...stripView(current), state: 'RESERVED', owner, since: t, updated: t };
    write(next);
    log('%s reserved by pid %d', current.device, owner.pid);
    return view(next, current.file);
  });
}

function stripView(r: Reservation): ReservationRecord {
  const { stale: _s, ageSeconds: _a, file: _f, ...record } = r;
  return record;
}

function mustOwn(current: Reservation, caller: number, want: string): void {
  if (current.owner === null) {
    throw new ReservationError('ENOTRESERVED', `${current.device} is not reserved; reserve it first (reserve)`, { device: current.device });
  }
  if (!isOwner(current, caller) || current.stale) {
    if (current.stale || !processAlive(current.owner.pid, current.owner.startTime)) {
      mustMayForce({ ...current, stale: true }, caller, want); // another user's stale reservation: theirs or root's to clear
      throw heldError({ ...current, stale: true }, want);
    }
    throw heldError(current, want);
  }
}

/**
 * Move a reservation to `to`. The caller must be the owner (or descend from it), unless forced.
 * `bitstream` is recorded with the change (e.g. PROGRAM -> INACTIVE after a successful load).
 */
export function transition(device: string, to: ReservationState, options: CallerOptions & { bitstream?: Omit<BitstreamRecord, 'loadedAt'> } = {}): Reservation {
  const caller = options.caller ?? process.pid;
  return update(device, (current, write) => {
    if (!options.force) mustOwn(current, caller, `move it to ${to}`);
    else mustMayForce(current, caller, `force it to ${to}`);
    if (!options.force || to !== 'RESET') checkTransition(current.device, current.state, to);
    const t = nowIso();
    const freeing = to === 'FREE';
    const next: ReservationRecord = {
      ...stripView(current),
      state: to,
      owner: freeing ? null : current.owner,
      since: freeing ? null : current.since,
      updated: t,
      bitstream: options.bitstream ? { ...options.bitstream, loadedAt: t } : current.bitstream,
    };
    write(next);
    log('%s %s -> %s%s', current.device, current.state, to, options.force ? ' (forced)' : '');
    return view(next, current.file);
  });
}

/**
 * Free a device. The owner frees from RESERVED, INACTIVE, ACTIVE or RESET; `force` frees from
 * any state and clears stale reservations (owner dead). Freeing a FREE device is a no-op.
 */
export function free(device: string, options: CallerOptions = {}): Reservation {
  const caller = options.caller ?? process.pid;
  return update(device, (current, write) => {
    if (current.state === 'FREE') return current;
    if (!options.force) {
      mustOwn(current, caller, 'free it');
      checkTransition(current.device, current.state, 'FREE');
    } else {
      mustMayForce(current, caller, 'free it');
      if (current.owner && !current.stale) log('forced free of %s held by live pid %d', current.device, current.owner.pid);
    }
    const next: ReservationRecord = { ...stripView(current), state: 'FREE', owner: null, since: null, updated: nowIso() };
    write(next);
    return view(next, current.file);
  }, { replaceCorrupt: options.force === true });
}

export interface WithReservationOptions extends CallerOptions {
  /** State after `fn` succeeds (default: PROGRAM -> INACTIVE, RESET -> RESERVED, ACTIVE -> INACTIVE). */
  next?: ReservationState;
}

/** Given to the function run under a reservation. */
export interface ReservationScope {
  readonly device: string;
  readonly id: string;
  /** True when the reservation was taken for this call and is freed after it. */
  readonly automatic: boolean;
  /** Record what is being loaded; stored when the state advances after success. */
  setBitstream(bitstream: Omit<BitstreamRecord, 'loadedAt'>): void;
}

const SUCCESS_NEXT: Partial<Record<ReservationState, ReservationState>> = { PROGRAM: 'INACTIVE', RESET: 'RESERVED', ACTIVE: 'INACTIVE' };
const FAILURE_NEXT: Partial<Record<ReservationState, ReservationState>> = { PROGRAM: 'RESERVED', RESET: 'RESERVED', ACTIVE: 'INACTIVE' };

/** A reservation entered for one operation; leave() exactly once when it ends. */
export interface ReservationHold extends ReservationScope {
  /** Advance (ok) or fall back (failed), record the bitstream on success, free if automatic. Idempotent. */
  leave(ok: boolean): void;
}

/**
 * Enter `state` (PROGRAM for PR and flash, RESET for resets/reboots, ACTIVE for an application)
 * for one operation. If the device is FREE it is reserved for the caller for the duration and
 * freed on leave(); if the caller (or its shell) owns it, that reservation is used and kept.
 * Someone else's reservation -> ERESERVED; a dead owner's -> ESTALE. ACTIVE steps to INACTIVE
 * before PROGRAM. The process dying before leave() leaves a stale reservation (forcibly freeable).
 */
export function enterReservation(device: string, state: 'PROGRAM' | 'RESET' | 'ACTIVE', options: WithReservationOptions = {}): ReservationHold {
  const caller = options.caller ?? process.pid;
  const canonical = canonicalDevice(device);
  let automatic = false;
  update(canonical, (current, write) => {
    let record = stripView(current);
    if (current.state === 'FREE') {
      const t = nowIso();
      record = { ...record, state: 'RESERVED', owner: ownerOf(caller), since: t, updated: t };
      automatic = true;
    } else if (!options.force) {
      mustOwn(current, caller, `enter ${state}`);
    } else {
      mustMayForce(current, caller, `enter ${state}`);
    }
    if (record.state === 'ACTIVE' && state === 'PROGRAM') record = { ...record, state: 'INACTIVE' };
    if (record.state === state) throw new ReservationError('EBUSY', `${canonical} is already in ${state} (another operation of the owner is running); wait for it to finish`, { device: canonical, state });
    checkTransition(canonical, record.state, state);
    write({ ...record, state, updated: nowIso() });
  });
  let bitstream: Omit<BitstreamRecord, 'loadedAt'> | undefined;
  let left = false;
  return {
    device: canonical,
    id: reservationId(canonical),
    automatic,
    setBitstream: (b) => { bitstream = b; },
    leave(ok: boolean) {
      if (left) return;
      left = true;
      const to = ok ? (options.next ?? SUCCESS_NEXT[state]!) : (options.next && options.next !== SUCCESS_NEXT[state] ? options.next : FAILURE_NEXT[state]!);
      try {
        transition(canonical, to, { caller, force: options.force, ...(ok && bitstream ? { bitstream } : {}) });
        if (automatic) free(canonical, { caller, force: options.force });
      } catch (err) {
        // Changed under us (a forced free or reset by an administrator): report, do not mask the operation's outcome.
        log('leaving %s after %s failed: %s', canonical, state, (err as Error).message);
        if (!(err instanceof TransitionError || err instanceof ReservationError)) throw err;
      }
    },
  };
}

/**
 * Run `fn` with the device in `state` (see enterReservation): the reservation is taken before and
 * left after, advancing on success (PROGRAM -> INACTIVE with the bitstream given to
 * setBitstream(), RESET -> RESERVED) and falling back on failure (PROGRAM -> RESERVED).
 */
export async function withReservation<T>(device: string, state: 'PROGRAM' | 'RESET' | 'ACTIVE', fn: (scope: ReservationScope) => T | Promise<T>, options: WithReservationOptions = {}): Promise<T> {
  const hold = enterReservation(device, state, options);
  let result: T;
  try {
    result = await fn(hold);
  } catch (err) {
    try {
      hold.leave(false);
    } catch (leaveErr) {
      // The operation's own failure is what the caller must see; the reservation could not be
      // stepped back (lock file broken or unwritable): say how to clear it.
      log('%s: %s failed (%s) and its reservation could not be left (%s); clear it with free(%s, { force: true })',
        hold.device, state, (err as Error)?.message ?? String(err), (leaveErr as Error)?.message ?? String(leaveErr), hold.device);
    }
    throw err;
  }
  hold.leave(true);
  return result;
}
