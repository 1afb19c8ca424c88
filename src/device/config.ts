// The backend configuration file, in the OPAE style (opae-sdk libopae-c "opae.cfg"):
//
//   {
//     "configurations": {
//       "sim":    { "enabled": true, "plugin": "sim",  "configuration": {} },
//       "mycard": { "enabled": true, "plugin": "/opt/acme/vfiokit-acme.js", "configuration": { "x": 1 } }
//     },
//     "plugins": ["sim", "mycard"]
//   }
//
// `configurations` names each backend and says which module provides it ("sim", "vfio",
// "vfio-user" for the built-ins, else a path or a package name) and with what settings;
// `plugins` lists the enabled names in load order. Search order: $VFIOKIT_CONFIG,
// ~/.config/vfiokit/config.json, /etc/vfiokit/config.json, then the built-in default.
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { FormatError, ArgumentError } from '../errors.js';
import { logger } from '../util/log.js';
import { jsonErrorAt } from './json-position.js';

const log = logger('config');

/** The built-in backends, in default load order. */
export const BUILTIN_BACKENDS = ['sim', 'vfio', 'vfio-user'] as const;
export type BuiltinBackendName = (typeof BUILTIN_BACKENDS)[number];

export interface PluginConfiguration {
  /** False keeps the entry but never loads it. */
  enabled: boolean;
  /** "sim" | "vfio" | "vfio-user", a path to an ES module, or a package name. */
  plugin: string;
  /** Handed to the backend's initialize(). */
  configuration: Record<string, unknown>;
}

export interface VfiokitConfig {
  configurations: Record<string, PluginConfiguration>;
  /** Enabled configuration names, in load order. */
  plugins: string[];
  /** The file it came from, or "built-in". */
  source: string;
  /** Directory relative plugin paths resolve against (the file's directory; cwd for built-in). */
  baseDir: string;
}

/** A configuration file that cannot be read or does not have the expected shape. */
export class ConfigError extends FormatError {}

/** The default when no file exists: every built-in backend, enabled. */
export function builtinConfig(): VfiokitConfig {
  const configurations: Record<string, PluginConfiguration> = {};
  for (const name of BUILTIN_BACKENDS) configurations[name] = { enabled: true, plugin: name, configuration: {} };
  return { configurations, plugins: [...BUILTIN_BACKENDS], source: 'built-in', baseDir: process.cwd() };
}

/** The files looked at, in order (the first that exists wins). */
export function configSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const paths: string[] = [];
  if (env.VFIOKIT_CONFIG) paths.push(resolve(env.VFIOKIT_CONFIG));
  const home = env.HOME || homedir();
  if (home) paths.push(join(home, '.config', 'vfiokit', 'config.json'));
  paths.push('/etc/vfiokit/config.json');
  return paths;
}

/**
 * Find and parse the configuration. $VFIOKIT_CONFIG naming a missing file is an error (the user
 * asked for it); the other locations are optional. Throws ConfigError for unreadable files, bad
 * JSON (with line and column) and a bad shape (with the JSON path of the offending value).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): VfiokitConfig {
  const explicit = env.VFIOKIT_CONFIG ? resolve(env.VFIOKIT_CONFIG) : undefined;
  for (const path of configSearchPath(env)) {
    if (!existsSync(path)) {
      if (path === explicit) {
        throw new ConfigError('ECONFIG_MISSING', `VFIOKIT_CONFIG names ${path}, which does not exist; create it or unset VFIOKIT_CONFIG to use the default search path`, { file: path });
      }
      continue;
    }
    log('configuration from %s', path);
    return readConfigFile(path);
  }
  log('no configuration file; built-in default (%s)', BUILTIN_BACKENDS.join(', '));
  return builtinConfig();
}

/** Read and validate one configuration file. */
export function readConfigFile(path: string): VfiokitConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError('ECONFIG_READ', `cannot read configuration ${path}: ${e.code ?? e.message}; check the path and its permissions`, { file: path, errno: e.code });
  }
  return parseConfig(text, path);
}

/** Line and column (1-based) of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(0, offset), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 gives a position for some errors only; locate the first offending character ourselves.
    const at = jsonErrorAt(text) ?? { offset: text.length, reason: (err as Error).message };
    const { line, column } = lineColumn(text, at.offset);
    throw new ConfigError('ECONFIG_JSON', `${file}:${line}:${column}: invalid JSON: ${at.reason}; fix the file or point VFIOKIT_CONFIG at another`, { file, line, column, offset: at.offset });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate parsed JSON into a VfiokitConfig; `file` names the source in errors. */
export function parseConfig(text: string, file: string): VfiokitConfig {
  const raw = parseJson(text, file);
  const bad = (where: string, what: string) =>
    new ConfigError('ECONFIG_SHAPE', `${file}: ${where} ${what}; see docs/cli.md "Configuration"`, { file, path: where });
  if (!isObject(raw)) throw bad('the top level', 'must be an object with "configurations" and "plugins"');
  for (const key of Object.keys(raw)) {
    if (key !== 'configurations' && key !== 'plugins' && !key.startsWith('$') && !key.startsWith('_')) {
      throw bad(`"${key}"`, 'is not a known key (expected "configurations" and "plugins")');
    }
  }
  const rawConfigs = raw.configurations ?? {};
  if (!isObject(rawConfigs)) throw bad('"configurations"', 'must be an object mapping names to { enabled, plugin, configuration }');
  const configurations: Record<string, PluginConfiguration> = {};
  for (const [name, entry] of Object.entries(rawConfigs)) {
    const where = `configurations.${name}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw bad(`"${where}"`, 'has a bad name (letters, digits, "_", ".", "-")');
    if (!isObject(entry)) throw bad(`"${where}"`, 'must be an object { enabled, plugin, configuration }');
    const enabled = entry.enabled ?? true;
    if (typeof enabled !== 'boolean') throw bad(`"${where}.enabled"`, 'must be true or false');
    const plugin = entry.plugin ?? name;
    if (typeof plugin !== 'string' || plugin.length === 0) throw bad(`"${where}.plugin"`, 'must be a non-empty string (built-in name, module path or package name)');
    const configuration = entry.configuration ?? {};
    if (!isObject(configuration)) throw bad(`"${where}.configuration"`, 'must be an object');
    configurations[name] = { enabled, plugin, configuration };
  }
  let plugins: string[];
  if (raw.plugins === undefined) {
    plugins = Object.keys(configurations);
  } else {
    if (!Array.isArray(raw.plugins) || raw.plugins.some((p) => typeof p !== 'string')) {
      throw bad('"plugins"', 'must be an array of configuration names');
    }
    plugins = [...new Set(raw.plugins as string[])];
  }
  return { configurations, plugins, source: file, baseDir: resolve(file, '..') };
}

/** Settings for a named configuration, or an ArgumentError naming the known ones. */
export function configurationOf(config: VfiokitConfig, name: string): PluginConfiguration {
  const c = config.configurations[name];
  if (!c) {
    throw new ArgumentError('ECONFIG_UNKNOWN', `${config.source}: "plugins" names "${name}", which has no entry in "configurations" (known: ${Object.keys(config.configurations).join(', ') || 'none'})`, { file: config.source, name });
  }
  return c;
}
