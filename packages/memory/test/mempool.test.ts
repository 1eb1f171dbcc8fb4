import { describe, expect, it } from 'vitest';
import { OwnershipError, PacketBatch } from '@ixy/core';
import { BUFFER_FREE, INDEX_MASK, Mempool, POOL_SHIFT } from '../src/mempool.js';
import { SimulatedMemory } from '../src/simulated.js';

const memory = new SimulatedMemory();

function pool(entries = 8, safe = false): Mempool {
  return new Mempool({ allocator: memory, entries, safe });
}

describe('Mempool (both modes)', () => {
  for (const safe of [false, true]) {
    describe(safe ? 'safe mode' : 'fast mode', () => {
      it('hands out every buffer once, LIFO, then reports empty', () => {
        const p = pool(4, safe);
        const got = [p.alloc(), p.alloc(), p.alloc(), p.alloc()];
        expect(got.map((h) => h & INDEX_MASK)).toEqual([0, 1, 2, 3]);
        expect(got.every((h) => h >>> POOL_SHIFT === p.id)).toBe(true);
        expect(p.alloc()).toBe(-1);
        expect(() => p.allocOrThrow()).toThrow(/no free buffer/);
        p.free(got[2]);
        expect(p.alloc()).toBe(got[2]);
        p.close();
      });

      it('gives each buffer its bus address and a data offset past the headroom', () => {
        const p = pool(4, safe);
        const h = p.alloc();
        const i = h & INDEX_MASK;
        expect(p.dataOffset(h)).toBe(i * 2048 + 128);
        expect(p.physAddr[i]).toBe(p.region.physAddr(i * 2048 + 128));
        expect(p.bufSize).toBe(1920);
        p.bytes[p.dataOffset(h)] = 0xab;
        expect(new Uint8Array(p.region.buffer)[i * 2048 + 128]).toBe(0xab);
        p.close();
      });

      it('allocates and frees in bulk', () => {
        const p = pool(40, safe);
        const b = new PacketBatch(32);
        expect(p.allocBatch(b)).toBe(32);
        expect(p.freeCount).toBe(8);
        expect(p.allocBatch(b, 16)).toBe(8);
        Mempool.freeBatch(b);
        expect(b.length).toBe(0);
        expect(p.freeCount).toBe(8);
        p.close();
      });

      it('lets a driver pop its free stack inline (driverAvailable, driverAllocEnd)', () => {
        const p = pool(8, safe);
        expect(p.driverAvailable(5)).toBe(5);
        expect(p.driverAvailable(20)).toBe(8);
        let top = p.freeCount;
        const taken = [p.freeStack[--top], p.freeStack[--top], p.freeStack[--top]];
        p.driverAllocEnd(top);
        expect(p.freeCount).toBe(5);
        expect(taken).toEqual([0, 1, 2]); // LIFO: index 0 first, as alloc()
        // what the driver took is the driver's: it frees it as its own
        for (const i of taken) p.driverFree(p.handle(i));
        expect(p.freeCount).toBe(8);
        // an end outside the stack is refused, and nothing changes
        expect(() => p.driverAllocEnd(9)).toThrow(RangeError);
        expect(() => p.driverAllocEnd(-1)).toThrow(RangeError);
        expect(p.freeCount).toBe(8);
        p.close();
        expect(p.driverAvailable(4)).toBe(0); // closed: nothing more to take
      });

      it('routes handles to their own pool', () => {
        const a = pool(4, safe);
        const c = pool(4, safe);
        const b = new PacketBatch(4);
        b.push(a.alloc());
        b.push(c.alloc());
        expect(Mempool.of(b.handles[0])).toBe(a);
        expect(Mempool.of(b.handles[1])).toBe(c);
        Mempool.freeBatch(b);
        expect(a.freeCount).toBe(4);
        expect(c.freeCount).toBe(4);
        a.close();
        c.close();
      });

      it('moves buffers between driver and application', () => {
        const p = pool(4, safe);
        const rx = p.driverAlloc();
        p.driverGive(rx); // received: now the app's
        p.driverTake(rx); // sent: the driver's again
        p.driverFree(rx); // tx done
        expect(p.freeCount).toBe(4);
        p.close();
      });
    });
  }

  it('rejects bad geometry', () => {
    expect(() => new Mempool({ allocator: memory, entries: 0 })).toThrow(RangeError);
    expect(() => new Mempool({ allocator: memory, entries: 4, entrySize: 3000 })).toThrow(RangeError);
    expect(() => new Mempool({ allocator: memory, entries: 4, headroom: 2040 })).toThrow(RangeError);
  });
});

