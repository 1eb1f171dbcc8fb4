import { describe, expect, it, vi } from 'vitest';
import { IxyError, type IxyDevice, createStats, type DeviceStats, type Wakeup } from '@ixy/core';
import { pollLoop } from '../src/poll-loop.js';
import { reportError } from '../src/run-main.js';
import { StatsReporter } from '../src/stats-reporter.js';
import { intOption, secondsOption } from '../src/options.js';

describe('reportError', () => {
  it('prints an IxyError as one line plus its hint, exit 1', () => {
    const lines: string[] = [];
    const code = reportError('ixy-fwd', new IxyError('ENOHUGEPAGES', 'no hugepages', 'reserve some'), (l) =>
      lines.push(l),
    );
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
    expect(why.reason).toBe('stopped');
    expect(steps).toBeGreaterThanOrEqual(1000);
  });

  it('stops cleanly on SIGTERM', async () => {
    let steps = 0;
    setTimeout(() => process.emit('SIGTERM', 'SIGTERM'), 20);
    const why = await pollLoop(() => steps++);
    expect(why.reason).toBe('signal');
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('stops after a duration and reports intervals', async () => {
    let intervals = 0;
    const why = await pollLoop(() => {}, { durationSeconds: 0.05, intervalMs: 10, onInterval: () => intervals++ });
    expect(why.reason).toBe('duration');
    expect(intervals).toBeGreaterThan(0);
  });
});

/** A wake-up that records what the loop does with it; `ready` says whether work is waiting at arm. */
function fakeWakeup(ready: () => boolean): Wakeup & { arms: number; disarms: number } {
  return {
    arms: 0,
    disarms: 0,
    fds: [],
    futexes: [],
    arm() {
      this.arms++;
      return !ready();
    },
    disarm() {
      this.disarms++;
    },
  };
}

describe('pollLoop in hybrid mode', () => {
  it('sleeps on the wake-ups once idle, and never while there is work', async () => {
    const w = fakeWakeup(() => false);
    let steps = 0;
    const r = await pollLoop(() => (steps++ < 1000 ? 1 : 0), { wakeups: [w], durationSeconds: 0.1, maxSleepMs: 5 });
    expect(r.reason).toBe('duration');
    expect(r.sleeps).toBeGreaterThan(0);
    expect(w.arms).toBe(r.sleeps);
    expect(w.disarms).toBe(w.arms);
    // no wake-up fired: every sleep ran into its timeout, so the loop stepped far less than a busy one
    expect(r.wakeups).toBe(0);
    expect(r.backoffs).toBe(0);
  });

  it('does not sleep when a wake-up reports work at arm time, and disarms the ones it armed', async () => {
    const idle = fakeWakeup(() => false);
    const busy = fakeWakeup(() => true);
    const r = await pollLoop(() => 0, { wakeups: [idle, busy], durationSeconds: 0.05 });
    expect(r.sleeps).toBe(0);
    expect(busy.arms).toBeGreaterThan(0);
    expect(idle.disarms).toBe(idle.arms);
  });

  it('backs off with short sleeps when a device cannot wake a sleeper', async () => {
    const w = fakeWakeup(() => false);
    const r = await pollLoop(() => 0, { wakeups: [w, null], durationSeconds: 0.05 });
    expect(r.sleeps).toBe(0);
    expect(r.backoffs).toBeGreaterThan(0);
    expect(w.arms).toBe(0);
  });

  it('does not read the clock at each turn from busy to idle', async () => {
    // a forwarder a little faster than its input: work at every other step. Each clock read
    // allocates (see pollLoop), so reads must stay per block of steps, not per step
    const w = fakeWakeup(() => false);
    const realNow = performance.now.bind(performance);
    let reads = 0;
    let steps = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => {
      reads++;
      return realNow();
    });
    try {
      await pollLoop(() => (steps++ & 1) ^ 1, { wakeups: [w], stopWhen: () => steps >= 100_000 });
    } finally {
      spy.mockRestore();
    }
    expect(steps).toBeGreaterThanOrEqual(100_000);
    // a read per block of steps (the loop's own clock) and a few in idle stretches, no sleep
    expect(reads).toBeLessThan(steps / 100);
    expect(w.arms).toBe(0);
  });

  it('reads the clock a few times per idle stretch before a sleep, not every few steps', async () => {
    // a wake-up that never fires: each sleep runs into its 10 µs timeout, and the loop spins
    // idleUs again
    const w = fakeWakeup(() => false);
    const realNow = performance.now.bind(performance);
    let reads = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => {
      reads++;
      return realNow();
    });
    let r;
    try {
      r = await pollLoop(() => 0, { wakeups: [w], durationSeconds: 0.2, maxSleepMs: 0.01 });
    } finally {
      spy.mockRestore();
    }
    expect(r.sleeps).toBeGreaterThan(10);
    // each stretch: the first read, a few more as the steps add up to idleUs, one after the
    // block; read every 16 steps, a 100 µs stretch of steps that find nothing took hundreds
    expect(reads / r.sleeps).toBeLessThan(16);
  });

  it('ends a block after 8192 packets, however long its steps that found nothing made it', async () => {
    // 200 000 cheap empty steps grow the blocks; then traffic: 20 000 steps of 32 packets,
    // which in a real loop take 100s of times longer each. The loop must still look at the
    // clock (intervals, signals, the event loop) at least every 8192 packets
    const realNow = performance.now.bind(performance);
    let steps = 0;
    let readsInTraffic = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => {
      if (steps > 200_000) readsInTraffic++;
      return realNow();
    });
    try {
      await pollLoop(() => (++steps > 200_000 ? 32 : 0), { busyPoll: true, stopWhen: () => steps >= 220_000 });
    } finally {
      spy.mockRestore();
    }
    expect(readsInTraffic).toBeGreaterThanOrEqual(Math.floor((20_000 * 32) / 8192));
  });

  it('never sleeps with busyPoll', async () => {
    const w = fakeWakeup(() => false);
    const r = await pollLoop(() => 0, { wakeups: [w], busyPoll: true, durationSeconds: 0.03 });
    expect(r.sleeps + r.backoffs).toBe(0);
    expect(w.arms).toBe(0);
  });

  it('sleeps at once for paced work that is not due yet', async () => {
    let sent = 0;
    const start = performance.now();
    // 10 units per ms: due when the clock allows the next unit
    const r = await pollLoop(
      () => {
        if (sent >= Math.floor((performance.now() - start) * 10)) return 0;
        sent++;
        return 1;
      },
      { durationSeconds: 0.05, dueInMs: () => (sent + 1) / 10 - (performance.now() - start), wakeups: [] },
    );
    expect(r.backoffs).toBeGreaterThan(0);
  });
});

