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

describe('MmioRegisters writes under the optimising compiler', () => {
  it('keeps every store: two writes of one value to one register, then two values to another, all in order', () => {
    const fixture = fileURLToPath(new URL('./fixtures/stores-optimized.mjs', import.meta.url));
    const r = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--print-opt-code', '--print-opt-code-filter=pokeRegisters', fixture],
      {
        encoding: 'utf8',
        timeout: 15_000,
        maxBuffer: 64 << 20,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(/RESULT (.*)/.exec(r.stdout)?.[1] ?? 'null') as { optimized: boolean } | null;
    expect(result?.optimized, 'pokeRegisters was not optimised by TurboFan').toBe(true);
    // the 32-bit stores of the four immediates, as x86-64 code: movl [base+index+disp],imm
    const stores = [...r.stdout.matchAll(/movl \[[^\]]*\+0x(8|c)\],(0x[0-9a-f]+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(stores, 'the stores in the optimised code (write32 must be inlined as plain movs)').toEqual([
      '8:0x33333333',
      '8:0x33333333',
      'c:0x11111111',
      'c:0x22222222',
    ]);
    // and no locked exchange: Atomics.store would be an xchg
    expect(r.stdout).not.toMatch(/\bxchgl?\b.*\[/);
  });
});
