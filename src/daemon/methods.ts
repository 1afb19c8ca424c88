// The daemon's JSON-RPC methods: the management API (src/manage/api.ts) under the seed "opae"
// module's names (DPDK drivers/raw/ifpga, opae python wrapper: get_api_version ... cleanup_eal),
// with the seed's parameter names. Params come by position (the seed's order) or by name.
// Results are what the seed returns: 0/positive or -errno for actions, an object/list or null for
// queries. Long calls (flash, pr) send "progress" notifications to the calling connection.
import { constants } from 'node:os';
import type { ManagementApi } from '../manage/api.js';
import type { PeerCred } from '../sys/peer-cred.js';
import { RpcError, RpcErrorCode } from './rpc-errors.js';
import { checkPeerMayRead } from './peer-file-access.js';

const E = constants.errno as Record<string, number>;

type ParamType = 'string' | 'int' | 'bool-int';
interface ParamSpec {
  name: string;
  type: ParamType;
  optional?: boolean;
  /** A file the daemon reads on the caller's behalf: absolute path, readable by the peer. */
  file?: boolean;
}

export interface CallContext {
  api: ManagementApi;
  peer: PeerCred;
  /** The daemon's own uid (the socket owner). */
  daemonUid: number;
  /** Send a progress notification to the caller (dropped when it has gone). */
  progress(update: { method: string; id: string; state: string; progress: number }): void;
  /** Long operations by device URL: who runs what (cancel/remove rules). */
  operations: Map<string, { method: string; uid: number; pid: number }>;
  /** The caller asked init_eal on this connection (get_proc_type answers -1 before). */
  session: { initialized: boolean };
}

interface Method {
  params: ParamSpec[];
  call(ctx: CallContext, p: Record<string, unknown>): unknown;
}

const id: ParamSpec = { name: 'id', type: 'string' };

/** May this peer act on an operation another peer started? Its own, root, or the daemon's owner. */
function mayControl(ctx: CallContext, uid: number): boolean {
  return ctx.peer.uid === uid || ctx.peer.uid === 0 || ctx.peer.uid === ctx.daemonUid;
}

/** Only root and the daemon's owner change the daemon's own logging. */
function requireAdmin(ctx: CallContext, what: string): void {
  if (ctx.peer.uid !== 0 && ctx.peer.uid !== ctx.daemonUid) {
    throw new RpcError(RpcErrorCode.PERMISSION_DENIED, 'EPERM', `${what} changes the daemon's logging; only uid ${ctx.daemonUid} (the daemon's owner) or root may call it (you are uid ${ctx.peer.uid})`, { uid: ctx.peer.uid });
  }
}

/** Run a long operation on a device, recorded in ctx.operations; -EBUSY when one runs already. */
async function longOperation(ctx: CallContext, method: string, device: string, run: (url: string) => Promise<number>): Promise<number> {
  let url: string;
  try {
    url = ctx.api.resolve(device);
  } catch {
    return run(device); // the API reports the bad id with its own -errno
  }
  const running = ctx.operations.get(url);
  if (running) return -E.EBUSY!;
  ctx.operations.set(url, { method, uid: ctx.peer.uid, pid: ctx.peer.pid });
  try {
    return await run(device);
  } finally {
    ctx.operations.delete(url);
  }
}

/** Refuse an action on a device while another user's long operation runs on it. */
function guardOthers(ctx: CallContext, device: string, what: string): number | undefined {
  let url: string;
  try {
    url = ctx.api.resolve(device);
  } catch {
    return undefined;
  }
  const running = ctx.operations.get(url);
  if (!running) return undefined;
  if (!mayControl(ctx, running.uid)) {
    throw new RpcError(RpcErrorCode.PERMISSION_DENIED, 'EPERM', `${what} ${device}: uid ${running.uid} runs ${running.method} on it; only that user or root may`, { device, uid: running.uid });
  }
  return what === 'cancel' ? undefined : -E.EBUSY!;
}

const progressTo = (ctx: CallContext, method: string, device: string) => (p: { state: string; progress: number }) =>
  ctx.progress({ method, id: device, state: p.state, progress: p.progress });

