// The README's library example runs as printed (its `from 'vfiokit'` import pointed at the source).
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..');

function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README has no ```ts block under "## The library"');
  return match[1]!;
}

describe('README library example', () => {
  it('imports only from the package entry and copies through the sim AFU with an interrupt', async () => {
    const code = readmeExample();
    expect(code).toMatch(/from 'vfiokit';/);
    expect(code.split('\n').length).toBeLessThanOrEqual(60);
    const file = join(import.meta.dirname, `.readme-example-${process.pid}.ts`);
    writeFileSync(file, code.replace(/from 'vfiokit';/, `from ${JSON.stringify(pathToFileURL(join(root, 'src', 'index.ts')).href)};`));
    try {
      const mod = (await import(pathToFileURL(file).href)) as { copyThroughAfu(url?: string, bytes?: number): Promise<void> };
      await expect(mod.copyThroughAfu('sim:n3000', 16 * 1024)).resolves.toBeUndefined();
      await expect(mod.copyThroughAfu('sim:n3000?fault=dma', 4096)).rejects.toThrow(/DMA fault/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
