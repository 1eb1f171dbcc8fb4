import { describe, expect, it } from 'vitest';
import { OwnershipError, PacketBatch, txBatchBusyWait } from '@ixy/core';
import { BUFFER_APP, BUFFER_FREE, INDEX_MASK, Mempool } from '@ixy/memory';
import type { SimPortDevice } from '@ixy/sim';
import type { RxQueue } from '../src/rx-queue.js';
import { fillBatch, frameBytes, packetBytes, type Pair } from './helpers.js';
import { openPair, txPool } from './tracked.js';

let pair: Pair | undefined;

describe('ixgbe safe mode: packet ownership', () => {
  it('refuses to send a buffer that was freed', () => {
    pair = openPair({ safe: true });
    const p = txPool(64, true);
    const batch = new PacketBatch(2);
    fillBatch(p, batch, [frameBytes(0, 64)]);
    p.free(batch.handles[0]);
    expect(() => pair!.p0.dev.txBatch(0, batch)).toThrow(OwnershipError);
  });

  it('refuses an index past the pool as foreign, and gives the packets before it back', () => {
    pair = openPair({ safe: true });
    const p = txPool(64, true);
    const batch = new PacketBatch(2);
    fillBatch(p, batch, [frameBytes(0, 64)]);
    const h = batch.handles[0];
    batch.handles[1] = p.handle(100); // the pool's id, an index it does not have
    batch.length = 2;
    expect(() => pair!.p0.dev.txBatch(0, batch)).toThrow(
      /transmit of a foreign buffer: handle 0x[0-9a-f]+ is not a buffer of mempool \d+ \(packet 1 of the batch/,
    );
    expect(p.owner[h & INDEX_MASK]).toBe(BUFFER_APP); // the first packet is the caller's again
    batch.length = 1;
    txBatchBusyWait(pair.p0.dev, 0, batch);
  });

  it('refuses to send a buffer twice (it belongs to the driver after the first send)', () => {
    pair = openPair({ safe: true });
    const p = txPool(64, true);
    const batch = new PacketBatch(2);
    fillBatch(p, batch, [frameBytes(0, 64)]);
    const h = batch.handles[0];
    txBatchBusyWait(pair.p0.dev, 0, batch);
    batch.push(h);
    expect(() => pair!.p0.dev.txBatch(0, batch)).toThrow(/transmit of buffer .*: buffer is owned by a driver/);
    // and freeing it yourself after sending is a double free
    expect(() => p.free(h)).toThrow(OwnershipError);
  });

  it('catches a double free of a received packet', () => {
    pair = openPair({ safe: true }, { safe: true });
    const p = txPool(64, true);
    const batch = new PacketBatch(2);
    fillBatch(p, batch, [frameBytes(0, 64)]);
    txBatchBusyWait(pair.p0.dev, 0, batch);
    const rx = new PacketBatch(4);
    expect(pair.p1.dev.rxBatch(0, rx)).toBe(1);
    const h = rx.handles[0];
    Mempool.of(h).free(h);
    expect(() => Mempool.of(h).free(h)).toThrow(/double free/);
  });

  it('reports the first of several received buffers the application holds, and receives every packet in order', () => {
    pair = openPair({ safe: true }, { safe: true });
    const p = txPool(64, true);
    const batch = new PacketBatch(8);
    fillBatch(
      p,
      batch,
      [0, 1, 2, 3].map((i) => frameBytes(i, 64)),
    );
    txBatchBusyWait(pair.p0.dev, 0, batch);
    const q = ((pair.p1.dev as SimPortDevice).inner as unknown as { rx: RxQueue[] }).rx[0];
    // the buffers behind the first and the third descriptor the application's while the ring
    // held them (a bug elsewhere); the second's byte says the application freed it last, which
    // is the pool's side as the driver's is
    const first = q.handles[0];
    q.pool.owner[first & INDEX_MASK] = BUFFER_APP;
    q.pool.owner[q.handles[1] & INDEX_MASK] = BUFFER_FREE;
    q.pool.owner[q.handles[2] & INDEX_MASK] = BUFFER_APP;
    const rx = new PacketBatch(8);
    expect(() => pair!.p1.dev.rxBatch(0, rx)).toThrow(
      new RegExp(
        `receive of buffer ${first & INDEX_MASK} of mempool \\d+: buffer is owned by the application, expected a driver's or a free one`,
      ),
    );
    // all four were taken, in order, and are the application's
    expect(rx.length).toBe(4);
    expect(Array.from(rx.handles.subarray(0, 4)).map(packetBytes)).toEqual([0, 1, 2, 3].map((i) => frameBytes(i, 64)));
    Mempool.freeBatch(rx);
    fillBatch(p, batch, [frameBytes(4, 64)]);
    txBatchBusyWait(pair.p0.dev, 0, batch);
    expect(pair.p1.dev.rxBatch(0, rx)).toBe(1);
    expect(packetBytes(rx.handles[0])).toEqual(frameBytes(4, 64));
  });

  it('refuses a received buffer the application holds, after leaving its ring consistent', () => {
    pair = openPair({ safe: true }, { safe: true });
    const p = txPool(64, true);
    const batch = new PacketBatch(4);
    fillBatch(p, batch, [frameBytes(0, 64), frameBytes(1, 64)]);
    txBatchBusyWait(pair.p0.dev, 0, batch);
    const q = ((pair.p1.dev as SimPortDevice).inner as unknown as { rx: RxQueue[] }).rx[0];
    // a bug elsewhere gave the buffer behind the second descriptor to the application while the
    // ring held it
    const h = q.handles[1];
    q.pool.owner[h & INDEX_MASK] = BUFFER_APP;
    const rx = new PacketBatch(4);
    expect(() => pair!.p1.dev.rxBatch(0, rx)).toThrow(
      /receive of buffer \d+ of mempool \d+: buffer is owned by the application, expected a driver's or a free one/,
    );
    // both descriptors were refilled and handed back: the next frame arrives in order
    fillBatch(p, batch, [frameBytes(2, 64)]);
    txBatchBusyWait(pair.p0.dev, 0, batch);
    expect(pair.p1.dev.rxBatch(0, rx)).toBe(1);
    expect(packetBytes(rx.handles[0])).toEqual(frameBytes(2, 64));
  });
});
