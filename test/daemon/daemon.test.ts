// The daemon's JSON-RPC server (src/daemon): typed errors for whatever a client sends (bad JSON,
// unknown methods, wrong types, oversized and unfinished requests), the daemon serving on; long
// operations that outlive their client; cancel and get_status from other connections; SO_PEERCRED
// in the log and in per-user rules, with a real second user (a child process as uid 65534).
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir, constants } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import createDebug from 'debug';
import { Daemon, type DaemonOptions } from '../../src/daemon/server.js';
import { RpcErrorCode } from '../../src/daemon/rpc-errors.js';
import { finalizeBackends } from '../../src/device/registry.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { skipUnlessCi } from '../helpers/skip-unless-ci.js';

const E = constants.errno;
const skipNotRoot = skipUnlessCi(process.getuid?.() === 0 ? undefined : 'not root (a test runs a python3 client as uid 65534)', '.ci/run runs as root');
const SIM = 'sim:n3000?clock=real&bmcTiming=fast';
let dir: string;
let daemon: Daemon | undefined;
const saved = { state: process.env.VFIOKIT_STATE_DIR, lock: process.env.VFIOKIT_LOCK_DIR };

interface Reply { id?: unknown; result?: unknown; error?: { code: number; message: string; data: { code: string } }; method?: string; params?: Record<string, unknown> }

/** A line-oriented test client. */
class Client {
  readonly socket: Socket;
  readonly replies: Reply[] = [];
  #buf = '';
  #waiters: (() => void)[] = [];
  closed = false;
  #next = 100;

