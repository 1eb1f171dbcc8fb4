import type { IxyDevice, PacketBatch } from '@ixy/core';
import { Mempool } from '@ixy/memory';

/**
 * One step of ixy-fwd: receive a batch on `rx`, touch each packet (so the workload is not
 * unrealistically L3-only: ixy increments byte 1, part of the destination MAC), send it on
 * `tx`, free what the TX queue did not take. Allocates nothing.
 */
export function forwardBatch(rx: IxyDevice, tx: IxyDevice, batch: PacketBatch): number {
  const n = rx.rxBatch(0, batch);
  if (n === 0) return 0;
  const h = batch.handles;
  for (let i = 0; i < n; i++) {
    const pool = Mempool.of(h[i]);
    pool.bytes[pool.dataOffset(h[i]) + 1]++;
  }
  const sent = tx.txBatch(0, batch);
  if (sent < n) Mempool.freeBatch(batch, sent);
  return n;
}
