import { describe, expect, it } from 'vitest';
import { PacketBatch, createStats, txBatchBusyWait } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { fillBatch, frameBytes, type Pair } from './helpers.js';
import { openPair, txPool } from './tracked.js';

let pair: Pair | undefined;

const TWO_POW_32 = 4294967296;

describe('ixgbe statistics on the model', () => {
  it('counts what was sent and received; bytes include the 4-byte CRC, as the 82599 counts', () => {
    pair = openPair();
    const p = txPool();
    const sizes = [60, 64, 99, 500, 1514, 1000, 60, 77];
    const batch = new PacketBatch(32);
    fillBatch(
      p,
      batch,
      sizes.map((len, i) => frameBytes(i, len)),
    );
    txBatchBusyWait(pair.p0.dev, 0, batch);
    const rx = new PacketBatch(32);
    expect(pair.p1.dev.rxBatch(0, rx)).toBe(sizes.length);
    Mempool.freeBatch(rx);
    const bytes = sizes.reduce((a, n) => a + n + 4, 0);
    const s0 = createStats();
    const s1 = createStats();
    pair.p0.dev.readStats(s0);
    pair.p1.dev.readStats(s1);
    expect(s0).toMatchObject({ txPackets: sizes.length, txBytes: bytes, rxPackets: 0, rxBytes: 0 });
    expect(s1).toMatchObject({ rxPackets: sizes.length, rxBytes: bytes, txPackets: 0, txBytes: 0, rxDropped: 0 });
    // clear on read: a second read adds nothing
    pair.p1.dev.readStats(s1);
    expect(s1.rxPackets).toBe(sizes.length);
  });

  it('adds byte counts past 2^32 exactly (36-bit registers, JS-number totals)', () => {
    pair = openPair();
    const s = createStats();
    const model = pair.p1.model;
    // 2^32 + 5 bytes in one reading period: GORCH carries the high bits
    model.addCounts({ rxBytes: TWO_POW_32 + 5, txBytes: 3 * TWO_POW_32 + 1, rxPackets: 7, txPackets: 9 });
    pair.p1.dev.readStats(s);
    expect(s.rxBytes).toBe(TWO_POW_32 + 5);
    expect(s.txBytes).toBe(3 * TWO_POW_32 + 1);
    // many periods: the totals keep counting beyond what any register holds
    for (let i = 0; i < 20; i++) {
      model.addCounts({ rxBytes: 15 * TWO_POW_32 + 123 });
      pair.p1.dev.readStats(s);
    }
    expect(s.rxBytes).toBe(TWO_POW_32 + 5 + 20 * (15 * TWO_POW_32 + 123));
    expect(Number.isSafeInteger(s.rxBytes)).toBe(true);
    // plus real traffic on top
    const p = txPool();
    const batch = new PacketBatch(4);
    fillBatch(p, batch, [frameBytes(0, 1514), frameBytes(1, 1514)]);
    txBatchBusyWait(pair.p0.dev, 0, batch);
    const rx = new PacketBatch(4);
    pair.p1.dev.rxBatch(0, rx);
    Mempool.freeBatch(rx);
    const before = s.rxBytes;
    pair.p1.dev.readStats(s);
    expect(s.rxBytes - before).toBe(2 * 1518);
    expect(s.rxPackets).toBe(7 + 2);
  });

  it('resetStats discards the counts so far', () => {
    pair = openPair();
    pair.p0.model.addCounts({ rxPackets: 5, rxBytes: 500, rxMissed: 3 });
    pair.p0.dev.resetStats();
    const s = createStats();
    pair.p0.dev.readStats(s);
    expect(s).toEqual(createStats());
    pair.p0.model.addCounts({ rxMissed: 3 });
    pair.p0.dev.readStats(s);
    expect(s.rxDropped).toBe(3);
  });
});
