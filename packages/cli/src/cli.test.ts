import { describe, expect, it } from 'vitest';
import { IxyError, type IxyDevice, createStats, type DeviceStats } from '@ixy/core';
import { pollLoop } from './poll-loop.js';
import { reportError } from './run-main.js';
import { StatsReporter } from './stats-reporter.js';
import { intOption } from './options.js';

describe('reportError', () => {
  it('prints an IxyError as one line plus its hint, exit 1', () => {
    const lines: string[] = [];
    const code = reportError('ixy-fwd', new IxyError('EX', 'no hugepages', 'reserve some'), (l) => lines.push(l));
    expect(code).toBe(1);
    expect(lines).toEqual(['ixy-fwd: no hugepages', '  hint: reserve some']);
  });

  it('calls anything else a bug and shows its stack', () => {
    const lines: string[] = [];
    expect(reportError('x', new TypeError('oops'), (l) => lines.push(l))).toBe(70);
    expect(lines[0]).toMatch(/unexpected error/);
    expect(lines[1]).toMatch(/TypeError: oops/);
  });
});

describe('pollLoop', () => {
  it('stops when asked, having run the step', async () => {
    let steps = 0;
    const why = await pollLoop(() => steps++, { stopWhen: () => steps >= 1000 });
    expect(why).toBe('stopped');
    expect(steps).toBeGreaterThanOrEqual(1000);
  });

  it('stops cleanly on SIGTERM', async () => {
    let steps = 0;
    setTimeout(() => process.emit('SIGTERM', 'SIGTERM'), 20);
    const why = await pollLoop(() => steps++);
    expect(why).toBe('signal');
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('stops after a duration and reports intervals', async () => {
    let intervals = 0;
    const why = await pollLoop(() => {}, { durationSeconds: 0.05, intervalMs: 10, onInterval: () => intervals++ });
    expect(why).toBe('duration');
    expect(intervals).toBeGreaterThan(0);
  });
});

describe('StatsReporter', () => {
  it('prints a line per port and the totals', () => {
    let reads = 0;
    const dev = {
      address: 'sim:t:0',
      readStats(s: DeviceStats) {
        reads++;
        s.rxPackets += 1_000_000;
        s.rxBytes += 60_000_000;
      },
    } as unknown as IxyDevice;
    const lines: string[] = [];
    const r = new StatsReporter([dev], (l) => lines.push(l));
    r.interval(1e9);
    const totals = r.totals();
    expect(lines[0]).toBe('[sim:t:0] RX: 640.00 Mbit/s 1.00 Mpps | TX: 0.00 Mbit/s 0.00 Mpps');
    expect(lines[1]).toMatch(/total RX: 2000000 packets 120000000 bytes/);
    expect(totals[0].rxPackets).toBe(2_000_000);
    expect(reads).toBe(2);
    void createStats;
  });
});

describe('options', () => {
  it('parses integers in range, rejects the rest', () => {
    expect(intOption(1, 10)('7')).toBe(7);
    expect(() => intOption(1, 10)('0')).toThrow(/from 1 to 10/);
    expect(() => intOption(1, 10)('x')).toThrow();
  });
});
