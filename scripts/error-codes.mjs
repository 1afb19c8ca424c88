#!/usr/bin/env node
// Writes docs/error-codes.md and python/vfiokit/_codes.py from the one list of error codes
// (src/error-codes.ts); with --check, exits 1 naming the file that differs instead of writing.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderErrorCodesMarkdown, renderPythonCodes } = await import(pathToFileURL(join(root, 'src', 'cli', 'error-classes.ts')).href);
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, text] of [['docs/error-codes.md', renderErrorCodesMarkdown()], ['python/vfiokit/_codes.py', renderPythonCodes()]]) {
  const path = join(root, file);
  let now = '';
  try {
    now = readFileSync(path, 'utf8');
  } catch {
    /* missing: stale */
  }
  if (now === text) continue;
  if (check) {
    process.stderr.write(`${file} is stale: run node scripts/error-codes.mjs\n`);
    stale++;
  } else {
    writeFileSync(path, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
process.exitCode = stale ? 1 : 0;
