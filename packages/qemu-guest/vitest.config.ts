import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Guest tests boot QEMU (TCG can take minutes): long timeouts, one file at a time.
export default mergeConfig(shared, {
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
