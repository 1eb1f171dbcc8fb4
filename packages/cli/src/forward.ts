import type { DeviceStats, IxyDevice, PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool, POOL_SHIFT } from '@ixy/memory';

const NO_BYTES: Uint8Array = new Uint8Array(0);

// module-local copies: the optimised code folds them (imported bindings are cells it loads)
const SHIFT = POOL_SHIFT;
const IDX = INDEX_MASK;

/**
 * ixy touches byte 1 of each packet (part of the destination MAC), so the workload is not
 * unrealistically L3-only. The pool is looked up only when the pool id changes.
 */
function touch(batch: PacketBatch, n: number): void {
  const h = batch.handles;
  let id = -1;
  let bytes = NO_BYTES;
  let entrySize = 0;
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const handle = h[i];
    if (handle >>> SHIFT !== id) {
      id = handle >>> SHIFT;
      const pool = Mempool.of(handle);
      bytes = pool.bytes;
      entrySize = pool.entrySize;
      offset = pool.headroom + 1;
    }
    bytes[(handle & IDX) * entrySize + offset]++;
  }
}

/**
 * One step of ixy-fwd: receive a batch on `rx`, touch each packet, send it on `tx`, free what
 * the TX queue did not take, counting those in `txStats.txDropped` (when given). Returns the
 * packets received. Allocates nothing.
 */
export function forwardBatch(rx: IxyDevice, tx: IxyDevice, batch: PacketBatch, txStats?: DeviceStats): number {
  const n = rx.rxBatch(0, batch);
  if (n === 0) return 0;
  touch(batch, n);
  const sent = tx.txBatch(0, batch);
  if (sent < n) {
    Mempool.freeBatch(batch, sent);
    if (txStats !== undefined) txStats.txDropped += n - sent;
  }
  return n;
}

/**
 * One step of the lossless variant: packets the TX queue did not take stay in `held` (one
 * batch per direction) and go first at the next step; nothing more is received on `rx` until
 * they are gone. So a full TX ring pauses receiving, the RX ring fills, and with flow control
 * the pressure reaches the sender instead of a frame being dropped. Returns the packets moved
 * (received or sent), 0 when nothing moved.
 */
export function forwardHeld(rx: IxyDevice, tx: IxyDevice, held: PacketBatch): number {
  let moved = 0;
  if (held.length > 0) {
    const sent = tx.txBatch(0, held);
    held.shift(sent);
    if (held.length > 0) return sent;
    moved = sent;
  }
  const n = rx.rxBatch(0, held);
  if (n === 0) return moved;
  touch(held, n);
  held.shift(tx.txBatch(0, held));
  return moved + n;
}