describe('StatsReporter', () => {
  it('prints a line per port and the totals', () => {
    let reads = 0;
    const dev = {
      address: 'sim:t:0',
      linkSpeed: () => 10_000,
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
    r.countTxDropped(0, 5);
    r.totals();
    expect(lines[2]).toMatch(/TX: 0 packets 0 bytes \(5 dropped\)$/);
    void createStats;
  });
});

describe('StatsReporter link lines', () => {
  it('says when a link goes down and comes back', () => {
    let speed = 10_000;
    const dev = { address: 'sim:l:0', linkSpeed: () => speed, readStats() {} } as unknown as IxyDevice;
    const lines: string[] = [];
    const r = new StatsReporter([dev], (l) => lines.push(l));
    speed = 0;
    r.interval(1e9);
    speed = 10_000;
    r.interval(1e9);
    r.interval(1e9);
    expect(lines.filter((l) => /link/.test(l))).toEqual(['[sim:l:0] link down', '[sim:l:0] link up at 10000 Mbit/s']);
  });
});

describe('options', () => {
  it('parses integers in range, rejects the rest', () => {
    expect(intOption(1, 10)('7')).toBe(7);
    expect(() => intOption(1, 10)('0')).toThrow(/from 1 to 10/);
    expect(() => intOption(1, 10)('x')).toThrow();
    // decimal digits only: Number() would take these as 0, 16, 1000, 5
    for (const bad of ['', ' ', '0x10', '1e3', '5.0', '-1', '+5', ' 5'])
      expect(() => intOption(0, 1 << 20)(bad), `'${bad}'`).toThrow(/decimal digits/);
    expect(intOption(0, Number.MAX_SAFE_INTEGER)('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => intOption(0, Number.MAX_SAFE_INTEGER)('99999999999999999')).toThrow();
    expect(secondsOption('0.5')).toBe(0.5);
    for (const bad of ['', 'Infinity', '1e3', '0x1', '-1']) expect(() => secondsOption(bad)).toThrow(/seconds/);
  });
});
