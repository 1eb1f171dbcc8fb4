import { describe, expect, it } from 'vitest';
import { DeviceStateError, PacketBatch } from '@ixy/core';
import { RecordingRegisters } from '@ixy/testing';
import { BUFFER_APP, INDEX_MASK, Mempool, SimulatedMemory } from '@ixy/memory';
import { RxQueue } from '../src/rx-queue.js';
import { E1000_RDT, E1000_RXD_STAT_DD, E1000_RXD_STAT_EOP } from '../src/registers.js';

/** The device's write-back of legacy RX descriptor i (§7.1.3): length, then status. */
function writeBack(q: RxQueue, i: number, status: number, length: number): void {
  q.ring[(i << 2) + 2] = length;
  q.ring[(i << 2) + 3] = status;
}

const DONE = E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP;

/** A filled ring of 16 on a pool of 64, its tail writes recorded, and two packets written back. */
function twoReceived(safe: boolean) {
  const memory = new SimulatedMemory();
  const pool = new Mempool({ allocator: memory, entries: 64, safe });
  const regs = new RecordingRegisters();
  const q = new RxQueue(16, pool, memory, regs);
  q.fill();
  writeBack(q, 0, DONE, 60);
  writeBack(q, 1, DONE, 61);
  return { pool, regs, q, received: [q.handles[0], q.handles[1]] };
}

describe('e1000e RX at its edges', () => {
  it('delivers the packets before one that spans descriptors, then reports it with the ring consistent', () => {
    const { pool, regs, q, received } = twoReceived(false);
    writeBack(q, 2, E1000_RXD_STAT_DD, 2048); // the first buffer of a multi-buffer packet
    const batch = new PacketBatch(8);
    expect(q.receive(batch, 8)).toBe(2);
    expect([...batch.handles.subarray(0, 2)]).toEqual(received);
    expect(received.map((h) => pool.length[h & INDEX_MASK])).toEqual([60, 61]);
    // both descriptors refilled (DD clear) and handed back: RDT one behind the next to check
    expect(regs.writes).toEqual([[E1000_RDT, 1]]);
    expect(q.ring[3] & E1000_RXD_STAT_DD).toBe(0);
    expect(q.ring[7] & E1000_RXD_STAT_DD).toBe(0);
    expect(() => q.receive(batch, 8)).toThrow(DeviceStateError);
    expect(() => q.receive(batch, 8)).toThrow(/spans several descriptors/);
    expect(regs.writes).toHaveLength(1);
    // no buffer lost: 16 in the ring, 2 with the application, the rest free
    expect(pool.freeCount).toBe(64 - 16 - 2);
  });

  it('safe mode: refuses a received buffer the application holds, after leaving the ring consistent', () => {
    const { pool, regs, q, received } = twoReceived(true);
    // a bug elsewhere gave the buffer behind the first descriptor to the application while the
    // ring held it
    pool.owner[received[0] & INDEX_MASK] = BUFFER_APP;
    const batch = new PacketBatch(8);
    expect(() => q.receive(batch, 8)).toThrow(
      /receive of buffer \d+ of mempool \d+: buffer is owned by the application, expected a driver's or a free one/,
    );
    // both packets were taken, both descriptors refilled and handed back, no fresh buffer lost
    expect([...batch.handles.subarray(0, batch.length)]).toEqual(received);
    expect(pool.owner[received[1] & INDEX_MASK]).toBe(BUFFER_APP);
    expect(regs.writes).toEqual([[E1000_RDT, 1]]);
    expect(pool.freeCount).toBe(64 - 16 - 2);
    writeBack(q, 2, DONE, 62);
    expect(q.receive(batch, 8)).toBe(1);
    expect(pool.length[batch.handles[0] & INDEX_MASK]).toBe(62);
  });
});
