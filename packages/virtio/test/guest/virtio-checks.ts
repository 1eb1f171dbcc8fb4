/**
 * Runs inside the QEMU guest (see ../guest.test.ts), from the built dist: opens pairs of
 * back-to-back virtio-net ports with the driver and checks them end to end. Writes one JSON
 * result per pair to the guest share; the host-side tests assert on it.
 *
 * Usage: node virtio-checks.js <outName> <addrA> <addrB> [<addrA> <addrB> ...]
 */
import { PacketBatch, createStats, openDevice, type DeviceStats, type IxyError } from '@ixy/core';
import { HugepageAllocator, INDEX_MASK, Mempool } from '@ixy/memory';
import { writeGuestResult } from '@ixy/qemu-guest/guest';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import type { VirtioNetDevice } from '@ixy/virtio';
// Registers the virtio driver and the PCI resolver (the import above is types only).
import '@ixy/pci'; // registers the PCI resolver
import '@ixy/virtio';

const BATCH = 32;
/** Frames in the ordered, byte-exact transfer (each direction: A→B this many, B→A a quarter). */
const FRAMES = 4000;
const MIN_FRAME = 60;
const MAX_FRAME = 1514;
const ETHERTYPE = 0x88b5; // IEEE local experimental
const FOREIGN_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc);

/** The size of frame `seq`: spread over 60..1514, both ends included. */
function frameSize(seq: number): number {
  if (seq % 97 === 0) return MAX_FRAME;
  if (seq % 89 === 0) return MIN_FRAME;
  return MIN_FRAME + ((seq * 7919) % (MAX_FRAME - MIN_FRAME + 1));
}

function patternByte(seq: number, offset: number): number {
  return (seq * 131 + offset * 7 + (offset >> 8)) & 0xff;
}

