// RxQueue.receive reads the first status word of each call with Atomics.load and the rest of
// the batch with plain loads (see rx-queue.ts). Shown on optimised code: a receive loop
// compiled by TurboFan sees every descriptor another thread writes while it polls.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('RxQueue under the optimising compiler', () => {
  it('a TurboFan-compiled receive loop sees descriptors written by another thread', () => {
    const fixture = fileURLToPath(new URL('./rx-poll-fixture.ts', import.meta.url));
    const r = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--conditions=@ixy/source', '--import', 'tsx', fixture],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.error, 'the receive loop never saw the descriptors (hung): a status read was cached').toBeUndefined();
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      optimized: boolean;
      stillOptimized: boolean;
      spins: number;
      bad: number;
    };
    expect(result.optimized).toBe(true);
    expect(result.stillOptimized).toBe(true);
    expect(result.bad).toBe(0);
    expect(result.spins).toBeGreaterThan(0); // it really polled while nothing had arrived
  }, 70_000);
});
