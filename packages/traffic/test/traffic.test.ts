import { describe, expect, it } from 'vitest';
import { PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool, SimulatedMemory } from '@ixy/memory';
import {
  FrameFault,
  MIN_FRAME,
  PATTERN_OFFSET,
  ipChecksum,
  readSeq,
  verifyFrame,
  writeFrame,
  writeSeq,
} from '../src/frame.js';
import { Generator } from '../src/generator.js';
import { Sink } from '../src/sink.js';

const memory = new SimulatedMemory();

describe('test frames', () => {
  it('are valid IPv4/UDP with a correct header checksum', () => {
    const b = new Uint8Array(128);
    writeFrame(b, 0, 100);
    expect(ipChecksum(b, 14, 20)).toBe(0);
    expect((b[16] << 8) | b[17]).toBe(86);
    expect((b[38] << 8) | b[39]).toBe(66);
    expect(verifyFrame(b, 0, 100)).toBe(FrameFault.None);
  });

  it('catch a flipped payload byte, a bad checksum, truncation', () => {
    const b = new Uint8Array(128);
    writeFrame(b, 0, 100);
    b[PATTERN_OFFSET + 3] ^= 1;
    expect(verifyFrame(b, 0, 100)).toBe(FrameFault.BadPayload);
    writeFrame(b, 0, 100);
    b[14 + 8] = 63; // TTL changed, checksum now wrong
    expect(verifyFrame(b, 0, 100)).toBe(FrameFault.BadIpChecksum);
    writeFrame(b, 0, 100);
    expect(verifyFrame(b, 0, 99)).toBe(FrameFault.LengthMismatch);
    expect(verifyFrame(b, 0, 59)).toBe(FrameFault.TooShort);
  });

  it('carry sequence numbers past 2^32', () => {
    const b = new Uint8Array(64);
    for (const s of [0, 1, 0xffffffff, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      writeSeq(b, 0, s);
      expect(readSeq(b, 0)).toBe(s);
    }
  });
});

describe('Generator and Sink', () => {
  it('generate numbered frames that the sink accepts in order', () => {
    const pool = new Mempool({ allocator: memory, entries: 64, safe: true });
    const gen = new Generator(pool, { size: MIN_FRAME });
    const sink = new Sink();
    const batch = new PacketBatch(32);
    for (let round = 0; round < 10; round++) {
      expect(gen.fill(batch)).toBe(32);
      sink.consume(batch);
    }
    expect(sink.received).toBe(320);
    expect(sink.bytes).toBe(320 * 60);
    expect(sink.bad + sink.lost + sink.outOfOrder).toBe(0);
    expect(pool.freeCount).toBe(64);
    pool.close();
  });

  it('cycle sizes, and the sink notices loss, reordering and corruption', () => {
    const pool = new Mempool({ allocator: memory, entries: 64 });
    const gen = new Generator(pool, { sizes: [60, 1514, 333] });
    const batch = new PacketBatch(6);
    gen.fill(batch);
    expect([...batch.handles.subarray(0, 6)].map((h) => pool.length[h & INDEX_MASK])).toEqual([
      60, 1514, 333, 60, 1514, 333,
    ]);
    const h = batch.handles;
    [h[1], h[2]] = [h[2], h[1]]; // reorder 1 and 2
    pool.bytes[pool.dataOffset(h[4]) + 200] ^= 0xff; // corrupt seq 4
    const sink = new Sink();
    sink.consume(batch);
    expect(sink.outOfOrder).toBe(1);
    expect(sink.bad).toBe(1);
    expect(sink.lost).toBe(1); // seq 4 (corrupt); seq 1 came late and filled its gap
    expect(sink.summary()).toMatch(/first fault: frame 4 \(1514 bytes\): bad payload byte/);
    pool.close();
  });

  it('rejects sizes that do not fit', () => {
    const pool = new Mempool({ allocator: memory, entries: 4 });
    expect(() => new Generator(pool, { size: 59 })).toThrow(RangeError);
    expect(() => new Generator(pool, { size: 1515 })).toThrow(RangeError);
    pool.close();
  });
});

describe('Sink with an expected count', () => {
  it('tells loss, duplicates and reordering apart', () => {
    const pool = new Mempool({ allocator: memory, entries: 64, safe: true });
    const gen = new Generator(pool, { size: 60 });
    const batch = new PacketBatch(8);
    gen.fill(batch, 7); // seq 0..6
    const h = batch.handles;
    [h[1], h[2]] = [h[2], h[1]]; // 0 2 1 3 4 5 6: seq 1 arrives late
    gen.seq = 3;
    gen.fill(new PacketBatch(1), 0);
    const dup = new PacketBatch(1);
    gen.fill(dup, 1); // a second frame with seq 3
    batch.push(dup.handles[0]);
    const sink = new Sink(10);
    sink.consume(batch);
    expect(sink.received).toBe(8);
    expect(sink.duplicates).toBe(1);
    expect(sink.outOfOrder).toBe(2); // seq 1 after 2, and the second 3 after 6
    expect(sink.lost).toBe(3); // 7, 8 and 9 never came
    expect(sink.summary()).toBe('8 frames, 480 bytes, 0 bad, 3 lost, 1 duplicated, 2 out of order');
    expect(pool.freeCount).toBe(64);
    pool.close();
  });
});

describe('Sink without an expected count', () => {
  it('still tells duplicates (among the last 65536) and late frames filling their gaps', async () => {
    const { Mempool, SimulatedMemory } = await import('@ixy/memory');
    const { PacketBatch } = await import('@ixy/core');
    const pool = new Mempool({ allocator: new SimulatedMemory(), entries: 64 });
    const gen = new Generator(pool, { size: 60 });
    const sink = new Sink();
    const batch = new PacketBatch(1);
    const send = (seq: number): void => {
      gen.seq = seq;
      gen.fill(batch, 1);
      sink.consume(batch);
    };
    for (const seq of [0, 1, 2, 5, 3, 3, 4, 1]) send(seq);
    // 5 skipped 3 and 4 (a gap of 2), 3 and 4 came late (gap filled), 3 and 1 again: duplicates
    expect(sink.summary()).toBe('8 frames, 480 bytes, 0 bad, 0 lost, 2 duplicated, 2 out of order');
    send(100_000); // far ahead: 99,994 never seen
    send(6); // older than the window now: out of order only
    expect(sink.lost).toBe(100_000 - 6);
    pool.close();
  });
});
