import { describe, expect, it } from 'vitest';
import { PacketBatch, createStats, type DeviceStats, type IxyDevice } from '@ixy/core';
import { Mempool, SimulatedMemory } from '@ixy/memory';
import { forwardBatch, forwardHeld } from '../src/forward.js';

const memory = new SimulatedMemory();

/**
 * A device that receives the handles it is given and sends up to `room` a call; `named` is what
 * its rxPool says (leave the method out with `undefined`).
 */
function fakePort(named: Mempool | 'absent', room = Infinity) {
  const queued: number[] = [];
  const sent: number[] = [];
  const dev = {
    address: 'fake',
    rxBatch(_queue: number, batch: PacketBatch): number {
      batch.length = 0;
      while (queued.length > 0 && batch.push(queued[0])) queued.shift();
      return batch.length;
    },
    txBatch(_queue: number, batch: PacketBatch): number {
      const n = Math.min(room, batch.length);
      for (let i = 0; i < n; i++) sent.push(batch.handles[i]);
      return n;
    },
    ...(named === 'absent' ? {} : { rxPool: () => named }),
  };
  return { dev: dev as unknown as IxyDevice, queued, sent };
}

function byte1(h: number): number {
  const pool = Mempool.of(h);
  return pool.bytes[pool.dataOffset(h) + 1];
}

describe("ixy-fwd's step touches byte 1 of every packet once, whatever pools they come from", () => {
  const a = new Mempool({ allocator: memory, entries: 64 });
  const b = new Mempool({ allocator: memory, entries: 64, entrySize: 4096, headroom: 256 });
  const cases: [string, Mempool | 'absent'][] = [
    ['a device that does not name its pool', 'absent'],
    ["a device that names its queue's pool", a],
    ['a device that names another pool', b],
  ];
  for (const [what, named] of cases) {
    it(`${what} (forwardBatch, forwardHeld)`, () => {
      // runs of both pools, in both orders, and a lone packet of the other
      const handles = [a, a, b, b, a, b, a, a, a].map((p) => p.allocOrThrow());
      for (const h of handles) Mempool.of(h).bytes[Mempool.of(h).dataOffset(h) + 1] = 0;
      const rx = fakePort(named);
      const tx = fakePort('absent');
      rx.queued.push(...handles);
      expect(forwardBatch(rx.dev, tx.dev, new PacketBatch(16))).toBe(handles.length);
      expect(tx.sent).toEqual(handles);
      expect(handles.map(byte1)).toEqual(handles.map(() => 1));

      rx.queued.push(...handles);
      const held = new PacketBatch(16);
      expect(forwardHeld(rx.dev, tx.dev, held)).toBe(handles.length);
      expect(handles.map(byte1)).toEqual(handles.map(() => 2));
      Mempool.freeBatch({ handles: Uint32Array.from(handles), length: handles.length } as PacketBatch);
    });
  }

  it('counts what the TX queue took into a handover (for the drain at the stop)', () => {
    const handles = [a.allocOrThrow(), a.allocOrThrow(), a.allocOrThrow()];
    const rx = fakePort(a);
    const tx = fakePort('absent', 2);
    const handover = { handed: 0 };
    rx.queued.push(...handles);
    expect(forwardBatch(rx.dev, tx.dev, new PacketBatch(8), createStats(), handover)).toBe(3);
    expect(handover.handed).toBe(2); // the third was freed and counted as dropped
    // the lossless step: 2 of 3 now, the held one at the next step
    const more = [a.allocOrThrow(), a.allocOrThrow(), a.allocOrThrow()];
    rx.queued.push(...more);
    const held = new PacketBatch(8);
    expect(forwardHeld(rx.dev, tx.dev, held, handover)).toBe(3);
    expect([handover.handed, held.length]).toEqual([4, 1]);
    expect(forwardHeld(rx.dev, tx.dev, held, handover)).toBe(1);
    expect([handover.handed, held.length]).toEqual([5, 0]);
    for (const h of tx.sent) a.free(h);
  });

  it('frees what the TX queue did not take and counts it in txDropped', () => {
    const handles = [a.allocOrThrow(), a.allocOrThrow(), a.allocOrThrow()];
    const rx = fakePort(a);
    const tx = fakePort('absent', 1);
    rx.queued.push(...handles);
    const free = a.freeCount;
    const stats: DeviceStats = createStats();
    expect(forwardBatch(rx.dev, tx.dev, new PacketBatch(8), stats)).toBe(3);
    expect(tx.sent).toEqual([handles[0]]);
    expect(stats.txDropped).toBe(2);
    expect(a.freeCount).toBe(free + 2);
    a.free(handles[0]);
  });
});
