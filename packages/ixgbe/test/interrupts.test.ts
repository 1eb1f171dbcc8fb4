// The interrupt half of hybrid mode on the 82599 model: the driver sets up MSI-X vectors
// masked (§7.3), unmasks a queue's vector only while a poll loop sleeps, and the model raises
// the cause and "sends" the interrupt only then. Also flow control (§3.7.7) and no-link TX.
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { Cable, SimDeviceAccess, type SimPortDevice } from '@ixy/sim';
import { IxgbeDevice, ixgbeDriver, registers as R } from '../src/index.js';
import { fillBatch, frameBytes, freshCable, txPool } from './helpers.js';
import { openPair } from './tracked.js';

describe('ixgbe interrupts on the 82599 model', () => {
  it('maps RX queue causes to MSI-X vectors at init, throttled, auto-cleared, and masked', () => {
    const pair = openPair({ rxQueues: 3 });
    const m = pair.p0.model;
    expect(m.read32(R.IXGBE_GPIE) & R.IXGBE_GPIE_MSIX_MODE).toBe(R.IXGBE_GPIE_MSIX_MODE);
    // queue 0 → vector 0 in byte 0 of IVAR(0), queue 1 → vector 1 in byte 2, queue 2 → IVAR(1)
    expect(m.read32(R.IXGBE_IVAR(0)) & 0x00ff00ff).toBe(0x00810080);
    expect(m.read32(R.IXGBE_IVAR(1)) & 0xff).toBe(0x82);
    expect(m.read32(R.IXGBE_EITR(0)) & R.IXGBE_EITR_ITR_INTERVAL_MASK).toBe(0x028);
    expect(m.read32(R.IXGBE_EIAC)).toBe(0b111);
    expect(m.read32(R.IXGBE_EIMS)).toBe(0);
  });

  it('sends an interrupt for a received frame only while the sleeping side has armed it', () => {
    const pair = openPair();
    const rx = pair.p1.dev as SimPortDevice;
    const wakeup = rx.rxWakeup(0)!;
    const send = (seq: number): void => {
      const batch = new PacketBatch(1);
      fillBatch(pool, batch, [frameBytes(seq, 64)]);
      expect(pair.p0.dev.txBatch(0, batch)).toBe(1);
    };
    const pool = txPool();
    // polling: masked, no interrupt
    send(0);
    pair.p1.model.poll();
    expect(pair.p1.model.interrupts[0]).toBe(0);
    const batch = new PacketBatch(32);
    expect(rx.rxBatch(0, batch)).toBe(1);
    Mempool.freeBatch(batch);
    // armed for a sleep: the driver unmasks vector 0; the next frame raises it
    expect(wakeup.arm()).toBe(true);
    expect(pair.p1.model.read32(R.IXGBE_EIMS) & 1).toBe(1);
    expect(wakeup.futexes.length).toBeGreaterThan(0);
    send(1);
    pair.p1.model.poll();
    expect(pair.p1.model.interrupts[0]).toBe(1);
    wakeup.disarm();
    expect(pair.p1.model.read32(R.IXGBE_EIMS) & 1).toBe(0);
    // a packet waiting in the ring: arming refuses (do not sleep) and leaves the vector masked
    expect(wakeup.arm()).toBe(false);
    expect(pair.p1.model.read32(R.IXGBE_EIMS) & 1).toBe(0);
    expect(rx.rxBatch(0, batch)).toBe(1);
    Mempool.freeBatch(batch);
    pool.close();
  });

  it('hands out an eventfd per RX queue where the access routes MSI-X (VFIO), and arms through EIMS', () => {
    const cable = freshCable();
    const sim = new SimDeviceAccess(`sim:${cable}:0`);
    const routed: number[] = [];
    const access = Object.assign(sim, {
      enableMsix(count: number): number[] {
        routed.push(count);
        return Array.from({ length: count }, (_, i) => 100 + i);
      },
    });
    const dev = ixgbeDriver.open(access, { linkTimeoutMs: 0, rxQueues: 2 }) as IxgbeDevice;
    try {
      const w1 = dev.rxWakeup(1)!;
      expect(w1.fds).toEqual([101]);
      expect(dev.rxWakeup(1)).toBe(w1);
      expect(dev.rxWakeup(0)!.fds).toEqual([100]);
      expect(routed).toEqual([2]); // routed once, on first use
      expect(w1.arm()).toBe(true);
      expect(sim.model.read32(R.IXGBE_EIMS)).toBe(0b10);
      w1.disarm();
      expect(sim.model.read32(R.IXGBE_EIMS)).toBe(0);
    } finally {
      dev.close();
      Cable.remove(cable);
    }
  });

  it('has no wake-up without a way to route interrupts (sysfs)', () => {
    const cable = freshCable();
    const dev = ixgbeDriver.open(new SimDeviceAccess(`sim:${cable}:0`), { linkTimeoutMs: 0 }) as IxgbeDevice;
    try {
      expect(dev.rxWakeup(0)).toBeNull();
    } finally {
      dev.close();
      Cable.remove(cable);
    }
  });
});

describe('ixgbe flow control on the 82599 model', () => {
  it('without flowControl, a full RX ring drops (DROP_EN) and counts; with it, frames wait on the link', () => {
    for (const flowControl of [false, true]) {
      const pair = openPair({ ringSize: 64 }, { ringSize: 64, flowControl });
      const m = pair.p1.model;
      const srrctl = m.read32(R.IXGBE_SRRCTL(0));
      expect(srrctl & R.IXGBE_SRRCTL_DROP_EN).toBe(flowControl ? 0 : R.IXGBE_SRRCTL_DROP_EN);
      if (flowControl) {
        expect(m.read32(R.IXGBE_FCCFG) & R.IXGBE_FCCFG_TFCE_802_3X).toBe(R.IXGBE_FCCFG_TFCE_802_3X);
        expect(m.read32(R.IXGBE_MFLCN) & R.IXGBE_MFLCN_RFCE).toBe(R.IXGBE_MFLCN_RFCE);
        expect(m.read32(R.IXGBE_FCRTH_82599(0)) >>> 31).toBe(1);
      }
      // 200 frames at a receiver whose ring holds 63: it polls the model without taking any
      const pool = txPool(512);
      const batch = new PacketBatch(32);
      let sent = 0;
      for (let i = 0; i < 7; i++) {
        fillBatch(
          pool,
          batch,
          Array.from({ length: 32 }, (_, k) => frameBytes(sent + k, 64)),
        );
        const n = pair.p0.dev.txBatch(0, batch);
        sent += n;
        Mempool.freeBatch(batch, n);
        m.poll();
      }
      const stats = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };
      pair.p1.dev.readStats(stats);
      expect(stats.rxPackets).toBe(63);
      if (flowControl) expect(stats.rxDropped).toBe(0);
      else expect(stats.rxDropped).toBe(sent - 63);
      pool.close();
    }
  });
});
