// The driver against a model of a legacy virtio-net device (test/fake-legacy-virtio-net.ts):
// the init handshake, rings, headers, notifications, errors. The real devices are tested in
// the QEMU guest (guest.test.ts).
import { PacketBatch, createStats, type IxyError } from '@ixy/core';
import { BUFFER_APP, BUFFER_DRIVER, INDEX_MASK, Mempool, SimulatedMemory } from '@ixy/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlCommandError, openVirtio, type VirtioNetDevice, type VirtioOptions } from '../src/index.js';
import { FakeAccess, FakeLegacyVirtioNet } from './fake-legacy-virtio-net.js';
import type { Virtqueue } from '../src/virtqueue.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

function setup(options: VirtioOptions = {}, sizes?: [number, number, number]) {
  const mem = new SimulatedMemory();
  const model = new FakeLegacyVirtioNet(mem, sizes);
  const access = new FakeAccess(model, mem);
  const dev = openVirtio(access, options);
  const pool = new Mempool({ allocator: mem, entries: 512 });
  cleanup.push(() => {
    dev.close();
    pool.close();
  });
  return { mem, model, access, dev, pool };
}

/** Two devices cabled back to back in one simulated memory. */
function pair(options: VirtioOptions = {}) {
  const mem = new SimulatedMemory();
  const ma = new FakeLegacyVirtioNet(mem);
  const mb = new FakeLegacyVirtioNet(mem);
  mb.mac = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x57);
  ma.peer = mb;
  mb.peer = ma;
  const a = openVirtio(new FakeAccess(ma, mem, 'fake:a'), options);
  const b = openVirtio(new FakeAccess(mb, mem, 'fake:b'), options);
  const pool = new Mempool({ allocator: mem, entries: 1024, safe: options.safe === true });
  cleanup.push(() => {
    a.close();
    b.close();
    pool.close();
  });
  return { ma, mb, a, b, pool };
}

function fill(pool: Mempool, batch: PacketBatch, sizes: number[], dst: Uint8Array, seed = 0): void {
  pool.allocBatch(batch, sizes.length);
  sizes.forEach((size, i) => {
    const h = batch.handles[i];
    const at = pool.dataOffset(h);
    pool.bytes.set(dst, at);
    for (let k = 6; k < size; k++) pool.bytes[at + k] = (seed + i * 17 + k) & 0xff;
    pool.length[h & INDEX_MASK] = size;
  });
}

function frameOf(pool: Mempool, h: number): Uint8Array {
  const at = pool.dataOffset(h);
  return pool.bytes.slice(at, at + pool.length[h & INDEX_MASK]);
}

