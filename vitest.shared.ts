// Tests run from TypeScript sources: the `@ixy/source` export condition maps every @ixy/*
// package to its src/, so no build is needed between an edit and a test run.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@ixy/source', 'import', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['@ixy/source', 'import', 'module', 'node', 'default'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
  },
});
