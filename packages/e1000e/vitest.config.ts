import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Guest tests boot a QEMU guest: minutes per boot under TCG, one file at a time (two guests at
// once would compete for the cores).
export default mergeConfig(shared, { test: { testTimeout: 20_000, hookTimeout: 600_000, fileParallelism: false } });
