// Ask the host to change a served card while the guest runs (arm or clear a sim fault): the guest
// prints "VFIOKIT-CONTROL <id> <json>" on the console, test/kernel/run.ts forwards the request to
// that card's `vfiokit serve --control` and types "VFIOKIT-ACK <id> <json>" back on the console,
// which is this process's stdin. The kernel drivers see only the card's changed behaviour.
import readline from 'node:readline';
import { CONTROL_PREFIX, ACK_PREFIX } from '../protocol.js';

let serial = 0;
let lines: readline.Interface | undefined;
const waiting = new Map<number, (reply: { ok: boolean; error?: string }) => void>();

export function hostControl(request: Record<string, unknown>, timeoutMs = 30000): Promise<void> {
  if (!lines) {
    lines = readline.createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      const at = line.indexOf(ACK_PREFIX);
      if (at < 0) return;
      const m = /^(\d+) (.*)$/.exec(line.slice(at + ACK_PREFIX.length).trim());
      if (!m) return;
      const done = waiting.get(Number(m[1]));
      if (!done) return;
      waiting.delete(Number(m[1]));
      try {
        done(JSON.parse(m[2]!) as { ok: boolean; error?: string });
      } catch {
        done({ ok: false, error: `unreadable ack ${m[2]}` });
      }
    });
  }
  const id = ++serial;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`the host did not acknowledge control request ${JSON.stringify(request)} within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(id, (reply) => {
      clearTimeout(timer);
      if (waiting.size === 0) {
        lines?.close();
        lines = undefined;
      }
      if (reply.ok) resolve();
      else reject(new Error(`the host refused ${JSON.stringify(request)}: ${reply.error}`));
    });
    process.stdout.write(`${CONTROL_PREFIX}${id} ${JSON.stringify(request)}\n`);
  });
}
