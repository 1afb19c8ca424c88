// `vfiokit serve DEVICE --socket PATH`: host a device over vfio-user for another process.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { untilSignal } from '../until-signal.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { VfioUserServer } from '../../vfio-user/server.js';
import { SimDevice } from '../../sim/sim-device.js';
import { applySimControl } from '../../sim/control.js';
import readline from 'node:readline';

/** A served sim runs on the real clock (its model delays are microseconds) unless the URL says otherwise. */
export function servedUrl(url: string): string {
  if (!url.startsWith('sim:') || /[?&]clock=/.test(url)) return url;
  return url + (url.includes('?') ? '&' : '?') + 'clock=real';
}

export function parseMode(text: string | undefined): number {
  if (text === undefined) return 0o600;
  if (!/^0?[0-7]{3}$/.test(text)) throw new UsageError('EUSAGE', `--mode "${text}" is not an octal permission mode like 0600 or 0660`);
  return parseInt(text, 8);
}

function parseOwner(text: string | undefined): { uid: number; gid: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new UsageError('EUSAGE', `--owner "${text}" is not UID:GID (numbers, e.g. 1000:1000)`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

/** --control: one JSON request a line on stdin, one JSON answer a line on stdout. */
function controlLines(device: SimDevice): readline.Interface {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      const done = applySimControl(device, JSON.parse(line));
      process.stdout.write(`${JSON.stringify({ ok: true, done })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message })}\n`);
    }
  });
  return lines;
}

export const command: Command = {
  summary: 'serve a device over vfio-user on a UNIX socket (sim:n3000 for a simulated card)',
  help: `usage: vfiokit serve DEVICE --socket PATH [--mode 0600] [--owner UID:GID] [--no-twin] [--spin-us N] [--spin-fixed] [--handshake-timeout MS] [--control] [--json]

Hosts DEVICE (a device URL such as sim:n3000, a PCI address or a reservation id) for one vfio-user client at a time
on the UNIX socket PATH, created with mode 0600 (or --mode) before anyone can connect. Clients
open it as vfio-user:PATH (vfiokit, or any vfio-user client such as QEMU's vfio-user-pci).
Client DMA memory arrives as fds and is mapped into the device; interrupts are signalled
through the client's eventfds. When a client disconnects its DMA mappings are dropped and the
next client is served. A simulated card runs on the real clock here (model delays are
microseconds), unless the URL says clock=virtual. Stops on Ctrl-C / SIGTERM and removes PATH.

options:
  --socket PATH    socket file to create (a stale socket nobody listens on is replaced)
  --mode MODE      octal permission mode of the socket file (default 0600)
  --owner U:G      chown the socket file (numeric uid:gid)
  --no-twin        do not offer the twin socket for server-to-client DMA messages
  --spin-us N      after each message keep reading the socket for N us (default 50) so back-to-back
                   register accesses skip a thread wake-up; the window adapts (it closes when the
                   client cannot answer in time: same core, loaded machine)
  --spin-fixed     always spin the whole --spin-us window (no adaptation; for comparisons)
  --handshake-timeout MS
                   drop a client that sends no VERSION this long after connecting (default 10000);
                   clients that connect while one is served are answered EBUSY (they retry)
  --control        (sim cards) read JSON requests on stdin, one a line, that arm or clear faults
                   while a client drives the card: {"fault":"reset-ack","on":true},
                   {"prFault":"crc","on":false}, {"bmcFault":"auth-fail"}, set readings ({"fpgaTemp":95}, {"fpgaPower":40})
                   or latch errors ({"fmeError":"0x2"}, {"pcie0Error":..}, {"pcie1Error":..},
                   {"portError":"0x4"}); each is answered on stdout with {"ok":true,...}
                   or {"ok":false,"error":...}. The server stops when stdin closes (its
                   controller went away)
  --json           print {"socket", "device", "pid"} once listening

exit codes: 0 stopped by a signal, 2 bad arguments, 4 device or socket path unavailable

examples:
  vfiokit serve sim:n3000 --socket /run/vfiokit/card.sock
  vfiokit serve 'sim:n3000?fault=dma' --socket /tmp/card.sock --mode 0660 --owner 0:1000
  vfiokit peek vfio-user:/run/vfiokit/card.sock 0x0      # from another shell`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      socket: { type: 'string', short: 's' },
      mode: { type: 'string' },
      owner: { type: 'string' },
      'no-twin': { type: 'boolean' },
      'spin-us': { type: 'string' },
      control: { type: 'boolean' },
      'spin-fixed': { type: 'boolean' },
      'handshake-timeout': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `serve takes one DEVICE (got ${positionals.length}); see --help`);
    if (!values.socket) throw new UsageError('EUSAGE', 'serve needs --socket PATH (where clients connect)');
    const mode = parseMode(values.mode);
    const owner = parseOwner(values.owner);
    const spinUs = values['spin-us'] === undefined ? undefined : Number(values['spin-us']);
    if (spinUs !== undefined && (!Number.isInteger(spinUs) || spinUs < 0 || spinUs > 100_000)) throw new UsageError('EUSAGE', `--spin-us "${values['spin-us']}" is not an integer 0..100000`);
    const handshake = values['handshake-timeout'] === undefined ? undefined : Number(values['handshake-timeout']);
    if (handshake !== undefined && (!Number.isInteger(handshake) || handshake < 1 || handshake > 3_600_000)) throw new UsageError('EUSAGE', `--handshake-timeout "${values['handshake-timeout']}" is not an integer 1..3600000 (milliseconds)`);
    const device = await openDeviceArg(servedUrl(resolveDevice(positionals[0]!)));
    if (values.control && !(device instanceof SimDevice)) {
      device.close();
      throw new UsageError('EUSAGE', `--control changes a simulated card's faults; ${device.url} is not a sim card`);
    }
    let server: VfioUserServer;
    try {
      server = new VfioUserServer(device, values.socket, { mode, ...(owner ? { owner } : {}), twinSocket: !values['no-twin'], ...(spinUs !== undefined ? { spinUs } : {}), spinAdaptive: !values['spin-fixed'], ...(handshake !== undefined ? { handshakeTimeoutMs: handshake } : {}) });
    } catch (err) {
      device.close();
      throw err;
    }
    if (values.json) printJson({ socket: values.socket, device: device.url, pid: process.pid });
    else process.stdout.write(`serving ${device.url} on ${values.socket} (pid ${process.pid}); Ctrl-C to stop\n`);
    server.on('connect', () => { if (!values.json) process.stdout.write('client connected\n'); });
    server.on('disconnect', () => { if (!values.json) process.stdout.write('client disconnected\n'); });
    server.on('notice', (text) => { if (!values.json) process.stdout.write(`${text}\n`); });
    const control = values.control ? controlLines(device as SimDevice) : undefined;
    await untilSignal(control);
    control?.close();
    server.close();
    device.close();
    return ExitCode.OK;
  },
};
