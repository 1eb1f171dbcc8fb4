// What real hardware needs that a forgiving model would hide (issue: hardware fidelity): the
// queues stop before their memory is freed, a reset is left alone for ~1 ms, the 64 TX queues
// MTQC serves, and the 17-byte minimum of the advanced TX descriptor. The model refuses each
// mistake (see @ixy/sim's model tests); these show the driver does it right.
import { describe, expect, it } from 'vitest';
import { FrameSizeError, PacketBatch } from '@ixy/core';
import { Cable, SimDeviceAccess } from '@ixy/sim';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { IxgbeDevice, MIN_TX_FRAME, ixgbeDriver, registers as R } from '../src/index.js';
import { fillBatch, frameBytes, freshCable } from './helpers.js';
import { openPair, txPool } from './tracked.js';

describe('ixgbe shutdown and limits on the 82599 model', () => {
  it('close() disables every queue and waits until ENABLE reads 0 before it frees rings and buffers', () => {
    const cable = freshCable();
    const access = new SimDeviceAccess(`sim:${cable}:0`);
    const dev = ixgbeDriver.open(access, { linkTimeoutMs: 0, rxQueues: 2, txQueues: 2 }) as IxgbeDevice;
    const trace = access.model.startTrace();
    dev.close(); // the model throws if memory goes while a queue can still write to it
    access.model.stopTrace();
    Cable.remove(cable);
    const at = (pred: (a: (typeof trace)[number]) => boolean): number => trace.findIndex(pred);
    const lastRxRead = trace
      .map((a, i) => (a.op === 'read' && a.offset === R.IXGBE_RXDCTL(1) ? i : -1))
      .reduce((a, b) => Math.max(a, b));
    expect(trace[lastRxRead].value & R.IXGBE_RXDCTL_ENABLE).toBe(0);
    const rxOff = at(
      (a) => a.op === 'write' && a.offset === R.IXGBE_RXDCTL(1) && (a.value & R.IXGBE_RXDCTL_ENABLE) === 0,
    );
    expect(rxOff).toBeGreaterThanOrEqual(0);
    expect(lastRxRead).toBeGreaterThan(rxOff);
    const flush = at(
      (a) => a.op === 'write' && a.offset === R.IXGBE_TXDCTL(0) && (a.value & R.IXGBE_TXDCTL_SWFLSH) !== 0,
    );
    expect(flush).toBeGreaterThan(rxOff);
    const txStopped = at(
      (a) => a.op === 'read' && a.offset === R.IXGBE_TXDCTL(1) && (a.value & R.IXGBE_TXDCTL_ENABLE) === 0,
    );
    const teOff = at((a) => a.op === 'write' && a.offset === R.IXGBE_DMATXCTL && a.value === 0);
    expect(txStopped).toBeGreaterThan(flush);
    expect(teOff).toBeGreaterThan(txStopped);
  });

  it('refuses TX frames under 17 bytes with FrameSizeError and a hint to pad', () => {
    const pair = openPair();
    const p = txPool();
    const batch = new PacketBatch(2);
    fillBatch(p, batch, [frameBytes(0, 64), frameBytes(1, 64)]);
    p.length[batch.handles[1] & INDEX_MASK] = MIN_TX_FRAME - 1;
    let err: unknown;
    try {
      pair.p0.dev.txBatch(0, batch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FrameSizeError);
    expect((err as FrameSizeError).message).toMatch(/16 bytes .*packet 1 of the batch; none of the batch was taken/);
    expect((err as FrameSizeError).hint).toMatch(/pad the frame to at least 17 bytes/);
    // nothing was taken: the whole batch goes again, the short frame made 17 bytes
    p.length[batch.handles[1] & INDEX_MASK] = MIN_TX_FRAME;
    expect(pair.p0.dev.txBatch(0, batch)).toBe(2); // 17 bytes go (padded to 64 on the wire)
    Mempool.freeBatch(batch, 2);
  });
});
