import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Guest tests boot QEMU (TCG can take minutes): long timeouts, one file at a time. The unit tier
// (`pnpm test:unit`) runs only the harness's own tests: it needs no QEMU, so no prerequisites.
export default mergeConfig(shared, {
  test: {
    globalSetup: process.env.IXY_TEST_TIER === 'unit' ? [] : ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
