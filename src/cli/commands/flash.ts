// `vfiokit flash DEVICE IMAGE [--yes] [--json]`: secure update of the card's flash through its
// BMC, with a progress bar; Ctrl-C cancels while the image is being written (READY).
import type { Command } from '../command.js';
import { flashPositionals } from '../opae-habits.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { progressBar } from '../progress.js';
import { openDeviceArg, resolveDevice, deviceKeyArg } from '../resolve-device.js';
import { readSignedImageFile } from '../input-file.js';
import { ImageError } from '../../afu/image/signed-image.js';
import { flashRefusal } from '../../afu/image/flashable.js';
import { openBmc } from '../../afu/bmc/bmc.js';
import { SecureUpdate, type FlashProgress } from '../../afu/bmc/secure-update.js';
import { flashStateCancellable, type FlashStateName } from '../../afu/bmc/flash-status.js';
import { flashReserveHook } from '../../lock/hooks.js';

export const command: Command = {
  summary: 'flash a signed image (FPGA or BMC) through the card BMC (secure update)',
  help: `usage: vfiokit flash DEVICE IMAGE [--yes] [--json]

Updates the flash of DEVICE (a PCI address, a device URL or a reservation id) through its
MAX10 BMC with the Linux kernel's secure-update sequence and timeouts: asks the BMC to prepare
(it erases its 56 MiB staging area, up to 2 minutes), writes IMAGE into staging in 16 KiB
blocks, hands over, and waits while the BMC authenticates the image and copies it to flash (up
to 40 minutes). The progress bar shows PREPARING, READY (% written) and COPYING (% copied);
vfiokit status DEVICE shows the same from another shell. The new image runs after a reload:
vfiokit reboot DEVICE --target fpga|bmc.

Ctrl-C (or vfiokit cancel DEVICE) cancels while the image is being written; once the BMC
authenticates or copies, the update cannot be stopped and vfiokit says so and keeps waiting.
Root-key-hash and key-cancellation images cannot be undone: they need --yes. The card is held
in state PROGRAM for the update (reserved automatically when it is free, and freed after it; one
you reserved stays yours; a card another process holds is refused, exit 4).

options:
  --yes    confirm an irreversible image (root key hash, key cancellation)
  --json   print the result as JSON (no progress bar)

The progress bar (percent, rate, ETA) goes to stderr; it redraws in place on a terminal and
prints a line every 10% otherwise.

exit codes: 0 done, 1 the BMC refused or failed the update (the message names the doorbell
fields and AUTH_RESULT), 2 bad arguments, 3 IMAGE is not a valid signed image or not one the
BMC flashes (a PR-key update, or a root key hash / cancellation for a type other than SR, BMC, PR;
the message says why), 4 IMAGE cannot be read, or the device is missing, busy or reserved by another process, 130 cancelled

examples:
  vfiokit flash 0000:3b:00.0 n3000_fpga_update_signed.bin
  vfiokit image-info --create /tmp/fpga.bin && vfiokit flash sim:n3000 /tmp/fpga.bin
  vfiokit flash 0000:3b:00.0 root_key_hash.bin --yes`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { yes: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 2) throw new UsageError('EUSAGE', `flash takes DEVICE and IMAGE (got ${positionals.length} arguments); see --help`);
    const [deviceArg, path] = flashPositionals(positionals, (text) => process.stderr.write(`vfiokit flash: ${text}\n`));
    const url = resolveDevice(deviceArg);
    const key = deviceKeyArg(url);
    const image = readSignedImageFile(path);
    const refusal = flashRefusal(image.contentType, image.subtype);
    if (refusal) throw new ImageError('EIMAGE_TYPE', `${path}: ${refusal}`, { path, contentType: image.contentType, subtype: image.subtype });
    if (image.irreversible && !values.yes) {
      throw new UsageError('EUSAGE', `${path} is a ${image.subtypeName} image for the ${image.contentTypeName}: it cannot be undone. Run again with --yes if you mean it`);
    }
    using device = await openDeviceArg(url);
    using bmc = await openBmc(device);
    // The status file and the cancel request are kept under the card's name (its key), so
    // vfiokit status / cancel from another shell find them however the card was named.
    const update = new SecureUpdate(bmc.transport, { device: key });
    const bar = progressBar('flash', { quiet: Boolean(values.json) });
    const abort = new AbortController();
    let state: FlashStateName = 'IDLE';
    let copyingNoted = false;
    const onSigint = (): void => {
      if (flashStateCancellable(state)) {
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
      const result = await update.flash(image, {
        confirm: Boolean(values.yes),
        signal: abort.signal,
        // Taken like pr takes it, for every transport: a simulated card is a fresh model per
        // open, but its reservation is the shared record other vfiokit processes check.
        reserve: flashReserveHook(key),
        onProgress: (p: FlashProgress) => {
          state = p.state;
          if (p.state === 'PREPARING') bar.update(0, total, 'preparing (BMC erases staging)');
          else if (p.state === 'READY') bar.update(p.bytesWritten ?? 0, total, 'writing');
          else if (p.state === 'COPYING') bar.update((p.progress / 100) * total, total, `${p.bmcProgress ?? 'copying'}`);
        },
      });
      bar.complete('DONE');
      if (values.json) printJson({ device: url, ...result });
      else process.stdout.write(`flash done: ${image.contentTypeName}${image.version ? ` ${image.version}` : ''} written to ${url}; it runs after a reload: vfiokit reboot ${deviceArg} --target ${image.contentType === 1 ? 'bmc' : 'fpga'}\n`);
      return ExitCode.OK;
    } catch (err) {
      bar.finish();
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
