// The bench's sections run end to end, briefly: the C comparison (C reference built, TypeScript
// case processes), the wake-up latency and the latency through ixy-fwd. They assert that
// packets moved and the sections produced their results, never how fast: speed belongs in
// `pnpm bench`. Two sections once failed only in the full run (a removed device option, a worker
// that resolved @ixy/sim from the working directory), which nothing ran.
import '@ixy/ixgbe';
import '@ixy/sim';
import { describe, expect, it } from 'vitest';
import { buildCReference } from '../src/cref.ts';
import { fwdLatency } from '../src/fwd-latency.ts';
import { wakeupLatency } from '../src/hybrid.ts';
import { versusC } from '../src/versus-c.ts';

describe('bench sections', () => {
  it('compares TypeScript fast and safe mode with the C reference at one batch size', () => {
    const build = buildCReference();
    if (!build.ok) throw new Error(`the C reference did not build: ${build.reason}`);
    const cmp = versusC('fwd', build, 2.5, [32], 0.05, 2, 1);
    expect(cmp.errors).toEqual([]);
    for (const points of [cmp.c ?? [], cmp.fast, cmp.safe]) {
      expect(points).toHaveLength(1);
      expect(points[0].batch).toBe(32);
      expect(points[0].rounds.every((r) => r.packets > 0)).toBe(true);
    }
  }, 60_000);

  it('measures the wake-up latency of an idle port, busy-polling and hybrid', async () => {
    const rows = await wakeupLatency(10, 1);
    expect(rows.map((r) => r.name)).toHaveLength(2);
    for (const r of rows) expect(r.frames).toBeGreaterThan(0);
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
