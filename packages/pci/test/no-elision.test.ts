// MmioRegisters' accesses are Atomics operations, which the engine may not cache, hoist or
// merge. Shown on optimised code: a register poll compiled by TurboFan still sees a value that
// another thread (standing in for the device) writes later. Runs the built dist in a child
// with --allow-natives-syntax.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('MmioRegisters under the optimising compiler', () => {
  it('a TurboFan-compiled poll loop sees a write made by another thread', () => {
    const fixture = fileURLToPath(new URL('./fixtures/poll-optimized.mjs', import.meta.url));
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', fixture], { encoding: 'utf8', timeout: 15_000 });
    expect(r.error, 'the poll loop never saw the write (hung): a register read was hoisted').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { optimized: boolean; status: number; spins: number };
    expect(result.optimized).toBe(true);
    expect(result.spins).toBeGreaterThan(0); // it really polled while the value was 0
  });
});
