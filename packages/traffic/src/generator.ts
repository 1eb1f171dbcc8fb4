import type { PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { C_IXY_FRAME_SIZE, writeCIxyFrame, writeCIxySeq } from './c-ixy-frame.js';
import { MonotonicClock } from './clock.js';
import {
  DEFAULT_TEMPLATE,
  MAX_FRAME,
  MIN_FRAME,
  type FrameTemplate,
  writeFrame,
  writeSendTime,
  writeSeq,
} from './frame.js';

export interface GeneratorOptions {
  /** Frame size without CRC, 60..1514 (default 60). Ignored when `sizes` is given. */
  size?: number;
  /** Cycle through these sizes, one per frame (each frame is then written whole). */
  sizes?: readonly number[];
  template?: FrameTemplate;
  /**
   * `ixy-ts` (default): our test frames, any size, 64-bit sequence numbers and a checkable
   * payload. `ixy`: exactly C ixy-pktgen's 60-byte frames (see c-ixy-frame.ts), to mix C ixy
   * and ixy-ts in one test bed.
   */
  format?: 'ixy-ts' | 'ixy';
  /** Frames carry a send time (`stamp`), for latency measurements: ixy-ts format only. */
  timestamp?: boolean;
}

/**
 * Fills batches with test frames from a mempool, as ixy-pktgen does: every buffer of the
 * pool is written once up front, so sending a frame costs an alloc and a sequence stamp.
 */
export class Generator {
  /** Sequence number of the next frame. */
  seq = 0;
  private readonly size: number;
  private readonly sizes: readonly number[] | undefined;
  private readonly template: FrameTemplate;
  private readonly cIxy: boolean;
  /** The clock `stamp` reads (with `timestamp`), CLOCK_MONOTONIC as every process sees it. */
  readonly clock: MonotonicClock | null;

  constructor(
    readonly pool: Mempool,
    options: GeneratorOptions = {},
  ) {
    this.template = options.template ?? DEFAULT_TEMPLATE;
    this.sizes = options.sizes && options.sizes.length > 0 ? options.sizes : undefined;
    this.cIxy = options.format === 'ixy';
    if (this.cIxy && ((options.size !== undefined && options.size !== C_IXY_FRAME_SIZE) || this.sizes !== undefined)) {
      throw new RangeError(`C ixy's frames (format 'ixy') are ${C_IXY_FRAME_SIZE} bytes`);
    }
    if (this.cIxy && options.timestamp) {
      throw new RangeError("C ixy's frames (format 'ixy') have no room for a send time: use format 'ixy-ts'");
    }
    this.clock = options.timestamp ? new MonotonicClock() : null;
    this.size = options.size ?? MIN_FRAME;
    for (const s of this.sizes ?? [this.size]) {
      if (!Number.isInteger(s) || s < MIN_FRAME || s > Math.min(MAX_FRAME, pool.bufSize)) {
        throw new RangeError(
          `frame size must be an integer from ${MIN_FRAME} to ${Math.min(MAX_FRAME, pool.bufSize)}, got ${s}`,
        );
      }
    }
    if (!this.sizes) {
      for (let i = 0; i < pool.entries; i++) {
        if (this.cIxy) writeCIxyFrame(pool.bytes, i * pool.entrySize + pool.headroom);
        else writeFrame(pool.bytes, i * pool.entrySize + pool.headroom, this.size, this.template);
        pool.length[i] = this.size;
      }
    }
  }

  /** Fills `batch` with up to `count` new frames (fewer when the pool runs low); returns how many. */
  fill(batch: PacketBatch, count = batch.capacity): number {
    const pool = this.pool;
    const n = pool.allocBatch(batch, count);
    const h = batch.handles;
    const sizes = this.sizes;
    for (let i = 0; i < n; i++) {
      const off = pool.dataOffset(h[i]);
      if (sizes !== undefined) {
        const size = sizes[this.seq % sizes.length];
        writeFrame(pool.bytes, off, size, this.template);
        pool.length[h[i] & INDEX_MASK] = size;
      }
      if (this.cIxy) writeCIxySeq(pool.bytes, off, this.seq++);
      else writeSeq(pool.bytes, off, this.seq++);
    }
    return n;
  }

  /**
   * Stamps the send time into every frame of `batch` (those the TX queue has not taken yet too:
   * call it right before handing the batch to the queue, again for what is left over). One
   * clock read for the whole batch: every frame carries the time the batch went to the driver,
   * so a frame later in the batch is stamped early by the time the driver takes for the frames
   * before it (≈ 30 ns each in the ixgbe rings, under 1 µs for a batch of 32), which the
   * measured latency then includes, as it includes the wait of a frame queued on a real wire
   * behind the rest of its batch. The read costs 75–100 ns (≈ 3 ns a frame at batch 32) where
   * a read per frame would cost that per frame, and hrtime.bigint() 120–150 ns and a BigInt
   * (2-core EPYC, Node 20). Needs `timestamp`.
   */
  stamp(batch: PacketBatch): void {
    const clock = this.clock;
    if (clock === null) throw new RangeError("this generator's frames carry no send time: create it with timestamp");
    clock.read();
    const hi = clock.hi;
    const lo = clock.lo;
    const pool = this.pool;
    const h = batch.handles;
    for (let i = 0; i < batch.length; i++) writeSendTime(pool.bytes, pool.dataOffset(h[i]), hi, lo);
  }
}
