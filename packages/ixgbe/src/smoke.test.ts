import { describe, expect, it } from 'vitest';
import { PacketBatch, createStats, txBatchBusyWait } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { closePair, fillBatch, frameBytes, openPair, packetBytes, txPool } from './test/helpers.js';

describe('smoke', () => {
  it('sends and receives', () => {
    const pair = openPair();
    try {
      const pool = txPool();
      const batch = new PacketBatch(32);
      const frames = Array.from({ length: 10 }, (_, i) => frameBytes(i, 60 + i));
      fillBatch(pool, batch, frames);
      txBatchBusyWait(pair.p0.dev, 0, batch);
      const rx = new PacketBatch(64);
      const n = pair.p1.dev.rxBatch(0, rx);
      expect(n).toBe(10);
      for (let i = 0; i < n; i++) expect(packetBytes(rx.handles[i])).toEqual(frames[i]);
      Mempool.freeBatch(rx);
      const s = createStats();
      pair.p1.dev.readStats(s);
      expect(s.rxPackets).toBe(10);
      expect(pair.p0.dev.linkSpeed()).toBe(10000);
    } finally {
      closePair(pair);
    }
  });
});
