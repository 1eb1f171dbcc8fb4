import type { PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { FRAME_FAULT_NAMES, FrameFault, readSeq, verifyFrame } from './frame.js';

/**
 * Receives test frames and checks each one: every byte (but the destination MAC), the IP
 * checksum, the sequence: in order, none lost, none duplicated. Frees what it checks.
 */
export class Sink {
  received = 0;
  bytes = 0;
  /** Frames that failed verification. */
  bad = 0;
  /** Frames whose sequence number was below the next expected one (duplicates or reordering). */
  outOfOrder = 0;
  /** Sequence numbers skipped when a later frame arrived (lost, or late: see outOfOrder). */
  lost = 0;
  /** The next sequence number expected. */
  nextSeq = 0;
  /** The first fault seen, for messages. */
  firstFault = '';

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
      if (fault !== FrameFault.None) {
        this.bad++;
        if (!this.firstFault) this.firstFault = `frame ${this.received - 1} (${len} bytes): ${FRAME_FAULT_NAMES[fault]}`;
      } else {
        const seq = readSeq(pool.bytes, off);
        if (seq === this.nextSeq) this.nextSeq++;
        else if (seq > this.nextSeq) {
          this.lost += seq - this.nextSeq;
          this.nextSeq = seq + 1;
        } else {
          this.outOfOrder++;
        }
      }
      pool.free(h[i]);
    }
    batch.length = 0;
  }

  /** One line for reports. */
  summary(): string {
    return (
      `${this.received} frames, ${this.bytes} bytes, ${this.bad} bad, ${this.lost} lost, ${this.outOfOrder} out of order` +
      (this.firstFault ? ` (first fault: ${this.firstFault})` : '')
    );
  }
}
