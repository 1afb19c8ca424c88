// Loading backend modules: the built-ins (src/<sim|vfio|vfio-user>/backend.ts, imported lazily so
// the sim never loads the VFIO bindings and vice versa) and third-party ES modules named by path
// or package name. A plugin module exports its backend as `backend`, as the default export, or
// as a factory `createBackend(configuration)` returning one (sync or async).
import { isAbsolute, resolve, join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { VfiokitError } from '../errors.js';
import { logger } from '../util/log.js';
import type { Backend } from './backend.js';
import { BUILTIN_BACKENDS, type BuiltinBackendName } from './config.js';

const log = logger('plugins');

/** How long a plugin's initialize() or finalize() may take before it counts as failed. */
export const PLUGIN_INIT_TIMEOUT_MS = 10_000;

/** A plugin that could not be found, imported, recognised or initialised. */
export class PluginError extends VfiokitError {}

const builtinLoaders: Record<BuiltinBackendName, () => Promise<{ backend: Backend }>> = {
  sim: () => import('../sim/backend.js'),
  vfio: () => import('../vfio/backend.js'),
  'vfio-user': () => import('../vfio-user/backend.js'),
};

export function isBuiltin(plugin: string): plugin is BuiltinBackendName {
  return (BUILTIN_BACKENDS as readonly string[]).includes(plugin);
}

/** Where a plugin's module comes from: a built-in, a file, or a package. */
export function pluginKind(plugin: string): 'built-in' | 'path' | 'package' {
  if (isBuiltin(plugin)) return 'built-in';
  if (isAbsolute(plugin) || plugin.startsWith('./') || plugin.startsWith('../') || plugin.startsWith('file:')) return 'path';
  return 'package';
}

/** Check that `value` has the Backend shape; returns it typed, or throws PluginError naming what is missing. */
export function asBackend(value: unknown, plugin: string): Backend {
  const b = value as Partial<Backend> | null;
  const problems: string[] = [];
  if (typeof b !== 'object' || b === null) {
    throw new PluginError('EPLUGIN_SHAPE', `plugin "${plugin}" exports no backend object; export \`backend\` (or a default export, or createBackend()) with name, schemes and open()`, { plugin });
  }
  if (typeof b.name !== 'string' || !b.name) problems.push('a string `name`');
  if (!Array.isArray(b.schemes) || b.schemes.length === 0 || b.schemes.some((s) => typeof s !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(s))) {
    problems.push('`schemes`, a non-empty array of URL schemes (lowercase, e.g. ["acme"])');
  }
  if (typeof b.open !== 'function') problems.push('an `open(url)` function');
  for (const opt of ['supports', 'initialize', 'finalize', 'enumerate'] as const) {
    if (b[opt] !== undefined && typeof b[opt] !== 'function') problems.push(`\`${opt}\` to be a function when present`);
  }
  if (problems.length) {
    throw new PluginError('EPLUGIN_SHAPE', `plugin "${plugin}" exports a backend without ${problems.join(', ')}`, { plugin, problems });
  }
  return b as Backend;
}

/** Resolve a plugin reference to an import specifier. */
export function pluginSpecifier(plugin: string, baseDir: string): string {
  const kind = pluginKind(plugin);
  if (kind === 'path') return plugin.startsWith('file:') ? plugin : pathToFileURL(resolve(baseDir, plugin)).href;
  if (kind === 'package') {
    // Packages resolve from the configuration file's directory first (a project-local install),
    // then from vfiokit's own location (a global install next to vfiokit).
    try {
      return pathToFileURL(createRequire(join(baseDir, 'noop.js')).resolve(plugin)).href;
    } catch {
      return plugin;
    }
  }
  return plugin;
}

/** Import a plugin module and return its backend (not yet initialised). */
export async function loadPlugin(plugin: string, baseDir: string, configuration: Record<string, unknown> = {}): Promise<Backend> {
  if (isBuiltin(plugin)) {
    try {
      return asBackend((await builtinLoaders[plugin]()).backend, plugin);
    } catch (err) {
      if (err instanceof PluginError) throw err;
      throw new PluginError('EPLUGIN_LOAD', `built-in backend "${plugin}" failed to load: ${(err as Error).message}`, { plugin }, { cause: err });
    }
  }
  const specifier = pluginSpecifier(plugin, baseDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND';
    throw new PluginError(
      missing ? 'EPLUGIN_NOT_FOUND' : 'EPLUGIN_LOAD',
      missing
        ? `plugin "${plugin}" not found (looked for ${specifier}); give an absolute path, a path relative to the configuration file, or an installed package name`
        : `plugin "${plugin}" failed to import: ${e.message}`,
      { plugin, specifier },
      { cause: err },
    );
  }
  log('imported plugin %s from %s', plugin, specifier);
  let candidate: unknown = mod.backend ?? mod.default;
  if (candidate === undefined && typeof mod.createBackend === 'function') {
    try {
      candidate = await (mod.createBackend as (c: Record<string, unknown>) => unknown)(configuration);
    } catch (err) {
      throw new PluginError('EPLUGIN_INIT', `plugin "${plugin}": createBackend() threw: ${(err as Error).message}`, { plugin }, { cause: err });
    }
  }
  return asBackend(candidate, plugin);
}

/** Run a plugin hook (initialize/finalize) with a deadline so a hung plugin cannot hang vfiokit. */
export async function callWithDeadline<T>(what: string, plugin: string, fn: () => T | Promise<T>, timeoutMs = PLUGIN_INIT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginError('EPLUGIN_TIMEOUT', `plugin "${plugin}": ${what}() did not finish within ${timeoutMs} ms; fix or disable the plugin in the configuration`, { plugin, timeoutMs })), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), deadline]);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw new PluginError('EPLUGIN_INIT', `plugin "${plugin}": ${what}() failed: ${(err as Error).message}`, { plugin }, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
