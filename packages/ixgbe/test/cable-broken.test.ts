// A cable whose shared indices a peer corrupted: the port reports it, with the reason, instead
// of delivering phantom frames or polling on silently.
import { describe, expect, it } from 'vitest';
import { PacketBatch, openDevice } from '@ixy/core';
import { Cable } from '@ixy/sim';
import '../src/index.js';
import { freshCable } from './helpers.js';

describe('a broken cable at a port', () => {
  it('the port reports it with the reason once its ring is empty, and its link is down', () => {
    const n = freshCable();
    const rx = openDevice(`sim:${n}:1`, { linkTimeoutMs: 0 });
    const tx = openDevice(`sim:${n}:0`, { linkTimeoutMs: 0 });
    try {
      const cable = Cable.open(n);
      const words = new Int32Array((cable as unknown as { buffer: ArrayBuffer }).buffer, 256, 32);
      Atomics.add(words, 16, 5000); // the sender's tail, 5000 frames ahead of a 256-slot ring
      cable.close();
      const batch = new PacketBatch(32);
      expect(() => rx.rxBatch(0, batch)).toThrow(/the cable is broken: the producer's tail .* ahead/);
      expect(rx.linkSpeed()).toBe(0);
    } finally {
      rx.close();
      tx.close();
      Cable.remove(n);
    }
  });
});
