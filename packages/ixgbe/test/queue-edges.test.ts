import { describe, expect, it } from 'vitest';
import { DeviceStateError, FrameSizeError, OwnershipError, PacketBatch } from '@ixy/core';
import { RecordingRegisters } from '@ixy/testing';
import { BUFFER_APP, BUFFER_DRIVER, INDEX_MASK, Mempool, SimulatedMemory, type SimulatedRegion } from '@ixy/memory';
import { RxQueue } from '../src/rx-queue.js';
import { TxQueue } from '../src/tx-queue.js';
import { IXGBE_RDT, IXGBE_RXDADV_STAT_DD, IXGBE_RXDADV_STAT_EOP, IXGBE_TDT } from '../src/registers.js';

/** The device's write-back of RX descriptor i (§7.1.6.2): status and length. */
function writeBack(q: RxQueue, i: number, status: number, length: number): void {
  q.ring[(i << 2) + 3] = length;
  q.ring[(i << 2) + 2] = status;
}

const DONE = IXGBE_RXDADV_STAT_DD | IXGBE_RXDADV_STAT_EOP;

describe('ixgbe queues at their edges (one pass over the ring, as C ixy)', () => {
  it('RX: delivers the packets before one that spans descriptors, then reports it with the ring consistent', () => {
    const memory = new SimulatedMemory();
    const pool = new Mempool({ allocator: memory, entries: 64 });
    const regs = new RecordingRegisters();
    const q = new RxQueue(0, 16, pool, memory, regs);
    q.fill();
    writeBack(q, 0, DONE, 60);
    writeBack(q, 1, DONE, 61);
    writeBack(q, 2, IXGBE_RXDADV_STAT_DD, 2048); // first buffer of a multi-buffer packet
    writeBack(q, 3, DONE, 62);
    const received = [q.handles[0], q.handles[1]];
    const batch = new PacketBatch(8);
    expect(q.receive(batch, 8)).toBe(2);
    expect([...batch.handles.subarray(0, 2)]).toEqual(received);
    expect(received.map((h) => pool.length[h & INDEX_MASK])).toEqual([60, 61]);
    // the two descriptors were refilled (DD clear) and handed back: RDT one behind the next
    expect(regs.writes).toEqual([[IXGBE_RDT(0), 1]]);
    expect(q.ring[2] & IXGBE_RXDADV_STAT_DD).toBe(0);
    expect(q.ring[6] & IXGBE_RXDADV_STAT_DD).toBe(0);
    expect(() => q.receive(batch, 8)).toThrow(DeviceStateError);
    expect(() => q.receive(batch, 8)).toThrow(/spans several descriptors/);
    expect(regs.writes).toHaveLength(1);
    // no buffer was lost: 16 in the ring, 2 with the application, the rest free
    expect(pool.freeCount).toBe(64 - 16 - 2);
  });

  it('RX: takes no more packets than the pool has fresh buffers for, and the rest later', () => {
    const memory = new SimulatedMemory();
    const pool = new Mempool({ allocator: memory, entries: 20 });
    const q = new RxQueue(0, 16, pool, memory, new RecordingRegisters());
    q.fill();
    for (let i = 0; i < 8; i++) writeBack(q, i, DONE, 60 + i);
    const batch = new PacketBatch(8);
    expect(q.receive(batch, 8)).toBe(4); // 20 - 16 buffers free
    expect(pool.freeCount).toBe(0);
    Mempool.freeBatch(batch);
    expect(q.receive(batch, 8)).toBe(4);
    expect([...batch.handles.subarray(0, 4)].map((h) => pool.length[h & INDEX_MASK])).toEqual([64, 65, 66, 67]);
  });

  it('TX: takes as many packets as the ring has room for, then more once sent ones are cleaned', () => {
    const memory = new SimulatedMemory();
    const pool = new Mempool({ allocator: memory, entries: 256 });
    const regs = new RecordingRegisters();
    const q = new TxQueue(0, 64, 1518, memory, regs);
    const batch = new PacketBatch(128);
    for (let i = 0; i < 100; i++) {
      const h = pool.alloc();
      pool.length[h & INDEX_MASK] = 60;
      batch.push(h);
    }
    // a ring of 64 holds 63 packets (one descriptor stays empty)
    expect(q.send(batch)).toBe(63);
    expect(q.inFlight).toBe(63);
    expect(regs.writes).toEqual([[IXGBE_TDT(0), 63]]);
    batch.shift(63);
    expect(q.send(batch)).toBe(0); // nothing sent yet: no room, and the tail did not move
    expect(regs.writes).toHaveLength(1);
    // the device sent the first 32 (DD in the last of them): one clean-up batch frees them
    q.ring[(31 << 2) + 3] = 1;
    expect(q.send(batch)).toBe(32);
    expect(q.inFlight).toBe(63);
    expect(regs.writes).toEqual([
      [IXGBE_TDT(0), 63],
      [IXGBE_TDT(0), (63 + 32) & 63],
    ]);
    expect(pool.freeCount).toBe(256 - 100 + 32);
  });

  it('teardown in safe mode: a buffer the pool refuses does not keep the rest, or the rings, from being freed', () => {
    const memory = new SimulatedMemory();
    const pool = new Mempool({ allocator: memory, entries: 64, safe: true });
    const tx = new TxQueue(0, 64, 1518, memory, new RecordingRegisters(), pool);
    const batch = new PacketBatch(4);
    for (let k = 0; k < 4; k++) {
      const h = pool.allocOrThrow();
      pool.length[h & INDEX_MASK] = 60;
      batch.push(h);
    }
    expect(tx.send(batch)).toBe(4);
    pool.owner[batch.handles[1] & INDEX_MASK] = BUFFER_APP; // a driver's bug: the application's too
    expect(() => tx.free()).toThrow(/release of buffer \d+ of mempool \d+: buffer is owned by the application/);
    expect(pool.freeCount).toBe(63); // the three others are back
    expect(tx.inFlight).toBe(0);
    expect((tx.region as SimulatedRegion).freed).toBe(true);
    const rx = new RxQueue(0, 8, pool, memory, new RecordingRegisters());
    rx.fill();
    pool.owner[rx.handles[3] & INDEX_MASK] = BUFFER_APP;
    expect(() => rx.free()).toThrow(/release of buffer \d+ of mempool \d+: buffer is owned by the application/);
    expect(pool.freeCount).toBe(62);
    expect((rx.region as SimulatedRegion).freed).toBe(true);
  });

  for (const safe of [false, true]) {
    it(`TX with a home pool (${safe ? 'safe' : 'fast'} mode): runs of home and other pools, descriptors in order, each freed into its own pool`, () => {
      const memory = new SimulatedMemory();
      const home = new Mempool({ allocator: memory, entries: 128, safe });
      const other = new Mempool({ allocator: memory, entries: 128, safe });
      const q = new TxQueue(0, 64, 1518, memory, new RecordingRegisters(), home);
      const from = [home, home, other, home, other, other, home];
      const sent: number[] = [];
      const batch = new PacketBatch(64);
      // five batches of 7: 35 packets, the ring's first clean-up batch of 32 frees a mix
      for (let b = 0; b < 5; b++) {
        batch.clear();
        for (const [k, p] of from.entries()) {
          const h = p.allocOrThrow();
          p.length[h & INDEX_MASK] = 60 + k;
          batch.push(h);
        }
        expect(q.send(batch)).toBe(7);
        sent.push(...batch.handles.subarray(0, 7));
      }
      for (const [i, h] of sent.entries()) {
        const p = Mempool.of(h);
        expect(q.handles[i]).toBe(h);
        // buffer address, then the length in cmd_type_len's low bits
        expect(q.ring[i << 2] + q.ring[(i << 2) + 1] * 2 ** 32).toBe(p.physAddr[h & INDEX_MASK]);
        expect(q.ring[(i << 2) + 2] & 0xffff).toBe(p.length[h & INDEX_MASK]);
      }
      q.ring[(31 << 2) + 3] = 1; // the device sent the first 32
      q.clean();
      expect(q.inFlight).toBe(3);
      const freed = sent.slice(0, 32);
      expect(home.freeCount).toBe(128 - 20 + freed.filter((h) => Mempool.of(h) === home).length);
      expect(other.freeCount).toBe(128 - 15 + freed.filter((h) => Mempool.of(h) === other).length);
    });

    if (safe) {
      it('TX clean-up of several pools (safe mode): a bad buffer in a later run leaves the runs before it freed once', () => {
        const memory = new SimulatedMemory();
        const home = new Mempool({ allocator: memory, entries: 64, safe });
        const one = new Mempool({ allocator: memory, entries: 64, safe });
        const two = new Mempool({ allocator: memory, entries: 64, safe });
        const q = new TxQueue(0, 64, 1518, memory, new RecordingRegisters(), home);
        // one clean-up batch of 32: 8 of home, 8 of one, 16 of two
        const batch = new PacketBatch(32);
        for (const [p, n] of [
          [home, 8],
          [one, 8],
          [two, 16],
        ] as const) {
          for (let k = 0; k < n; k++) {
            const h = p.allocOrThrow();
            p.length[h & INDEX_MASK] = 60;
            batch.push(h);
          }
        }
        expect(q.send(batch)).toBe(32);
        const bad = batch.handles[20];
        two.owner[bad & INDEX_MASK] = BUFFER_APP; // a driver's bug: the application's too
        q.ring[(31 << 2) + 3] = 1; // the device sent all 32
        expect(() => q.clean()).toThrow(/release of buffer \d+ of mempool \d+: buffer is owned by the application/);
        // home's and one's runs are back, once; two's run freed none of itself
        expect([home.freeCount, one.freeCount, two.freeCount]).toEqual([64, 64, 48]);
        expect(q.inFlight).toBe(16);
        // with the bug mended, 16 more sent: the next clean-up starts at two's run (every
        // descriptor has RS) and frees it with the 16, and nothing of the others again
        two.owner[bad & INDEX_MASK] = BUFFER_DRIVER;
        batch.clear();
        for (let k = 0; k < 16; k++) {
          const h = home.allocOrThrow();
          home.length[h & INDEX_MASK] = 60;
          batch.push(h);
        }
        expect(q.send(batch)).toBe(16);
        q.ring[(47 << 2) + 3] = 1;
        q.clean();
        expect([home.freeCount, one.freeCount, two.freeCount]).toEqual([64, 64, 64]);
        expect(q.inFlight).toBe(0);
      });
    }

    it(`TX with a home pool (${safe ? 'safe' : 'fast'} mode): a bad packet of either pool takes none of the batch`, () => {
      const memory = new SimulatedMemory();
      const home = new Mempool({ allocator: memory, entries: 16, safe });
      const other = new Mempool({ allocator: memory, entries: 16, safe });
      const regs = new RecordingRegisters();
      const q = new TxQueue(0, 64, 1518, memory, regs, home);
      const batch = new PacketBatch(8);
      const hs = [home, other, home, home].map((p) => {
        const h = p.allocOrThrow();
        p.length[h & INDEX_MASK] = 60;
        batch.push(h);
        return h;
      });
      home.length[hs[3] & INDEX_MASK] = 2000;
      expect(() => q.send(batch)).toThrow(FrameSizeError);
      expect(() => q.send(batch)).toThrow(/packet 3 of the batch; none of the batch was taken/);
      home.length[hs[3] & INDEX_MASK] = 60;
      other.length[hs[1] & INDEX_MASK] = 0;
      expect(() => q.send(batch)).toThrow(/packet 1 of the batch/);
      other.length[hs[1] & INDEX_MASK] = 60;
      if (safe) {
        home.free(hs[2]); // freed, then sent: use after free
        expect(() => q.send(batch)).toThrow(OwnershipError);
        expect(() => q.send(batch)).toThrow(/use after free.*packet 2 of the batch/);
        batch.handles[2] = home.allocOrThrow();
        home.length[batch.handles[2] & INDEX_MASK] = 60;
      }
      expect(regs.writes).toEqual([]);
      expect(q.inFlight).toBe(0);
      // every packet is still the caller's: it sends them all
      expect(q.send(batch)).toBe(4);
      expect(regs.writes).toEqual([[IXGBE_TDT(0), 4]]);
    });
  }
});
