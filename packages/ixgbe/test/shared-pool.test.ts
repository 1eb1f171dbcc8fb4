import { afterEach, describe, expect, it } from 'vitest';
import { PacketBatch, txBatchBusyWait } from '@ixy/core';
import { Mempool, SimulatedMemory, simulatedMemory } from '@ixy/memory';
import { Cable } from '@ixy/sim';
import { fillBatch, frameBytes, freshCable, openPort, packetBytes, type Port } from './helpers.js';
import { txPool } from './tracked.js';

const opened: Port[] = [];
const cables: string[] = [];
afterEach(() => {
  for (const p of opened.splice(0).reverse()) p.dev.close();
  for (const c of cables.splice(0)) Cable.remove(c);
});

/** Port 0 of a fresh cable with its own pool, and port 1 opened with `b`'s options. */
function ports(b: Record<string, unknown> = {}, a: Record<string, unknown> = {}): [Port, Port] {
  const cable = freshCable();
  cables.push(cable);
  const p0 = openPort(`sim:${cable}:0`, a);
  opened.push(p0);
  const p1 = openPort(`sim:${cable}:1`, b);
  opened.push(p1);
  return [p0, p1];
}

function receive(port: Port, count: number): PacketBatch {
  const batch = new PacketBatch(count);
  for (let spins = 0; batch.length < count && spins < 10_000; spins++) {
    const more = new PacketBatch(count - batch.length);
    port.dev.rxBatch(0, more);
    for (let i = 0; i < more.length; i++) batch.push(more.handles[i]);
  }
  return batch;
}

describe('ixgbe: the rxPool option (ports sharing one pool)', () => {
  for (const safe of [false, true]) {
    it(`receives into the given pool and sends its packets back out, byte-exact (${safe ? 'safe' : 'fast'} mode)`, () => {
      const [p0, p1] = ports({}, { safe });
      const shared = p0.dev.rxPool?.(0) as Mempool;
      // port 1 receives into port 0's pool
      const cable = p1.dev.address;
      p1.dev.close();
      opened.pop();
      const q1 = openPort(cable, { safe, rxPool: shared });
      opened.push(q1);
      expect(q1.dev.rxPool?.(0)).toBe(shared);

      const frames = Array.from({ length: 40 }, (_, i) => frameBytes(i, 60 + i));
      const batch = new PacketBatch(40);
      fillBatch(txPool(64, safe), batch, frames);
      txBatchBusyWait(p0.dev, 0, batch);
      const got = receive(q1, 40);
      expect(got.length).toBe(40);
      for (let i = 0; i < 40; i++) expect(Mempool.of(got.handles[i])).toBe(shared);
      // back out of port 1: packets of the pool it receives into (its TX queue's home)
      txBatchBusyWait(q1.dev, 0, got);
      const back = receive(p0, 40);
      expect(Array.from(back.handles.subarray(0, back.length), packetBytes)).toEqual(frames);
      Mempool.freeBatch(back);

      // port 1 leaves the pool open at close, with its buffers back; port 0 closes it
      q1.dev.close();
      opened.pop();
      expect(shared.isClosed).toBe(false);
      p0.dev.close();
      opened.pop();
      expect(shared.isReleased).toBe(true);
    });
  }

  it('makes its own pool where it cannot use the given one, and works as without the option', () => {
    const small = new Mempool({ allocator: simulatedMemory, entries: 512 });
    const elsewhere = new Mempool({ allocator: new SimulatedMemory(), entries: 4096 });
    const safePool = new Mempool({ allocator: simulatedMemory, entries: 4096, safe: true });
    try {
      for (const given of [small, elsewhere, safePool]) {
        const [p0, p1] = ports({ rxPool: given });
        const own = p1.dev.rxPool?.(0);
        expect(own).toBeInstanceOf(Mempool);
        expect(own).not.toBe(given);
        const batch = new PacketBatch(8);
        fillBatch(txPool(8), batch, [frameBytes(1, 60), frameBytes(2, 61)]);
        txBatchBusyWait(p0.dev, 0, batch);
        const got = receive(p1, 2);
        expect(Array.from(got.handles.subarray(0, 2), packetBytes)).toEqual([frameBytes(1, 60), frameBytes(2, 61)]);
        Mempool.freeBatch(got);
      }
      expect(small.freeCount).toBe(512);
    } finally {
      for (const p of [small, elsewhere, safePool]) p.close();
    }
  });
});
