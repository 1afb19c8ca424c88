// Backends as plugins: configuration search, bad files, plugins that fail in every way, and the
// sample plugin in examples/ loaded by path, enumerated and opened.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, parseConfig, configSearchPath, lineColumn, ConfigError, builtinConfig } from '../../src/device/config.js';
import { loadBackends, openDevice, enumerateAll, finalizeBackends, backendReport, registerBackend, unregisterBackend, openToken, parseDeviceUrl } from '../../src/device/registry.js';
import { callWithDeadline, PluginError, asBackend, pluginKind } from '../../src/device/plugins.js';
import { DeviceError } from '../../src/errors.js';
import type { Backend } from '../../src/device/backend.js';

const fixtures = resolve(__dirname, 'fixtures');
const memPlugin = resolve(__dirname, '../../examples/plugins/memory-backend.ts');

let dir: string;
const saved = { config: process.env.VFIOKIT_CONFIG, home: process.env.HOME };

function writeConfig(value: unknown, name = 'config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vfiokit-plugins-'));
  process.env.HOME = join(dir, 'home');
  delete process.env.VFIOKIT_CONFIG;
  await finalizeBackends();
});

afterEach(async () => {
  await finalizeBackends();
  if (saved.config === undefined) delete process.env.VFIOKIT_CONFIG;
  else process.env.VFIOKIT_CONFIG = saved.config;
  process.env.HOME = saved.home;
  rmSync(dir, { recursive: true, force: true });
});

