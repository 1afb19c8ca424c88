// `vfiokit unbind BDF [--force]`: release a PCI function from its driver; a device vfiokit bound
// to vfio-pci goes back to the driver it had before.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { unbindDriver } from '../../pci/driver.js';
import { normalizeBdf } from '../../pci/address.js';
import { resolveBdf } from '../resolve-device.js';

export const command: Command = {
  summary: 'unbind a PCI function from its driver (restoring the driver it had before vfio-pci)',
  help: `usage: vfiokit unbind BDF [--force] [--no-restore] [--json]

BDF is a PCI address (0000:3b:00.0 or 3b:00.0), its vfio: URL or its reservation id.
Unbinds the function from its current driver and clears driver_override. When \`vfiokit bind\`
moved it to vfio-pci, the driver it had before is bound again (unless --no-restore). Refuses
when the driver is in use (mounted disk, interface up, framebuffer console, a process holding
the VFIO files) unless --force. Needs root.

options:
  --force        unbind even when the device is in use
  --no-restore   leave the device unbound instead of restoring its previous driver
  --json         print { bdf, driver, previousDriver, changed }

exit codes: 0 done, 1 failed, 2 bad arguments, 4 device missing or in use

examples:
  vfiokit unbind 0000:3b:00.0
  vfiokit unbind 3b:00.0 --no-restore --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { force: { type: 'boolean' }, 'no-restore': { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `unbind takes exactly one BDF (got ${positionals.length} arguments); see --help`);
    const bdf = normalizeBdf(resolveBdf(positionals[0]));
    const r = unbindDriver(bdf, { force: values.force === true, restore: values['no-restore'] !== true });
    if (values.json) printJson(r);
    else if (!r.changed) process.stdout.write(`${r.bdf}: not bound to a driver\n`);
    else process.stdout.write(`${r.bdf}: unbound from ${r.previousDriver}${r.driver ? `, back on ${r.driver}` : ''}\n`);
    return ExitCode.OK;
  },
};
