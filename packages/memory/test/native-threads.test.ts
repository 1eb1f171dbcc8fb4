// The addon's mapping table is process-wide and the addon loads in worker threads (cables
// between threads, packages/sim/test/cable-threads.test.ts). Eight threads map and unmap at
// once in a child process, so a race shows as that process crashing (SIGSEGV, or SIGABRT from
// malloc) or as unmap() losing a buffer, not as a crash of the test runner. Without the lock,
// every one of three runs crashed within a second.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const STRESS = fileURLToPath(new URL('./fixtures/map-stress.mjs', import.meta.url));

function run(threads: number, rounds: number): Promise<{ code: number | null; signal: string | null; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ixy-map-stress-'));
  return new Promise<{ code: number | null; signal: string | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [STRESS, String(threads), String(rounds), dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('the native mapping table under worker threads', () => {
  it('survives 8 threads mapping and unmapping 20000 buffers each, and loses none', async () => {
    const r = await run(8, 20_000);
    expect({ code: r.code, signal: r.signal }, r.out).toEqual({ code: 0, signal: null });
    expect(JSON.parse(r.out)).toEqual({ threads: 8, mapped: 160_000, lost: 0 });
  }, 120_000);
});