  constructor(path: string) {
    this.socket = connect(path);
    this.socket.on('data', (d) => {
      this.#buf += d.toString();
      let nl;
      while ((nl = this.#buf.indexOf('\n')) >= 0) {
        this.replies.push(JSON.parse(this.#buf.slice(0, nl)) as Reply);
        this.#buf = this.#buf.slice(nl + 1);
      }
      this.#wake();
    });
    this.socket.on('close', () => { this.closed = true; this.#wake(); });
    this.socket.on('error', () => {});
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async until<T>(pick: () => T | undefined, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = pick();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out; replies: ${JSON.stringify(this.replies).slice(0, 500)}`);
      await new Promise<void>((r) => { this.#waiters.push(r); setTimeout(r, 50); });
    }
  }

  sendRaw(text: string): void {
    this.socket.write(text);
  }

  async call(method: string, params?: unknown): Promise<Reply> {
    const id = this.#next++;
    this.sendRaw(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    return this.until(() => this.replies.find((r) => r.id === id));
  }

  close(): void {
    this.socket.destroy();
  }
}

async function start(options: DaemonOptions = {}): Promise<string> {
  const path = join(dir, 'd.sock');
  daemon = await Daemon.listen(path, options);
  expect(await daemon.api.probe(SIM)).toBe(0);
  return path;
}

function image(): string {
  const file = join(dir, 'vc.bin');
  writeFileSync(file, buildSignedImage({ contentType: 1, version: 'bmc-2.0.15', payload: patternPayload(256 * 1024, 7) }));
  return file;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vfiokit-daemon-'));
  process.env.VFIOKIT_STATE_DIR = join(dir, 'state');
  process.env.VFIOKIT_LOCK_DIR = join(dir, 'locks');
});

afterEach(async () => {
  await daemon?.close();
  daemon = undefined;
  await finalizeBackends();
  for (const [k, v] of [['VFIOKIT_STATE_DIR', saved.state], ['VFIOKIT_LOCK_DIR', saved.lock]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('requests a client gets wrong', () => {
  it('bad JSON, invalid requests, unknown methods and wrong types get typed errors; the connection goes on', async () => {
    const c = new Client(await start());
    c.sendRaw('{"jsonrpc": "2.0", "id": 1, "method": \n');
    const parse = await c.until(() => c.replies[0]);
    expect(parse).toMatchObject({ id: null, error: { code: RpcErrorCode.PARSE_ERROR, data: { code: 'EPARSE' } } });
    c.sendRaw('[{"jsonrpc":"2.0","id":2,"method":"get_status"}]\n42\n{"id":3,"method":"get_status"}\n');
    await c.until(() => (c.replies.length >= 4 ? true : undefined));
    expect(c.replies.slice(1).map((r) => r.error?.code)).toEqual([RpcErrorCode.INVALID_REQUEST, RpcErrorCode.INVALID_REQUEST, RpcErrorCode.INVALID_REQUEST]);
    expect((await c.call('frobnicate')).error).toMatchObject({ code: RpcErrorCode.METHOD_NOT_FOUND, data: { code: 'ENOSYS' } });
    expect((await c.call('toString')).error?.code).toBe(RpcErrorCode.METHOD_NOT_FOUND); // no prototype methods
    for (const [method, params] of [['probe', [5]], ['probe', []], ['enumerate', { vid: 'x' }], ['enumerate', { colour: 1 }],
      ['get_property', ['sim:n3000', 1, 2]], ['pr', { id: 'sim:n3000', port: 1.5, file: '/x' }], ['get_status', 'sim:n3000'],
      ['flash', { id: 'sim:n3000', file: 'relative/vc.bin' }]] as const) {
      expect((await c.call(method, params)).error, `${method} ${JSON.stringify(params)}`).toMatchObject({ code: RpcErrorCode.INVALID_PARAMS, data: { code: 'EINVAL' } });
    }
    // The seed's results are results, not errors: -errno and null.
    expect((await c.call('flash', { id: 'sim:n3000', file: join(dir, 'missing.bin') })).result).toBe(-E.ENOENT);
    expect((await c.call('get_parent', ['sim:n3000'])).result).toBeNull();
    expect((await c.call('get_status', ['sim:n3000'])).result).toMatchObject({ status: 0, progress: 0 });
    const prop = (await c.call('get_property', { id: 'sim:n3000', type: 2 })).result as { fme: { bbs_id: number } };
    expect(typeof prop.fme.bbs_id).toBe('number'); // a bigint on the wire as a JSON integer
    c.close();
  });

  it('an oversized request is refused and its connection closed; other clients are served', async () => {
    const path = await start({ maxRequestBytes: 4096 });
    const big = new Client(path);
    const other = new Client(path);
    big.sendRaw('{"jsonrpc":"2.0","id":1,"method":"get_status","params":["' + 'x'.repeat(10_000));
    expect(await big.until(() => big.replies[0])).toMatchObject({ error: { code: RpcErrorCode.REQUEST_TOO_LARGE, data: { code: 'EREQUEST_TOO_LARGE', limit: 4096 } } });
    await big.until(() => (big.closed ? true : undefined));
    expect((await other.call('get_api_version', [1])).result).toMatch(/^\d+\.\d+\.\d+$/);
    other.close();
  });

  it('a slow client that never finishes its line is timed out; a slow reader is dropped', async () => {
    const path = await start({ requestTimeoutMs: 200, maxQueuedBytes: 0 });
    const slow = new Client(path);
    slow.sendRaw('{"jsonrpc":"2.0","id":1,"met');
    expect(await slow.until(() => slow.replies[0])).toMatchObject({ error: { code: RpcErrorCode.REQUEST_TIMEOUT, data: { code: 'EREQUEST_TIMEOUT' } } });
    await slow.until(() => (slow.closed ? true : undefined));
    // A reader that leaves replies unread: with no queue allowed, the first reply that cannot go out at once drops it.
    const reader = new Client(path);
    reader.socket.pause();
    reader.sendRaw(Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'get_api_version' }) + '\n').join(''));
    await reader.until(() => (reader.closed ? true : undefined));
    const fine = new Client(path);
    expect((await fine.call('get_proc_type')).result).toBe(-1);
    fine.close();
  });

  it('too many clients: the extra one is told SERVER_BUSY', async () => {
    const path = await start({ maxClients: 1 });
    const a = new Client(path);
    await a.call('get_api_version');
    const b = new Client(path);
    expect(await b.until(() => b.replies[0])).toMatchObject({ error: { code: RpcErrorCode.SERVER_BUSY } });
    a.close();
  });
});

describe('long operations and other connections', () => {
  it('flash sends progress; a client that disconnects mid-flash does not stop it; get_status from another connection', async () => {
    const path = await start();
    const file = image();
    const a = new Client(path);
    a.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'flash', params: { id: 'sim:n3000', file } }) + '\n');
    await a.until(() => a.replies.find((r) => r.method === 'progress' && r.params?.state === 'READY'));
    expect(a.replies[0]).toMatchObject({ method: 'progress', params: { request: 1, method: 'flash', id: 'sim:n3000' } });
    a.close();
    const b = new Client(path);
    const second = await b.call('flash', { id: 'sim:n3000', file });
    expect(second.result).toBe(-E.EBUSY); // one long operation per card
    let status: { status: number; progress: number } | undefined;
    for (let i = 0; i < 400; i++) {
      status = (await b.call('get_status', ['sim:n3000'])).result as { status: number; progress: number };
      if (status.status === 0 && status.progress === 100) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toMatchObject({ status: 0, progress: 100 }); // DONE: DPDK's IDLE at 100 (docs/flash-status.md)
    b.close();
  });

  it('cancel from another connection stops a flash while READY', async () => {
    const path = await start();
    const file = image();
    const a = new Client(path);
    const b = new Client(path);
    a.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'flash', params: ['sim:n3000', file] }) + '\n');
    await a.until(() => a.replies.find((r) => r.method === 'progress' && r.params?.state === 'READY' && (r.params.progress as number) > 10));
    expect((await b.call('cancel', ['sim:n3000'])).result).toBe(0);
    expect((await a.until(() => a.replies.find((r) => r.id === 7))).result).toBe(-E.ECANCELED);
    expect((await b.call('get_status', ['sim:n3000'])).result).toMatchObject({ status: 0 });
    a.close();
    b.close();
  });
});

describe('authorization', () => {
  it('the socket is 0600 by default, 0660 and group-owned with a group', async () => {
    const path = await start();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await daemon!.close();
    daemon = await Daemon.listen(path, { gid: 1 });
    expect(statSync(path).mode & 0o777).toBe(0o660);
    expect(statSync(path).gid).toBe(1);
  });

  it('every call is logged with the SO_PEERCRED uid, gid and pid of its caller', async () => {
    const lines: string[] = [];
    const prior = createDebug.log;
    const namespaces = createDebug.disable();
    createDebug.enable('vfiokit:daemon');
    createDebug.log = (...args: unknown[]) => { lines.push(format(...args)); };
    try {
      const c = new Client(await start());
      await c.call('get_status', ['sim:n3000']);
      c.close();
    } finally {
      createDebug.log = prior;
      createDebug.enable(namespaces);
    }
    expect(lines.join('\n')).toContain(`uid=${process.getuid!()} gid=${process.getgid!()} pid=${process.pid}: get_status({"id":"sim:n3000"})`);
  });

  it.skipIf(skipNotRoot)('another user cannot cancel a flash, change the log file or make the daemon read a file it may not', async () => {
    chmodSync(dir, 0o755);
    const path = await start({ mode: 0o666 });
    const file = image();
    chmodSync(file, 0o600);
    const a = new Client(path);
    a.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'flash', params: ['sim:n3000', file] }) + '\n');
    await a.until(() => a.replies.find((r) => r.method === 'progress' && r.params?.state === 'READY'));
    // uid 65534 ("nobody"), a real other peer: python3 as a child process with its own credentials.
    const asNobody = (requests: unknown[]): Promise<Reply[]> => new Promise((resolve, reject) => {
      const script = `import json,socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f=s.makefile('rwb')
for r in json.loads(sys.argv[2]):
    f.write((json.dumps(r)+'\\n').encode()); f.flush(); print(f.readline().decode().strip())`;
      execFile('python3', ['-c', script, path, JSON.stringify(requests)], { uid: 65534, gid: 65534 }, (err, out) => (err ? reject(err) : resolve(out.trim().split('\n').map((l) => JSON.parse(l) as Reply))));
    });
    const [cancel, logFile, info] = await asNobody([
      { jsonrpc: '2.0', id: 1, method: 'cancel', params: ['sim:n3000'] },
      { jsonrpc: '2.0', id: 2, method: 'set_log_file', params: ['/tmp/x.log'] },
      { jsonrpc: '2.0', id: 3, method: 'get_image_info', params: [file] },
    ]);
    expect(cancel!.error).toMatchObject({ code: RpcErrorCode.PERMISSION_DENIED, data: { code: 'EPERM', uid: 0 } });
    expect(logFile!.error).toMatchObject({ code: RpcErrorCode.PERMISSION_DENIED });
    expect(info!.error).toMatchObject({ code: RpcErrorCode.PERMISSION_DENIED, data: { code: 'EACCES', uid: 65534 } });
    expect((await a.until(() => a.replies.find((r) => r.id === 1))).result).toBe(0); // the flash was not cancelled
    a.close();
  });
});
