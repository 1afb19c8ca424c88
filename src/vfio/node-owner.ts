// Give a user the VFIO nodes of a device, as `opae.io init -d BDF USER[:GROUP]` does (opae-sdk
// binaries/opae.io/opae/io/utils.py vfio_init: chown /dev/vfio/<group> to USER[:GROUP], the
// group left unchanged without one, then chmod 0660). vfiokit also gives the iommufd cdev
// /dev/vfio/devices/vfioN (Linux >= 6.6, CONFIG_VFIO_DEVICE_CDEV) and, in no-IOMMU mode, the
// /dev/vfio/noiommu-<group> node, since a user opens those instead of the group node.
// Nodes are changed without following links: each must be a character device (lstat), the owner
// is set with lchown; a planted symlink or a regular file is refused.
import { errnoCode } from '../error-lookup.js';
import fs from 'node:fs';
import path from 'node:path';
import { ArgumentError } from '../errors.js';
import { normalizeBdf } from '../pci/address.js';
import { liveSysfs, type PciSysfs } from '../pci/sysfs.js';
import { lookupGroup, lookupUser } from '../sys/accounts.js';
import { logger } from '../util/log.js';
import { cdevName } from './open.js';
import { VfioError } from './errors.js';

const log = logger('vfio');

/** rw-rw----: the owner and the group may open the node (opae.io init's chmod 0o660). */
export const VFIO_NODE_MODE = 0o660;

export interface NodeOwner {
  /** As given: a name or a number. */
  user: string;
  group?: string;
  uid: number;
  /** -1: the group stays as it is (USER without :GROUP). */
  gid: number;
}

export interface ChownedNode {
  path: string;
  uid: number;
  gid: number;
  mode: number;
}

/** "USER[:GROUP]" (names or numeric ids) to ids. Unknown names and malformed text are ArgumentErrors. */
export function parseOwner(spec: string): NodeOwner {
  const m = /^([^:\s]+)(?::([^:\s]+))?$/.exec(spec);
  if (!m) {
    throw new ArgumentError('EOWNER_SPEC', `owner "${spec}" is not USER or USER:GROUP (names or numeric ids, e.g. lab:lab or 1000:1000)`, { owner: spec });
  }
  const [, user, group] = m as unknown as [string, string, string | undefined];
  const u = lookupUser(user);
  if (!u) throw new ArgumentError('EOWNER_USER', `no user named "${user}" on this system (getpwnam found none); give an existing user name or a numeric uid`, { owner: spec, user });
  if (group === undefined) return { user, uid: u.uid, gid: -1 };
  const gid = lookupGroup(group);
  if (gid === undefined) throw new ArgumentError('EOWNER_GROUP', `no group named "${group}" on this system (getgrnam found none); give an existing group name or a numeric gid`, { owner: spec, group });
  return { user, group, uid: u.uid, gid };
}

export interface VfioNodeOptions {
  sysfs?: PciSysfs;
  /** Where the VFIO nodes are (default /dev). */
  devRoot?: string;
}

/** The VFIO nodes of a device bound to vfio-pci that exist now: group (or noiommu-group) and cdev. */
export function vfioNodes(bdf: string, options: VfioNodeOptions = {}): string[] {
  const sysfs = options.sysfs ?? liveSysfs;
  const dev = options.devRoot ?? '/dev';
  const name = normalizeBdf(bdf);
  const group = sysfs.linkName(path.join(sysfs.devicePath(name), 'iommu_group'));
  const cdev = cdevName(name, sysfs);
  const candidates = [
    ...(group !== undefined ? [path.join(dev, 'vfio', group), path.join(dev, 'vfio', `noiommu-${group}`)] : []),
    ...(cdev ? [path.join(dev, 'vfio', 'devices', cdev)] : []),
  ];
  return candidates.filter((p) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * chown the device's VFIO nodes to `owner` and chmod them 0660. Throws VfioError EVFIO_NO_NODE when
 * the device has none (not bound to vfio-pci), EVFIO_NODE_TYPE for a node that is not a character
 * device, and EVFIO_CHOWN_<errno> (EPERM without CAP_CHOWN) naming the node.
 */
export function chownVfioNodes(bdf: string, owner: NodeOwner, options: VfioNodeOptions = {}): ChownedNode[] {
  const name = normalizeBdf(bdf);
  const nodes = vfioNodes(name, options);
  if (!nodes.length) {
    throw new VfioError('EVFIO_NO_NODE', `${name} has no VFIO node under ${path.join(options.devRoot ?? '/dev', 'vfio')} (no IOMMU group node, no device cdev): bind it to vfio-pci first`, { device: `vfio:${name}` });
  }
  const done: ChownedNode[] = [];
  for (const node of nodes) {
    const st = fs.lstatSync(node);
    if (!st.isCharacterDevice()) {
      throw new VfioError('EVFIO_NODE_TYPE', `${node} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a character device'}; refusing to change its owner (a VFIO node is a character device made by the kernel)`, { device: `vfio:${name}`, path: node });
    }
    try {
      fs.lchownSync(node, owner.uid, owner.gid);
      fs.chmodSync(node, VFIO_NODE_MODE);
    } catch (e) {
      const code = errnoCode((e as NodeJS.ErrnoException).code);
      const what = code === 'EPERM' || code === 'EACCES' ? 'changing the owner of a device node needs root (CAP_CHOWN and CAP_FOWNER)' : (e as Error).message;
      throw new VfioError(`EVFIO_CHOWN_${code}`, `giving ${node} to ${owner.user}${owner.group ? `:${owner.group}` : ''} failed: ${code}: ${what}`, { device: `vfio:${name}`, path: node, errnoName: code }, { cause: e });
    }
    const after = fs.lstatSync(node);
    done.push({ path: node, uid: after.uid, gid: after.gid, mode: after.mode & 0o7777 });
    log('%s: %s now %d:%d mode %s', name, node, after.uid, after.gid, (after.mode & 0o7777).toString(8));
  }
  return done;
}
