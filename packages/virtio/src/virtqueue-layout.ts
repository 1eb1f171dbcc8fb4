import { LEGACY_QUEUE_ALIGN, MAX_QUEUE_SIZE } from './constants.js';

/** Bytes per descriptor: le64 addr, le32 len, le16 flags, le16 next (§2.7.5). */
export const DESC_SIZE = 16;
/** Available ring: le16 flags, le16 idx, le16 ring[size], le16 used_event (§2.7.6). */
export const availBytes = (size: number): number => 4 + 2 * size + 2;
/** Used ring: le16 flags, le16 idx, {le32 id, le32 len} ring[size], le16 avail_event (§2.7.8). */
export const usedBytes = (size: number): number => 4 + 8 * size + 2;

/** Where the three parts of a split virtqueue sit, relative to the queue's start. */
export interface VirtqueueLayout {
  /** Number of descriptors (the Queue Size). */
  readonly size: number;
  readonly descOffset: number;
  readonly availOffset: number;
  readonly usedOffset: number;
  /** Bytes from the start of the descriptor table to the end of the used ring. */
  readonly bytes: number;
}

export function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/**
 * The layout of a split virtqueue of `size` descriptors (§2.7 Split Virtqueues). The
 * descriptor table needs 16-byte alignment, the available ring 2, the used ring 4. A legacy
 * device derives the ring addresses from the table's address alone: the available ring follows
 * the table, and the used ring starts at the next 4096-byte boundary (§2.7.2 Legacy
 * Interfaces: A Note on Virtqueue Layout), so pass `usedAlign` = 4096 for legacy devices.
 * A modern device takes three addresses; the compact layout (usedAlign 4) serves it.
 */
export function virtqueueLayout(size: number, usedAlign: number): VirtqueueLayout {
  if (!isPowerOfTwo(size) || size > MAX_QUEUE_SIZE) {
    throw new RangeError(`virtqueue size must be a power of two from 1 to ${MAX_QUEUE_SIZE}, got ${size}`);
  }
  if (!isPowerOfTwo(usedAlign) || usedAlign < 4) {
    throw new RangeError(`used ring alignment must be a power of two of at least 4, got ${usedAlign}`);
  }
  const descOffset = 0;
  const availOffset = DESC_SIZE * size;
  const usedOffset = alignUp(availOffset + availBytes(size), usedAlign);
  return { size, descOffset, availOffset, usedOffset, bytes: usedOffset + usedBytes(size) };
}

/** A legacy layout (used ring on a 4096-byte boundary). */
export function legacyVirtqueueLayout(size: number): VirtqueueLayout {
  return virtqueueLayout(size, LEGACY_QUEUE_ALIGN);
}

/** Where blocks of DMA memory go in one region. */
export interface PackedBlocks {
  /** Start offset of each block, in the order given. */
  readonly offsets: number[];
  /** Bytes the region needs. */
  readonly total: number;
}

/**
 * Places blocks of `sizes` bytes one after the other, each aligned to `align` (4096: legacy
 * queue addresses are page frame numbers) and none crossing a boundary of `chunk` bytes (the
 * region is physically contiguous only within a chunk: 2 MiB on hugepages). A block that
 * would cross one starts at the next chunk instead.
 */
export function packBlocks(sizes: readonly number[], chunk: number, align = LEGACY_QUEUE_ALIGN): PackedBlocks {
  if (!isPowerOfTwo(align) || !Number.isInteger(chunk) || chunk < align || chunk % align !== 0) {
    throw new RangeError(`cannot pack blocks into chunks of ${chunk} bytes aligned to ${align}`);
  }
  const offsets: number[] = [];
  let at = 0;
  for (const size of sizes) {
    if (!Number.isInteger(size) || size <= 0)
      throw new RangeError(`block size must be a positive integer, got ${size}`);
    if (size > chunk) {
      throw new RangeError(`a block of ${size} bytes does not fit one physically contiguous chunk of ${chunk} bytes`);
    }
    at = alignUp(at, align);
    if (Math.floor(at / chunk) !== Math.floor((at + size - 1) / chunk)) at = alignUp(at, chunk);
    offsets.push(at);
    at += size;
  }
  return { offsets, total: alignUp(at, align) };
}

/** Does [offset, offset + size) stay within one chunk? */
export function withinOneChunk(offset: number, size: number, chunk: number): boolean {
  return Math.floor(offset / chunk) === Math.floor((offset + size - 1) / chunk);
}
