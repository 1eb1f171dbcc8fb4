// Tests run from TypeScript sources: the `@ixy/source` export condition maps every @ixy/*
// package to its src/, so no build is needed between an edit and a test run. Each package
// also writes a JSON report to .test-results/ for the closing line of `pnpm test`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const conditions = ['@ixy/source', 'import', 'module', 'node', 'default'];
const pkgName = (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { name: string }).name;

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    exclude:
      process.env.IXY_TEST_TIER === 'unit' ? ['**/node_modules/**', '**/*.root.test.ts', '**/guest*.test.ts'] : [],
    testTimeout: 20_000,
    pool: 'forks',
    reporters: [
      'default',
      ['json', { outputFile: join(import.meta.dirname, '.test-results', `${pkgName.replace('/', '+')}.json`) }],
    ],
  },
});
