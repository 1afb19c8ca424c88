// `vfiokit bind BDF [USER[:GROUP]] [--driver vfio-pci]`: give a PCI function to a driver through
// driver_override, and with USER[:GROUP] its VFIO nodes to that user, as `opae.io init` does.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { bindDriver, VFIO_PCI_DRIVER } from '../../pci/driver.js';
import { normalizeBdf } from '../../pci/address.js';
import { resolveBdf } from '../resolve-device.js';
import { chownVfioNodes, parseOwner } from '../../vfio/node-owner.js';

export const command: Command = {
  summary: 'bind a PCI function to vfio-pci (or another driver), optionally giving its VFIO nodes to USER:GROUP',
  help: `usage: vfiokit bind BDF [USER[:GROUP]] [--driver NAME] [--force] [--json]

BDF is a PCI address (0000:3b:00.0 or 3b:00.0), its vfio: URL or its reservation id.
Binds the function to NAME (default vfio-pci) the way the kernel documents it: driver_override,
unbind from the current driver, drivers_probe, then checks the result. The previous driver is
remembered so \`vfiokit unbind BDF\` gives the device back. Refuses to take the device away
from a driver that is in use (a mounted disk, a network interface that is up, the framebuffer
console, a process holding its VFIO files) unless --force is given. Needs root.

With USER[:GROUP] (names or numeric ids; \`opae.io init -d BDF USER:GROUP\`), the device's VFIO
nodes then belong to that user (and group; without :GROUP the group is unchanged) with mode
0660: the IOMMU group node /dev/vfio/N (or /dev/vfio/noiommu-N) and, where the kernel has one,
the iommufd device node /dev/vfio/devices/vfioN. That user can then open the device without
root (DMA also needs a locked-memory limit: ulimit -l). An unknown user or group is refused
before anything changes.

options:
  --driver NAME   driver to bind (default vfio-pci; it must be loaded: modprobe vfio-pci)
  --force         unbind the current driver even when it is in use
  --json          print { bdf, driver, previousDriver, changed, nodes: [{ path, uid, gid, mode }] }

exit codes: 0 bound (or already bound), 1 failed, 2 bad arguments (also an unknown user or
            group), 4 device missing or in use, or permission denied

examples:
  vfiokit bind 0000:3b:00.0
  vfiokit bind 3b:00.0 --driver vfio-pci --json
  sudo vfiokit bind 0000:3b:00.0 lab:lab        # then user lab runs vfiokit walk 0000:3b:00.0
  vfiokit bind 0000:3b:00.0 && vfiokit walk 0000:3b:00.0`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { driver: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('EUSAGE', `bind takes a BDF and an optional USER[:GROUP] (got ${positionals.length} arguments); see --help`);
    const bdf = normalizeBdf(resolveBdf(positionals[0]));
    const driver = values.driver ?? VFIO_PCI_DRIVER;
    if (!/^[A-Za-z0-9_.-]+$/.test(driver)) throw new UsageError('EUSAGE', `--driver "${driver}" is not a driver name`);
    if (positionals[1] !== undefined && driver !== VFIO_PCI_DRIVER) throw new UsageError('EUSAGE', `USER[:GROUP] gives the VFIO nodes to a user; it needs --driver ${VFIO_PCI_DRIVER}, not ${driver}`);
    // Resolved before binding, so an unknown user or group changes nothing.
    const owner = positionals[1] === undefined ? undefined : parseOwner(positionals[1]);
    const r = bindDriver(bdf, driver, { force: values.force === true });
    const nodes = owner ? chownVfioNodes(bdf, owner) : undefined;
    if (values.json) printJson({ ...r, ...(nodes ? { nodes } : {}) });
    else {
      const out = [r.changed ? `${r.bdf}: bound to ${r.driver} (was ${r.previousDriver ?? 'unbound'})` : `${r.bdf}: already bound to ${r.driver}`];
      for (const n of nodes ?? []) out.push(`${n.path}: owner ${n.uid}:${n.gid}, mode ${n.mode.toString(8).padStart(4, '0')}`);
      process.stdout.write(out.join('\n') + '\n');
    }
    return ExitCode.OK;
  },
};
