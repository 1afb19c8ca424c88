// Backend registry: which backends exist, which loaded, and who opens a device URL.
//
// Backends come from the configuration file (config.ts, OPAE style): every enabled entry of
// `plugins` is imported (plugins.ts), initialised with its `configuration`, and registered for the
// URL schemes it declares. A backend that fails to load or initialise is recorded (which, why) and
// skipped; a configuration file that cannot be parsed is recorded and the built-in default used.
// openDevice(url) stays lazy: "sim:..." loads only the sim, "vfio:..." only the VFIO bindings.
import { DeviceError, VfiokitError } from '../errors.js';
import { logger } from '../util/log.js';
import type { Backend, DeviceFilter, DeviceToken, OpenOptions } from './backend.js';
import type { Device } from './device.js';
import { builtinConfig, loadConfig, ConfigError, type VfiokitConfig } from './config.js';
import { callWithDeadline, isBuiltin, loadPlugin, pluginKind, PluginError } from './plugins.js';

const log = logger('registry');

export type BackendState = 'ready' | 'failed' | 'disabled';

/** What happened to one configured backend. */
export interface BackendStatus {
  /** Configuration name (the key in `configurations`). */
  name: string;
  /** The plugin reference from the configuration. */
  plugin: string;
  kind: 'built-in' | 'path' | 'package';
  state: BackendState;
  /** The backend's own name, once loaded. */
  backend?: string;
  /** URL schemes it registered. */
  schemes: string[];
  /** Schemes it declared but an earlier backend already owns. */
  shadowed?: string[];
  /** Why it failed (state 'failed'). */
  error?: { code: string; message: string };
}

export interface RegistryReport {
  /** Configuration file used, or "built-in". */
  config: string;
  /** Set when the configuration file was unusable (the built-in default was used instead). */
  configError?: { code: string; message: string; file?: string; line?: number; column?: number };
  backends: BackendStatus[];
}

interface Loaded {
  status: BackendStatus;
  backend: Backend;
  configuration: Record<string, unknown>;
}

/** Backends registered in code (registerBackend); they take precedence over configured ones. */
const registered = new Map<string, Backend>();
/** Configured backends that loaded, by configuration name. */
const loaded = new Map<string, Loaded>();
/** Scheme -> configuration name, for loaded backends. */
const schemeOwners = new Map<string, string>();
/** Status of every configured backend looked at so far, by configuration name. */
const statuses = new Map<string, BackendStatus>();
let configCache: { config: VfiokitConfig; error?: RegistryReport['configError'] } | undefined;
let fullyLoaded: Promise<RegistryReport> | undefined;
const inFlight = new Map<string, Promise<Loaded | undefined>>();

/** Register a backend for its schemes (takes precedence over configured and built-in ones). */
export function registerBackend(backend: Backend): void {
  for (const scheme of backend.schemes) registered.set(scheme, backend);
}

export function unregisterBackend(backend: Backend): void {
  for (const [scheme, b] of registered) if (b === backend) registered.delete(scheme);
}

const PCI_ADDRESS = /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/** Split "scheme:rest"; a bare PCI address "0000:3b:00.0" or "3b:00.0" means vfio. */
export function parseDeviceUrl(url: string): { scheme: string; rest: string } {
  if (PCI_ADDRESS.test(url)) return { scheme: 'vfio', rest: url };
  const colon = url.indexOf(':');
  if (colon <= 0) {
    throw new DeviceError('EDEVICE_URL', `"${url}" is not a device URL; use sim:n3000, vfio:0000:3b:00.0, vfio-user:/path/to.sock or a PCI address`, { url });
  }
  return { scheme: url.slice(0, colon), rest: url.slice(colon + 1) };
}

/** The configuration in effect (cached). An unusable file is recorded and the built-in default used. */
export function activeConfig(): { config: VfiokitConfig; error?: RegistryReport['configError'] } {
  if (configCache) return configCache;
  try {
    configCache = { config: loadConfig() };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const d = err.details as { file?: string; line?: number; column?: number };
    log('configuration unusable (%s); using the built-in default', err.message);
    configCache = { config: builtinConfig(), error: { code: err.code, message: err.message, file: d.file, line: d.line, column: d.column } };
  }
  return configCache;
}

function errorInfo(err: unknown): { code: string; message: string } {
  if (err instanceof VfiokitError) return { code: err.code, message: err.message };
  return { code: 'EPLUGIN_LOAD', message: (err as Error)?.message ?? String(err) };
}

