// `vfiokit status DEVICE [--json]`: the flash/reboot status of a card, as recorded by the
// process running the operation (readable from any process while it runs; no device access).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { deviceKeyArg } from '../resolve-device.js';
import { flashStateBusy, flashStateCancellable, readFlashStatus, type FlashStatus } from '../../afu/bmc/flash-status.js';

export const command: Command = {
  summary: 'show the flash update status of a card (IDLE, PREPARING, READY %, COPYING %, DONE, REBOOT)',
  help: `usage: vfiokit status DEVICE [--json]

Prints the secure-update status of DEVICE (a PCI address, a device URL or a reservation id) with
DPDK's status numbers (rte_pmd_ifpga.h IFPGA_RSU_*): 0 IDLE, 1 PREPARING (the BMC erases its
staging area), 2 READY (the host writes the image; progress = % written), 3 COPYING (the BMC
authenticates and copies; progress = % copied, estimated at the N3000's 42,700 bytes/s), 4
REBOOT; a finished update is DONE with status 0 and progress 100 (docs/flash-status.md). The record is
written by the process running the flash or reboot (vfiokit flash, vfiokit reboot, or a program
using the library), so this works from any process while it runs, without opening the device.
A record whose process died in the middle is shown as stale; the last failure is shown with the
state back at IDLE.

options:
  --json   machine-readable output ({"device", "status": <0..4>, "state", "progress", "pid", ...})

exit codes: 0 ok (whatever the state), 2 bad arguments, 4 no reservation with that id

examples:
  vfiokit status sim:n3000
  watch -n1 vfiokit status 0000:3b:00.0
  vfiokit status 0000:3b:00.0 --json | jq .progress
  vfiokit status r-1a2b3c4d`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `status takes one DEVICE (got ${positionals.length} arguments); see --help`);
    // No device access: the record is kept under the card's name, however the card is named here.
    const status = readFlashStatus(deviceKeyArg(positionals[0]));
    if (values.json) printJson(status);
    else process.stdout.write(formatStatus(status) + '\n');
    return ExitCode.OK;
  },
};

export function formatStatus(s: FlashStatus): string {
  const pct = s.state === 'READY' || s.state === 'COPYING' ? ` ${s.progress}%` : '';
  const lines = [`${s.device}: ${s.state}${pct}${s.stale ? ` (stale: process ${s.pid} is gone)` : ''}`];
  if (s.image) lines.push(`  image: ${s.image.typeName} ${s.image.subtypeName}${s.image.version ? ` ${s.image.version}` : ''}, ${s.image.length} bytes`);
  if (s.pid && !s.stale && flashStateBusy(s.state)) lines.push(`  process: ${s.pid}`);
  if (s.updatedAt) lines.push(`  updated: ${new Date(s.updatedAt).toISOString()}`);
  if (s.error) lines.push(`  last error: ${s.error.code}: ${s.error.message}`);
  if (s.stale && flashStateCancellable(s.state)) lines.push(`  the BMC may still wait for the rest of the image: vfiokit cancel ${s.device} returns it to idle`);
  return lines.join('\n');
}
