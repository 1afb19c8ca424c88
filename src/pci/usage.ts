// What is using a PCI function's driver: the safety guard before an unbind. Looks below the
// device's sysfs directory for block devices (mounted, swap, or held by dm/md: holders/),
// network interfaces that are up (IFF_UP in `flags`, include/uapi/linux/if.h), framebuffers and
// DRM cards while fbcon is bound to a virtual console, and processes holding its VFIO fds open.
import fs from 'node:fs';
import path from 'node:path';
import type { DeviceUse } from './errors.js';
import { normalizeBdf } from './address.js';
import { PciSysfs, liveSysfs } from './sysfs.js';

/** include/uapi/linux/if.h */
const IFF_UP = 0x1;
const MAX_DEPTH = 10;

export interface UsageOptions {
  sysfs?: PciSysfs;
  /** /proc/mounts text (read from `procRoot` when omitted). */
  mounts?: string;
  /** /proc/swaps text (read from `procRoot` when omitted). */
  swaps?: string;
  /** Where procfs is ("/proc"); processes' fds are scanned for open VFIO files. */
  procRoot?: string;
}

interface Found {
  block: { name: string; dir: string }[];
  net: { name: string; dir: string }[];
  fb: string[];
  drm: string[];
}

/**
 * Collect class devices below `dir` by their `subsystem` link (block disks and partitions, net
 * interfaces, graphics fbN, drm cardN), wherever the driver put them (virtio1/block/vda,
 * nvme/nvme0/nvme0n1, host0/.../block/sda/sda1).
 */
function walk(dir: string, depth: number, found: Found): void {
  if (depth > MAX_DEPTH) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue; // symlinks (driver, subsystem, device...) are not followed
    const sub = path.join(dir, e.name);
    let subsystem: string | undefined;
    try {
      subsystem = path.basename(fs.readlinkSync(path.join(sub, 'subsystem')));
    } catch {
      subsystem = undefined;
    }
    if (subsystem === 'block') found.block.push({ name: e.name, dir: sub });
    else if (subsystem === 'net') found.net.push({ name: e.name, dir: sub });
    else if (subsystem === 'graphics' && /^fb\d+$/.test(e.name)) found.fb.push(e.name);
    else if (subsystem === 'drm' && /^card\d+$/.test(e.name)) found.drm.push(e.name);
    walk(sub, depth + 1, found);
  }
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** /proc/mounts and /proc/swaps escape spaces as \040. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** True when fbcon is bound to a virtual console (/sys/class/vtconsole/vtcon*). */
function fbconBound(sysfs: PciSysfs): boolean {
  const dir = path.join(sysfs.root, 'class/vtconsole');
  return safeList(dir).some((vt) => /frame buffer/i.test(sysfs.read(path.join(dir, vt, 'name')) ?? '') && sysfs.read(path.join(dir, vt, 'bind')) === '1');
}

/** Processes that hold one of `files` open (scans /proc/<pid>/fd; needs root to see others' fds). */
function holders(procRoot: string, files: Set<string>): { pid: number; file: string; comm: string }[] {
  if (files.size === 0) return [];
  const out: { pid: number; file: string; comm: string }[] = [];
  for (const pid of safeList(procRoot)) {
    if (!/^\d+$/.test(pid)) continue;
    const fdDir = path.join(procRoot, pid, 'fd');
    for (const fd of safeList(fdDir)) {
      let target: string;
      try {
        target = fs.readlinkSync(path.join(fdDir, fd));
      } catch {
        continue;
      }
      if (files.has(target)) {
        out.push({ pid: Number(pid), file: target, comm: readText(path.join(procRoot, pid, 'comm')).trim() });
        break;
      }
    }
  }
  return out;
}

/** Everything found using the device (and the functions below it, for a bridge). Empty when idle. */
export function deviceUses(bdf: string, options: UsageOptions = {}): DeviceUse[] {
  const sysfs = options.sysfs ?? liveSysfs;
  const procRoot = options.procRoot ?? '/proc';
  const name = normalizeBdf(bdf);
  const dir = sysfs.realpath(sysfs.devicePath(name));
  if (!dir) return [];
  const found: Found = { block: [], net: [], fb: [], drm: [] };
  walk(dir, 0, found);
  const uses: DeviceUse[] = [];

  if (found.block.length > 0) {
    const mounts = (options.mounts ?? readText(path.join(procRoot, 'mounts'))).split('\n').map((l) => l.split(' ')).filter((f) => f.length >= 2);
    const swaps = (options.swaps ?? readText(path.join(procRoot, 'swaps'))).split('\n').slice(1).map((l) => l.split(/\s+/)[0] ?? '').filter(Boolean);
    for (const b of found.block) {
      const dev = `/dev/${b.name}`;
      for (const m of mounts) {
        if (m[0] === dev) uses.push({ kind: 'block', name: b.name, detail: `mounted on ${unescapeMount(m[1]!)}` });
      }
      if (swaps.some((s) => unescapeMount(s) === dev)) uses.push({ kind: 'swap', name: b.name, detail: 'active swap' });
      const held = safeList(path.join(b.dir, 'holders'));
      if (held.length > 0) uses.push({ kind: 'holder', name: b.name, detail: `held by ${held.join(', ')} (device mapper / md / LVM)` });
    }
  }
  for (const n of found.net) {
    const flags = sysfs.readHex(path.join(n.dir, 'flags'));
    const oper = sysfs.read(path.join(n.dir, 'operstate'));
    const up = flags !== undefined ? (flags & IFF_UP) !== 0 : oper !== undefined && oper !== 'down';
    if (up) uses.push({ kind: 'net', name: n.name, detail: `interface is up${oper ? ` (operstate ${oper})` : ''}` });
  }
  if ((found.fb.length > 0 || found.drm.length > 0) && fbconBound(sysfs)) {
    for (const fb of found.fb) uses.push({ kind: 'console', name: fb, detail: 'framebuffer console (fbcon) is bound' });
    for (const card of found.drm) uses.push({ kind: 'drm', name: card, detail: 'DRM device with the framebuffer console (fbcon) bound' });
  }
  // Processes holding the device's VFIO files (vfio-pci would block the unbind until they close).
  const group = sysfs.linkName(path.join(sysfs.devicePath(name), 'iommu_group'));
  const vfioFiles = new Set<string>();
  if (group !== undefined) {
    vfioFiles.add(`/dev/vfio/${group}`);
    vfioFiles.add(`/dev/vfio/noiommu-${group}`);
  }
  for (const v of safeList(path.join(sysfs.devicePath(name), 'vfio-dev'))) vfioFiles.add(`/dev/vfio/devices/${v}`);
  if (sysfs.linkName(path.join(sysfs.devicePath(name), 'driver')) === 'vfio-pci') {
    for (const h of holders(procRoot, vfioFiles)) {
      if (h.pid === process.pid) continue;
      uses.push({ kind: 'holder', name: h.file, detail: `open in process ${h.pid} (${h.comm})` });
    }
  }
  return uses;
}

/** One line per use, for error messages and the CLI. */
export function describeUses(uses: readonly DeviceUse[]): string {
  return uses.map((u) => `${u.kind} ${u.name}: ${u.detail}`).join('; ');
}
