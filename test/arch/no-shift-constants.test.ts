// One register-field idiom (docs/design.md): fields are named masks read with fieldGet and written
// with fieldPrep (src/util/bitfield.ts, the kernel's bitfield.h), so no source file defines a
// separate *_SHIFT constant, as a const or as a key of a register table.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** `const X_SHIFT =`, `X_SHIFT: ` as an object key, `X_SHIFT = ` as an enum member. */
const SHIFT_DEFINITION = /\b(?:const|let|var)\s+\w*_SHIFT\s*[=:]|\b\w*_SHIFT\s*:\s*[-0-9(]|^\s*\w*_SHIFT\s*=/;

export function shiftDefinitions(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return code.split('\n').filter((line) => SHIFT_DEFINITION.test(line)).map((line) => line.trim());
}

describe('no *_SHIFT constants (one register-field idiom)', () => {
  it('recognises the three ways a shift constant was written', () => {
    expect(shiftDefinitions('export const DRBL_HOST_STATUS_SHIFT = 8;')).toHaveLength(1);
    expect(shiftDefinitions('  BAR_SHIFT: 32n,')).toHaveLength(1);
    expect(shiftDefinitions('enum E {\n  A_SHIFT = 4,\n}')).toHaveLength(1);
    expect(shiftDefinitions('// values are never shifted by a separate _SHIFT constant\nconst x = fieldGet(DRBL_HOST_STATUS, v);')).toEqual([]);
  });

  it('no file under src/ outside util/bitfield.ts defines one', () => {
    const offending = tsFiles(join(root, 'src'))
      .filter((file) => relative(root, file) !== 'src/util/bitfield.ts')
      .flatMap((file) => shiftDefinitions(readFileSync(file, 'utf8')).map((line) => `${relative(root, file)}: ${line}`));
    expect(offending).toEqual([]);
  });
});
