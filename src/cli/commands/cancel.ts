// `vfiokit cancel <device>`: cancel a running flash update while the image is being written.
import type { Command } from '../command.js';
import { parseCommandLine, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDevice } from '../../device/registry.js';
import { readFlashStatus } from '../../afu/bmc/flash-status.js';
import { SecureUpdate } from '../../afu/bmc/secure-update.js';
import { openBmc } from '../../afu/bmc/bmc.js';

/** How long to wait for the flashing process to confirm the cancel. */
const CONFIRM_WAIT_MS = 10_000;

export const command: Command = {
  summary: 'cancel a flash update of a card (only while the image is being written)',
  help: `usage: vfiokit cancel <device>

Cancels a secure update of <device>. This is only possible while the host writes the image into
the BMC's staging area (status READY): the BMC then drops the staged image and the flash stays
unchanged. Once the BMC authenticates or copies (COPYING), the update cannot be stopped: cancel
refuses and names the state.

When another process runs the flash, cancel asks it (through the state directory) and waits for
it to stop; it does not touch the device while that process drives it. When no live process runs
it but the BMC still waits for an image (a flash that was killed), cancel aborts it directly.

exit codes: 0 cancelled, 1 refused (the message says the state), 4 device unavailable

examples:
  vfiokit cancel 0000:3b:00.0
  vfiokit cancel sim:n3000`,
  async run(argv) {
    const { positionals } = parseCommandLine(argv, {});
    if (positionals.length !== 1) throw new UsageError('EUSAGE', 'missing <device>: give a device URL or PCI address');
    const url = positionals[0]!;
    const before = readFlashStatus(url);
    const liveOther = before.pid && before.pid !== process.pid && !before.stale && ['PREPARING', 'READY', 'COPYING', 'REBOOT'].includes(before.state);
    if (liveOther) {
      const how = await new SecureUpdate(noDeviceTransport(url), { device: url }).cancel();
      process.stdout.write(`asked process ${before.pid} to cancel the flash of ${url} (${how})\n`);
      const deadline = Date.now() + CONFIRM_WAIT_MS;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const now = readFlashStatus(url);
        if (now.state === 'IDLE' || now.stale) {
          process.stdout.write(now.error?.code === 'ECANCELED' ? 'cancelled: the flash is unchanged\n' : `the flash stopped: ${now.error?.message ?? now.state}\n`);
          return now.error?.code === 'ECANCELED' ? ExitCode.OK : ExitCode.FAILURE;
        }
        if (now.state !== 'READY' && now.state !== 'PREPARING') {
          process.stderr.write(`vfiokit cancel: too late: the update went on to ${now.state}\n`);
          return ExitCode.FAILURE;
        }
      }
      process.stderr.write(`vfiokit cancel: process ${before.pid} did not confirm within ${CONFIRM_WAIT_MS / 1000} s; check vfiokit status ${url}\n`);
      return ExitCode.FAILURE;
    }
    using device = await openDevice(url);
    using bmc = openBmc(device);
    await bmc.update.cancel();
    process.stdout.write(`cancelled: the BMC dropped the staged image of ${url}; the flash is unchanged\n`);
    return ExitCode.OK;
  },
};

/** A transport for SecureUpdate.cancel() when another process owns the device: any access is a bug. */
function noDeviceTransport(url: string): import('../../afu/bmc/transport.js').BmcTransport {
  const refuse = (): never => { throw new Error(`internal: ${url} is driven by another process; cancel must not touch it`); };
  return { kind: 'none', clock: { now: () => 0, sleep: async () => {}, spin: () => {}, real: true }, read32: refuse, write32: refuse, readBlock: refuse, writeBlock: refuse, updateBits: refuse, close() {}, [Symbol.dispose]() {} };
}
