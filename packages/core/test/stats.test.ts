import { describe, expect, it } from 'vitest';
import { createStats, formatStatsLine, formatStatsTotals, statsRates } from '../src/stats.js';

describe('stats', () => {
  it('counts the wire: 20 bytes of preamble and gap per frame', () => {
    const before = createStats();
    const now = {
      ...createStats(),
      rxPackets: 1_000_000,
      rxBytes: 60_000_000,
      txPackets: 500_000,
      txBytes: 32_000_000,
    };
    const r = statsRates(now, before, 1e9);
    expect(r.rxMpps).toBeCloseTo(1);
    expect(r.rxMbit).toBeCloseTo(((60 + 20) * 8 * 1e6) / 1e6);
    expect(r.txMpps).toBeCloseTo(0.5);
    expect(r.txMbit).toBeCloseTo(((32_000_000 + 500_000 * 20) * 8) / 1e6);
  });

  it('formats ixy-fwd lines', () => {
    const now = {
      ...createStats(),
      rxPackets: 14_880_952,
      rxBytes: 14_880_952 * 64,
      txPackets: 14_880_952,
      txBytes: 14_880_952 * 64,
    };
    expect(formatStatsLine('sim:a:0', now, createStats(), 1e9)).toBe(
      '[sim:a:0] RX: 10000.00 Mbit/s 14.88 Mpps | TX: 10000.00 Mbit/s 14.88 Mpps',
    );
    expect(formatStatsTotals('p', { ...now, rxDropped: 3 })).toContain('(3 dropped)');
  });

  it('stays exact past 2^32', () => {
    const s = createStats();
    for (let i = 0; i < 3; i++) s.rxBytes += 0xffffffff;
    expect(s.rxBytes).toBe(3 * 0xffffffff);
    expect(Number.isSafeInteger(s.rxBytes)).toBe(true);
  });
});
