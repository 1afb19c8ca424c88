// `vfiokit ls`: PCI functions from sysfs with IDs, class, driver and IOMMU group.
import type { Command } from '../command.js';
import { table } from '../table.js';
import { SIM_VARIANTS } from '../../sim/identity.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { listPciDevices } from '../../pci/enumerate.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PciSysfs } from '../../pci/sysfs.js';
import type { DeviceFilter } from '../../device/backend.js';

function hexId(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const t = text.replace(/^0x/i, '');
  if (!/^[0-9a-f]+$/i.test(t) || Number.parseInt(t, 16) > max) throw new UsageError('EUSAGE', `--${name} must be a hex ID up to 0x${max.toString(16)} (e.g. 8086), got "${text}"`);
  return Number.parseInt(t, 16);
}

const h = (n: number, w: number) => n.toString(16).padStart(w, '0');

export const command: Command = {
  summary: 'list PCI functions (IDs, class, driver, IOMMU group), optionally filtered',
  help: `usage: vfiokit ls [--vendor ID] [--device ID] [--class C] [--subsystem-vendor ID]
                  [--subsystem-device ID] [--vfio] [--json]

Lists the PCI functions in /sys/bus/pci/devices: address, vendor:device, subsystem IDs, class
code, bound driver and IOMMU group. IDs are hex. --class matches the base class (2 digits, 12 =
processing accelerators), base+subclass (4 digits, 1200) or the full code (6 digits, 120000).

options:
  --vendor ID            vendor ID, e.g. 8086
  --device ID            device ID, e.g. 0b30 (N3000 PF)
  --class C              class code (2, 4 or 6 hex digits)
  --subsystem-vendor ID  subsystem vendor ID
  --subsystem-device ID  subsystem device ID
  --vfio                 only functions bound to vfio-pci (what the vfio backend opens)
  --sysfs DIR            read a sysfs tree other than /sys (a captured one)
  --json                 print an array of objects

exit codes: 0 listed (also when nothing matched), 2 bad arguments

examples:
  vfiokit ls
  vfiokit ls --vendor 8086 --device 0b30
  vfiokit ls --class 12 --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      vendor: { type: 'string' }, device: { type: 'string' }, class: { type: 'string' },
      'subsystem-vendor': { type: 'string' }, 'subsystem-device': { type: 'string' },
      vfio: { type: 'boolean' }, sysfs: { type: 'string' }, json: { type: 'boolean' },
    }, false);
    void positionals;
    if (values.class !== undefined && !/^(0x)?([0-9a-f]{2}|[0-9a-f]{4}|[0-9a-f]{6})$/i.test(values.class)) {
      throw new UsageError('EUSAGE', `--class must be 2, 4 or 6 hex digits (12, 1200, 120000), got "${values.class}"`);
    }
    const filter: DeviceFilter = {};
    const vendor = hexId('vendor', values.vendor, 0xffff);
    const device = hexId('device', values.device, 0xffff);
    const sv = hexId('subsystem-vendor', values['subsystem-vendor'], 0xffff);
    const sd = hexId('subsystem-device', values['subsystem-device'], 0xffff);
    const cls = hexId('class', values.class, 0xffffff);
    if (vendor !== undefined) filter.vendor = vendor;
    if (device !== undefined) filter.device = device;
    if (sv !== undefined) filter.subsystemVendor = sv;
    if (sd !== undefined) filter.subsystemDevice = sd;
    if (cls !== undefined) filter.classCode = cls;
    if (values.sysfs !== undefined && !existsSync(join(values.sysfs, 'bus/pci/devices'))) {
      throw new UsageError('EUSAGE', `--sysfs ${values.sysfs}: no bus/pci/devices under it; give the root of a sysfs tree (/sys, or a captured copy)`);
    }
    const sysfs = values.sysfs ? new PciSysfs({ root: values.sysfs }) : undefined;
    let list = listPciDevices(filter, { sysfs });
    if (values.vfio) list = list.filter((d) => d.driver === 'vfio-pci');
    if (values.json) {
      printJson(list.map((d) => ({
        bdf: d.bdf, vendor: h(d.vendor, 4), device: h(d.device, 4), subsystemVendor: h(d.subsystemVendor, 4), subsystemDevice: h(d.subsystemDevice, 4),
        class: h(d.classCode, 6), revision: d.revision, driver: d.driver ?? null, driverOverride: d.driverOverride ?? null,
        iommuGroup: d.iommuGroup ?? null, numaNode: d.numaNode ?? null, physfn: d.physfn ?? null, sriovNumVfs: d.sriovNumVfs ?? null,
      })));
      return ExitCode.OK;
    }
    // The simulated cards are not PCI functions: say where they are (not for a captured tree).
    const simNote = values.sysfs ? '' : `\nsimulated cards (no PCI function): ${SIM_VARIANTS.map((v) => `sim:${v}`).join(', ')}; e.g. vfiokit walk sim:n3000\n`;
    if (list.length === 0) {
      process.stdout.write('no PCI functions match\n' + simNote);
      return ExitCode.OK;
    }
    const rows = list.map((d) => [d.bdf, `${h(d.vendor, 4)}:${h(d.device, 4)}`, `${h(d.subsystemVendor, 4)}:${h(d.subsystemDevice, 4)}`, h(d.classCode, 6), d.driver ?? '-', d.iommuGroup === undefined ? '-' : String(d.iommuGroup), d.physfn ? `VF of ${d.physfn}` : '']);
    process.stdout.write(table(['BDF', 'ID', 'SUBSYSTEM', 'CLASS', 'DRIVER', 'GROUP', ''], rows) + '\n' + simNote);
    return ExitCode.OK;
  },
};
