// `vfiokit pr DEVICE FILE [--port N] [--force] [--dry-run] [--json]`: partial reconfiguration.
import { readGbsFile } from '../input-file.js';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { progressBar } from '../progress.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { Card } from '../../afu/card.js';
import { parseGbs } from '../../afu/pr/gbs.js';
import { reconfigureCard } from '../../afu/pr/card-pr.js';
import type { PrStep } from '../../afu/pr/partial-reconfiguration.js';
import { prReservationHook } from '../../lock/hooks.js';

const STEP_LABELS: Partial<Record<PrStep, string>> = {
  'disable-port': 'disabling port',
  'pr-reset': 'resetting PR engine',
  stream: 'writing',
  'wait-done': 'finishing',
  'enable-port': 'enabling port',
};

export const command: Command = {
  summary: 'partial reconfiguration: load a GBS (AFU bitstream) into a port',
  help: `usage: vfiokit pr DEVICE FILE [--port N] [--force] [--dry-run] [--json]

Loads the AFU bitstream in the GBS FILE into port N (default 0) of DEVICE through the FME's
partial reconfiguration feature, with the kernel's sequence (dfl-fme-mgr.c): check that the
GBS's interface UUID equals the card's PR interface ID (before anything is written), clear the
port's errors and disable the port, reset the PR engine, stream the bitstream gated by credits,
complete, check PR_ERR bit by bit, and enable the port again - also when something fails. Then
walks the card again and prints the AFU GUID the port now shows. A PACSign-signed GBS is sent
as OPAE's fpgaconf and the kernel send it: everything after the JSON metadata, signature blocks
(block0 + block1) first, for the PR engine to authenticate.

DEVICE is a PCI address (3b:00.0), a device URL (sim:n3000, vfio:0000:3b:00.0,
vfio-user:/run/card.sock) or a reservation id. The card is held in state PROGRAM for the
duration (reserved automatically when it is free; see vfiokit reserve).

options:
  --port N    port (PR region) to load, 0..FME port count-1 (default 0)
  --force     load even if the interface UUID does not match, or a PACSign-signed GBS has a
              payload that does not match its block0 or is not signed as PR content (the card
              may refuse it, and the region may be left unusable until a good GBS is loaded)
  --dry-run   validate the GBS, the interface UUID and the port; write nothing
  --json      machine-readable result (no progress bar)

exit codes: 0 loaded (or valid with --dry-run), 1 PR failed (PR_ERR bits, timeouts, interface
mismatch), 2 bad arguments, 3 bad GBS file, 4 device missing/busy/reserved, 130 interrupted

examples:
  vfiokit gbs-info hello_afu.gbs
  vfiokit pr 3b:00.0 hello_afu.gbs
  vfiokit pr sim:n3000 demo.gbs --dry-run --json
  vfiokit pr vfio:0000:3b:00.0 nlb_mode_3.gbs --port 0`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      port: { type: 'string' },
      force: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 2) {
      throw new UsageError('EUSAGE', positionals.length < 2 ? `missing ${positionals.length ? 'FILE' : 'DEVICE and FILE'}; usage: vfiokit pr DEVICE FILE [--port N]` : `unexpected argument "${positionals[2]}"; see --help`);
    }
    const [deviceArg, path] = positionals as [string, string];
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!/^\d+$/.test(values.port ?? '0') || !Number.isSafeInteger(port)) throw new UsageError('EUSAGE', `--port ${values.port} is not a port number (0, 1, ...)`);

    const bytes = readGbsFile(path);
    const gbs = parseGbs(bytes, path);
    const url = resolveDevice(deviceArg);
    using device = await openDeviceArg(deviceArg);
    const card = Card.discover(device);
    const json = Boolean(values.json);
    const dryRun = Boolean(values['dry-run']);
    const bar = progressBar(`pr ${basename(path)}`, { quiet: json || dryRun });
    const abort = new AbortController();
    const onSigint = (): void => abort.abort();
    process.once('SIGINT', onSigint);
    let label = '';
    try {
      const reservation = dryRun
        ? undefined
        : prReservationHook(url, { signature: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, ...(gbs.acceleratorUuid ? { afuGuid: gbs.acceleratorUuid } : {}), file: path });
      const result = await reconfigureCard(card, gbs, {
        port,
        force: Boolean(values.force),
        dryRun,
        signal: abort.signal,
        ...(reservation ? { reservation } : {}),
        onProgress: (p) => {
          if (p.step === 'validate' || p.step === 'reserve') return; // nothing to show until the card is touched
          label = STEP_LABELS[p.step] ?? label;
          bar.update(p.written, p.total, label);
        },
      });
      const afuGuid = dryRun ? undefined : Card.discover(device).afu(port)?.guid;
      if (json) {
        printJson({ device: device.url, file: path, ...result, afuGuid });
        return ExitCode.OK;
      }
      if (dryRun) {
        const match = gbs.interfaceUuid === result.fmeInterfaceUuid ? 'matches the card' : `does NOT match the card's ${result.fmeInterfaceUuid} (ignored with --force)`;
        process.stdout.write(
          `dry run: ${path} can be loaded into port ${port} of ${device.url}: interface ${gbs.interfaceUuid} ${match}, ${gbs.bitstreamLength} bytes${gbs.signature ? ` (PACSign-signed: 1,024 bytes of signature blocks + ${gbs.signature.payloadLength} bytes of bitstream, sent together as fpgaconf sends them)` : ''}; ` +
            `PR engine ${result.status?.busy ? 'busy' : 'idle'} with ${result.status?.credits ?? 0} credits; nothing was written\n`,
        );
        return ExitCode.OK;
      }
      bar.complete(`done, AFU ${afuGuid ?? 'none'}`);
      const mbps = result.bytesPerSec / 1e6;
      process.stdout.write(
        `loaded ${path}${gbs.signature ? ' (PACSign-signed)' : ''} into port ${port} of ${device.url}: ${result.bytesWritten} bytes in ${result.durationMs.toFixed(1)} ms (${mbps.toFixed(1)} MB/s device time)\n` +
          `AFU GUID now: ${afuGuid ?? '(no AFU found behind the port)'}${gbs.acceleratorUuid && afuGuid && gbs.acceleratorUuid !== afuGuid ? ` (the GBS names ${gbs.acceleratorUuid})` : ''}\n` +
          (result.staleErrors.length ? `note: errors latched before this PR were cleared: ${result.staleErrors.join(', ')}\n` : ''),
      );
      return ExitCode.OK;
    } catch (err) {
      bar.finish();
      throw err;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