function macString(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function writeFrame(pool: Mempool, h: number, dst: Uint8Array, src: Uint8Array, seq: number, size: number): void {
  const b = pool.bytes;
  const at = pool.dataOffset(h);
  b.set(dst, at);
  b.set(src, at + 6);
  b[at + 12] = ETHERTYPE >> 8;
  b[at + 13] = ETHERTYPE & 0xff;
  b[at + 14] = seq & 0xff;
  b[at + 15] = (seq >>> 8) & 0xff;
  b[at + 16] = (seq >>> 16) & 0xff;
  b[at + 17] = (seq >>> 24) & 0xff;
  for (let i = 18; i < size; i++) b[at + i] = patternByte(seq, i);
  pool.length[h & INDEX_MASK] = size;
}

function readSeq(pool: Mempool, h: number): number {
  const b = pool.bytes;
  const at = pool.dataOffset(h);
  return (b[at + 14] | (b[at + 15] << 8) | (b[at + 16] << 16) | (b[at + 17] << 24)) >>> 0;
}

/** Compares a received frame with what frame `seq` must be; returns '' or what differs. */
function checkFrame(pool: Mempool, h: number, dst: Uint8Array, src: Uint8Array, seq: number): string {
  const len = pool.length[h & INDEX_MASK];
  const size = frameSize(seq);
  if (len !== size) return `seq ${seq}: length ${len}, expected ${size}`;
  const b = pool.bytes;
  const at = pool.dataOffset(h);
  for (let i = 0; i < 6; i++) {
    if (b[at + i] !== dst[i]) return `seq ${seq}: destination MAC byte ${i} differs`;
    if (b[at + 6 + i] !== src[i]) return `seq ${seq}: source MAC byte ${i} differs`;
  }
  if (b[at + 12] !== ETHERTYPE >> 8 || b[at + 13] !== (ETHERTYPE & 0xff)) return `seq ${seq}: ethertype differs`;
  for (let i = 18; i < size; i++) {
    if (b[at + i] !== patternByte(seq, i))
      return `seq ${seq}: byte ${i} is ${b[at + i]}, expected ${patternByte(seq, i)}`;
  }
  return '';
}

interface TransferResult {
  sent: number;
  received: number;
  bytes: number;
  inOrder: boolean;
  byteExact: boolean;
  firstProblems: string[];
  minSize: number;
  maxSize: number;
  distinctSizes: number;
  txStats: DeviceStats;
  rxStats: DeviceStats;
  ms: number;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms: number): void => void Atomics.wait(sleepCell, 0, 0, ms);

/**
 * Sends `count` frames of varied sizes from `tx` to `rx` in batches, at a moderate rate: after
 * each batch the receiver drains until it has everything sent so far (or 2 s pass).
 */
function transfer(tx: VirtioNetDevice, rx: VirtioNetDevice, pool: Mempool, count: number): TransferResult {
  const txMac = tx.macAddress();
  const rxMac = rx.macAddress();
  tx.resetStats();
  rx.resetStats();
  const out = new PacketBatch(BATCH);
  const inb = new PacketBatch(BATCH);
  const problems: string[] = [];
  const sizes = new Set<number>();
  let sent = 0;
  let received = 0;
  let bytes = 0;
  let inOrder = true;
  let byteExact = true;
  const started = Date.now();
  while (sent < count) {
    const n = pool.allocBatch(out, Math.min(BATCH, count - sent));
    for (let i = 0; i < n; i++) {
      const seq = sent + i;
      writeFrame(pool, out.handles[i], rxMac, txMac, seq, frameSize(seq));
      sizes.add(frameSize(seq));
      bytes += frameSize(seq) + 4; // the counters count the FCS too
    }
    let queued = 0;
    while (out.length > 0) {
      const took = tx.txBatch(0, out);
      queued += took;
      out.shift(took);
      if (took === 0) sleepMs(0.05);
    }
    sent += queued;
    const deadline = Date.now() + 2000;
    while (received < sent && Date.now() < deadline) {
      const got = rx.rxBatch(0, inb);
      for (let i = 0; i < got; i++) {
        const h = inb.handles[i];
        const seq = readSeq(rx.rxPool(0), h);
        if (seq !== received) {
          inOrder = false;
          if (problems.length < 10) problems.push(`expected seq ${received}, got ${seq}`);
        }
        const bad = checkFrame(rx.rxPool(0), h, rxMac, txMac, seq);
        if (bad) {
          byteExact = false;
          if (problems.length < 10) problems.push(bad);
        }
        received++;
      }
      Mempool.freeBatch(inb);
      if (got === 0) tx.txBatch(0, out); // lets the sender reclaim completions while we wait
    }
    if (received < sent) {
      problems.push(`after ${sent} sent only ${received} arrived within 2 s`);
      break;
    }
  }
  // Trailing frames that should not exist.
  sleepMs(20);
  const extra = rx.rxBatch(0, inb);
  if (extra > 0) problems.push(`${extra} unexpected extra frames`);
  received += extra;
  Mempool.freeBatch(inb);
  const ms = Date.now() - started;
  // the device marks a sent buffer used just after delivering its frame: wait for the last
  // ones (the send of an empty batch reclaims), so the counters below are complete
  const drainUntil = Date.now() + 2000;
  while (tx.txInFlight > 0 && Date.now() < drainUntil) {
    tx.txBatch(0, out);
    sleepMs(1);
  }
  const txStats = createStats();
  const rxStats = createStats();
  tx.readStats(txStats);
  rx.readStats(rxStats);
  return {
    sent,
    received,
    bytes,
    inOrder,
    byteExact,
    firstProblems: problems,
    minSize: Math.min(...sizes),
    maxSize: Math.max(...sizes),
    distinctSizes: sizes.size,
    txStats,
    rxStats,
    ms,
  };
}

/**
 * Sends `count` 60-byte frames to `dst`, then one marker frame to `rx`'s own address; returns
 * how many of the `count` frames `rx` receives. The device handles a queue's frames in order, so
 * when the marker arrives every frame before it has been delivered or filtered: no time window to
 * guess (a fixed 300 ms was one a slow host could miss), only a bound for a marker that never comes.
 */
function probe(tx: VirtioNetDevice, rx: VirtioNetDevice, pool: Mempool, dst: Uint8Array, count: number): number {
  const MARKER = 0xffffff;
  const out = new PacketBatch(count + 1);
  const inb = new PacketBatch(BATCH);
  const src = tx.macAddress();
  while (rx.rxBatch(0, inb) > 0) Mempool.freeBatch(inb); // drain
  pool.allocBatch(out, count + 1);
  for (let i = 0; i < count; i++) writeFrame(pool, out.handles[i], dst, src, i, MIN_FRAME);
  writeFrame(pool, out.handles[count], rx.macAddress(), src, MARKER, MIN_FRAME);
  while (out.length > 0) out.shift(tx.txBatch(0, out));
  let got = 0;
  let marker = false;
  const deadline = Date.now() + 30_000;
  while (!marker && Date.now() < deadline) {
    const n = rx.rxBatch(0, inb);
    for (let i = 0; i < n; i++) {
      if (readSeq(rx.rxPool(0), inb.handles[i]) === MARKER) marker = true;
      else got++;
    }
    Mempool.freeBatch(inb);
    if (n === 0) sleepMs(1);
  }
  if (!marker) throw new Error(`probe: the marker frame sent after ${count} frames never arrived within 30 s`);
  tx.txBatch(0, out);
  return got;
}

/** Sends 60-byte frames as fast as the loop goes for `ms`, receiving in the same loop. */
function burst(tx: VirtioNetDevice, rx: VirtioNetDevice, pool: Mempool, ms: number): Record<string, number> {
  const dst = rx.macAddress();
  const src = tx.macAddress();
  // Write every buffer of the pool once; afterwards only alloc/send (as ixy-pktgen does).
  const all = new PacketBatch(Math.min(pool.freeCount, 65536));
  pool.allocBatch(all);
  for (let i = 0; i < all.length; i++) writeFrame(pool, all.handles[i], dst, src, i, MIN_FRAME);
  Mempool.freeBatch(all);
  const out = new PacketBatch(BATCH);
  const inb = new PacketBatch(BATCH);
  tx.resetStats();
  rx.resetStats();
  const txNotifiesBefore = tx.notifications.tx;
  const rxNotifiesBefore = rx.notifications.rx;
  let sent = 0;
  let received = 0;
  const started = process.hrtime();
  const end = Date.now() + ms;
  // Heap growth over the loop: per-packet allocation would show as bytes per frame.
  const heapBefore = getHeapStatistics().used_heap_size;
  const gcs = new GCProfiler();
  gcs.start();
  let loops = 0;
  // Each frame is stamped with its send sequence number; the receiver checks the order.
  const txBytes = pool.bytes;
  const rxPool = rx.rxPool(0);
  const rxBytes = rxPool.bytes;
  let outOfOrder = 0;
  while (true) {
    if ((++loops & 255) === 0 && Date.now() >= end) break;
    const n = pool.allocBatch(out);
    for (let i = 0; i < n; i++) {
      const at = pool.dataOffset(out.handles[i]) + 14;
      const seq = sent + i;
      txBytes[at] = seq & 0xff;
      txBytes[at + 1] = (seq >>> 8) & 0xff;
      txBytes[at + 2] = (seq >>> 16) & 0xff;
      txBytes[at + 3] = (seq >>> 24) & 0xff;
    }
    const took = tx.txBatch(0, out);
    sent += took;
    Mempool.freeBatch(out, took);
    const got = rx.rxBatch(0, inb);
    for (let i = 0; i < got; i++) {
      const at = rxPool.dataOffset(inb.handles[i]) + 14;
      const seq = (rxBytes[at] | (rxBytes[at + 1] << 8) | (rxBytes[at + 2] << 16) | (rxBytes[at + 3] << 24)) >>> 0;
      if (seq !== received + i) outOfOrder++;
    }
    received += got;
    Mempool.freeBatch(inb);
  }
  const heapAfter = getHeapStatistics().used_heap_size;
  const gcStats = gcs.stop() as { statistics?: { gcType: string }[] } | undefined;
  const gcCount = gcStats?.statistics?.length ?? -1;
  const [s, ns] = process.hrtime(started);
  const seconds = s + ns / 1e9;
  const txNotifies = tx.notifications.tx - txNotifiesBefore;
  const rxNotifies = rx.notifications.rx - rxNotifiesBefore;
  out.length = 0; // what is left in it was taken by the driver
  // drain
  const drainEnd = Date.now() + 200;
  while (Date.now() < drainEnd) {
    received += rx.rxBatch(0, inb);
    Mempool.freeBatch(inb);
    tx.txBatch(0, out);
  }
  return {
    seconds,
    sent,
    received,
    txMpps: sent / seconds / 1e6,
    rxMpps: received / seconds / 1e6,
    txNotifies,
    rxNotifies,
    loops,
    outOfOrder,
    heapGrowthBytes: heapAfter - heapBefore,
    gcCount,
  };
}

function errorInfo(err: unknown): { name: string; code: string | undefined; message: string } {
  const e = err as IxyError;
  return { name: e?.name ?? 'Error', code: e?.code, message: e?.message ?? String(err) };
}

function attempt<T>(fn: () => T): T | { error: ReturnType<typeof errorInfo> } {
  try {
    return fn();
  } catch (err) {
    return { error: errorInfo(err) };
  }
}

/** Promiscuous mode, MAC change, frame size limits and the burst. */
function otherChecks(
  a: VirtioNetDevice,
  b: VirtioNetDevice,
  pool: Mempool,
  result: Record<string, unknown>,
  poolFree: Record<string, number>,
): void {
  result.promisc = attempt(() => {
    const bMac = b.macAddress();
    b.setPromisc(false);
    const foreignWhenOff = probe(a, b, pool, FOREIGN_MAC, 16);
    const ownWhenOff = probe(a, b, pool, bMac, 16);
    b.setPromisc(true);
    const foreignWhenOn = probe(a, b, pool, FOREIGN_MAC, 16);
    return { sentEach: 16, foreignWhenOff, ownWhenOff, foreignWhenOn, promiscuousAfter: b.promiscuous };
  });
  poolFree.promisc = pool.freeCount;

  result.setMac = attempt(() => {
    const original = b.macAddress();
    const wanted = Uint8Array.of(0x02, 0x12, 0x34, 0x56, 0x78, 0x9a);
    b.setPromisc(false);
    b.setMacAddress(wanted);
    const readBack = macString(b.macAddress());
    const toNewMac = probe(a, b, pool, wanted, 8);
    const toOldMac = probe(a, b, pool, original, 8);
    b.setMacAddress(original);
    b.setPromisc(true);
    return { readBack, toNewMac, toOldMac, restored: macString(b.macAddress()) };
  });
  poolFree.setMac = pool.freeCount;

  result.oversize = attempt(() => {
    const out = new PacketBatch(4);
    pool.allocBatch(out, 3);
    for (let i = 0; i < 3; i++) writeFrame(pool, out.handles[i], b.macAddress(), a.macAddress(), i, 100);
    pool.length[out.handles[1] & INDEX_MASK] = a.maxFrameSize + 1;
    const before = a.txInFlight;
    let error: ReturnType<typeof errorInfo> | null = null;
    try {
      a.txBatch(0, out);
    } catch (err) {
      error = errorInfo(err);
    }
    const takenAfterError = a.txInFlight - before;
    // The packets are still ours: freeing them must work (safe mode would catch otherwise).
    Mempool.freeBatch(out);
    // A frame that fits its (4 KiB) buffer but not the port's receive buffers.
    const big = new Mempool({ allocator: new HugepageAllocator(), entries: 8, entrySize: 4096 });
    const one = new PacketBatch(1);
    big.allocBatch(one, 1);
    writeFrame(big, one.handles[0], b.macAddress(), a.macAddress(), 0, 3000);
    let bigError: ReturnType<typeof errorInfo> | null = null;
    try {
      a.txBatch(0, one);
    } catch (err) {
      bigError = errorInfo(err);
    }
    Mempool.freeBatch(one);
    big.close();
    // A normal frame on the same queue still goes through afterwards.
    const ok = probe(a, b, pool, b.macAddress(), 1);
    return { limit: a.maxFrameSize, tried: a.maxFrameSize + 1, error, takenAfterError, bigError, normalFrameAfter: ok };
  });
  poolFree.oversize = pool.freeCount;

  result.burst = attempt(() => burst(a, b, pool, 1500));
  poolFree.burst = pool.freeCount;
}

/** `0000:00:10.0`, or with options: `0000:00:10.0@virtioInterface=legacy,ringSize=64`. */
function openPort(spec: string, safe: boolean): VirtioNetDevice {
  const [address, opts = ''] = spec.split('@');
  const options: Record<string, string | number | boolean> = { safe };
  for (const kv of opts.split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    options[k] = /^\d+$/.test(v) ? Number(v) : v;
  }
  return openDevice(address, options) as VirtioNetDevice;
}

/**
 * Records what close() does, in order: the reset (with the device status read back from the
 * real device right after it) and the freeing of the receive buffers' memory. DMA must stop
 * before memory goes: 'reset status 0' first, then 'rx memory freed'.
 */
function traceClose(dev: VirtioNetDevice): string[] {
  const events: string[] = [];
  const transport = (dev as unknown as { transport: { reset(): void; status(): number } }).transport;
  const reset = transport.reset.bind(transport);
  transport.reset = () => {
    reset();
    events.push(`reset status ${transport.status()}`);
  };
  const region = dev.rxPool(0).region;
  const free = region.free.bind(region);
  region.free = () => {
    events.push('rx memory freed');
    free();
  };
  return events;
}

function checkPair(addrA: string, addrB: string): Record<string, unknown> {
  const safe = process.env.IXY_SAFE === '1';
  // Quick: port facts and the two transfers only.
  const quick = process.env.IXY_QUICK === '1';
  const result: Record<string, unknown> = { addrA, addrB, safe, quick };
  const a = openPort(addrA, safe);
  const b = openPort(addrB, safe);
  const pool = new Mempool({ allocator: new HugepageAllocator(), entries: 4096, safe });
  try {
    for (const [name, dev] of [
      ['a', a],
      ['b', b],
    ] as const) {
      result[name] = {
        className: dev.constructor.name,
        driverName: dev.driverName,
        interfaceKind: dev.interfaceKind,
        features: dev.features.toString(),
        hdrLen: dev.hdrLen,
        mac: macString(dev.macAddress()),
        linkUp: dev.linkUp(),
        linkSpeed: dev.linkSpeed(),
        promiscuous: dev.promiscuous,
        maxFrameSize: dev.maxFrameSize,
        ringSize: dev.ringSize,
        queueSizes: dev.queueSizes,
        dma: dev.rxPool(0).region.constructor.name,
        firstBufferPhys: dev.rxPool(0).physAddr[0],
      };
    }
    result.appPoolDma = pool.region.constructor.name;
    // Free buffers of the application's pool after each phase: a leak or a double free shows here.
    const poolFree: Record<string, number> = {};
    result.poolFree = poolFree;
    result.forward = attempt(() => transfer(a, b, pool, FRAMES));
    poolFree.forward = pool.freeCount;
    result.backward = attempt(() => transfer(b, a, pool, FRAMES / 4));
    poolFree.backward = pool.freeCount;

    if (!quick) otherChecks(a, b, pool, result, poolFree);
  } finally {
    result.poolFreeAtEnd = pool.freeCount;
    const closeA = traceClose(a);
    a.close();
    b.close();
    result.closeOrder = closeA;
  }
  result.poolFreeAfterClose = pool.freeCount;
  result.poolEntries = pool.entries;
  pool.close();
  return result;
}

function main(): void {
  const [outName, ...addrs] = process.argv.slice(2);
  if (!outName || addrs.length < 2 || addrs.length % 2 !== 0) {
    throw new Error('usage: virtio-checks <outName> <addrA> <addrB> [<addrA> <addrB> ...]');
  }
  const pairs: Record<string, unknown>[] = [];
  for (let i = 0; i < addrs.length; i += 2) {
    const started = Date.now();
    let pair: Record<string, unknown>;
    try {
      pair = checkPair(addrs[i], addrs[i + 1]);
    } catch (err) {
      pair = { addrA: addrs[i], addrB: addrs[i + 1], error: { ...errorInfo(err), stack: (err as Error).stack } };
    }
    pair.ms = Date.now() - started;
    pairs.push(pair);
    console.log(JSON.stringify(pair));
  }
  writeGuestResult(outName, { node: process.version, pairs });
}

main();
