// `vfiokit cancel DEVICE`: cancel a running flash update while the image is being written.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice, deviceKeyArg } from '../resolve-device.js';
import { SecureUpdate } from '../../afu/bmc/secure-update.js';
import { openBmc } from '../../afu/bmc/bmc.js';
import { cancelFlash } from '../../afu/flash-coordination.js';

/** How long to wait for the flashing process to confirm the cancel. */
const CONFIRM_WAIT_MS = 10_000;

export const command: Command = {
  summary: 'cancel a flash update of a card (only while the image is being written)',
  help: `usage: vfiokit cancel DEVICE [--json]

Cancels a secure update of DEVICE (a PCI address, a device URL or a reservation id). This is
only possible while the host writes the image into the BMC's staging area (status READY): the
BMC then drops the staged image and the flash stays unchanged. Once the BMC authenticates or
copies (COPYING), the update cannot be stopped: cancel refuses and names the state.

When another process runs the flash, cancel asks it (through the state directory) and waits up
to ${CONFIRM_WAIT_MS / 1000} s for it to stop; it does not touch the device while that process drives it.
Only the user running the flash (or root) may cancel it.
When no live process runs it but the BMC still waits for an image (a flash that was killed),
cancel opens the card and aborts it directly.

options:
  --json   print { device, cancelled: true, how } instead of the sentence

exit codes: 0 cancelled, 1 refused or not confirmed (the message says the state), 2 bad
arguments, 4 device unavailable or the flash is another user's

examples:
  vfiokit cancel 0000:3b:00.0
  vfiokit cancel sim:n3000
  vfiokit cancel r-1a2b3c4d --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `cancel takes one DEVICE (got ${positionals.length} arguments); see --help`);
    const url = resolveDevice(positionals[0]);
    const key = deviceKeyArg(url);
    const say = (line: string): void => { if (!values.json) process.stdout.write(line + '\n'); };
    const result = await cancelFlash(key, {
      name: positionals[0],
      confirmMs: CONFIRM_WAIT_MS,
      onAsked: (pid) => say(`asked process ${pid} to cancel the flash of ${key}`),
      abortLeftover: async () => {
        using device = await openDeviceArg(url);
        using bmc = await openBmc(device);
        await new SecureUpdate(bmc.transport, { device: key }).cancel();
      },
    });
    if (values.json) printJson({ device: key, cancelled: true, how: result.how, ...(result.how === 'process' ? { pid: result.pid } : {}) });
    else say(result.how === 'process' ? 'cancelled: the flash is unchanged' : `cancelled: the BMC dropped the staged image of ${key}; the flash is unchanged`);
    return ExitCode.OK;
  },
};
