import type { PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { C_IXY_FRAME_SIZE, readCIxySeq, verifyCIxyFrame } from './c-ixy-frame.js';
import { FRAME_FAULT_NAMES, FrameFault, readSeq, verifyFrame } from './frame.js';

/**
 * Receives test frames and checks each one: every byte (but the destination MAC), the IP
 * checksum, the sequence. Frees what it checks. Takes ixy-ts's test frames and C ixy-pktgen's
 * 60-byte frames alike (see c-ixy-frame.ts): a test bed may mix the two implementations.
 *
 * Told how many frames to expect (sequence numbers 0 .. expected-1), it keeps a bitmap and
 * tells loss, duplicates and reordering apart exactly. Without, it counts gaps as they appear
 * (a late frame then counts as a gap and as out of order).
 */
/** The most frames a Sink counts exactly (a bit each: 512 MiB at this many). */
export const MAX_EXPECTED = 2 ** 32;

export class Sink {
  received = 0;
  bytes = 0;
  /** Frames that failed verification (or carried a sequence number beyond `expected`). */
  bad = 0;
  /** Frames that arrived after one with a higher sequence number. */
  outOfOrder = 0;
  /** Frames whose sequence number had been seen already (with `expected` only). */
  duplicates = 0;
  /** The highest sequence number seen plus one. */
  nextSeq = 0;
  /** Of the good frames, those in C ixy-pktgen's format (32-bit sequence numbers). */
  cIxyFrames = 0;
  /** The first fault seen, for messages. */
  firstFault = '';
  private gaps = 0;
  private unique = 0;
  private readonly seen: Uint8Array | undefined;

  constructor(readonly expected?: number) {
    if (expected !== undefined) {
      if (!Number.isSafeInteger(expected) || expected < 0 || expected > MAX_EXPECTED) {
        throw new RangeError(`a sink counts at most ${MAX_EXPECTED} expected frames exactly, not ${expected}`);
      }
      this.seen = new Uint8Array(Math.ceil(expected / 8)); // a bit per sequence number
    }
  }

  /**
   * Frames missing: with `expected`, those never seen; without, the sequence numbers skipped
   * when a later frame arrived.
   */
  get lost(): number {
    return this.seen ? (this.expected as number) - this.unique : this.gaps;
  }

  /** Checks and frees `batch.handles[0, batch.length)`; empties the batch. */
  consume(batch: PacketBatch): void {
    const h = batch.handles;
    for (let i = 0; i < batch.length; i++) {
      const pool = Mempool.of(h[i]);
      const off = pool.dataOffset(h[i]);
      const len = pool.length[h[i] & INDEX_MASK];
      this.received++;
      this.bytes += len;
      const fault = verifyFrame(pool.bytes, off, len);
      if (fault === FrameFault.None) this.sequence(readSeq(pool.bytes, off));
      else if (len === C_IXY_FRAME_SIZE && verifyCIxyFrame(pool.bytes, off, len) === FrameFault.None) {
        this.cIxyFrames++;
        this.sequence(readCIxySeq(pool.bytes, off));
      } else this.fault(`frame ${this.received - 1} (${len} bytes): ${FRAME_FAULT_NAMES[fault]}`);
      pool.free(h[i]);
    }
    batch.length = 0;
  }

  private fault(what: string): void {
    this.bad++;
    if (!this.firstFault) this.firstFault = what;
  }

  private sequence(seq: number): void {
    const seen = this.seen;
    if (seen !== undefined) {
      if (seq >= (this.expected as number)) return this.fault(`sequence number ${seq} beyond the ${this.expected} expected`);
      const bit = 1 << (seq & 7);
      if ((seen[seq >>> 3] & bit) !== 0) this.duplicates++;
      else {
        seen[seq >>> 3] |= bit;
        this.unique++;
      }
    }
    if (seq === this.nextSeq) this.nextSeq++;
    else if (seq > this.nextSeq) {
      this.gaps += seq - this.nextSeq;
      this.nextSeq = seq + 1;
    } else {
      this.outOfOrder++;
    }
  }

  /** One line for reports. */
  summary(): string {
    return (
      `${this.received} frames, ${this.bytes} bytes, ${this.bad} bad, ${this.lost} lost, ` +
      (this.seen ? `${this.duplicates} duplicated, ` : '') +
      `${this.outOfOrder} out of order` +
      (this.firstFault ? ` (first fault: ${this.firstFault})` : '')
    );
  }
}
