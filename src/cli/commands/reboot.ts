// `vfiokit reboot DEVICE [--target fpga|bmc] [--page user|factory]`: reload the FPGA or the BMC.
import type { Command } from '../command.js';
import { rebootPositionals } from '../opae-habits.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice, deviceKeyArg } from '../resolve-device.js';
import { openBmc } from '../../afu/bmc/bmc.js';
import type { BootPage, RebootTarget } from '../../afu/bmc/reboot.js';
import { rebootWithReload } from '../../afu/flash-coordination.js';
import { RELOAD_WAIT_MS } from '../../pci/reload.js';

export const command: Command = {
  summary: 'reload the FPGA or the BMC of a card from its user or factory flash page',
  help: `usage: vfiokit reboot DEVICE [--target fpga|bmc] [--page user|factory] [--force] [--json]

Asks the MAX10 BMC of DEVICE (a PCI address, a device URL or a reservation id) to reload the
FPGA (FPGA_RECONF: load request with the page) or to reboot itself (DOORBELL config select +
reboot request), from the user (default) or factory page. Refused while a flash update runs.
The card drops off the PCIe bus during the reload: for a local PCI function (vfio) vfiokit
masks AER on its upstream port, removes it, waits ${RELOAD_WAIT_MS / 1000} s, rescans the bus below the port
and restores the AER masks (on every path).
vfiokit status shows REBOOT meanwhile.

The reboot holds the card's reservation in state RESET for its duration, like vfiokit reset: a
card reserved by another live process is refused (exit 4) unless --force; one you reserved stays
yours; a free card is reserved just for the reboot.

options:
  --target fpga|bmc       what to reload (default fpga)
  --page user|factory     which flash page to boot (default user)
  --force                 reboot even a card another process holds
  --json                  print { device, target, page } when the reload was requested

exit codes: 0 reload requested, 1 the BMC refused or timed out, 2 bad arguments, 4 device
unavailable, busy (a flash runs) or reserved by another process

examples:
  vfiokit reboot 0000:3b:00.0
  vfiokit reboot 0000:3b:00.0 --target bmc --page factory
  vfiokit reboot sim:n3000 --target fpga --page factory --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      target: { type: 'string' },
      page: { type: 'string', default: 'user' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const rsu = rebootPositionals(positionals, (text) => process.stderr.write(`vfiokit reboot: ${text}\n`));
    if (rsu.device === undefined) throw new UsageError('EUSAGE', `reboot takes one DEVICE (got ${positionals.length} arguments); see --help`);
    if (rsu.target && values.target && rsu.target !== values.target) throw new UsageError('EUSAGE', `"${positionals[0]}" and --target ${values.target} disagree; give one of them`);
    const target = (values.target ?? rsu.target ?? 'fpga') as RebootTarget;
    const page = values.page as BootPage;
    if (target !== 'fpga' && target !== 'bmc') throw new UsageError('EUSAGE', `--target ${String(values.target)}: use fpga or bmc`);
    if (page !== 'user' && page !== 'factory') throw new UsageError('EUSAGE', `--page ${String(values.page)}: use user or factory`);
    const url = resolveDevice(rsu.device);
    const key = deviceKeyArg(url);
    using device = await openDeviceArg(url);
    await rebootWithReload(device, () => openBmc(device), key, {
      target,
      page,
      force: values.force === true,
      onStep: (m) => {
        if (!values.json) process.stdout.write(`${m}\n`);
      },
    });
    if (values.json) printJson({ device: url, target, page });
    else process.stdout.write(`${target} reload from the ${page} page requested on ${url}\n`);
    return ExitCode.OK;
  },
};