/** Load and initialise one configured backend; failures are recorded, not thrown. */
function loadNamed(config: VfiokitConfig, name: string): Promise<Loaded | undefined> {
  const done = loaded.get(name);
  if (done) return Promise.resolve(done);
  const pending = inFlight.get(name);
  if (pending) return pending;
  const entry = config.configurations[name];
  const status: BackendStatus = {
    name,
    plugin: entry?.plugin ?? name,
    kind: pluginKind(entry?.plugin ?? name),
    state: 'failed',
    schemes: [],
  };
  const run = (async (): Promise<Loaded | undefined> => {
    statuses.set(name, status);
    if (!entry) {
      status.error = { code: 'EPLUGIN_UNKNOWN', message: `"plugins" names "${name}" but "configurations" has no such entry (known: ${Object.keys(config.configurations).join(', ') || 'none'})` };
      return undefined;
    }
    if (!entry.enabled) {
      status.state = 'disabled';
      return undefined;
    }
    try {
      const backend = await loadPlugin(entry.plugin, config.baseDir, entry.configuration);
      if (backend.initialize) await callWithDeadline('initialize', entry.plugin, () => backend.initialize!(entry.configuration));
      status.state = 'ready';
      status.backend = backend.name;
      for (const scheme of backend.schemes) {
        const owner = schemeOwners.get(scheme);
        if (owner && owner !== name) (status.shadowed ??= []).push(scheme);
        else {
          schemeOwners.set(scheme, name);
          status.schemes.push(scheme);
        }
      }
      const l: Loaded = { status, backend, configuration: entry.configuration };
      loaded.set(name, l);
      log('backend %s (%s) ready for %s', name, entry.plugin, status.schemes.join(', '));
      return l;
    } catch (err) {
      status.error = errorInfo(err);
      log('backend %s (%s) failed: %s', name, entry.plugin, status.error.message);
      return undefined;
    }
  })();
  inFlight.set(name, run);
  return run.finally(() => inFlight.delete(name));
}

/**
 * Load and initialise every enabled backend of the configuration, in `plugins` order.
 * Never throws for a bad configuration or plugin: the report says what loaded and what failed.
 */
export function loadBackends(): Promise<RegistryReport> {
  fullyLoaded ??= (async () => {
    const { config } = activeConfig();
    for (const name of config.plugins) await loadNamed(config, name);
    // Entries present but not listed in `plugins` are reported as disabled.
    for (const name of Object.keys(config.configurations)) {
      if (!config.plugins.includes(name) && !statuses.has(name)) {
        const entry = config.configurations[name]!;
        statuses.set(name, { name, plugin: entry.plugin, kind: pluginKind(entry.plugin), state: 'disabled', schemes: [] });
      }
    }
    return backendReport();
  })();
  return fullyLoaded;
}

/** The status of every backend looked at so far (call loadBackends() first for all of them). */
export function backendReport(): RegistryReport {
  const { config, error } = activeConfig();
  const order = [...config.plugins, ...Object.keys(config.configurations).filter((n) => !config.plugins.includes(n))];
  const backends = order.map((n) => statuses.get(n)).filter((s): s is BackendStatus => s !== undefined);
  for (const [, s] of statuses) if (!backends.includes(s)) backends.push(s);
  return { config: config.source, ...(error ? { configError: error } : {}), backends: backends.map((s) => ({ ...s, schemes: [...s.schemes] })) };
}

/** The backend that opens `scheme:` URLs, loading only what is needed. */
export async function backendFor(scheme: string): Promise<Backend> {
  const explicit = registered.get(scheme);
  if (explicit) return explicit;
  const owner = schemeOwners.get(scheme);
  if (owner) return loaded.get(owner)!.backend;
  const { config } = activeConfig();
  // A built-in scheme: load just the configuration entry that provides that built-in.
  if (isBuiltin(scheme)) {
    const names = config.plugins.filter((n) => config.configurations[n]?.plugin === scheme);
    for (const name of names) {
      const l = await loadNamed(config, name);
      if (l && schemeOwners.get(scheme) === name) return l.backend;
    }
  }
  await loadBackends();
  const now = schemeOwners.get(scheme);
  if (now) return loaded.get(now)!.backend;
  const failed = [...statuses.values()].filter((s) => s.state === 'failed' && (s.plugin === scheme || s.name === scheme));
  if (failed.length) {
    throw new DeviceError('EDEVICE_BACKEND', `the backend for "${scheme}:" URLs failed to load: ${failed[0]!.error?.message}; loadBackends() reports why`, { scheme });
  }
  const disabled = Object.entries(config.configurations).some(([n, c]) => c.plugin === scheme && (!c.enabled || !config.plugins.includes(n)));
  if (!disabled && isBuiltin(scheme) && !Object.values(config.configurations).some((c) => c.plugin === scheme)) {
    throw new DeviceError('EDEVICE_BACKEND', `the built-in "${scheme}" backend is not configured in ${config.source}; add "${scheme}": { "enabled": true, "plugin": "${scheme}" } to "configurations" and "${scheme}" to "plugins"`, { scheme, config: config.source });
  }
  if (disabled) {
    throw new DeviceError('EDEVICE_BACKEND', `the "${scheme}" backend is disabled in ${config.source}; enable it there (configurations.${scheme}.enabled and "plugins")`, { scheme, config: config.source });
  }
  const known = [...new Set([...registered.keys(), ...schemeOwners.keys()])].sort();
  throw new DeviceError('EDEVICE_SCHEME', `no backend opens "${scheme}:" URLs; known: ${known.join(', ') || 'none'} (loadBackends() lists them)`, { scheme });
}

