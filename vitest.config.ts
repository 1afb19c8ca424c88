import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // The package's own entry points resolve to the source in the checkout (as tsconfig.json's
  // "paths" do for tsc and tsx), so examples/ import 'vfiokit' exactly as a user's app does.
  resolve: {
    alias: [
      { find: /^vfiokit$/, replacement: src('index.ts') },
      { find: /^vfiokit\/manage$/, replacement: src('manage/index.ts') },
      { find: /^vfiokit\/(dfl|pci|backend|reservations|sim)$/, replacement: src('entry/$1.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/kernel/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
