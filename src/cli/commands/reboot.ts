// `vfiokit reboot <device> [--target fpga|bmc] [--page user|factory]`: reload the FPGA or the BMC.
import type { Command } from '../command.js';
import { parseCommandLine, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDevice } from '../../device/registry.js';
import { openBmc } from '../../afu/bmc/bmc.js';
import type { BootPage, RebootTarget } from '../../afu/bmc/reboot.js';
import { removeDevice, rescan } from '../../pci/driver.js';
import { parentBridge } from '../../pci/topology.js';

/** DPDK opae_reboot_device waits this long for the FPGA or BMC to come back before rescanning. */
const RELOAD_WAIT_MS = 10_000;

export const command: Command = {
  summary: 'reload the FPGA or the BMC of a card from its user or factory flash page',
  help: `usage: vfiokit reboot <device> [--target fpga|bmc] [--page user|factory]

Asks the card's MAX10 BMC to reload the FPGA (FPGA_RECONF: load request with the page) or to
reboot itself (DOORBELL config select + reboot request), from the user (default) or factory page.
Refused while a flash update runs. The card drops off the PCIe bus during the reload: for a local
PCI function (vfio) vfiokit removes it, waits ${RELOAD_WAIT_MS / 1000} s and rescans the bus below its upstream
bridge (DPDK's sequence; PCIe AER masking on the upstream port is not done here, so the kernel may
log AER errors). vfiokit status shows REBOOT meanwhile.

options:
  --target fpga|bmc       what to reload (default fpga)
  --page user|factory     which flash page to boot (default user)

examples:
  vfiokit reboot 0000:3b:00.0
  vfiokit reboot 0000:3b:00.0 --target bmc --page factory
  vfiokit reboot sim:n3000 --target fpga --page factory`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { target: { type: 'string', default: 'fpga' }, page: { type: 'string', default: 'user' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', 'missing <device>: give a device URL or PCI address');
    const target = values.target as RebootTarget;
    const page = values.page as BootPage;
    if (target !== 'fpga' && target !== 'bmc') throw new UsageError('EUSAGE', `--target ${String(values.target)}: use fpga or bmc`);
    if (page !== 'user' && page !== 'factory') throw new UsageError('EUSAGE', `--page ${String(values.page)}: use user or factory`);
    const url = positionals[0]!;
    const device = await openDevice(url);
    const bmc = openBmc(device);
    const bdf = device.transport === 'vfio' ? device.bdf : undefined;
    try {
      await bmc.reboot({
        target,
        page,
        device: url,
        aroundReload: bdf ? {
          after: async () => {
            const bridge = parentBridge(bdf);
            bmc.close();
            device.close();
            removeDevice(bdf);
            process.stdout.write(`${bdf} removed; waiting ${RELOAD_WAIT_MS / 1000} s for the ${target} to reload...\n`);
            await new Promise((r) => setTimeout(r, RELOAD_WAIT_MS));
            rescan(bridge);
          },
        } : undefined,
      });
    } finally {
      bmc.close();
      device.close();
    }
    process.stdout.write(`${target} reload from the ${page} page requested on ${url}\n`);
    return ExitCode.OK;
  },
};
