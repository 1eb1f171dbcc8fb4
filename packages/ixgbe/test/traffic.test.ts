import { describe, expect, it } from 'vitest';
import { FrameSizeError, PacketBatch, createStats, txBatchBusyWait } from '@ixy/core';
import { INDEX_MASK, Mempool, simulatedMemory } from '@ixy/memory';
import { MAX_FRAME_BYTES, TX_CLEAN_BATCH } from '../src/index.js';
import { fillBatch, frameBytes, packetBytes, type Port, type Pair } from './helpers.js';
import { openPair, txPool } from './tracked.js';

let pair: Pair | undefined;

/** Receives everything waiting on a port (polling a few times), returning copies of the bytes. */
function drain(port: Port, into: Uint8Array[], max = Infinity): void {
  const rx = new PacketBatch(64);
  for (let idle = 0; idle < 3 && into.length < max;) {
    const n = port.dev.rxBatch(0, rx);
    if (n === 0) idle++;
    for (let i = 0; i < n; i++) into.push(packetBytes(rx.handles[i]));
    Mempool.freeBatch(rx);
  }
}

describe('ixgbe on the 82599 model: packets', () => {
  it('carries exact bytes both ways across a cable', () => {
    pair = openPair();
    const p = txPool();
    const batch = new PacketBatch(32);
    const sizes = [60, 61, 64, 100, 127, 128, 1000, 1500, MAX_FRAME_BYTES - 4];
    for (const [from, to] of [
      [pair.p0, pair.p1],
      [pair.p1, pair.p0],
    ] as const) {
      const frames = sizes.map((len, i) => frameBytes(i + (from === pair!.p0 ? 0 : 1000), len));
      fillBatch(p, batch, frames);
      txBatchBusyWait(from.dev, 0, batch);
      const got: Uint8Array[] = [];
      drain(to, got);
      expect(got.length).toBe(frames.length);
      for (let i = 0; i < frames.length; i++) expect(got[i]).toEqual(frames[i]);
    }
  });

  it('pads short frames to 60 bytes (64 with CRC), as TXPADEN asks', () => {
    pair = openPair();
    const p = txPool();
    const batch = new PacketBatch(1);
    const arp = frameBytes(7, 42);
    fillBatch(p, batch, [arp]);
    txBatchBusyWait(pair.p0.dev, 0, batch);
    const got: Uint8Array[] = [];
    drain(pair.p1, got);
    expect(got).toHaveLength(1);
    expect(got[0].length).toBe(60);
    expect(got[0].subarray(0, 42)).toEqual(arp);
    expect(got[0].subarray(42).every((b) => b === 0)).toBe(true);
  });

  it('wraps both rings around many times without losing or reordering a frame', () => {
    pair = openPair({ ringSize: 64, poolSize: 256 });
    const p = txPool(512);
    const batch = new PacketBatch(32);
    const total = 64 * 40; // 40 times round each ring
    let sent = 0;
    let next = 0;
    const rx = new PacketBatch(32);
    while (next < total) {
      if (sent < total && batch.length === 0) {
        const frames = [];
        for (let i = 0; i < 32 && sent + i < total; i++) frames.push(frameBytes(sent + i, 60 + ((sent + i) % 200)));
        fillBatch(p, batch, frames);
      }
      if (batch.length > 0) {
        const before = batch.length;
        const n = pair.p0.dev.txBatch(0, batch);
        batch.shift(n);
        sent += n;
        expect(n).toBeLessThanOrEqual(before);
      }
      const n = pair.p1.dev.rxBatch(0, rx);
      for (let i = 0; i < n; i++) {
        expect(packetBytes(rx.handles[i])).toEqual(frameBytes(next, 60 + (next % 200)));
        next++;
      }
      Mempool.freeBatch(rx);
    }
    expect(next).toBe(total);
    const s = createStats();
    pair.p1.dev.readStats(s);
    expect(s.rxPackets).toBe(total);
    expect(s.rxDropped).toBe(0);
  });

  it('frees sent buffers back to their pool, in batches of 32', () => {
    pair = openPair({ ringSize: 128 });
    const p = txPool(1024);
    const full = p.freeCount;
    const batch = new PacketBatch(64);
    const got: Uint8Array[] = [];
    for (let round = 0; round < 20; round++) {
      fillBatch(
        p,
        batch,
        Array.from({ length: 64 }, (_, i) => frameBytes(round * 64 + i, 80)),
      );
      txBatchBusyWait(pair.p0.dev, 0, batch);
      drain(pair.p1, got);
    }
    expect(got).toHaveLength(20 * 64);
    // the driver keeps at most one clean batch plus what is in flight; sending more cleans it up
    expect(full - p.freeCount).toBeLessThan(128);
    // push the rest through with empty sends until only an incomplete clean batch is left
    const empty = new PacketBatch(1);
    pair.p0.dev.txBatch(0, empty);
    expect(full - p.freeCount).toBeLessThan(TX_CLEAN_BATCH);
    // closing the device frees what it still holds
    pair.p0.dev.close();
    expect(p.freeCount).toBe(full);
  });

  it('counts drops when the receiver is slow, and delivers the rest intact', () => {
    pair = openPair({ ringSize: 64 }, { ringSize: 64 });
    const p = txPool(1024);
    const batch = new PacketBatch(32);
    const total = 200; // fits the cable (256 slots), not the receiver's ring (63 free)
    for (let s = 0; s < total; s += 32) {
      fillBatch(
        p,
        batch,
        Array.from({ length: Math.min(32, total - s) }, (_, i) => frameBytes(s + i, 100)),
      );
      txBatchBusyWait(pair.p0.dev, 0, batch);
    }
    const got: Uint8Array[] = [];
    drain(pair.p1, got);
    expect(got).toHaveLength(63);
    for (let i = 0; i < 63; i++) expect(got[i]).toEqual(frameBytes(i, 100));
    const s = createStats();
    pair.p1.dev.readStats(s);
    expect(s.rxPackets).toBe(63);
    expect(s.rxDropped).toBe(total - 63);
  });

  it('stalls TX while the cable is full and sends the rest once the peer drains it', () => {
    pair = openPair({ ringSize: 512 });
    const p = txPool(2048);
    const batch = new PacketBatch(32);
    let sent = 0;
    // 256 frames fill the cable, 511 more fill the TX ring; after that tx takes nothing
    for (let guard = 0; guard < 100; guard++) {
      fillBatch(
        p,
        batch,
        Array.from({ length: 32 }, (_, i) => frameBytes(sent + i, 64)),
      );
      const n = pair.p0.dev.txBatch(0, batch);
      sent += n;
      Mempool.freeBatch(batch, n);
      if (n < 32) break;
    }
    expect(sent).toBe(256 + 511);
    const got: Uint8Array[] = [];
    const rx = new PacketBatch(512);
    while (got.length < sent) {
      const n = pair.p1.dev.rxBatch(0, rx);
      for (let i = 0; i < n; i++) got.push(packetBytes(rx.handles[i]));
      Mempool.freeBatch(rx);
      pair.p0.dev.txBatch(0, new PacketBatch(1)); // lets the sender's model retry
    }
    for (let i = 0; i < sent; i++) expect(got[i]).toEqual(frameBytes(i, 64));
  });

  it('refuses frames larger than the wire or their buffer with FrameSizeError', () => {
    pair = openPair();
    const p = txPool();
    const batch = new PacketBatch(4);
    fillBatch(p, batch, [frameBytes(0, 100), frameBytes(1, 100)]);
    p.length[batch.handles[1] & INDEX_MASK] = MAX_FRAME_BYTES + 1;
    expect(() => pair!.p0.dev.txBatch(0, batch)).toThrow(/none of the batch was taken/);
    p.free(batch.handles[0]); // still ours: the refused batch took nothing
    batch.shift(1);
    expect(() => pair!.p0.dev.txBatch(0, batch)).toThrow(FrameSizeError);
    p.length[batch.handles[0] & INDEX_MASK] = 0;
    expect(() => pair!.p0.dev.txBatch(0, batch)).toThrow(FrameSizeError);
    // a small pool buffer: 256-byte entries hold 128 bytes after the headroom
    const small = new Mempool({ allocator: simulatedMemory, entries: 4, entrySize: 256 });
    const h = small.allocOrThrow();
    small.length[h & INDEX_MASK] = 129;
    const one = new PacketBatch(1);
    one.push(h);
    expect(() => pair!.p0.dev.txBatch(0, one)).toThrow(/buffer holds 128/);
    small.close();
  });

  it('sets up several queues; without RSS the card receives on queue 0', () => {
    pair = openPair({ rxQueues: 4, txQueues: 4, ringSize: 64, poolSize: 128 });
    const dev = pair.p0.dev;
    expect(dev.rxQueueCount).toBe(4);
    expect(dev.txQueueCount).toBe(4);
    const p = txPool();
    const batch = new PacketBatch(8);
    for (let q = 0; q < 4; q++) {
      fillBatch(p, batch, [frameBytes(q, 70)]);
      txBatchBusyWait(dev, q, batch);
    }
    const rx = new PacketBatch(8);
    expect(pair.p1.dev.rxBatch(1, rx)).toBe(0);
    expect(pair.p1.dev.rxBatch(0, rx)).toBe(4);
    for (let q = 0; q < 4; q++) expect(packetBytes(rx.handles[q])).toEqual(frameBytes(q, 70));
    Mempool.freeBatch(rx);
    expect(() => dev.rxBatch(4, rx)).toThrow(/no rx queue 4/);
    expect(() => dev.txBatch(4, rx)).toThrow(/no tx queue 4/);
  });

  it('runs 128 RX queues (the upper 64 live at 0x0D000) and the 64 TX queues MTQC serves', () => {
    expect(() => openPair({ txQueues: 65 })).toThrow(/txQueues must be an integer in 1..64/);
    pair = openPair({ rxQueues: 128, txQueues: 64, ringSize: 64, poolSize: 65 }, {});
    const dev = pair.p0.dev;
    const p = txPool();
    const batch = new PacketBatch(1);
    for (const q of [0, 31, 63]) {
      fillBatch(p, batch, [frameBytes(q, 80)]);
      txBatchBusyWait(dev, q, batch);
    }
    const rx = new PacketBatch(8);
    expect(pair.p1.dev.rxBatch(0, rx)).toBe(3);
    expect(Array.from(rx.handles.subarray(0, 3), (h) => packetBytes(h)[14])).toEqual([0, 31, 63]);
    Mempool.freeBatch(rx);
    expect(dev.rxBatch(127, rx)).toBe(0);
    dev.close();
    expect(() => dev.rxBatch(0, rx)).toThrow(/is closed/);
  });

  it('keeps RX working when the application holds on to many packets (pool runs dry, then recovers)', () => {
    pair = openPair({ ringSize: 64, poolSize: 100 }, { ringSize: 64, poolSize: 100 });
    const p = txPool();
    const batch = new PacketBatch(32);
    const held = new PacketBatch(256);
    let seq = 0;
    const rx = new PacketBatch(32);
    for (let round = 0; round < 6; round++) {
      fillBatch(
        p,
        batch,
        Array.from({ length: 20 }, () => frameBytes(seq++, 90)),
      );
      txBatchBusyWait(pair.p0.dev, 0, batch);
      const n = pair.p1.dev.rxBatch(0, rx);
      for (let i = 0; i < n; i++) held.push(rx.handles[i]);
    }
    // 100 buffers: 64 in the ring, so only 36 can be handed out before the pool is empty
    expect(held.length).toBe(36);
    Mempool.freeBatch(held);
    const got: Uint8Array[] = [];
    drain(pair.p1, got);
    expect(got.length).toBeGreaterThan(0);
    expect(got[0][14] | (got[0][15] << 8)).toBe(36);
  });
});
