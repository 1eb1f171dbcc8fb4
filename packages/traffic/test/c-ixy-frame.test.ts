import { describe, expect, it } from 'vitest';
import { PacketBatch } from '@ixy/core';
import { Mempool, SimulatedMemory } from '@ixy/memory';
import { C_IXY_FRAME_SIZE, readCIxySeq, verifyCIxyFrame, writeCIxyFrame, writeCIxySeq } from '../src/c-ixy-frame.js';
import { FrameFault } from '../src/frame.js';
import { Generator } from '../src/generator.js';
import { Sink } from '../src/sink.js';

// C ixy-pktgen's frame, written out from its pkt_data[] (emmericp/ixy src/app/ixy-pktgen.c) with
// the header checksum it computes, and sequence number 0x01020304 in the last 4 bytes
const EXPECTED = [
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x08, 0x00, 0x45, 0x00, 0x00, 0x2e, 0x00,
  0x00, 0x00, 0x00, 0x40, 0x11, 0x66, 0xbd, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x2a, 0x05, 0x39,
  0x00, 0x1a, 0x00, 0x00, 0x69, 0x78, 0x79, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x03, 0x02, 0x01,
];

describe("C ixy-pktgen's frames", () => {
  it('are written byte for byte as C ixy writes them', () => {
    const b = new Uint8Array(64);
    writeCIxyFrame(b, 2);
    writeCIxySeq(b, 2, 0x01020304);
    expect(Array.from(b.subarray(2, 2 + C_IXY_FRAME_SIZE))).toEqual(EXPECTED);
    expect(readCIxySeq(b, 2)).toBe(0x01020304);
    expect(verifyCIxyFrame(b, 2, C_IXY_FRAME_SIZE)).toBe(FrameFault.None);
    b[2 + 1]++; // ixy-fwd touches the destination MAC: still fine
    expect(verifyCIxyFrame(b, 2, C_IXY_FRAME_SIZE)).toBe(FrameFault.None);
    b[2 + 47] = 1;
    expect(verifyCIxyFrame(b, 2, C_IXY_FRAME_SIZE)).toBe(FrameFault.BadPayload);
    b[2 + 47] = 0;
    b[2 + 30] ^= 1; // an IP address bit
    expect(verifyCIxyFrame(b, 2, C_IXY_FRAME_SIZE)).toBe(FrameFault.BadIpChecksum);
  });

  it('come from the generator with format ixy and are checked by the sink beside ixy-ts frames', () => {
    const pool = new Mempool({ allocator: new SimulatedMemory(), entries: 64 });
    expect(() => new Generator(pool, { format: 'ixy', size: 64 })).toThrow(/60 bytes/);
    const gen = new Generator(pool, { format: 'ixy' });
    const batch = new PacketBatch(16);
    expect(gen.fill(batch)).toBe(16);
    const h = batch.handles[3];
    const at = pool.dataOffset(h);
    expect(Array.from(pool.bytes.subarray(at, at + 56))).toEqual(EXPECTED.slice(0, 56));
    expect(readCIxySeq(pool.bytes, at)).toBe(3);
    const sink = new Sink(32);
    sink.consume(batch);
    const ours = new Generator(pool, { size: 60 });
    ours.seq = 16;
    ours.fill(batch);
    sink.consume(batch);
    expect(sink.summary()).toBe('32 frames, 1920 bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order');
    expect(sink.cIxyFrames).toBe(16);
    pool.close();
  });
});