export const methods: Record<string, Method> = {
  get_api_version: { params: [{ name: 'format', type: 'int', optional: true }], call: ({ api }, p) => api.getApiVersion((p.format as number | undefined) ?? 0) },
  set_log_level: {
    params: [{ name: 'level', type: 'int', optional: true }],
    call: (ctx, p) => {
      if (p.level !== undefined) requireAdmin(ctx, 'set_log_level');
      return ctx.api.setLogLevel(p.level as number | undefined);
    },
  },
  set_log_file: {
    params: [{ name: 'filename', type: 'string', optional: true }, { name: 'clean', type: 'bool-int', optional: true }],
    call: (ctx, p) => {
      requireAdmin(ctx, 'set_log_file');
      return ctx.api.setLogFile(p.filename as string | undefined, Boolean(p.clean));
    },
  },
  init_eal: {
    // The seed's EAL parameter string: the daemon is already initialised (it is the primary).
    params: [{ name: 'eal_parameters', type: 'string', optional: true }],
    call: async (ctx) => {
      const r = ctx.api.getProcType() === -1 ? await ctx.api.initEal() : 0;
      if (r >= 0) ctx.session.initialized = true;
      return r;
    },
  },
  get_proc_type: { params: [], call: (ctx) => (ctx.session.initialized ? ctx.api.getProcType() : -1) },
  cleanup_eal: {
    // Ends this client's session; the daemon keeps owning (and serving) the cards.
    params: [],
    call: (ctx) => {
      ctx.session.initialized = false;
      return 0;
    },
  },
  enumerate: {
    params: ['vid', 'did', 'cid', 'sub_vid', 'sub_did'].map((name) => ({ name, type: 'int' as const, optional: true })),
    call: ({ api }, p) => api.enumerate({
      ...(p.vid !== undefined ? { vid: p.vid as number } : {}),
      ...(p.did !== undefined ? { did: p.did as number } : {}),
      ...(p.cid !== undefined ? { cid: p.cid as number } : {}),
      ...(p.sub_vid !== undefined ? { subVid: p.sub_vid as number } : {}),
      ...(p.sub_did !== undefined ? { subDid: p.sub_did as number } : {}),
    }),
  },
  bind: { params: [id, { name: 'driver', type: 'string' }], call: (ctx, p) => guardOthers(ctx, p.id as string, 'bind') ?? ctx.api.bind(p.id as string, p.driver as string) },
  unbind: { params: [id], call: (ctx, p) => guardOthers(ctx, p.id as string, 'unbind') ?? ctx.api.unbind(p.id as string) },
  probe: { params: [id], call: ({ api }, p) => api.probe(p.id as string) },
  remove: { params: [id], call: (ctx, p) => guardOthers(ctx, p.id as string, 'remove') ?? ctx.api.remove(p.id as string) },
  get_property: { params: [id, { name: 'type', type: 'int', optional: true }], call: ({ api }, p) => api.getProperty(p.id as string, (p.type as number | undefined) ?? 0) },
  get_phy_info: { params: [id], call: ({ api }, p) => api.getPhyInfo(p.id as string) },
  get_parent: { params: [id], call: ({ api }, p) => api.getParent(p.id as string) },
  get_child: { params: [id], call: ({ api }, p) => api.getChild(p.id as string) },
  get_pf1: { params: [id], call: ({ api }, p) => api.getPf1(p.id as string) },
  get_image_info: { params: [{ name: 'file', type: 'string', file: true }], call: ({ api }, p) => api.getImageInfo(p.file as string) },
  get_status: { params: [id], call: ({ api }, p) => api.getStatus(p.id as string) },
  cancel: {
    params: [id, { name: 'force', type: 'bool-int', optional: true }],
    call: (ctx, p) => {
      guardOthers(ctx, p.id as string, 'cancel');
      return ctx.api.cancel(p.id as string);
    },
  },
  pr: {
    params: [id, { name: 'port', type: 'int' }, { name: 'file', type: 'string', file: true }],
    call: (ctx, p) => longOperation(ctx, 'pr', p.id as string, (device) =>
      ctx.api.pr({ id: device, port: p.port as number, file: p.file as string, onProgress: progressTo(ctx, 'pr', p.id as string) })),
  },
  flash: {
    params: [id, { name: 'file', type: 'string', file: true }],
    call: (ctx, p) => longOperation(ctx, 'flash', p.id as string, (device) =>
      ctx.api.flash({ id: device, file: p.file as string, onProgress: progressTo(ctx, 'flash', p.id as string) })),
  },
  reboot: {
    params: [id, { name: 'type', type: 'int', optional: true }, { name: 'page', type: 'int', optional: true }],
    call: (ctx, p) => longOperation(ctx, 'reboot', p.id as string, (device) =>
      ctx.api.reboot(device, (p.type as number | undefined) ?? 0, (p.page as number | undefined) ?? 1)),
  },
};

function typeOk(type: ParamType, v: unknown): boolean {
  if (type === 'string') return typeof v === 'string';
  if (type === 'int') return Number.isSafeInteger(v);
  return typeof v === 'boolean' || Number.isSafeInteger(v);
}

/** Params (array by position, object by name, or absent) -> named values; INVALID_PARAMS when wrong. */
export function bindParams(method: string, specs: ParamSpec[], params: unknown, peer: PeerCred): Record<string, unknown> {
  const bad = (message: string, details: Record<string, unknown> = {}): never => {
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, 'EINVAL', `${method}: ${message}; it takes (${specs.map((s) => s.optional ? `[${s.name}]` : s.name).join(', ')})`, { method, ...details });
  };
  const out: Record<string, unknown> = {};
  if (params === undefined || params === null) params = [];
  if (Array.isArray(params)) {
    if (params.length > specs.length) bad(`${params.length} parameters given`);
    params.forEach((v, i) => { out[specs[i]!.name] = v; });
  } else if (typeof params === 'object') {
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
      if (!specs.some((s) => s.name === k)) bad(`unknown parameter "${k}"`, { param: k });
      out[k] = v;
    }
  } else {
    bad('params must be an array or an object');
  }
  for (const s of specs) {
    const v = out[s.name];
    if (v === undefined || v === null) {
      if (!s.optional) bad(`parameter "${s.name}" is required`, { param: s.name });
      delete out[s.name];
      continue;
    }
    if (!typeOk(s.type, v)) bad(`parameter "${s.name}" must be ${s.type === 'string' ? 'a string' : 'an integer'} (got ${JSON.stringify(v)?.slice(0, 40)})`, { param: s.name });
    if (s.file) checkPeerMayRead(v as string, peer);
  }
  return out;
}
