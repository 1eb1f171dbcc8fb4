// `pnpm test:unit`: the tier that needs neither root nor QEMU, every package in one vitest run
// (one process pool instead of a vitest start per package). Root tests are *.root.test.ts, guest
// tests guest*.test.ts. `pnpm test` runs this tier on each supported Node version, then all three
// tiers package by package; it names the JSON report through IXY_TEST_REPORT.
import { defineConfig } from 'vitest/config';

const report = process.env.IXY_TEST_REPORT;
process.env.IXY_TEST_TIER = 'unit'; // read by vitest.shared.ts, which every project's config uses

export default defineConfig({
  test: {
    // packaging packs, prebuilds and installs every package (minutes): a release check, not a unit
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts', '!packages/packaging/vitest.config.ts'],
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});
