import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../src/packet-batch.js';

describe('PacketBatch', () => {
  it('holds handles up to its capacity', () => {
    const b = new PacketBatch(3);
    expect(b.push(7)).toBe(true);
    expect(b.push(8)).toBe(true);
    expect(b.push(9)).toBe(true);
    expect(b.push(10)).toBe(false);
    expect(b.length).toBe(3);
    expect([...b.handles.subarray(0, b.length)]).toEqual([7, 8, 9]);
  });

  it('shift drops what a tx took and keeps the rest in order', () => {
    const b = new PacketBatch(8);
    for (let i = 0; i < 5; i++) b.push(100 + i);
    b.shift(2);
    expect([...b.handles.subarray(0, b.length)]).toEqual([102, 103, 104]);
    b.shift(0);
    expect(b.length).toBe(3);
    b.shift(10);
    expect(b.length).toBe(0);
  });

  it('rejects a nonsensical capacity', () => {
    expect(() => new PacketBatch(0)).toThrow(RangeError);
    expect(() => new PacketBatch(1.5)).toThrow(RangeError);
  });
});
