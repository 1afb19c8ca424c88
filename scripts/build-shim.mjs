#!/usr/bin/env node
// Build the C shim (shim/*.c, shim/*.cc -> shim/build/Release/vfiokit_shim.node) with node-gyp.
// Runs at `npm install`. It never fails the install: when the build cannot run (no compiler, no
// Node headers, no node-gyp), it prints one line and vfiokit uses its JS fallbacks.
// Offline: Node's headers come from --nodedir (npmrc `nodedir`, else the running node's prefix,
// where Debian's nodejs-dev puts include/node).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shimDir = join(root, 'shim');
const output = join(shimDir, 'build', 'Release', 'vfiokit_shim.node');
const quiet = !process.argv.includes('--verbose');

function fallback(reason) {
  process.stdout.write(`vfiokit: C shim not built (${reason}); using the JS fallbacks (slower MMIO loops, no SharedArrayBuffer BARs)\n`);
  process.exit(0);
}

if (process.env.VFIOKIT_NO_SHIM === '1' && !process.argv.includes('--force')) fallback('VFIOKIT_NO_SHIM=1');
if (!existsSync(join(shimDir, 'binding.gyp'))) fallback('shim/binding.gyp missing');

// node-gyp: this checkout's (a devDependency), else the one npm bundles and names in
// npm_config_node_gyp while it runs install scripts (a consumer's install of vfiokit).
let gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && existsSync(bundled)) gyp = bundled;
  else fallback('node-gyp is not installed');
}

function nodeDir() {
  const fromEnv = process.env.npm_config_nodedir;
  if (fromEnv && existsSync(join(fromEnv, 'include', 'node', 'node.h'))) return fromEnv;
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) return prefix;
  return undefined;
}

const dir = nodeDir();
const args = [gyp, 'rebuild', '--directory', shimDir, ...(dir ? [`--nodedir=${dir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: shimDir, stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8' });
if (r.error || r.status !== 0 || !existsSync(output)) {
  // The first line that names the cause (a compiler error, a missing tool), else the last one.
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const cause = lines.find((l) => /\berror:/i.test(l))
    ?? lines.find((l) => /gyp ERR!/.test(l) && !/gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l));
  const detail = r.error?.message ?? cause ?? lines.pop() ?? `exit ${r.status}`;
  fallback(`node-gyp failed: ${detail.slice(0, 200)}`);
}
process.stdout.write(`vfiokit: C shim built: ${output}\n`);
