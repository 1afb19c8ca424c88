// `vfiokit bind BDF [--driver vfio-pci]`: give a PCI function to a driver through driver_override.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { bindDriver, VFIO_PCI_DRIVER } from '../../pci/driver.js';
import { normalizeBdf } from '../../pci/address.js';
import { resolveBdf } from '../resolve-device.js';

export const command: Command = {
  summary: 'bind a PCI function to vfio-pci (or another driver), remembering its previous driver',
  help: `usage: vfiokit bind BDF [--driver NAME] [--force] [--json]

BDF is a PCI address (0000:3b:00.0 or 3b:00.0), its vfio: URL or its reservation id.
Binds the function to NAME (default vfio-pci) the way the kernel documents it: driver_override,
unbind from the current driver, drivers_probe, then checks the result. The previous driver is
remembered so \`vfiokit unbind BDF\` gives the device back. Refuses to take the device away
from a driver that is in use (a mounted disk, a network interface that is up, the framebuffer
console, a process holding its VFIO files) unless --force is given. Needs root.

options:
  --driver NAME   driver to bind (default vfio-pci; it must be loaded: modprobe vfio-pci)
  --force         unbind the current driver even when it is in use
  --json          print { bdf, driver, previousDriver, changed }

exit codes: 0 bound (or already bound), 1 failed, 2 bad arguments, 4 device missing or in use

examples:
  vfiokit bind 0000:3b:00.0
  vfiokit bind 3b:00.0 --driver vfio-pci --json
  vfiokit bind 0000:3b:00.0 && vfiokit walk 0000:3b:00.0`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { driver: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `bind takes exactly one BDF (got ${positionals.length} arguments); see --help`);
    const bdf = normalizeBdf(resolveBdf(positionals[0]));
    const driver = values.driver ?? VFIO_PCI_DRIVER;
    if (!/^[A-Za-z0-9_.-]+$/.test(driver)) throw new UsageError('EUSAGE', `--driver "${driver}" is not a driver name`);
    const r = bindDriver(bdf, driver, { force: values.force === true });
    if (values.json) printJson(r);
    else process.stdout.write(r.changed ? `${r.bdf}: bound to ${r.driver} (was ${r.previousDriver ?? 'unbound'})\n` : `${r.bdf}: already bound to ${r.driver}\n`);
    return ExitCode.OK;
  },
};
