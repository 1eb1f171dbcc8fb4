import { describe, expect, it } from 'vitest';
import { PacketBatch, type DeviceStats, type IxyDevice } from '@ixy/core';
import { drainTx } from '../src/drain.js';
import { StatsReporter } from '../src/stats-reporter.js';
import { installStopSignals } from '../src/stop-signals.js';

/**
 * A port whose TX ring holds `inRing` frames and sends `perCall` of them at each txBatch call
 * (0: a link that never takes any); it takes up to `room` frames of a batch. Its counters read
 * as a card's do: what was sent since the last read, added to the caller's stats.
 */
function fakePort(inRing: number, perCall: number, room = Infinity) {
  let sent = 0;
  let read = 0;
  const port = {
    inRing,
    address: 'fake',
    txBatch(_queue: number, batch: PacketBatch): number {
      const n = Math.min(room, batch.length);
      port.inRing += n;
      const out = Math.min(perCall, port.inRing);
      port.inRing -= out;
      sent += out;
      return n;
    },
    readStats(stats: DeviceStats): void {
      stats.txPackets += sent - read;
      read = sent;
    },
    linkSpeed: () => 1000,
  };
  return port;
}

function held(n: number): PacketBatch {
  const b = new PacketBatch(8);
  for (let i = 0; i < n; i++) b.push(i);
  return b;
}

describe('drainTx: at the stop, waits for what an app handed to its ports to leave', () => {
  it('sends what it holds first, and returns when every frame has left', async () => {
    const a = fakePort(10, 1);
    const b = fakePort(0, 1, 2);
    const reporter = new StatsReporter([a, b] as unknown as IxyDevice[], () => {});
    const toA = { handed: 10 };
    const toB = { handed: 0, held: held(5) };
    expect(await drainTx('test', reporter, [toA, toB])).toEqual([0, 0]);
    expect(toB.held.length).toBe(0);
    expect(toB.handed).toBe(5);
    expect(reporter.current(0).txPackets).toBe(10);
    expect(reporter.current(1).txPackets).toBe(5);
  });

  it('gives up after 2 s without progress and returns what never left, held frames included', async () => {
    const a = fakePort(4, 0, 0);
    const reporter = new StatsReporter([a] as unknown as IxyDevice[], () => {});
    expect(await drainTx('test', reporter, [{ handed: 4, held: held(3) }])).toEqual([7]);
  });

  it('a port the app sent nothing to is left alone', async () => {
    const a = fakePort(0, 1);
    const reporter = new StatsReporter([a, fakePort(0, 1)] as unknown as IxyDevice[], () => {});
    expect(await drainTx('test', reporter, [undefined, { handed: 0 }])).toEqual([0, 0]);
  });

  it('another stop signal ends the wait', async () => {
    installStopSignals();
    // a ring that sends a frame at every call and never empties: only the signal ends the wait
    const a = fakePort(1e9, 1);
    const reporter = new StatsReporter([a] as unknown as IxyDevice[], () => {});
    setTimeout(() => process.emit('SIGINT'), 100);
    try {
      const [left] = await drainTx('test', reporter, [{ handed: 1e9 }]);
      expect(left).toBe(a.inRing);
      expect(left).toBeGreaterThan(0);
    } finally {
      // the handlers would outlive the test in this worker (and keep SIGTERM from ending it)
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
    }
  });
});
