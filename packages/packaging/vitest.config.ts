import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Packs, prebuilds and installs with npm: minutes on a busy machine, not seconds.
export default mergeConfig(shared, { test: { testTimeout: 120_000, hookTimeout: 900_000 } });
