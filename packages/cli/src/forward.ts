import type { DeviceStats, IxyDevice, PacketBatch, PacketPool } from '@ixy/core';
import { INDEX_MASK, Mempool, POOL_SHIFT } from '@ixy/memory';
import type { TxHandover } from './drain.js';

// module-local copies: the optimised code folds them (imported bindings are cells it loads)
const SHIFT = POOL_SHIFT;
const IDX = INDEX_MASK;
const poolOf = Mempool.of; // as the ixgbe TX queue's copy: one load and check fewer per call

/**
 * ixy touches byte 1 of each packet (part of the destination MAC), so the workload is not
 * unrealistically L3-only. `home` is the pool the packets were received into, when the device
 * names it (`rxPool`): the app's loop holds its devices in variables the optimising compiler
 * treats as constants, so through the call of `touchRun` on `home`, inlined, the pool's bytes
 * and layout are constants of the compiled step and the packet's address is one multiply-add on
 * its handle. Looked up by the handle, a run at a time (a batch mostly is one run, see the ixgbe
 * TxQueue.send), each packet waited on a chain of loads (the registry, the pool, its array)
 * before its own: fwd step at batch 1 ×0.86, batch 32 ×0.93–0.95 (ab-paired, Node 24). A packet
 * of another pool takes the lookup.
 */
function touch(batch: PacketBatch, n: number, home: PacketPool | undefined): void {
  const h = batch.handles;
  let i = home === undefined ? 0 : touchRun(home, h, 0, n);
  while (i < n) i = touchRun(poolOf(h[i]), h, i, n);
}

/**
 * Touches the `n` packets `batch` received from `rx`, with `rx`'s receive pool where it names
 * one. Two calls, not `touch(batch, n, rx.rxPool?.(0))`: the optional call's value merges
 * undefined with the pool, and through a merge the compiler does not see the constant the call
 * returns (batch 32 ×1.00 instead of ×0.94); here the test folds and one call remains.
 */
function touchReceived(rx: IxyDevice, batch: PacketBatch, n: number): void {
  if (rx.rxPool === undefined) touch(batch, n, undefined);
  else touch(batch, n, rx.rxPool(0));
}

/** Touches the packets `h[i, n)` while they are `pool`'s; returns where it stopped. */
function touchRun(pool: PacketPool, h: Uint32Array, i: number, n: number): number {
  const id = pool.id;
  const bytes = pool.bytes;
  const entrySize = pool.entrySize;
  const offset = pool.headroom + 1;
  for (; i < n; i++) {
    const handle = h[i];
    if (handle >>> SHIFT !== id) break;
    bytes[(handle & IDX) * entrySize + offset]++;
  }
  return i;
}

/**
 * One step of ixy-fwd: receive a batch on `rx`, touch each packet, send it on `tx`, free what
 * the TX queue did not take, counting those in `txStats.txDropped` (when given). What the TX
 * queue took is added to `handover.handed` (when given; see drainTx). Returns the packets
 * received. Allocates nothing.
 */
export function forwardBatch(
  rx: IxyDevice,
  tx: IxyDevice,
  batch: PacketBatch,
  txStats?: DeviceStats,
  handover?: TxHandover,
): number {
  const n = rx.rxBatch(0, batch);
  if (n === 0) return 0;
  touchReceived(rx, batch, n);
  const sent = tx.txBatch(0, batch);
  if (handover !== undefined) handover.handed += sent;
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
 * the pressure reaches the sender instead of a frame being dropped. What the TX queue took is
 * added to `handover.handed` (when given). Returns the packets moved (received or sent), 0 when
 * nothing moved.
 */
export function forwardHeld(rx: IxyDevice, tx: IxyDevice, held: PacketBatch, handover?: TxHandover): number {
  let moved = 0;
  if (held.length > 0) {
    const sent = tx.txBatch(0, held);
    held.shift(sent);
    if (handover !== undefined) handover.handed += sent;
    if (held.length > 0) return sent;
    moved = sent;
  }
  const n = rx.rxBatch(0, held);
  if (n === 0) return moved;
  touchReceived(rx, held, n);
  const sent = tx.txBatch(0, held);
  held.shift(sent);
  if (handover !== undefined) handover.handed += sent;
  return moved + n;
}
