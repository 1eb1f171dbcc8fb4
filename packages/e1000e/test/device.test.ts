import { afterEach, describe, expect, it } from 'vitest';
import {
  DeviceStateError,
  FrameSizeError,
  InvalidOptionError,
  OwnershipError,
  PacketBatch,
  createStats,
  txBatchBusyWait,
} from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import {
  E1000eDevice,
  MAX_FRAME_BYTES,
  MIN_TX_FRAME,
  TX_CMD,
  e1000eDriver,
  registers as R,
  writeRxDescriptor,
  writeTxDescriptor,
} from '../src/index.js';
import { FakeAccess } from './fake-e1000e.js';

const opened: E1000eDevice[] = [];
afterEach(() => {
  for (const d of opened.splice(0)) d.close();
});

function open(options = {}, access = new FakeAccess()): { dev: E1000eDevice; access: FakeAccess } {
  const dev = e1000eDriver.open(access, { linkTimeoutMs: 0, ...options });
  opened.push(dev);
  return { dev, access };
}

/** A frame to our MAC (or `dst`) with a recognisable payload. */
function frame(seq: number, len: number, dst = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set([0x02, 0, 0, 0, 0, 1], 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  for (let i = 14; i < len; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

function fill(pool: Mempool, batch: PacketBatch, frames: Uint8Array[]): void {
  batch.clear();
  for (const f of frames) {
    const h = pool.allocOrThrow();
    pool.bytes.set(f, pool.dataOffset(h));
    pool.length[h & INDEX_MASK] = f.length;
    batch.push(h);
  }
}

function bytesOf(h: number): Uint8Array {
  const pool = Mempool.of(h);
  const off = pool.dataOffset(h);
  return pool.bytes.slice(off, off + pool.length[h & INDEX_MASK]);
}

describe('legacy descriptors (§7.1.3, §7.2)', () => {
  it('RX: the buffer address in two halves, the write-back words zeroed (DD clear)', () => {
    const ring = new Uint32Array(8).fill(0xffffffff);
    writeRxDescriptor(ring, 1, 0x1_2345_6780);
    expect(Array.from(ring.subarray(4, 8))).toEqual([0x23456780, 0x1, 0, 0]);
    expect(Array.from(ring.subarray(0, 4))).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  it('TX: address, length | EOP, IFCS, RS in the command byte; status word zeroed', () => {
    const ring = new Uint32Array(4).fill(0xffffffff);
    writeTxDescriptor(ring, 0, 0xf_0000_1000, 1514);
    expect(ring[0]).toBe(0x00001000);
    expect(ring[1]).toBe(0xf);
    expect(ring[2]).toBe((0x0b000000 | 1514) >>> 0); // EOP (bit 24), IFCS (25), RS (27); legacy: DEXT clear
    expect(ring[2] >>> 24).toBe(0x0b);
    expect(TX_CMD & R.E1000_TXD_CMD_DEXT).toBe(0);
    expect(ring[3]).toBe(0);
  });

  it('a descriptor is 16 bytes; the largest frame fits a pool buffer', () => {
    expect(R.E1000_DESC_SIZE).toBe(16);
    expect(MAX_FRAME_BYTES).toBe(1518);
  });
});

describe('e1000e on a fake 82574: packets', () => {
  it('receives frames byte-exact, and sends them byte-exact', () => {
    const { dev, access } = open();
    const sizes = [60, 61, 64, 128, 1000, 1514, MAX_FRAME_BYTES];
    const frames = sizes.map((len, i) => frame(i, len));
    for (const f of frames) access.card.deliver(f);
    const rx = new PacketBatch(32);
    expect(dev.rxBatch(0, rx)).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(bytesOf(rx.handles[i])).toEqual(frames[i]);
    // send what was received (ixy-fwd does so): the driver takes them all
    expect(dev.txBatch(0, rx)).toBe(frames.length);
    expect(access.card.sent).toEqual(frames);
  });

  it('wraps both rings many times without losing or reordering a frame', () => {
    const { dev, access } = open({ ringSize: 64, poolSize: 256 });
    const pool = new Mempool({ allocator: access.dma, entries: 512 });
    const batch = new PacketBatch(32);
    const rx = new PacketBatch(32);
    const total = 64 * 20;
    let received = 0;
    for (let seq = 0; seq < total; seq += 32) {
      const frames = Array.from({ length: 32 }, (_, i) => frame(seq + i, 100));
      fill(pool, batch, frames);
      txBatchBusyWait(dev, 0, batch);
      for (const f of frames) access.card.deliver(f);
      while (received < seq + 32) {
        const n = dev.rxBatch(0, rx);
        for (let i = 0; i < n; i++) expect(bytesOf(rx.handles[i])).toEqual(frame(received + i, 100));
        received += n;
        Mempool.freeBatch(rx);
      }
    }
    expect(received).toBe(total);
    expect(access.card.sent.length).toBe(total);
    for (let i = 0; i < total; i += 97) expect(access.card.sent[i]).toEqual(frame(i, 100));
    pool.close();
  });

  it('holds frames in the FIFO while the ring is full and delivers them once refilled (nothing lost)', () => {
    const { dev, access } = open({ ringSize: 64, poolSize: 128 });
    for (let i = 0; i < 100; i++) access.card.deliver(frame(i, 64));
    expect(access.card.fifo.length).toBe(100 - 63); // a ring of 64 holds 63
    const rx = new PacketBatch(64);
    let seq = 0;
    for (let round = 0; round < 4 && seq < 100; round++) {
      const n = dev.rxBatch(0, rx);
      for (let i = 0; i < n; i++) expect(bytesOf(rx.handles[i])).toEqual(frame(seq++, 64));
      Mempool.freeBatch(rx);
    }
    expect(seq).toBe(100);
  });

  it('a full TX ring takes fewer packets, and the caller keeps the rest', () => {
    const { dev, access } = open({ ringSize: 64 });
    access.card.set(R.E1000_TCTL, 0); // the card stops sending: the ring fills
    const pool = new Mempool({ allocator: access.dma, entries: 256 });
    const batch = new PacketBatch(100);
    fill(
      pool,
      batch,
      Array.from({ length: 100 }, (_, i) => frame(i, 64)),
    );
    expect(dev.txBatch(0, batch)).toBe(63);
    Mempool.freeBatch(batch, 63);
  });

  it('refuses a bad frame in a batch: none of the batch is taken or sent, the caller keeps it all', () => {
    const { dev, access } = open();
    const pool = new Mempool({ allocator: access.dma, entries: 64 });
    const batch = new PacketBatch(4);
    fill(pool, batch, [frame(0, 64), frame(1, 64), frame(2, MIN_TX_FRAME - 1), frame(3, 64)]);
    let error: unknown;
    try {
      dev.txBatch(0, batch);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FrameSizeError);
    expect((error as Error).message).toContain('packet 2 of the batch; none of the batch was taken');
    expect(access.card.sent.length).toBe(0);
    Mempool.freeBatch(batch); // all four are still the caller's
    // the ring goes on from where it was: the next batch is sent whole
    fill(pool, batch, [frame(5, 64), frame(6, 64)]);
    expect(dev.txBatch(0, batch)).toBe(2);
    expect(access.card.sent).toEqual([frame(5, 64), frame(6, 64)]);
    // too long, and a handle of no pool
    fill(pool, batch, [frame(9, 64)]);
    pool.length[batch.handles[0] & INDEX_MASK] = MAX_FRAME_BYTES + 1;
    expect(() => dev.txBatch(0, batch)).toThrow(FrameSizeError);
    Mempool.freeBatch(batch);
    batch.clear();
    batch.push(0x7fff0000);
    expect(() => dev.txBatch(0, batch)).toThrow(OwnershipError);
  });

  it('counts statistics from the clear-on-read registers, 64-bit octets included', () => {
    const { dev, access } = open();
    const stats = createStats();
    dev.readStats(stats);
    expect(stats).toEqual(createStats());
    for (let i = 0; i < 10; i++) access.card.deliver(frame(i, 100));
    const rx = new PacketBatch(32);
    dev.rxBatch(0, rx);
    dev.txBatch(0, rx);
    access.card.set(R.E1000_GORCH, 2); // 2 × 2^32 more octets than the low half says
    access.card.set(R.E1000_MPC, 3);
    dev.readStats(stats);
    expect(stats.rxPackets).toBe(10);
    expect(stats.txPackets).toBe(10);
    expect(stats.rxBytes).toBe(10 * 104 + 2 * 4294967296);
    expect(stats.txBytes).toBe(10 * 104);
    expect(stats.rxDropped).toBe(3);
    // clear-on-read: a second read adds nothing
    const again = { ...stats };
    dev.readStats(stats);
    expect(stats).toEqual(again);
    // resetStats discards what was counted since
    access.card.deliver(frame(99, 100));
    dev.resetStats();
    dev.readStats(stats);
    expect(stats).toEqual(again);
  });

  it('promiscuous mode: RCTL.UPE/MPE decide whether frames to other addresses arrive', () => {
    const { dev, access } = open({ promisc: false });
    const other = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc];
    const rx = new PacketBatch(8);
    access.card.deliver(frame(1, 64, other));
    access.card.deliver(frame(2, 64, [0x01, 0, 0x5e, 0, 0, 1]));
    access.card.deliver(frame(3, 64));
    expect(dev.rxBatch(0, rx)).toBe(1); // only the one to our MAC
    Mempool.freeBatch(rx);
    dev.setPromisc(true);
    expect(access.card.get(R.E1000_RCTL) & R.E1000_RCTL_EN).not.toBe(0);
    access.card.deliver(frame(4, 64, other));
    access.card.deliver(frame(5, 64, [0x01, 0, 0x5e, 0, 0, 1]));
    expect(dev.rxBatch(0, rx)).toBe(2);
    Mempool.freeBatch(rx);
    dev.setPromisc(false);
    expect(access.card.get(R.E1000_RCTL) & (R.E1000_RCTL_UPE | R.E1000_RCTL_MPE)).toBe(0);
  });

  it('reads the MAC from RAL/RAH and sets it (valid bit on)', () => {
    const { dev, access } = open();
    expect(Array.from(dev.macAddress())).toEqual([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    dev.setMacAddress(Uint8Array.of(0x02, 0x11, 0x22, 0x33, 0x44, 0x55));
    expect(Array.from(dev.macAddress())).toEqual([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    expect(access.card.get(R.E1000_RAL0)).toBe(0x33221102);
    expect(access.card.get(R.E1000_RAH0)).toBe((0x5544 | R.E1000_RAH_AV) >>> 0);
    expect(() => dev.setMacAddress(Uint8Array.of(1, 2, 3))).toThrow(InvalidOptionError);
    expect(() => dev.setMacAddress(Uint8Array.of(1, 0, 0x5e, 0, 0, 1))).toThrow(/not a unicast address/);
    expect(() => dev.setMacAddress(new Uint8Array(6))).toThrow(InvalidOptionError);
    expect(Array.from(dev.macAddress())).toEqual([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
  });

  it('reports the link: STATUS.LU and speed', () => {
    const { dev, access } = open();
    expect(dev.linkSpeed()).toBe(1000);
    access.card.set(R.E1000_STATUS, R.E1000_STATUS_LU | R.E1000_STATUS_SPEED_100);
    expect(dev.linkSpeed()).toBe(100);
    access.card.set(R.E1000_STATUS, 0);
    expect(dev.linkSpeed()).toBe(0);
  });

  it('rejects bad options with InvalidOptionError', () => {
    expect(() => open({ ringSize: 100 })).toThrow(InvalidOptionError);
    expect(() => open({ ringSize: 32 })).toThrow(InvalidOptionError);
    expect(() => open({ rxQueues: 2 })).toThrow(/rxQueues must be 1/);
    expect(() => open({ poolSize: 64, ringSize: 64 })).toThrow(InvalidOptionError);
  });

  it('close stops receive and transmit before freeing memory, is idempotent, and later calls throw', () => {
    const { dev, access } = open();
    opened.pop();
    dev.close(); // the fake throws if memory goes while the card can reach it
    expect(access.card.get(R.E1000_RCTL) & R.E1000_RCTL_EN).toBe(0);
    expect(access.card.get(R.E1000_TCTL) & R.E1000_TCTL_EN).toBe(0);
    expect(access.card.get(R.E1000_CTRL) & R.E1000_CTRL_GIO_MASTER_DISABLE).not.toBe(0);
    expect(access.dma.regionCount).toBe(0);
    expect(access.released).toBe(true);
    dev.close();
    const batch = new PacketBatch(1);
    expect(() => dev.rxBatch(0, batch)).toThrow(DeviceStateError);
    expect(() => dev.txBatch(0, batch)).toThrow(DeviceStateError);
    expect(() => dev.readStats(createStats())).toThrow(DeviceStateError);
    expect(() => dev.macAddress()).toThrow(DeviceStateError);
    expect(() => dev.linkSpeed()).toThrow(DeviceStateError);
  });

  it('has one queue each way', () => {
    const { dev } = open();
    expect(() => dev.rxBatch(1, new PacketBatch(1))).toThrow(DeviceStateError);
    expect(() => dev.txBatch(1, new PacketBatch(1))).toThrow(DeviceStateError);
  });
});

describe('e1000e interrupts (MSI-X through VFIO)', () => {
  it('has no wake-up without MSI-X (sysfs)', () => {
    const { dev } = open();
    expect(dev.rxWakeup(0)).toBeNull();
  });

  it('routes RX queue 0 to vector 0, auto-cleared; arm unmasks, disarm masks, a waiting packet refuses', () => {
    const { dev, access } = open({}, new FakeAccess({ msix: true }));
    expect(access.card.get(R.E1000_IVAR) & 0xf).toBe(R.E1000_IVAR_VALID | 0);
    expect(access.card.get(R.E1000_EIAC)).toBe(R.E1000_ICR_RXQ0);
    const w = dev.rxWakeup(0);
    expect(w).not.toBeNull();
    expect(dev.rxWakeup(0)).toBe(w);
    expect(w?.fds).toEqual([100]);
    expect(access.msixCalls).toEqual([1]);
    access.card.set(R.E1000_ICR, R.E1000_ICR_RXQ0); // stale cause from polled packets
    expect(w?.arm()).toBe(true);
    expect(access.card.get(R.E1000_ICR) & R.E1000_ICR_RXQ0).toBe(0);
    expect(access.card.get(R.E1000_IMS)).toBe(R.E1000_ICR_RXQ0);
    w?.disarm();
    expect(access.card.get(R.E1000_IMS)).toBe(0);
    access.card.deliver(frame(0, 64));
    expect(w?.arm()).toBe(false);
    expect(access.card.get(R.E1000_IMS)).toBe(0);
  });
});
