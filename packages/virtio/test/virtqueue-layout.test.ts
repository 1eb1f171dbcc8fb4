import { describe, expect, it } from 'vitest';
import {
  availBytes,
  legacyVirtqueueLayout,
  packBlocks,
  usedBytes,
  virtqueueLayout,
  withinOneChunk,
} from '../src/virtqueue-layout.js';

describe('split virtqueue layout (§2.7)', () => {
  it('sizes the parts as the spec does', () => {
    expect(availBytes(256)).toBe(6 + 2 * 256);
    expect(usedBytes(256)).toBe(6 + 8 * 256);
  });

  it('puts a legacy used ring on the next 4096-byte boundary (§2.7.2)', () => {
    const l = legacyVirtqueueLayout(256);
    expect(l).toEqual({ size: 256, descOffset: 0, availOffset: 4096, usedOffset: 8192, bytes: 8192 + 6 + 2048 });
    // QEMU's default ring: what Linux's vring_size(256, 4096) gives
    expect(l.bytes).toBe(10246);
    expect(legacyVirtqueueLayout(1)).toMatchObject({ availOffset: 16, usedOffset: 4096, bytes: 4096 + 14 });
    expect(legacyVirtqueueLayout(1024)).toMatchObject({ availOffset: 16384, usedOffset: 20480 });
  });

  it('packs a modern queue with the minimum alignments (desc 16, avail 2, used 4)', () => {
    const l = virtqueueLayout(256, 4);
    expect(l.availOffset).toBe(4096);
    expect(l.usedOffset).toBe(4096 + 518 + 2); // 4614 rounded up to 4
    expect(l.usedOffset % 4).toBe(0);
    expect(l.bytes).toBe(l.usedOffset + 2054);
    const small = virtqueueLayout(2, 4);
    expect(small).toMatchObject({ availOffset: 32, usedOffset: 44, bytes: 44 + 22 });
  });

  it('rejects sizes that are not powers of two or too large, and bad alignments', () => {
    expect(() => virtqueueLayout(0, 4)).toThrow(RangeError);
    expect(() => virtqueueLayout(384, 4)).toThrow(/power of two/);
    expect(() => virtqueueLayout(65536, 4)).toThrow(/32768/);
    expect(() => virtqueueLayout(256, 2)).toThrow(/alignment/);
    expect(() => virtqueueLayout(256, 12)).toThrow(/alignment/);
  });
});

describe('packing queues into physically contiguous chunks', () => {
  it('aligns every block to 4096 bytes', () => {
    const p = packBlocks([10246, 10246, 4096, 1100], 2 << 20);
    expect(p.offsets).toEqual([0, 12288, 24576, 28672]);
    expect(p.total).toBe(32768);
    for (const o of p.offsets) expect(o % 4096).toBe(0);
  });

  it('moves a block that would cross a chunk boundary to the next chunk', () => {
    const chunk = 2 << 20;
    const big = legacyVirtqueueLayout(32768).bytes; // 856070 bytes
    const p = packBlocks([big, big, big], chunk);
    expect(p.offsets[0]).toBe(0);
    expect(big).toBe(856070);
    expect(p.offsets[1]).toBe(860160);
    expect(p.offsets[2]).toBe(chunk); // would have crossed 2 MiB
    p.offsets.forEach((o) => expect(withinOneChunk(o, big, chunk)).toBe(true));
  });

  it('refuses a block larger than a chunk', () => {
    expect(() => packBlocks([8192], 4096)).toThrow(/does not fit/);
    expect(() => packBlocks([0], 4096)).toThrow(RangeError);
  });

  it('withinOneChunk sees the last byte', () => {
    expect(withinOneChunk(4096, 4096, 8192)).toBe(true);
    expect(withinOneChunk(4097, 4096, 8192)).toBe(false);
  });
});