describe('Mempool safe mode catches ownership bugs', () => {
  it('double free', () => {
    const p = pool(4, true);
    const h = p.alloc();
    p.free(h);
    expect(() => p.free(h)).toThrow(OwnershipError);
    expect(() => p.free(h)).toThrow(/double free/);
    p.close();
  });

  it('use after free: sending a freed buffer', () => {
    const p = pool(4, true);
    const h = p.alloc();
    p.free(h);
    expect(() => p.driverTake(h)).toThrow(/use after free/);
    p.close();
  });

  it('sending a buffer already handed to the driver, and freeing it', () => {
    const p = pool(4, true);
    const h = p.alloc();
    p.driverTake(h);
    expect(() => p.driverTake(h)).toThrow(/owned by a driver/);
    expect(() => p.free(h)).toThrow(/owned by a driver/);
    p.close();
  });

  it("a buffer the application freed that a driver has taken again: the application's mistakes still named as its own", () => {
    const p = pool(1, true);
    const h = p.alloc();
    p.free(h);
    // an RX refill takes it and leaves its byte (see Mempool.owner): the driver's side all the same
    expect(p.driverAlloc()).toBe(h);
    expect(p.owner[h & INDEX_MASK]).toBe(BUFFER_FREE);
    expect(() => p.free(h)).toThrow(/free of buffer 0 of mempool \d+: double free/);
    expect(() => p.driverTake(h)).toThrow(/transmit of buffer 0 of mempool \d+: use after free/);
    // received, it is the application's; sent, cleaned up and taken by a refill again, the
    // driver's, and the error says so
    p.driverGive(h);
    expect(() => p.driverGive(h)).toThrow(
      /receive of buffer 0 .*owned by the application, expected a driver's or a free one/,
    );
    p.driverTake(h);
    p.driverFree(h);
    expect(() => p.free(h)).toThrow(/double free/); // in the free stack
    expect(p.driverAlloc()).toBe(h);
    expect(() => p.free(h)).toThrow(/owned by a driver, expected owned by the application/);
    p.driverFree(h);
    p.close();
    expect(p.isReleased).toBe(true);
  });

  it("a driver's ring free of a buffer the application holds: refused, and none of the run freed", () => {
    const p = pool(8, true);
    const h = [p.alloc(), p.alloc(), p.alloc(), p.alloc()];
    for (const x of h) p.driverTake(x);
    // a TX ring of 4 whose third entry holds a buffer that is back in the application's hands
    p.driverGive(h[2]);
    const ring = Uint32Array.from(h);
    expect(() => Mempool.driverFreeRing(ring, 0, 4, 3)).toThrow(
      /release of buffer 2 of mempool \d+: buffer is owned by the application, expected a driver's or a free one/,
    );
    // none of the run is freed (the ring keeps it), so a second clean-up frees nothing twice
    expect(p.freeCount).toBe(4);
    expect(() => Mempool.driverFreeRing(ring, 0, 4, 3)).toThrow(/release of buffer 2/);
    expect(p.freeCount).toBe(4);
    expect(() => p.free(h[0])).toThrow(/owned by a driver, expected owned by the application/);
    p.free(h[2]); // still the application's
    // a buffer the application freed is on the pool's side, as the driver's is (see
    // Mempool.owner): the ring that frees it again is refused when the stack would overfill,
    // and the run is undone
    expect(() => Mempool.driverFreeRing(ring, 0, 4, 3)).toThrow(
      /release: a driver freed more buffers than mempool \d+ holds \(8\): one was freed twice/,
    );
    expect(p.freeCount).toBe(5);
    for (const x of [h[0], h[1], h[3]]) p.driverFree(x);
    expect(p.freeCount).toBe(8);
    p.close();
    expect(p.isReleased).toBe(true);
  });

  it('a ring free across pools that fails in a later run frees none of the runs before it either', () => {
    const [p, q] = [pool(8, true), pool(8, true)];
    // a TX ring's clean-up batch: two of p, three of q, two more of p; the sixth is the application's
    const hs = [p, p, q, q, q, p, p].map((x) => x.alloc());
    hs.forEach((h) => Mempool.of(h).driverTake(h));
    p.driverGive(hs[5]);
    const ring = Uint32Array.from([...hs, 0]);
    expect(() => Mempool.driverFreeRing(ring, 0, 7, 7)).toThrow(
      /release of buffer \d+ of mempool \d+: buffer is owned by the application/,
    );
    expect([p.freeCount, q.freeCount]).toEqual([4, 5]); // the first two runs taken back
    // the cause gone, the same clean-up frees each buffer once
    p.driverTake(hs[5]);
    Mempool.driverFreeRing(ring, 0, 7, 7);
    expect([p.freeCount, q.freeCount]).toEqual([8, 8]);
    for (const x of [p, q]) {
      x.close();
      expect(x.isReleased).toBe(true);
    }
  });

  it('a teardown frees every buffer it can, across pools, and throws the first refusal after', () => {
    const [p, q] = [pool(8, true), pool(8, true)];
    const hs = [p, q, p, q].map((x) => x.alloc());
    hs.forEach((h) => Mempool.of(h).driverTake(h));
    q.driverGive(hs[1]); // a driver's bug: the application's too
    const ring = Uint32Array.from([...hs, 0xfff00001, 0, 0, 0]); // and a handle of no pool, passed over
    expect(() => Mempool.driverFreeAll(ring, 0, 5, 7)).toThrow(
      /release of buffer \d+ of mempool \d+: buffer is owned by the application/,
    );
    expect([p.freeCount, q.freeCount]).toEqual([8, 7]);
    q.free(hs[1]);
    for (const x of [p, q]) {
      x.close();
      expect(x.isReleased).toBe(true);
    }
  });

  it('a ring free whose earlier run released its pool says that run stays freed', () => {
    const [p, q] = [pool(1, true), pool(2, true)];
    const hs = [p.alloc(), q.alloc()];
    hs.forEach((h) => Mempool.of(h).driverTake(h));
    q.driverGive(hs[1]);
    p.close(); // its one buffer still out: released when it comes back
    expect(() => Mempool.driverFreeRing(Uint32Array.from(hs), 0, 2, 1)).toThrow(
      /owned by the application.*\(the 1 buffer of mempool \d+ before it stay freed: the pool was released\)/,
    );
    expect(p.isReleased).toBe(true);
    q.free(hs[1]);
    q.close();
  });

  it("a clean-up's handle past the pool's end is refused as foreign, with none of the run freed", () => {
    const p = pool(8, true);
    const x = p.alloc();
    p.driverTake(x);
    const past = p.handle(100); // this pool's id, an index the pool does not have
    expect(() => Mempool.driverFreeRing(Uint32Array.from([x, past]), 0, 2, 1)).toThrow(
      /release of a foreign buffer: handle 0x[0-9a-f]+ is not a buffer of mempool \d+/,
    );
    expect(p.freeCount).toBe(7);
    p.driverFree(x);
    expect(p.alloc()).toBe(x);
  });

  it("what the two sides give up: a driver's second free of a buffer is not refused while the stack has room", () => {
    const p = pool(8, true);
    const [x, y] = [p.alloc(), p.alloc()];
    p.driverTake(x);
    p.driverFree(x);
    p.driverFree(x); // the documented gap (see Mempool.owner): x is now twice in the stack
    expect(p.freeCount).toBe(8); // y is still out
    expect(p.alloc()).toBe(x);
    expect(() => p.alloc()).toThrow(/alloc of buffer 0 of mempool \d+: it was in the free stack twice/);
    p.free(x);
    p.free(y);
    p.close();
    expect(p.isReleased).toBe(true);
  });

  it('a buffer a clean-up frees twice (a corrupted ring) is refused when it is handed out the second time', () => {
    const p = pool(8, true);
    const [x, y] = [p.alloc(), p.alloc(), p.alloc(), p.alloc()];
    p.driverTake(x);
    p.driverTake(y);
    // the clean-up does not mark what it frees (see Mempool.owner): x is now twice in the stack
    Mempool.driverFreeRing(Uint32Array.from([x, y, x, 0]), 0, 3, 3);
    expect(p.freeCount).toBe(7);
    expect([p.alloc(), p.alloc()]).toEqual([x, y]);
    expect(() => p.alloc()).toThrow(/alloc of buffer \d+ of mempool \d+: it was in the free stack twice/);
    // the second entry is gone: each free buffer is in the stack once
    expect(p.freeCount).toBe(4);
    // the same through allocBatch and a driver's refill
    p.driverTake(x);
    Mempool.driverFreeRing(Uint32Array.from([x, x]), 0, 2, 1);
    const batch = new PacketBatch(8);
    expect(() => p.allocBatch(batch, 3)).toThrow(/it was in the free stack twice/);
    expect(Array.from(batch.handles.subarray(0, batch.length))).toEqual([x]);
    expect(p.freeCount).toBe(4);
    p.driverTake(x);
    Mempool.driverFreeRing(Uint32Array.from([x, x]), 0, 2, 1);
    expect(p.driverAlloc()).toBe(x);
    p.driverGive(x);
    expect(() => p.driverAlloc()).toThrow(/it was in the free stack twice/);
  });

  it('a clean-up that frees more buffers than the pool holds is refused', () => {
    const p = pool(4, true);
    const h = [p.alloc(), p.alloc()];
    for (const x of h) p.driverTake(x);
    // two buffers out, freed three times each by a corrupted ring: the stack would overflow
    const ring = Uint32Array.from([h[0], h[1], h[0], h[1], h[0], h[1], 0, 0]);
    expect(() => Mempool.driverFreeRing(ring, 0, 6, 7)).toThrow(
      /release: a driver freed more buffers than mempool \d+ holds \(4\): one was freed twice/,
    );
    // none of the run was freed (a TX queue does not move its clean index past a run that threw)
    expect(p.freeCount).toBe(2);
    // and a driver freeing one at a time a buffer a clean-up freed, into a full stack
    Mempool.driverFreeRing(Uint32Array.from([h[0], h[1]]), 0, 2, 1);
    expect(p.freeCount).toBe(4);
    expect(() => p.driverFree(h[0])).toThrow(/freed more buffers than mempool \d+ holds/);
    expect(p.freeCount).toBe(4);
  });

  it('foreign buffers', () => {
    const p = pool(4, true);
    const q = pool(4, true);
    const h = q.alloc();
    expect(() => p.free(h)).toThrow(/foreign buffer/);
    expect(() => p.free(p.handle(100))).toThrow(/foreign buffer/);
    const b = new PacketBatch(1);
    b.push(0xfff00001);
    expect(() => Mempool.freeBatch(b)).toThrow(/belongs to no pool/);
    p.close();
    q.close();
  });

  it('a send, receive, driver free or free of an index past the pool is refused as foreign', () => {
    const p = pool(4, true);
    expect(() => p.driverTake(p.handle(100))).toThrow(/transmit of a foreign buffer/);
    expect(() => p.driverGive(p.handle(100))).toThrow(/receive of a foreign buffer/);
    expect(() => p.driverFree(p.handle(100))).toThrow(/release of a foreign buffer/);
    const b = new PacketBatch(1);
    b.push(p.handle(100));
    expect(() => Mempool.freeBatch(b)).toThrow(/free of a foreign buffer/);
    p.close();
  });

  it('fast mode does not pay for checks (and so does not notice)', () => {
    const p = pool(4, false);
    const h = p.alloc();
    p.free(h);
    expect(() => p.driverTake(h)).not.toThrow();
    p.close();
  });
});

