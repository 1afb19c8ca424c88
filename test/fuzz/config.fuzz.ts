// Fuzz the backend configuration parser (a file users write by hand): mutated valid configs as
// bytes and as JSON text. Every input must parse or throw a typed ConfigError quickly; a rejected
// JSON error must point inside the file; an accepted config must satisfy the schema invariants.
import { parseConfig } from '../../src/device/config.js';
import { jsonErrorAt } from '../../src/device/json-position.js';
import { FuzzFinding, mutate, newStats, Rng, runCase, type FuzzTarget } from './lib.js';

const SEEDS = [
  { configurations: { sim: { enabled: true, plugin: 'sim', configuration: {} }, vfio: { enabled: false, plugin: 'vfio' } }, plugins: ['sim', 'vfio'] },
  { configurations: { acme: { plugin: './plugins/acme.mjs', configuration: { endpoint: 'tcp://10.0.0.1:900', retries: 3, nested: [1, { a: null }] } } } },
  { plugins: ['sim'], $comment: 'minimal' },
].map((c) => JSON.stringify(c, null, 2));

const tokens = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', 'false', '1e999', '-0', '"__proto__"', '"configurations"', '"plugins"', '"enabled"', '"plugin"', '"configuration"', '\\u0000', '\\', '\n', ' '];

function mutateText(rng: Rng, text: string): string {
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
    const at = rng.int(text.length + 1);
    text = rng.bool() ? text.slice(0, at) + rng.pick(tokens) + text.slice(at) : text.slice(0, at) + text.slice(at + 1 + rng.int(6));
  }
  return text;
}

function check(text: string): void {
  let validJson = true;
  try { JSON.parse(text); } catch { validJson = false; }
  const located = jsonErrorAt(text);
  if ((located === undefined) !== validJson) throw new FuzzFinding(`JSON scanner and JSON.parse disagree on ${JSON.stringify(text.slice(0, 200))}`);
  if (located && (located.offset < 0 || located.offset > text.length)) throw new FuzzFinding(`error offset ${located.offset} outside a ${text.length}-char file`);
  const c = parseConfig(text, 'fuzz.json');
  for (const name of Object.keys(c.configurations)) {
    const e = c.configurations[name]!;
    if (typeof e.enabled !== 'boolean' || typeof e.plugin !== 'string' || !e.plugin || typeof e.configuration !== 'object' || e.configuration === null) {
      throw new FuzzFinding(`accepted a malformed configuration entry "${name}"`);
    }
  }
  if (!Array.isArray(c.plugins) || c.plugins.some((p) => typeof p !== 'string')) throw new FuzzFinding('accepted a malformed plugins list');
}

export const target: FuzzTarget = {
  name: 'config',
  fuzz({ cases, seed }) {
    const rng = new Rng(seed);
    const stats = newStats('config');
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    for (let i = 0; i < cases; i++) {
      const base = rng.pick(SEEDS);
      const text = rng.bool(0.6) ? mutateText(rng, base) : decoder.decode(mutate(rng, encoder.encode(base)));
      try {
        runCase(stats, encoder.encode(text), () => check(text));
      } catch (err) {
        if (err instanceof FuzzFinding) throw err;
        throw new FuzzFinding(String(err));
      }
    }
    return stats;
  },
};
