// Builds a captured sysfs tree under a temp dir: /sys/devices/pci0000:00/... with attribute
// files, bus/pci/devices symlinks, driver and iommu_group links, SR-IOV physfn/virtfn links,
// class devices (block, net, graphics, drm) with their subsystem links. `kernel()` returns an
// onWrite hook that plays the kernel's part for unbind, bind, driver_override and drivers_probe.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FakeFunction {
  bdf: string;
  /** Parent bridge BDF (undefined: root bus). */
  parent?: string;
  vendor: number;
  device: number;
  classCode: number;
  subsystemVendor?: number;
  subsystemDevice?: number;
  revision?: number;
  driver?: string;
  iommuGroup?: number;
  physfn?: string;
}

export class FakeSysfs {
  readonly root: string;
  readonly drivers = new Set<string>();
  /** Drivers that refuse to bind (probe fails). */
  readonly refuse = new Set<string>();

  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-sysfs-'));
    fs.mkdirSync(path.join(this.root, 'bus/pci/devices'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'bus/pci/drivers'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'kernel/iommu_groups'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'class/block'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'class/net'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'class/graphics'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'class/drm'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'class/vtconsole'), { recursive: true });
    fs.writeFileSync(path.join(this.root, 'bus/pci/drivers_probe'), '');
    fs.writeFileSync(path.join(this.root, 'bus/pci/rescan'), '');
  }

  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Real directory of a function under devices/. */
  dir(bdf: string): string {
    return fs.realpathSync(path.join(this.root, 'bus/pci/devices', bdf));
  }

  addDriver(name: string): void {
    this.drivers.add(name);
    const d = path.join(this.root, 'bus/pci/drivers', name);
    fs.mkdirSync(d, { recursive: true });
    for (const f of ['bind', 'unbind', 'new_id']) fs.writeFileSync(path.join(d, f), '');
  }

  add(f: FakeFunction): void {
    const parentDir = f.parent ? this.dir(f.parent) : path.join(this.root, 'devices', `pci${f.bdf.slice(0, 4)}:${f.bdf.slice(5, 7)}`);
    const dir = path.join(parentDir, f.bdf);
    fs.mkdirSync(dir, { recursive: true });
    const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}\n`;
    fs.writeFileSync(path.join(dir, 'vendor'), hex(f.vendor, 4));
    fs.writeFileSync(path.join(dir, 'device'), hex(f.device, 4));
    fs.writeFileSync(path.join(dir, 'subsystem_vendor'), hex(f.subsystemVendor ?? 0, 4));
    fs.writeFileSync(path.join(dir, 'subsystem_device'), hex(f.subsystemDevice ?? 0, 4));
    fs.writeFileSync(path.join(dir, 'class'), hex(f.classCode, 6));
    fs.writeFileSync(path.join(dir, 'revision'), hex(f.revision ?? 0, 2));
    fs.writeFileSync(path.join(dir, 'numa_node'), '-1\n');
    fs.writeFileSync(path.join(dir, 'driver_override'), '(null)\n');
    fs.writeFileSync(path.join(dir, 'remove'), '');
    fs.writeFileSync(path.join(dir, 'rescan'), '');
    fs.symlinkSync(path.relative(path.join(this.root, 'bus/pci/devices'), dir), path.join(this.root, 'bus/pci/devices', f.bdf));
    fs.symlinkSync(path.relative(dir, path.join(this.root, 'bus/pci')), path.join(dir, 'subsystem'));
    if (f.driver) this.link(f.bdf, f.driver);
    if (f.iommuGroup !== undefined) {
      const g = path.join(this.root, 'kernel/iommu_groups', String(f.iommuGroup), 'devices');
      fs.mkdirSync(g, { recursive: true });
      fs.symlinkSync(path.relative(g, dir), path.join(g, f.bdf));
      fs.symlinkSync(path.relative(dir, path.dirname(g)), path.join(dir, 'iommu_group'));
    }
    if (f.physfn) {
      const pf = this.dir(f.physfn);
      fs.symlinkSync(path.relative(dir, pf), path.join(dir, 'physfn'));
      const n = fs.readdirSync(pf).filter((x) => x.startsWith('virtfn')).length;
      fs.symlinkSync(path.relative(pf, dir), path.join(pf, `virtfn${n}`));
      fs.writeFileSync(path.join(pf, 'sriov_numvfs'), `${n + 1}\n`);
    }
  }

  /** Bind in the fake tree: the driver symlink (and the driver's device link). */
  link(bdf: string, driver: string): void {
    if (!this.drivers.has(driver)) this.addDriver(driver);
    const dir = this.dir(bdf);
    const drvDir = path.join(this.root, 'bus/pci/drivers', driver);
    fs.rmSync(path.join(dir, 'driver'), { force: true });
    fs.symlinkSync(path.relative(dir, drvDir), path.join(dir, 'driver'));
    fs.rmSync(path.join(drvDir, bdf), { force: true });
    fs.symlinkSync(path.relative(drvDir, dir), path.join(drvDir, bdf));
  }

  unlink(bdf: string): void {
    const dir = this.dir(bdf);
    const drv = (() => { try { return path.basename(fs.readlinkSync(path.join(dir, 'driver'))); } catch { return undefined; } })();
    fs.rmSync(path.join(dir, 'driver'), { force: true });
    if (drv) fs.rmSync(path.join(this.root, 'bus/pci/drivers', drv, bdf), { force: true });
  }

  /** A class device (block disk, partition, net interface, fb, drm card) below `parentRel` of a function. */
  addClassDevice(bdf: string, rel: string, subsystem: 'block' | 'net' | 'graphics' | 'drm', attrs: Record<string, string> = {}): string {
    const dir = path.join(this.dir(bdf), rel);
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(path.relative(dir, path.join(this.root, 'class', subsystem)), path.join(dir, 'subsystem'));
    for (const [k, v] of Object.entries(attrs)) {
      fs.mkdirSync(path.dirname(path.join(dir, k)), { recursive: true });
      fs.writeFileSync(path.join(dir, k), v);
    }
    return dir;
  }

  setFbcon(bound: boolean): void {
    const d = path.join(this.root, 'class/vtconsole/vtcon1');
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'name'), '(M) frame buffer device\n');
    fs.writeFileSync(path.join(d, 'bind'), bound ? '1\n' : '0\n');
  }

  driverOf(bdf: string): string | undefined {
    try {
      return path.basename(fs.readlinkSync(path.join(this.dir(bdf), 'driver')));
    } catch {
      return undefined;
    }
  }

  /** An onWrite hook implementing the kernel's side of driver binding in this tree. */
  kernel(): (file: string, value: string) => void {
    return (file, value) => {
      const rel = path.relative(this.root, file);
      const v = value.trim();
      let m: RegExpExecArray | null;
      if ((m = /^bus\/pci\/drivers\/([^/]+)\/unbind$/.exec(rel))) {
        if (this.driverOf(v) !== m[1]) throw new Error(`ENODEV: ${v} is not bound to ${m[1]}`);
        this.unlink(v);
      } else if ((m = /^bus\/pci\/drivers\/([^/]+)\/bind$/.exec(rel))) {
        this.probeWith(v, m[1]!);
      } else if (rel === 'bus/pci/drivers_probe') {
        const override = fs.readFileSync(path.join(this.dir(v), 'driver_override'), 'utf8').trim();
        if (this.driverOf(v)) return;
        if (override && override !== '(null)') this.probeWith(v, override);
      } else if (/driver_override$/.test(rel)) {
        fs.writeFileSync(file, v === '' ? '(null)\n' : `${v}\n`);
      }
    };
  }

  probeWith(bdf: string, driver: string): void {
    if (!this.drivers.has(driver) || this.refuse.has(driver)) return;
    this.link(bdf, driver);
  }
}

/**
 * A small N3000-like tree: root port 00:01.0 -> switch upstream 01:00.0 -> downstream 02:08.0
 * -> FPGA PF0 03:00.0 (8086:0b30, VFs 03:00.1..2), PF1 03:00.4 (virtio-like sibling); an NVMe
 * disk at 00:02.0 with a mounted partition, a NIC at 00:03.0 that is up, a VGA at 00:04.0 with fbcon.
 */
export function n3000Tree(): FakeSysfs {
  const s = new FakeSysfs();
  s.addDriver('pcieport');
  s.addDriver('vfio-pci');
  s.addDriver('dfl-pci');
  s.add({ bdf: '0000:00:01.0', vendor: 0x8086, device: 0x2030, classCode: 0x060400, driver: 'pcieport', iommuGroup: 1 });
  s.add({ bdf: '0000:01:00.0', parent: '0000:00:01.0', vendor: 0x10b5, device: 0x8747, classCode: 0x060400, driver: 'pcieport', iommuGroup: 2 });
  s.add({ bdf: '0000:02:08.0', parent: '0000:01:00.0', vendor: 0x10b5, device: 0x8747, classCode: 0x060400, driver: 'pcieport', iommuGroup: 3 });
  s.add({ bdf: '0000:03:00.0', parent: '0000:02:08.0', vendor: 0x8086, device: 0x0b30, subsystemVendor: 0x8086, subsystemDevice: 0x0000, classCode: 0x120000, revision: 2, driver: 'dfl-pci', iommuGroup: 4 });
  s.add({ bdf: '0000:03:00.4', parent: '0000:02:08.0', vendor: 0x8086, device: 0x0b32, classCode: 0x120000, iommuGroup: 4 });
  s.add({ bdf: '0000:03:00.1', parent: '0000:02:08.0', vendor: 0x8086, device: 0x0b31, classCode: 0x120000, iommuGroup: 5, physfn: '0000:03:00.0' });
  s.add({ bdf: '0000:03:00.2', parent: '0000:02:08.0', vendor: 0x8086, device: 0x0b31, classCode: 0x120000, iommuGroup: 6, physfn: '0000:03:00.0' });
  s.addDriver('nvme');
  s.add({ bdf: '0000:00:02.0', vendor: 0x144d, device: 0xa808, classCode: 0x010802, driver: 'nvme', iommuGroup: 7 });
  s.addClassDevice('0000:00:02.0', 'nvme/nvme0/nvme0n1', 'block', { dev: '259:0\n' });
  s.addClassDevice('0000:00:02.0', 'nvme/nvme0/nvme0n1/nvme0n1p1', 'block', { dev: '259:1\n', partition: '1\n' });
  s.addClassDevice('0000:00:02.0', 'nvme/nvme0/nvme0n1/nvme0n1p2', 'block', { dev: '259:2\n', partition: '2\n' });
  s.addDriver('e1000e');
  s.add({ bdf: '0000:00:03.0', vendor: 0x8086, device: 0x10d3, classCode: 0x020000, driver: 'e1000e', iommuGroup: 8 });
  s.addClassDevice('0000:00:03.0', 'net/eth0', 'net', { flags: '0x1003\n', operstate: 'up\n' });
  s.addDriver('bochs-drm');
  s.add({ bdf: '0000:00:04.0', vendor: 0x1234, device: 0x1111, classCode: 0x030000, driver: 'bochs-drm', iommuGroup: 9 });
  s.addClassDevice('0000:00:04.0', 'drm/card0', 'drm');
  s.addClassDevice('0000:00:04.0', 'graphics/fb0', 'graphics');
  s.setFbcon(true);
  return s;
}
