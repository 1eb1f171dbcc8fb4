import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Guest tests boot a QEMU guest: give them minutes, not the default seconds.
export default mergeConfig(shared, { test: { testTimeout: 20_000, hookTimeout: 600_000 } });
