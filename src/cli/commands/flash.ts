// `vfiokit flash <device> IMAGE [--yes] [--json]`: secure update of the card's flash through its
// BMC, with a progress bar; Ctrl-C cancels while the image is being written (READY).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { progressBar } from '../progress.js';
import { openDevice } from '../../device/registry.js';
import { readSignedImage } from '../../afu/image/signed-image.js';
import { openBmc } from '../../afu/bmc/bmc.js';
import type { FlashProgress } from '../../afu/bmc/secure-update.js';
import { flashReserveHook } from '../../lock/hooks.js';

export const command: Command = {
  summary: 'flash a signed image (FPGA or BMC) through the card BMC (secure update)',
  help: `usage: vfiokit flash <device> IMAGE [--yes] [--json]

Runs the MAX10 BMC secure update with the Linux kernel's sequence and timeouts: asks the BMC to
prepare (it erases its 56 MiB staging area, up to 2 minutes), writes IMAGE into staging in 16 KiB
blocks, hands over, and waits while the BMC authenticates the image and copies it to flash (up
to 40 minutes). The progress bar shows PREPARING, READY (% written) and COPYING (% copied);
vfiokit status <device> shows the same from another shell. The new image runs after a reload:
vfiokit reboot <device> --target fpga|bmc.

Ctrl-C (or vfiokit cancel <device>) cancels while the image is being written; once the BMC
authenticates or copies, the update cannot be stopped and vfiokit says so and keeps waiting.
Root-key-hash and key-cancellation images cannot be undone: they need --yes. The device is
reserved for the update (vfiokit reservations).

options:
  --yes    confirm an irreversible image (root key hash, key cancellation)
  --json   print the result as JSON (no progress bar)

exit codes: 0 done, 1 the BMC refused or failed the update (the message names the doorbell
fields and AUTH_RESULT), 3 IMAGE is not a valid signed image, 4 device missing or busy,
130 cancelled

examples:
  vfiokit flash 0000:3b:00.0 n3000_fpga_update_signed.bin
  vfiokit image-info --create /tmp/fpga.bin && vfiokit flash sim:n3000 /tmp/fpga.bin
  vfiokit flash 0000:3b:00.0 root_key_hash.bin --yes`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { yes: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 2) throw new UsageError('EUSAGE', 'expected <device> IMAGE; see --help');
    const [url, path] = positionals as [string, string];
    const image = readSignedImage(path);
    if (image.irreversible && !values.yes) {
      throw new UsageError('EUSAGE', `${path} is a ${image.subtypeName} image for the ${image.contentTypeName}: it cannot be undone. Run again with --yes if you mean it`);
    }
    using device = await openDevice(url);
    using bmc = openBmc(device);
    const bar = progressBar('flash', { quiet: Boolean(values.json) });
    const abort = new AbortController();
    let state = 'IDLE';
    let copyingNoted = false;
    const onSigint = (): void => {
      if (state === 'READY' || state === 'PREPARING') {
        process.stderr.write('\nvfiokit flash: cancelling (the flash stays unchanged)...\n');
        abort.abort();
      } else if (!copyingNoted) {
        copyingNoted = true;
        process.stderr.write(`\nvfiokit flash: cannot cancel now: the BMC is ${state === 'COPYING' ? 'authenticating/copying' : state}; it must finish (interrupting it could leave the flash unusable). Waiting...\n`);
      }
    };
    process.on('SIGINT', onSigint);
    const total = image.bytes.length;
    try {
      const result = await bmc.update.flash(image, {
        confirm: Boolean(values.yes),
        signal: abort.signal,
        reserve: device.transport === 'sim' ? undefined : flashReserveHook(device.url),
        onProgress: (p: FlashProgress) => {
          state = p.state;
          if (p.state === 'PREPARING') bar.update(0, total, 'preparing (BMC erases staging)');
          else if (p.state === 'READY') bar.update(p.bytesWritten ?? 0, total, 'writing');
          else if (p.state === 'COPYING') bar.update((p.progress / 100) * total, total, `${p.bmcProgress ?? 'copying'}`);
        },
      });
      bar.finish(`flash done: ${image.contentTypeName} ${image.version || ''} written; it runs after a reload: vfiokit reboot ${url} --target ${image.contentType === 1 ? 'bmc' : 'fpga'}`);
      if (values.json) printJson({ device: url, ...result });
      return ExitCode.OK;
    } catch (err) {
      bar.finish();
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