describe('SimulatedMemory', () => {
  it('translates bus addresses back, and nothing outside live regions', () => {
    const m = new SimulatedMemory();
    const a = m.allocate(10_000);
    const b = m.allocate(4096);
    expect(a.size).toBe(12_288);
    expect(m.find(a.physAddr(0), 16)).toBe(a);
    expect(m.find(a.physAddr(12_280), 8)).toBe(a);
    expect(m.find(a.physAddr(12_280), 9)).toBeUndefined();
    expect(m.find(b.physAddr(100), 1)).toBe(b);
    expect(m.find(0, 4)).toBeUndefined();
    expect(m.find(b.physAddr(0) - 1, 1)).toBeUndefined();
    a.free();
    expect(m.find(a.physAddr(0), 16)).toBeUndefined();
    expect(m.regionCount).toBe(1);
  });
});

describe('Mempool.close with buffers still out', () => {
  it("keeps the memory until the last buffer comes back (e.g. from another device's TX ring), and allocates nothing meanwhile", () => {
    for (const safe of [false, true]) {
      const pool = new Mempool({ allocator: new SimulatedMemory(), entries: 8, safe });
      const out = pool.alloc();
      pool.driverTake(out); // now in a "TX ring", as a forwarded packet in another device
      const app = pool.alloc();
      pool.close();
      expect(pool.isReleased).toBe(false);
      expect(pool.region.size).toBeGreaterThan(0);
      expect(pool.alloc()).toBe(-1);
      expect(pool.driverAlloc()).toBe(-1);
      pool.free(app);
      expect(pool.isReleased).toBe(false);
      expect(Mempool.of(out)).toBe(pool); // still resolvable while a device holds one
      pool.driverFree(out);
      expect(pool.isReleased).toBe(true);
      expect(Mempool.of(out)).toBeUndefined();
    }
  });
});
