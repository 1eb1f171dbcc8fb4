import { describe, expect, it } from 'vitest';
import { InvalidOptionError, PacketBatch, createStats, txBatchBusyWait } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { Cable } from '@ixy/sim';
import { fillBatch, frameBytes, freshCable, openPort, packetBytes, type Pair } from './helpers.js';
import { openPair, txPool } from './tracked.js';

let pair: Pair | undefined;

function unicast(dst: Uint8Array, seq: number): Uint8Array {
  const f = frameBytes(seq, 64);
  f.set(dst, 0);
  return f;
}

function sendAndCount(from: Pair['p0'], to: Pair['p1'], frames: Uint8Array[]): Uint8Array[] {
  const p = txPool(64);
  const batch = new PacketBatch(frames.length);
  fillBatch(p, batch, frames);
  txBatchBusyWait(from.dev, 0, batch);
  const rx = new PacketBatch(64);
  const n = to.dev.rxBatch(0, rx);
  const got = [];
  for (let i = 0; i < n; i++) got.push(packetBytes(rx.handles[i]));
  Mempool.freeBatch(rx);
  return got;
}

describe('ixgbe on the model: MAC, promiscuous mode, link', () => {
  it('reads the MAC from RAL0/RAH0 and sets it with the address-valid bit', () => {
    pair = openPair();
    const mac = pair.p1.dev.macAddress();
    expect(mac).toHaveLength(6);
    expect(mac[0] & 0x02).toBe(0x02); // locally administered default
    expect(pair.p0.dev.macAddress()).not.toEqual(mac);
    const mine = Uint8Array.of(0x02, 0x12, 0x34, 0x56, 0x78, 0x9a);
    pair.p1.dev.setMacAddress(mine);
    expect(pair.p1.dev.macAddress()).toEqual(mine);
    expect(pair.p1.model.read32(0x0a204) >>> 31).toBe(1);
    expect(() => pair!.p1.dev.setMacAddress(new Uint8Array(5))).toThrow(InvalidOptionError);
  });

  it('filters unicast frames to other MACs unless promiscuous (the default, as ixy)', () => {
    pair = openPair({}, { promisc: false });
    const mine = Uint8Array.of(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee);
    const other = Uint8Array.of(0x02, 0x11, 0x11, 0x11, 0x11, 0x11);
    pair.p1.dev.setMacAddress(mine);
    const multicast = Uint8Array.of(0x01, 0x00, 0x5e, 0, 0, 1);
    let got = sendAndCount(pair.p0, pair.p1, [
      unicast(other, 1),
      unicast(mine, 2),
      frameBytes(3, 64),
      unicast(multicast, 4),
    ]);
    expect(got.map((f) => f[14])).toEqual([2, 3]); // own unicast and broadcast
    pair.p1.dev.setPromisc(true);
    got = sendAndCount(pair.p0, pair.p1, [unicast(other, 5), unicast(mine, 6), unicast(multicast, 7)]);
    expect(got.map((f) => f[14])).toEqual([5, 6, 7]);
    pair.p1.dev.setPromisc(false);
    got = sendAndCount(pair.p0, pair.p1, [unicast(other, 8), unicast(mine, 9)]);
    expect(got.map((f) => f[14])).toEqual([9]);
  });

  it('has link (10 Gbit/s) exactly while the peer end is attached', () => {
    const cable = freshCable();
    try {
      const a = openPort(`sim:${cable}:0`);
      expect(a.dev.linkSpeed()).toBe(0);
      const b = openPort(`sim:${cable}:1`);
      expect(a.dev.linkSpeed()).toBe(10000);
      expect(b.dev.linkSpeed()).toBe(10000);
      // frames sent without link go nowhere and are not counted as sent
      b.dev.close();
      expect(a.dev.linkSpeed()).toBe(0);
      const p = txPool(64);
      const batch = new PacketBatch(4);
      fillBatch(p, batch, [frameBytes(1, 64), frameBytes(2, 64)]);
      txBatchBusyWait(a.dev, 0, batch);
      const s = createStats();
      a.dev.readStats(s);
      expect(s.txPackets).toBe(0);
      // the peer comes back: link again, and it does not see the frames sent meanwhile
      const c = openPort(`sim:${cable}:1`);
      expect(a.dev.linkSpeed()).toBe(10000);
      const rx = new PacketBatch(8);
      expect(c.dev.rxBatch(0, rx)).toBe(0);
      c.dev.close();
      a.dev.close();
    } finally {
      Cable.remove(cable);
    }
  });

  it('waits for the link at start-up and goes on with a warning when none comes', () => {
    const cable = freshCable();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      const a = openPort(`sim:${cable}:0`, { linkTimeoutMs: 30 });
      a.dev.close();
    } finally {
      Cable.remove(cable);
    }
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        process.off('warning', onWarning);
        expect(warnings.some((w) => /no link after 30 ms/.test(w))).toBe(true);
        resolve();
      });
    });
  });
});