describe('configuration file', () => {
  it('searches $VFIOKIT_CONFIG, ~/.config, /etc in that order', () => {
    const paths = configSearchPath({ VFIOKIT_CONFIG: '/x/y.json', HOME: '/home/u' });
    expect(paths).toEqual(['/x/y.json', '/home/u/.config/vfiokit/config.json', '/etc/vfiokit/config.json']);
  });

  it('falls back to the built-in default (sim, vfio, vfio-user)', () => {
    const c = loadConfig({ HOME: join(dir, 'nohome') });
    // /etc/vfiokit/config.json is absent on the test machines; the built-in default applies.
    expect(c.source).toBe('built-in');
    expect(c.plugins).toEqual(['sim', 'vfio', 'vfio-user']);
    expect(builtinConfig().configurations.vfio).toEqual({ enabled: true, plugin: 'vfio', configuration: {} });
  });

  it('reads ~/.config/vfiokit/config.json when no $VFIOKIT_CONFIG', () => {
    mkdirSync(join(dir, 'home', '.config', 'vfiokit'), { recursive: true });
    writeFileSync(join(dir, 'home', '.config', 'vfiokit', 'config.json'), JSON.stringify({ configurations: { sim: { enabled: true, plugin: 'sim' } }, plugins: ['sim'] }));
    const c = loadConfig({ HOME: join(dir, 'home') });
    expect(c.source).toBe(join(dir, 'home', '.config', 'vfiokit', 'config.json'));
    expect(c.plugins).toEqual(['sim']);
  });

  it('a missing $VFIOKIT_CONFIG is an error naming the file', () => {
    expect(() => loadConfig({ VFIOKIT_CONFIG: join(dir, 'nope.json') })).toThrow(/nope\.json, which does not exist/);
  });

  it('bad JSON is a ConfigError naming file, line and column', () => {
    const path = writeConfig('{\n  "configurations": {\n    "sim": { "enabled": true, },\n  }\n}');
    let err: ConfigError | undefined;
    try {
      loadConfig({ VFIOKIT_CONFIG: path });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.code).toBe('ECONFIG_JSON');
    expect(err!.details).toMatchObject({ file: path, line: 3, column: 31 });
    expect(err!.message).toContain(`${path}:3:31: invalid JSON`);
  });

  it('truncated JSON points at the end of the file', () => {
    const path = writeConfig('{\n  "plugins": [\n');
    expect(() => loadConfig({ VFIOKIT_CONFIG: path })).toThrow(`${path}:3:1: invalid JSON: expected a value, unexpected end of input`);
  });

  it('rejects a bad shape with the JSON path of the offending value', () => {
    expect(() => parseConfig('[]', 'f.json')).toThrow(/the top level must be an object/);
    expect(() => parseConfig('{"configurations": {"a": {"enabled": "yes"}}}', 'f.json')).toThrow(/"configurations\.a\.enabled" must be true or false/);
    expect(() => parseConfig('{"configurations": {"a": {"plugin": 7}}}', 'f.json')).toThrow(/configurations\.a\.plugin/);
    expect(() => parseConfig('{"plugins": "sim"}', 'f.json')).toThrow(/"plugins" must be an array/);
    expect(() => parseConfig('{"plugin": []}', 'f.json')).toThrow(/"plugin" is not a known key/);
  });

  it('computes line and column from an offset', () => {
    expect(lineColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab\ncd\nef', 99)).toEqual({ line: 3, column: 3 });
  });
});

describe('plugin loading', () => {
  it('classifies plugin references', () => {
    expect(pluginKind('sim')).toBe('built-in');
    expect(pluginKind('./x.js')).toBe('path');
    expect(pluginKind('/abs/x.js')).toBe('path');
    expect(pluginKind('@acme/vfiokit-backend')).toBe('package');
  });

  it('checks the backend shape and names what is missing', () => {
    expect(() => asBackend({ name: 'x', schemes: ['x'] }, 'p')).toThrow(/without an `open\(url\)` function/);
    expect(() => asBackend({ name: 'x', schemes: ['Bad Scheme'], open() {} }, 'p')).toThrow(/schemes/);
    expect(() => asBackend(null, 'p')).toThrow(PluginError);
  });

  it('loads the sample plugin by relative path, initialises it, enumerates and opens its devices', async () => {
    const path = writeConfig({
      configurations: {
        mem: { enabled: true, plugin: memPlugin, configuration: { devices: [{ name: 'scratch', bar0Size: 4096 }, { name: 'big', bar0Size: 65536, vendor: 0x8086, device: 0x0b30 }] } },
      },
      plugins: ['mem'],
    });
    process.env.VFIOKIT_CONFIG = path;
    const report = await loadBackends();
    expect(report.config).toBe(path);
    expect(report.backends).toEqual([{ name: 'mem', plugin: memPlugin, kind: 'path', state: 'ready', backend: 'mem', schemes: ['mem'] }]);

    const { tokens, failures } = await enumerateAll();
    expect(failures).toEqual([]);
    expect(tokens.map((t) => [t.url, t.backend])).toEqual([['mem:scratch', 'mem'], ['mem:big', 'mem']]);
    expect((await enumerateAll({ vendor: 0x8086 })).tokens.map((t) => t.url)).toEqual(['mem:big']);
    expect((await enumerateAll({}, { deviceType: 'pci' })).tokens).toEqual([]);

    using dev = await openToken(tokens[1]!);
    expect(dev.identity.device).toBe(0x0b30);
    dev.region(0).write64(0x10, 0x1122334455667788n);
    expect(dev.region(0).read32(0x14)).toBe(0x11223344);
    using again = await openDevice('mem:big');
    expect(again.region(0).read64(0x10)).toBe(0x1122334455667788n);
    await expect(openDevice('mem:nope')).rejects.toThrow(/no memory device "nope"/);
  });

  it('resolves a plugin path relative to the configuration file', async () => {
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(join(dir, 'plugins', 'rel.mjs'), "export default { name: 'rel', schemes: ['rel'], open(url) { return { url }; } };\n");
    process.env.VFIOKIT_CONFIG = writeConfig({ configurations: { rel: { plugin: './plugins/rel.mjs' } }, plugins: ['rel'] });
    const report = await loadBackends();
    expect(report.backends[0]).toMatchObject({ name: 'rel', state: 'ready', schemes: ['rel'] });
    expect(((await openDevice('rel:x')) as unknown as { url: string }).url).toBe('rel:x');
  });

  it('reports failing plugins (which, why) and keeps the good ones', async () => {
    process.env.VFIOKIT_CONFIG = writeConfig({
      configurations: {
        broken: { enabled: true, plugin: join(fixtures, 'failing-init.mjs'), configuration: { endpoint: 'tcp://10.0.0.1' } },
        crash: { enabled: true, plugin: join(fixtures, 'throws-on-import.mjs') },
        shapeless: { enabled: true, plugin: join(fixtures, 'no-backend.mjs') },
        missing: { enabled: true, plugin: './does-not-exist.mjs' },
        nopkg: { enabled: true, plugin: 'vfiokit-backend-that-is-not-installed' },
        off: { enabled: false, plugin: join(fixtures, 'failing-init.mjs') },
        unlisted: { enabled: true, plugin: join(fixtures, 'failing-init.mjs') },
        factory: { enabled: true, plugin: join(fixtures, 'factory.mjs'), configuration: { prefix: 'q' } },
        mem: { enabled: true, plugin: memPlugin },
      },
      plugins: ['broken', 'crash', 'shapeless', 'missing', 'nopkg', 'ghost', 'off', 'factory', 'mem'],
    });
    const report = await loadBackends();
    const by = Object.fromEntries(report.backends.map((b) => [b.name, b]));
    expect(by.broken).toMatchObject({ state: 'failed', error: { code: 'EPLUGIN_INIT' } });
    expect(by.broken!.error!.message).toContain('cannot reach the card manager at tcp://10.0.0.1');
    expect(by.crash).toMatchObject({ state: 'failed', error: { code: 'EPLUGIN_LOAD' } });
    expect(by.crash!.error!.message).toContain('crashed at import time');
    expect(by.shapeless).toMatchObject({ state: 'failed', error: { code: 'EPLUGIN_SHAPE' } });
    expect(by.missing).toMatchObject({ state: 'failed', error: { code: 'EPLUGIN_NOT_FOUND' } });
    expect(by.nopkg).toMatchObject({ state: 'failed', error: { code: 'EPLUGIN_NOT_FOUND' } });
    expect(by.ghost).toMatchObject({ state: 'failed', error: { code: 'EPLUGIN_UNKNOWN' } });
    expect(by.off).toMatchObject({ state: 'disabled' });
    expect(by.unlisted).toMatchObject({ state: 'disabled' });
    expect(by.factory).toMatchObject({ state: 'ready', schemes: ['factory'] });
    expect(by.mem).toMatchObject({ state: 'ready', schemes: ['mem'] });

    // The good ones work; tokens remember the configuration name that found them.
    const { tokens } = await enumerateAll();
    expect(tokens.map((t) => `${t.backend} ${t.url}`)).toEqual(['factory factory:q0', 'mem mem:scratch']);
    using dev = await openDevice('mem:scratch');
    expect(dev.region(0).size).toBe(4096);
    await expect(openDevice('broken:x')).rejects.toThrow(/the backend for "broken:" URLs failed to load: .*cannot reach the card manager/);
  });

  it('a bad configuration file is reported and the built-in default used', async () => {
    const path = writeConfig('{ "plugins": [ "sim" ');
    process.env.VFIOKIT_CONFIG = path;
    const report = await loadBackends();
    expect(report.config).toBe('built-in');
    expect(report.configError).toMatchObject({ code: 'ECONFIG_JSON', file: path, line: 1 });
    expect(report.backends.map((b) => b.name)).toEqual(['sim', 'vfio', 'vfio-user']);
  });

  it('a disabled built-in is refused with a message that says where to enable it', async () => {
    process.env.VFIOKIT_CONFIG = writeConfig({ configurations: { sim: { enabled: false, plugin: 'sim' }, mem: { plugin: memPlugin } }, plugins: ['mem'] });
    const err = await openDevice('sim:n3000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).message).toMatch(/"sim" backend is disabled in .*config\.json/);
  });

  it("a backend's untyped open() failure becomes a PluginError naming it; typed errors pass unchanged", async () => {
    const broken: Backend = { name: 'broken', schemes: ['brk'], open: () => { throw new TypeError('cannot read properties of undefined'); } };
    const typed: Backend = { name: 'typed', schemes: ['typ'], open: async () => { throw new DeviceError('ENODEV', 'no such card'); } };
    registerBackend(broken);
    registerBackend(typed);
    try {
      const err = await openDevice('brk:x').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EPLUGIN_OPEN', details: { backend: 'broken', url: 'brk:x' } });
      expect((err as Error).message).toMatch(/backend "broken" failed to open brk:x: cannot read properties/);
      expect((err as Error).cause).toBeInstanceOf(TypeError);
      const typedErr = await openDevice('typ:x').catch((e: unknown) => e);
      expect(typedErr).toBeInstanceOf(DeviceError);
      expect(typedErr).toMatchObject({ code: 'ENODEV' });
    } finally {
      unregisterBackend(broken);
      unregisterBackend(typed);
    }
  });

  it('backends registered in code take precedence', async () => {
    const fake: Backend = { name: 'fake', schemes: ['mem'], open: (url) => ({ url } as never) };
    process.env.VFIOKIT_CONFIG = writeConfig({ configurations: { mem: { plugin: memPlugin } }, plugins: ['mem'] });
    registerBackend(fake);
    try {
      expect(((await openDevice('mem:scratch')) as unknown as { url: string }).url).toBe('mem:scratch');
    } finally {
      unregisterBackend(fake);
    }
    using real = await openDevice('mem:scratch');
    expect(real.transport).toBe('mem');
  });

  it('a plugin hook that never settles is cut off by its deadline', async () => {
    const err = await callWithDeadline('initialize', 'hangs', () => new Promise(() => {}), 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginError);
    expect((err as PluginError).code).toBe('EPLUGIN_TIMEOUT');
    expect((err as PluginError).message).toContain('did not finish within 50 ms');
  });

  it('finalize runs and the next call reloads the configuration', async () => {
    process.env.VFIOKIT_CONFIG = writeConfig({ configurations: { mem: { plugin: memPlugin } }, plugins: ['mem'] });
    await loadBackends();
    expect(backendReport().backends).toHaveLength(1);
    expect(await finalizeBackends()).toEqual([]);
    process.env.VFIOKIT_CONFIG = writeConfig({ configurations: { f: { plugin: join(fixtures, 'factory.mjs') } }, plugins: ['f'] }, 'other.json');
    expect((await loadBackends()).backends.map((b) => b.name)).toEqual(['f']);
  });

  it('parses device URLs and bare PCI addresses', () => {
    expect(parseDeviceUrl('0000:3b:00.0')).toEqual({ scheme: 'vfio', rest: '0000:3b:00.0' });
    expect(parseDeviceUrl('3b:00.1')).toEqual({ scheme: 'vfio', rest: '3b:00.1' });
    expect(parseDeviceUrl('vfio-user:/run/x.sock')).toEqual({ scheme: 'vfio-user', rest: '/run/x.sock' });
    expect(() => parseDeviceUrl('nothing')).toThrow(DeviceError);
  });
});

describe('JSON error positions', () => {
  it('finds the first offending character for every kind of mistake', async () => {
    const { jsonErrorAt } = await import('../../src/device/json-position.js');
    expect(jsonErrorAt('{"a": [1, 2]}')).toBeUndefined();
    expect(jsonErrorAt(' "x\\u00e9" ')).toBeUndefined();
    expect(jsonErrorAt('{"plugins": ["sim",]}')).toEqual({ offset: 19, reason: 'expected a value, unexpected "]"' });
    expect(jsonErrorAt('{"a": 1,}')).toEqual({ offset: 8, reason: 'expected a property name in double quotes, unexpected "}"' });
    expect(jsonErrorAt("{'a': 1}")).toMatchObject({ offset: 1 });
    expect(jsonErrorAt('{"a" 1}')).toMatchObject({ offset: 5, reason: expect.stringContaining("expected ':'") });
    expect(jsonErrorAt('[1 2]')).toMatchObject({ offset: 3, reason: expect.stringContaining("expected ',' or ']'") });
    expect(jsonErrorAt('{"a": tru}')).toMatchObject({ offset: 6 });
    expect(jsonErrorAt('{"a": "x')).toMatchObject({ offset: 8, reason: 'unterminated string' });
    expect(jsonErrorAt('{} x')).toMatchObject({ offset: 3 });
    expect(jsonErrorAt('')).toMatchObject({ offset: 0 });
    expect(jsonErrorAt('-')).toMatchObject({ offset: 0 });
    expect(jsonErrorAt('"\\q"')).toMatchObject({ offset: 2, reason: 'bad escape' });
  });

  it('agrees with JSON.parse on random mutations of a configuration', async () => {
    const { jsonErrorAt } = await import('../../src/device/json-position.js');
    const base = JSON.stringify({ configurations: { sim: { enabled: true, plugin: 'sim', configuration: { n: -1.5e3, s: 'a\\"b', z: null } } }, plugins: ['sim'] }, null, 2);
    let seed = 12345;
    const rnd = (k: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % k; };
    const alphabet = '{}[]:,"\\ tfn0-.eE1\n';
    for (let round = 0; round < 3000; round++) {
      const chars = base.split('');
      for (let m = 0; m < 1 + rnd(3); m++) {
        const at = rnd(chars.length);
        const op = rnd(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
        else chars[at] = alphabet[rnd(alphabet.length)]!;
      }
      const text = chars.join('');
      let valid = true;
      try { JSON.parse(text); } catch { valid = false; }
      const found = jsonErrorAt(text);
      expect(found === undefined, text).toBe(valid);
      if (found) expect(found.offset).toBeLessThanOrEqual(text.length);
    }
  });
});
