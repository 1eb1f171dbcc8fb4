// The bench's sections run end to end, briefly: the C comparison (C reference built, TypeScript
// case processes), the in-process tables, the wake-up latency, the latency through ixy-fwd and
// the GC watch of ixy-fwd's demo.
// They assert that packets moved and the sections produced their results, never how fast: speed
// belongs in `pnpm bench`. Two sections once failed only in the full run (a removed device option, a worker
// that resolved @ixy/sim from the working directory), which nothing ran.
import '@ixy/ixgbe';
import '@ixy/sim';
import { describe, expect, it } from 'vitest';
import { appGcRun, formatAppGc } from '../src/app-gc.ts';
import { buildCReference } from '../src/cref.ts';
import { fwdLatency } from '../src/fwd-latency.ts';
import { hybridAtFullLoad, wakeupLatency } from '../src/hybrid.ts';
import { mempools, registerAccessors } from '../src/micro.ts';
import { simForward } from '../src/sim-forward.ts';
import { pairedRatio, versusC } from '../src/versus-c.ts';

describe('bench sections', () => {
  it('compares TypeScript fast and safe mode with the C reference, run by run in turn across batch sizes', async () => {
    const build = buildCReference();
    if (!build.ok) throw new Error(`the C reference did not build: ${build.reason}`);
    const cmp = await versusC('fwd', build, 2.5, [1, 32], 0.02, 3, 0.2, 32);
    expect(cmp.errors).toEqual([]);
    for (const points of [cmp.c ?? [], cmp.fast, cmp.safe]) {
      expect(points.map((p) => p.batch)).toEqual([1, 32]);
      for (const p of points) {
        expect(p.rounds).toHaveLength(3);
        expect(p.rounds.every((r) => r.packets > 0)).toBe(true);
      }
    }
    expect(cmp.paired.map((p) => p.rounds.length)).toEqual([3, 3]);
    expect(pairedRatio(cmp, 32, 'fast', 'c')).toBeGreaterThan(0);
    expect(pairedRatio(cmp, 32, 'safe', 'fast')).toBeGreaterThan(0);
    // the steady-state check ran in both TypeScript processes of batch 32, after their rounds
    for (const kind of ['fast', 'safe'] as const) expect(cmp.gc[kind]?.packets).toBeGreaterThan(0);
  }, 60_000);

  it('reports a case process that fails, and stops the others', async () => {
    const cmp = await versusC('fwd', { ok: true, compiler: 'none', binary: '/nonexistent/cref' }, 2.5, [32], 0.02, 2);
    expect(cmp.errors.join('\n')).toMatch(/C reference fwd batch 32 ended .*ENOENT/);
    expect(cmp.fast).toHaveLength(0);
  }, 60_000);

  it('runs the in-process tables: fwd on simulated ports, registers, mempools, hybrid at full load', async () => {
    const rates = [
      ...simForward(2.5, 0.02, [
        { safe: false, batch: 32 },
        { safe: true, batch: 32 },
      ]),
      ...registerAccessors(2.5, 0.02),
      ...mempools(2.5, 0.02),
      ...(await hybridAtFullLoad(2.5, 0.02)),
    ];
    expect(rates.length).toBeGreaterThanOrEqual(10);
    for (const r of rates) expect(r.packets, r.name).toBeGreaterThan(0);
  }, 60_000);

  it('measures the wake-up latency of an idle port, busy-polling and hybrid', async () => {
    const rows = await wakeupLatency(10, 1);
    expect(rows.map((r) => r.name)).toHaveLength(2);
    for (const r of rows) expect(r.frames).toBeGreaterThan(0);
  }, 60_000);

  it("watches the GCs of ixy-fwd's demo as users start it, and reads its traffic report", async () => {
    const r = await appGcRun(2);
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.received).toBeGreaterThan(0);
    expect(r.corrupt).toBe(0);
    // start-up compiles and loads: the watcher saw GCs before the first stats line
    expect(r.startupMaxPauseMs).toBeGreaterThan(0);
    expect(formatAppGc(r).text).toMatch(/forwarding thread from its first to its last stats line: \d+ GCs/);
  }, 60_000);

  it('measures the latency through ixy-fwd in its own process', async () => {
    const runs = await fwdLatency({ seconds: 0.2, rates: [0.005], shares: [] });
    expect(new Set(runs.map((r) => r.mode))).toEqual(new Set(['busy-poll', 'hybrid']));
    for (const r of runs) {
      expect(r.received).toBeGreaterThan(0);
      expect(r.received).toBeLessThanOrEqual(r.sent);
      expect(r.latency.count).toBeGreaterThan(0);
    }
  }, 120_000);
});
