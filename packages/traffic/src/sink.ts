import type { PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { C_IXY_FRAME_SIZE, readCIxySeq, verifyCIxyFrame } from './c-ixy-frame.js';
import { FRAME_FAULT_NAMES, FrameFault, readSeq, verifyFrame } from './frame.js';

// a module-local copy: the packet loop calls it without loading the imported class (see the
// ixgbe TX queue)
const poolOf = Mempool.of;

/**
 * Receives test frames and checks each one: every byte (but the destination MAC), the IP
 * checksum, the sequence. Frees what it checks. Takes ixy-ts's test frames and C ixy-pktgen's
 * 60-byte frames alike (see c-ixy-frame.ts): a test bed may mix the two implementations.
 *
 * Told how many frames to expect (sequence numbers 0 .. expected-1), it keeps a bitmap and
 * tells loss, duplicates and reordering apart exactly. Without, it counts gaps as they appear
 * and remembers the last 65536 sequence numbers: a frame seen again among them is a
 * duplicate, a late one fills its gap (and counts as out of order).
 */
/** The most frames a Sink counts exactly (a bit each: 512 MiB at this many). */
export const MAX_EXPECTED = 2 ** 32;
/** Sequence numbers a Sink without an expected count remembers, for duplicates and late frames. */
const WINDOW = 1 << 16;

export class Sink {
  received = 0;
  bytes = 0;
  /** Frames that failed verification (or carried a sequence number beyond `expected`). */
  bad = 0;
  /** Frames that arrived after one with a higher sequence number. */
  outOfOrder = 0;
  /** Frames whose sequence number had been seen already (without `expected`: among the last 65536). */
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
  /** Without `expected`: a bit per sequence number for the last WINDOW of them. */
  private readonly window: Uint8Array;

  constructor(readonly expected?: number) {
    this.window = new Uint8Array(expected === undefined ? WINDOW / 8 : 0);
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
      const pool = poolOf(h[i]);
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
      if (seq >= (this.expected as number))
        return this.fault(`sequence number ${seq} beyond the ${this.expected} expected`);
      const bit = 1 << (seq & 7);
      if ((seen[seq >>> 3] & bit) !== 0) this.duplicates++;
      else {
        seen[seq >>> 3] |= bit;
        this.unique++;
      }
    }
    if (seen === undefined) this.recent(seq);
    if (seq === this.nextSeq) this.nextSeq++;
    else if (seq > this.nextSeq) {
      this.gaps += seq - this.nextSeq;
      this.nextSeq = seq + 1;
    } else {
      this.outOfOrder++;
    }
  }

  /**
   * Without an expected count: remembers the last WINDOW sequence numbers (a bit each), so a
   * frame seen again among them is a duplicate, and a late one fills its gap (not lost after
   * all). Older than the window, a frame counts as out of order only.
   */
  private recent(seq: number): void {
    const w = this.window;
    if (seq >= this.nextSeq) {
      // the window moves on: forget what leaves it (the skipped numbers were not seen)
      const from = Math.max(this.nextSeq, seq - WINDOW + 1);
      for (let s = from; s < seq; s++) w[(s % WINDOW) >>> 3] &= ~(1 << (s & 7));
      w[(seq % WINDOW) >>> 3] |= 1 << (seq & 7);
      return;
    }
    if (this.nextSeq - seq > WINDOW) return;
    const at = (seq % WINDOW) >>> 3;
    const bit = 1 << (seq & 7);
    if ((w[at] & bit) !== 0) {
      this.duplicates++;
      this.outOfOrder--; // counted below as out of order; a duplicate is not also that
      return;
    }
    w[at] |= bit;
    this.gaps--; // a late frame: its gap was counted when a later one arrived
  }

  /** One line for reports. */
  summary(): string {
    return (
      `${this.received} frames, ${this.bytes} bytes, ${this.bad} bad, ${this.lost} lost, ` +
      `${this.duplicates} duplicated, ` +
      `${this.outOfOrder} out of order` +
      (this.firstFault ? ` (first fault: ${this.firstFault})` : '')
    );
  }
}