describe('opening a legacy virtio-net device', () => {
  it('walks the status handshake and negotiates only offered features it uses', () => {
    const { model, access, dev } = setup();
    expect(access.claimed).toBe(true);
    expect(model.statusHistory).toEqual([0, 1, 3, 7]); // reset, ACKNOWLEDGE, DRIVER, DRIVER_OK
    // MAC STATUS CTRL_VQ CTRL_RX CTRL_MAC_ADDR ANY_LAYOUT; not MRG_RXBUF, not EVENT_IDX
    expect(model.driverFeatures).toBe((1 << 5) | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 23) | (1 << 27));
    expect(dev.interfaceKind).toBe('legacy');
    expect(dev.hdrLen).toBe(10);
    expect(dev.promiscuous).toBe(true);
    expect(model.controlLog).toEqual(['0/0:1']); // promiscuous on, as ixy does
  });

  it('sets promiscuous mode off at start when asked', () => {
    const { model, dev } = setup({ promisc: false });
    expect(model.controlLog).toEqual(['0/0:0']);
    expect(model.promisc).toBe(false);
    expect(dev.promiscuous).toBe(false);
  });

  it('gives page-aligned queues and posts receive buffers at data - header', () => {
    const { model, dev } = setup({ ringSize: 64 });
    for (const q of model.queues) expect(q.pfn).toBeGreaterThan(0);
    const rxDescs = model.seen.filter((d) => d.queue === 0);
    expect(rxDescs).toHaveLength(0); // nothing received yet: the model has read none
    model.deliver(Uint8Array.of(...model.mac, 1, 2, 3, 4, 5, 6, 7, 8));
    const d = model.seen.find((s) => s.queue === 0)!;
    expect(d.flags).toBe(2);
    expect(d.len).toBe(1920 + 10);
    const batch = new PacketBatch(32);
    expect(dev.rxBatch(0, batch)).toBe(1);
    const h = batch.handles[0];
    expect(dev.rxPool(0).physAddr[h & INDEX_MASK] - 10).toBe(d.addr);
    expect(dev.rxPool(0).length[h & INDEX_MASK]).toBe(14);
    Mempool.freeBatch(batch);
    // ringSize 64 on a 256-entry legacy queue: 64 buffers in flight at most
    for (let i = 0; i < 100; i++) model.deliver(Uint8Array.of(...model.mac, 0, 0, 0, 0, 0, 0, 0, 0));
    expect(model.received).toHaveLength(65);
    expect(model.dropped).toBe(36);
  });

  it('reads the MAC byte by byte, link status and speed', () => {
    const { model, dev } = setup();
    expect(Array.from(dev.macAddress())).toEqual([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    expect(dev.linkUp()).toBe(true);
    expect(dev.linkSpeed()).toBe(1000);
    model.linkUp = false;
    expect(dev.linkSpeed()).toBe(0);
  });

  it('refuses options it cannot honour, with reasons', () => {
    const mem = new SimulatedMemory();
    const access = new FakeAccess(new FakeLegacyVirtioNet(mem), mem);
    expect(() => openVirtio(access, { rxQueues: 2 })).toThrow(/exactly 1 RX queue, not 2/);
    expect(() => openVirtio(access, { rxQueues: 2 })).toThrowError(expect.objectContaining({ code: 'EINVALIDOPTION' }));
    expect(() => openVirtio(access, { txQueues: 4 })).toThrow(/exactly 1 TX queue/);
    expect(() => openVirtio(access, { ringSize: 100 })).toThrow(/power of two/);
    expect(() => openVirtio(access, { ringSize: 512 })).toThrow(/larger than the device's queues/);
    expect(() => openVirtio(access, { virtioInterface: 'modern' })).toThrow(/only the legacy interface/);
  });

  it('marks the device FAILED, resets it and releases everything when negotiation fails', () => {
    const mem = new SimulatedMemory();
    const model = new FakeLegacyVirtioNet(mem);
    model.offered &= ~(1 << 27); // no ANY_LAYOUT
    const access = new FakeAccess(model, mem);
    let err: IxyError | undefined;
    try {
      openVirtio(access);
    } catch (e) {
      err = e as IxyError;
    }
    expect(err?.code).toBe('EFEATURES');
    expect(model.statusHistory).toEqual([0, 1, 3, 3 | 128, 0]);
    expect(access.released).toBe(true);
  });
});

describe('moving packets', () => {
  it('sends frames byte-exact and in order, with a zeroed header in the headroom', () => {
    const { ma, a, b, pool } = pair({ safe: true });
    const out = new PacketBatch(64);
    const sizes = Array.from({ length: 64 }, (_, i) => 60 + ((i * 331) % 1455));
    // dirty the headroom: the driver must zero the header it sends
    pool.bytes.fill(0xee);
    fill(pool, out, sizes, b.macAddress());
    const expected = Array.from(out.handles.subarray(0, 64), (h) => frameOf(pool, h));
    expect(a.txBatch(0, out)).toBe(64);
    const txDesc = ma.seen.filter((d) => d.queue === 1);
    expect(txDesc.map((d) => d.len)).toEqual(sizes.map((s) => s + 10));
    expect(txDesc[0].addr).toBe(pool.physAddr[out.handles[0] & INDEX_MASK] - 10);

    const inb = new PacketBatch(32);
    const got: Uint8Array[] = [];
    for (let n = b.rxBatch(0, inb); n > 0; n = b.rxBatch(0, inb)) {
      for (let i = 0; i < n; i++) got.push(frameOf(b.rxPool(0), inb.handles[i]));
      Mempool.freeBatch(inb);
    }
    expect(got).toEqual(expected);

    const sa = createStats();
    const sb = createStats();
    a.readStats(sa);
    b.readStats(sb);
    const bytes = sizes.reduce((x, y) => x + y + 4, 0); // each frame with its 4-byte FCS, as cards count
    expect(sa).toMatchObject({ txPackets: 64, txBytes: bytes, rxPackets: 0 });
    expect(sb).toMatchObject({ rxPackets: 64, rxBytes: bytes, txPackets: 0 });
    a.readStats(sa);
    expect(sa.txPackets).toBe(64); // counts since the last read were zeroed
  });

  it('refuses a received buffer the application holds, after consuming and refilling the used ring', () => {
    const { a, b, pool } = pair({ safe: true });
    const out = new PacketBatch(4);
    fill(pool, out, [60, 61], b.macAddress());
    const expected = Array.from(out.handles.subarray(0, 2), (h) => frameOf(pool, h));
    expect(a.txBatch(0, out)).toBe(2);
    // a bug elsewhere gave every buffer posted for receiving to the application
    const rxq = (b as unknown as { rx: Virtqueue }).rx;
    const posted = Array.from(rxq.bufs);
    for (const h of posted) b.rxPool(0).owner[h & INDEX_MASK] = BUFFER_APP;
    const inb = new PacketBatch(8);
    expect(() => b.rxBatch(0, inb)).toThrow(
      /receive of buffer \d+ of mempool \d+: buffer is owned by the application, expected a driver's or a free one/,
    );
    // both frames were taken (the batch holds them) and the ring refilled: nothing is received twice
    expect(inb.length).toBe(2);
    expect(Array.from(inb.handles.subarray(0, 2), (h) => frameOf(b.rxPool(0), h))).toEqual(expected);
    Mempool.freeBatch(inb);
    for (const h of posted) {
      const x = h & INDEX_MASK;
      if (b.rxPool(0).owner[x] === BUFFER_APP && Array.from(rxq.bufs).includes(h)) b.rxPool(0).owner[x] = BUFFER_DRIVER;
    }
    expect(b.rxBatch(0, inb)).toBe(0);
    fill(pool, out, [62], b.macAddress());
    const next = frameOf(pool, out.handles[0]);
    expect(a.txBatch(0, out)).toBe(1);
    expect(b.rxBatch(0, inb)).toBe(1);
    expect(frameOf(b.rxPool(0), inb.handles[0])).toEqual(next);
    Mempool.freeBatch(inb);
  });

  it('fills the ring, returns fewer when full, and reclaims completions in one pass', () => {
    const { ma, a, pool } = pair();
    ma.processOnNotify[1] = false; // the device is slow: nothing completes yet
    const out = new PacketBatch(300);
    fill(pool, out, new Array<number>(300).fill(60), new Uint8Array(6).fill(0xff));
    expect(a.txBatch(0, out)).toBe(256);
    out.shift(256);
    expect(a.txBatch(0, out)).toBe(0);
    expect(a.txInFlight).toBe(256);
    const freeBefore = pool.freeCount;
    ma.run();
    expect(a.txBatch(0, out)).toBe(44);
    expect(pool.freeCount).toBe(freeBefore + 256);
    expect(a.txInFlight).toBe(44);
  });

  it('counts a frame as sent when the device has used it, not when the ring took it', () => {
    const { ma, a, pool } = pair();
    ma.processOnNotify[1] = false; // the device has not got to them yet
    const out = new PacketBatch(8);
    fill(pool, out, [60, 61, 62], new Uint8Array(6).fill(0xff));
    expect(a.txBatch(0, out)).toBe(3);
    const stats = createStats();
    a.readStats(stats);
    expect(stats).toMatchObject({ txPackets: 0, txBytes: 0 });
    expect(a.txInFlight).toBe(3);
    ma.run();
    a.readStats(stats); // the read itself reclaims what the device used: no send needed
    expect(stats).toMatchObject({ txPackets: 3, txBytes: 60 + 61 + 62 + 3 * 4 });
    expect(a.txInFlight).toBe(0);
    // sent before a reset of the counters: discarded with the rest
    fill(pool, out, [60], new Uint8Array(6).fill(0xff));
    expect(a.txBatch(0, out)).toBe(1);
    ma.run();
    a.resetStats();
    const after = createStats();
    a.readStats(after);
    expect(after.txPackets).toBe(0);
  });

  it('a sent buffer the application holds again: the error, with the used ring consumed and the frames counted', () => {
    const { ma, a, pool } = pair({ safe: true });
    ma.processOnNotify[1] = false;
    const out = new PacketBatch(4);
    fill(pool, out, [60, 61], new Uint8Array(6).fill(0xff));
    const [first, second] = Array.from(out.handles.subarray(0, 2));
    expect(a.txBatch(0, out)).toBe(2);
    pool.owner[first & INDEX_MASK] = BUFFER_APP; // a bug elsewhere gave it back while the device had it
    ma.run();
    const stats = createStats();
    expect(() => a.readStats(stats)).toThrow(/release of buffer \d+ of mempool \d+/);
    // the next read goes on from there: both frames were sent, the second buffer is back
    a.readStats(stats);
    expect(stats).toMatchObject({ txPackets: 2, txBytes: 60 + 61 + 2 * 4 });
    expect(a.txInFlight).toBe(0);
    // back in the free stack, its byte as the send left it (see Mempool.owner)
    expect(pool.owner[second & INDEX_MASK]).toBe(BUFFER_DRIVER);
    expect(Array.from(pool.freeStack.subarray(0, pool.freeCount))).toContain(second & INDEX_MASK);
    pool.owner[first & INDEX_MASK] = BUFFER_DRIVER; // give it back, so that the pool closes clean
    pool.driverFree(first);
  });

  it('does not notify while the device says VIRTQ_USED_F_NO_NOTIFY', () => {
    const { ma, a, pool } = pair();
    const out = new PacketBatch(8);
    fill(pool, out, new Array<number>(8).fill(60), new Uint8Array(6).fill(0xff));
    expect(a.txBatch(0, out)).toBe(8);
    expect(ma.notified[1]).toBe(1);
    ma.suppress[1] = true;
    ma.run(); // the model sets the flag while it works
    fill(pool, out, new Array<number>(8).fill(60), new Uint8Array(6).fill(0xff));
    expect(a.txBatch(0, out)).toBe(8);
    expect(ma.notified[1]).toBe(1);
    ma.suppress[1] = false;
    ma.run();
    fill(pool, out, new Array<number>(8).fill(60), new Uint8Array(6).fill(0xff));
    a.txBatch(0, out);
    expect(ma.notified[1]).toBe(2);
  });

  it('rejects empty and oversized frames with FrameSizeError, taking none of the batch', () => {
    const { a, b, pool } = pair({ safe: true });
    const out = new PacketBatch(3);
    fill(pool, out, [60, 1921, 60], b.macAddress());
    expect(() => a.txBatch(0, out)).toThrow(/packet 1 is 1921 bytes, larger than its 1920-byte buffer/);
    expect(a.txInFlight).toBe(0);
    pool.length[out.handles[1] & INDEX_MASK] = 0;
    expect(() => a.txBatch(0, out)).toThrowError(expect.objectContaining({ code: 'EFRAMESIZE' }));
    Mempool.freeBatch(out); // still ours: safe mode would throw otherwise
    const big = new Mempool({ allocator: new SimulatedMemory(), entries: 4, entrySize: 4096 });
    const one = new PacketBatch(1);
    big.allocBatch(one, 1);
    big.length[one.handles[0] & INDEX_MASK] = 3000;
    expect(() => a.txBatch(0, one)).toThrow(/3000 bytes, larger than this port's 1920-byte frame limit/);
    big.close();
  });

  it('only has queue 0', () => {
    const { a } = pair();
    expect(() => a.rxBatch(1, new PacketBatch(4))).toThrow(/no rx queue 1/);
    expect(() => a.txBatch(2, new PacketBatch(4))).toThrow(/no tx queue 2/);
  });
});

describe('control queue', () => {
  it('turns promiscuous mode off (MAC filter) and on, waiting for the ack', () => {
    const { ma, mb, a, b, pool } = pair();
    b.setPromisc(false);
    expect(mb.promisc).toBe(false);
    const out = new PacketBatch(2);
    fill(pool, out, [60, 60], Uint8Array.of(2, 0, 0, 0, 0, 1));
    a.txBatch(0, out);
    expect(mb.filtered).toBe(2);
    b.setPromisc(true);
    expect(b.promiscuous).toBe(true);
    fill(pool, out, [60, 60], Uint8Array.of(2, 0, 0, 0, 0, 1));
    a.txBatch(0, out);
    expect(mb.received).toHaveLength(2);
    expect(ma.controlLog).toEqual(['0/0:1']);
    expect(mb.controlLog).toEqual(['0/0:1', '0/0:0', '0/0:1']);
  });

  it('sets the MAC address with CTRL_MAC_ADDR_SET', () => {
    const { mb, b } = pair();
    b.setMacAddress(Uint8Array.of(2, 1, 2, 3, 4, 5));
    expect(mb.controlLog.at(-1)).toBe('1/1:2,1,2,3,4,5');
    expect(Array.from(b.macAddress())).toEqual([2, 1, 2, 3, 4, 5]);
  });

  it('writes the MAC to the legacy config when CTRL_MAC_ADDR is not offered', () => {
    const mem = new SimulatedMemory();
    const model = new FakeLegacyVirtioNet(mem);
    model.offered &= ~(1 << 23);
    const dev: VirtioNetDevice = openVirtio(new FakeAccess(model, mem));
    cleanup.push(() => dev.close());
    dev.setMacAddress(Uint8Array.of(2, 9, 9, 9, 9, 9));
    expect(Array.from(model.mac)).toEqual([2, 9, 9, 9, 9, 9]);
  });

  it('fails with ControlCommandError when the device does not answer', () => {
    const { mb, b } = pair({ controlTimeoutMs: 30 });
    mb.answerControl = false;
    expect(() => b.setPromisc(false)).toThrow(ControlCommandError);
    // The unanswered command keeps its descriptors; the next ones wait for them, then give up.
    for (let i = 0; i < 30; i++) {
      try {
        b.setPromisc(false);
      } catch (err) {
        if (/still busy/.test((err as Error).message)) return;
      }
    }
    throw new Error('the control queue never reported being busy');
  });

  it('says why when the device has no control queue', () => {
    const mem = new SimulatedMemory();
    const model = new FakeLegacyVirtioNet(mem);
    model.offered &= ~(1 << 17);
    const dev = openVirtio(new FakeAccess(model, mem));
    cleanup.push(() => dev.close());
    expect(dev.promiscuous).toBe(false);
    expect(() => dev.setPromisc(true)).toThrow(/does not offer VIRTIO_NET_F_CTRL_RX/);
  });
});

describe('closing', () => {
  it('resets the device, frees packets still queued for sending and releases the access', () => {
    const mem = new SimulatedMemory();
    const model = new FakeLegacyVirtioNet(mem);
    model.processOnNotify[1] = false;
    const access = new FakeAccess(model, mem);
    const dev = openVirtio(access);
    const pool = new Mempool({ allocator: mem, entries: 64, safe: true });
    const out = new PacketBatch(10);
    fill(pool, out, new Array<number>(10).fill(60), new Uint8Array(6).fill(0xff));
    expect(dev.txBatch(0, out)).toBe(10);
    expect(pool.freeCount).toBe(54);
    dev.close();
    expect(model.status).toBe(0);
    expect(pool.freeCount).toBe(64);
    expect(access.released).toBe(true);
    expect(() => dev.txBatch(0, out)).toThrow(/closed/);
    dev.close(); // idempotent
    pool.close();
  });
});

describe('virtio close: DMA stopped before memory goes', () => {
  it('resets the device (status 0) before it frees rings and buffers; the model refuses the other order', () => {
    const mem = new SimulatedMemory();
    const model = new FakeLegacyVirtioNet(mem);
    const dev = openVirtio(new FakeAccess(model, mem), {});
    expect(model.status & 4).toBe(4); // DRIVER_OK: live
    // the buffer behind RX descriptor 0, as the device sees it
    const device = model as unknown as {
      view(addr: number, len: number): DataView;
      rings(q: number): { desc: number };
    };
    const d0 = device.view(device.rings(0).desc, 16);
    const rxBuffers = mem.find(d0.getUint32(0, true) + d0.getUint32(4, true) * 2 ** 32, 1)!;
    // a driver that frees first: memory the live device may still write into
    expect(() => rxBuffers.free()).toThrow(/freed while the device is live .*reset the device first/);
    expect(rxBuffers.freed).toBe(false);
    // the driver's close: reset, buffers back, then memory freed (the pool with them)
    dev.close();
    expect(model.statusHistory.at(-1)).toBe(0);
    expect(rxBuffers.freed).toBe(true);
  });
});