/** Open a device by URL: "sim:n3000", "vfio:0000:3b:00.0", "vfio-user:/run/card.sock". */
export async function openDevice(url: string, options?: OpenOptions): Promise<Device> {
  const { scheme } = parseDeviceUrl(url);
  const backend = await backendFor(scheme);
  return openWith(backend, url, options);
}

/** Open the device an enumeration returned, with the backend that found it. */
export async function openToken(token: DeviceToken, options?: OpenOptions): Promise<Device> {
  const l = loaded.get(token.backend);
  if (l) return openWith(l.backend, token.url, options);
  return openDevice(token.url, options);
}

/**
 * Open through a backend. Typed errors pass unchanged; anything else a (third-party) backend
 * throws becomes a PluginError that names the backend, so callers only ever see typed errors.
 */
async function openWith(backend: Backend, url: string, options?: OpenOptions): Promise<Device> {
  try {
    return await backend.open(url, options);
  } catch (e) {
    if (e instanceof VfiokitError) throw e;
    throw new PluginError(
      'EPLUGIN_OPEN',
      `backend "${backend.name}" failed to open ${url}: ${(e as Error)?.message ?? String(e)}; this is a fault of the backend (check its version and configuration, DEBUG=vfiokit:* for details)`,
      { backend: backend.name, url },
      { cause: e },
    );
  }
}

export interface EnumerateOptions {
  /** Only backends whose supports(deviceType, host) says yes (all when omitted). */
  deviceType?: string;
  host?: string;
}

export interface EnumerateResult {
  tokens: DeviceToken[];
  /** Backends whose enumerate() threw: reported, not fatal. */
  failures: { backend: string; code: string; message: string }[];
}

/** Enumerate across every ready backend; tokens remember their backend (configuration name). */
export async function enumerateAll(filter: DeviceFilter = {}, options: EnumerateOptions = {}): Promise<EnumerateResult> {
  await loadBackends();
  const tokens: DeviceToken[] = [];
  const failures: EnumerateResult['failures'] = [];
  const seen = new Set<Backend>();
  const sources: [string, Backend][] = [...loaded.values()].map((l) => [l.status.name, l.backend]);
  for (const b of registered.values()) sources.push([b.name, b]);
  for (const [name, backend] of sources) {
    if (seen.has(backend) || !backend.enumerate) continue;
    seen.add(backend);
    if (options.deviceType !== undefined && backend.supports && !backend.supports(options.deviceType, options.host ?? 'localhost')) continue;
    try {
      for (const t of await backend.enumerate(filter)) tokens.push({ ...t, backend: name });
    } catch (err) {
      const info = errorInfo(err);
      log('enumerate on %s failed: %s', name, info.message);
      failures.push({ backend: name, ...info });
    }
  }
  return { tokens, failures };
}

/** Enumerate across every ready backend (failures logged; see enumerateAll for them). */
export async function enumerateDevices(filter: DeviceFilter = {}, options: EnumerateOptions = {}): Promise<DeviceToken[]> {
  return (await enumerateAll(filter, options)).tokens;
}

/** Finalise every loaded backend and forget the configuration (the next call reloads it). */
export async function finalizeBackends(): Promise<{ backend: string; code: string; message: string }[]> {
  const failures: { backend: string; code: string; message: string }[] = [];
  for (const [name, l] of [...loaded].reverse()) {
    if (!l.backend.finalize) continue;
    try {
      await callWithDeadline('finalize', l.status.plugin, () => l.backend.finalize!());
    } catch (err) {
      failures.push({ backend: name, ...errorInfo(err) });
    }
  }
  loaded.clear();
  schemeOwners.clear();
  statuses.clear();
  inFlight.clear();
  configCache = undefined;
  fullyLoaded = undefined;
  return failures;
}

export { PluginError };
