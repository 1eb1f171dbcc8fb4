import { describe, expect, it } from 'vitest';
import { PacketBatch } from '@ixy/core';
import { RecordingRegisters } from '@ixy/testing';
import { BUFFER_APP, INDEX_MASK, Mempool, SimulatedMemory, type SimulatedRegion } from '@ixy/memory';
import { TxQueue } from '../src/tx-queue.js';
import { E1000_TXD_STAT_DD } from '../src/registers.js';

describe('e1000e TX clean-up', () => {
  it('safe mode: a buffer the application holds stops the clean-up there, and nothing before it is freed twice', () => {
    const memory = new SimulatedMemory();
    const pool = new Mempool({ allocator: memory, entries: 256, safe: true });
    const q = new TxQueue(128, 1514, memory, new RecordingRegisters());
    const batch = new PacketBatch(64);
    pool.allocBatch(batch, 64);
    for (let i = 0; i < 64; i++) pool.length[batch.handles[i] & INDEX_MASK] = 60;
    const sent = Array.from(batch.handles.subarray(0, 64));
    expect(q.send(batch)).toBe(64);
    // the device is done with all 64; the buffer behind descriptor 40 is the application's again
    for (let i = 0; i < 64; i++) q.ring[(i << 2) + 3] |= E1000_TXD_STAT_DD;
    pool.owner[sent[40] & INDEX_MASK] = BUFFER_APP;
    expect(() => q.clean()).toThrow(/release of buffer \d+ of mempool \d+: buffer is owned by the application/);
    // the first batch and the eight before the bad one are back, once each
    expect(pool.freeCount).toBe(256 - 64 + 40);
    expect(q.inFlight).toBe(24);
    // the next clean-up starts at the bad one: nothing before it is freed a second time
    pool.owner[sent[40] & INDEX_MASK] = 2; // given back to the driver (BUFFER_DRIVER)
    const more = new PacketBatch(8);
    pool.allocBatch(more, 8);
    for (let i = 0; i < 8; i++) pool.length[more.handles[i] & INDEX_MASK] = 60;
    expect(q.send(more)).toBe(8); // its clean-up: 24 in flight, fewer than a batch
    for (let i = 64; i < 72; i++) q.ring[(i << 2) + 3] |= E1000_TXD_STAT_DD;
    q.clean(); // 32 from descriptor 40 on
    expect(q.inFlight).toBe(0);
    expect(pool.freeCount).toBe(256);
  });

  it('teardown in safe mode: a buffer the pool refuses does not keep the rest, or the ring, from being freed', () => {
    const memory = new SimulatedMemory();
    const pool = new Mempool({ allocator: memory, entries: 64, safe: true });
    const q = new TxQueue(64, 1514, memory, new RecordingRegisters());
    const batch = new PacketBatch(4);
    pool.allocBatch(batch, 4);
    for (let i = 0; i < 4; i++) pool.length[batch.handles[i] & INDEX_MASK] = 60;
    expect(q.send(batch)).toBe(4);
    pool.owner[batch.handles[1] & INDEX_MASK] = BUFFER_APP; // a driver's bug: the application's too
    expect(() => q.free()).toThrow(/release of buffer \d+ of mempool \d+: buffer is owned by the application/);
    expect(pool.freeCount).toBe(63); // the three others are back
    expect(q.inFlight).toBe(0);
    expect((q.region as SimulatedRegion).freed).toBe(true);
  });
});
