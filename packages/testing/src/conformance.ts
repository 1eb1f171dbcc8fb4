import { strict as assert } from 'node:assert';
import { getHeapStatistics } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import {
  DeviceStateError,
  FrameSizeError,
  InvalidOptionError,
  IxyError,
  OwnershipError,
  PacketBatch,
  UnknownOptionError,
  createStats,
  deviceDma,
  openDevice,
  type DeviceOptions,
  type DeviceStats,
  type DmaAllocator,
  type IxyDevice,
  type IxyErrorCode,
} from '@ixy/core';
import { INDEX_MASK, Mempool, POOL_SHIFT } from '@ixy/memory';

/**
 * What the suite runs against: two ports wired to each other (a frame sent on one arrives at
 * the other), opened with `openDevice` so the registry's checks are part of the contract.
 */
export interface ConformanceTarget {
  /**
   * Two addresses wired to each other, fresh for each test (e.g. a new cable name for
   * simulated ports). The driver packages must be loaded, and their resolvers registered.
   */
  addresses(): readonly [string, string];
  /** Options added to every open (e.g. `{ unbind: true }` in a guest, a driver's own). */
  options?: DeviceOptions;
  /** Called after each test's ports are closed (remove files, check a model). */
  cleanup?(): void;
}

export interface ConformanceOptions {
  /**
   * Descriptors per ring the suite asks for (default 64): small rings, so that a batch of
   * four rings' worth of packets is sure to be taken only in part.
   */
  ringSize?: number;
  /** How long to wait for frames that must arrive before the test fails (default 5000 ms). */
  deliveryTimeoutMs?: number;
  /** Per-test timeout a runner should give (default 60 000 ms; guests under TCG are slow). */
  testTimeoutMs?: number;
  /**
   * Heap bytes per packet the steady-state check allows (default 4). Anything allocated per
   * packet takes at least 12 bytes (a boxed number), so 4 tells "nothing per packet" from
   * "something per packet" while letting a few bytes per batch of 32 through (the 82599
   * model, for one, allocates about 33 bytes per rxBatch/txBatch pair). A target whose device
   * model itself allocates per frame sets what the model needs, and says so.
   */
  allocationBudget?: number;
  /** Packets per round of the allocation check (default 20 000). */
  allocationPackets?: number;
  /**
   * Cases this target leaves out, each with the reason (a device model that cannot take part
   * in a check, e.g. one that allocates per frame itself). They are not registered at all,
   * not skipped: the reason belongs next to the call, where a reader sees it.
   */
  omit?: Partial<Record<ConformanceCaseId, string>>;
}

/** The cases of the suite, by id. */
export type ConformanceCaseId =
  | 'identity'
  | 'link'
  | 'rxtx'
  | 'partial'
  | 'bad-frame'
  | 'no-pool'
  | 'not-owned'
  | 'stats'
  | 'promisc'
  | 'mac'
  | 'rx-pool'
  | 'queues'
  | 'options'
  | 'close'
  | 'allocation';

/** One check of the contract: a name and what to run. */
export interface ConformanceCase {
  readonly id: ConformanceCaseId;
  readonly name: string;
  run(): void | Promise<void>;
}

/** The part of vitest (or another runner) `describeIxyDevice` needs. */
export interface SuiteRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => void | Promise<void>, timeout?: number): void;
}

/**
 * Registers the conformance suite with a test runner (vitest, mocha: whatever has describe
 * and it), one test per case:
 *
 *   import { describe, it } from 'vitest';
 *   describeIxyDevice('ixgbe on the 82599 model', { addresses: () => [...] }, { describe, it });
 */
export function describeIxyDevice(
  name: string,
  target: ConformanceTarget,
  runner: SuiteRunner,
  options: ConformanceOptions = {},
): void {
  const cases = conformanceCases(target, options);
  runner.describe(`${name}: the IxyDevice contract`, () => {
    for (const c of cases) runner.it(c.name, () => c.run(), options.testTimeoutMs ?? 60_000);
  });
}

/** Runs every case without a test framework (in a QEMU guest): prints one line each, returns the failures. */
export async function runIxyDeviceConformance(
  name: string,
  target: ConformanceTarget,
  options: ConformanceOptions = {},
  log: (line: string) => void = (line) => console.log(line),
): Promise<{ passed: number; failed: { name: string; error: unknown }[] }> {
  const failed: { name: string; error: unknown }[] = [];
  let passed = 0;
  for (const c of conformanceCases(target, options)) {
    try {
      await c.run();
      passed++;
      log(`ok ${name}: ${c.name}`);
    } catch (error) {
      failed.push({ name: c.name, error });
      log(`FAIL ${name}: ${c.name}: ${(error as Error)?.stack ?? String(error)}`);
    }
  }
  return { passed, failed };
}

// ---------------------------------------------------------------- helpers

const FCS = 4;
const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const FOREIGN = Uint8Array.of(0x02, 0x99, 0x88, 0x77, 0x66, 0x55);
/** EtherType of the suite's frames (IEEE 802 local experimental). */
const ETHERTYPE = 0x88b5;
/** A handle of a pool id no test creates (the last one). */
const NO_POOL_HANDLE = (((1 << (32 - POOL_SHIFT)) - 1) << POOL_SHIFT) >>> 0;

interface Pair {
  a: IxyDevice;
  b: IxyDevice;
  pool: Mempool;
  dma: DmaAllocator;
}

function expectIxyError(fn: () => unknown, cls: abstract new (...args: never[]) => IxyError, code: IxyErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown !== undefined, `expected ${cls.name} (${code}), but nothing was thrown`);
  assert.ok(
    thrown instanceof cls,
    `expected ${cls.name} (${code}), got ${(thrown as Error)?.name}: ${(thrown as Error)?.message}`,
  );
  assert.equal(thrown.code, code);
}

/** Writes a frame: dst MAC, src 02:00:00:00:00:01, the suite's EtherType, a sequence number, a pattern. */
function writeFrame(pool: Mempool, h: number, dst: Uint8Array, len: number, seq: number): void {
  const at = pool.dataOffset(h);
  const bytes = pool.bytes;
  bytes.set(dst, at);
  bytes.set([0x02, 0, 0, 0, 0, 0x01], at + 6);
  bytes[at + 12] = ETHERTYPE >>> 8;
  bytes[at + 13] = ETHERTYPE & 0xff;
  bytes[at + 14] = seq >>> 24;
  bytes[at + 15] = (seq >>> 16) & 0xff;
  bytes[at + 16] = (seq >>> 8) & 0xff;
  bytes[at + 17] = seq & 0xff;
  for (let i = 18; i < len; i++) bytes[at + i] = (seq * 7 + i) & 0xff;
  pool.length[h & INDEX_MASK] = len;
}

/** The sequence number of a received frame, or -1 when it is not one of the suite's. */
function seqOf(pool: Mempool, h: number): number {
  const at = pool.dataOffset(h);
  const b = pool.bytes;
  if (pool.length[h & INDEX_MASK] < 18 || b[at + 12] !== ETHERTYPE >>> 8 || b[at + 13] !== (ETHERTYPE & 0xff))
    return -1;
  return ((b[at + 14] << 24) | (b[at + 15] << 16) | (b[at + 16] << 8) | b[at + 17]) >>> 0;
}

function checkFrame(pool: Mempool, h: number, dst: Uint8Array, len: number, seq: number): void {
  const got = pool.length[h & INDEX_MASK];
  assert.equal(got, len, `frame ${seq}: length ${got}, sent ${len}`);
  const at = pool.dataOffset(h);
  const bytes = pool.bytes;
  for (let i = 0; i < 6; i++) assert.equal(bytes[at + i], dst[i], `frame ${seq}: destination MAC byte ${i}`);
  for (let i = 18; i < len; i++)
    if (bytes[at + i] !== ((seq * 7 + i) & 0xff)) assert.fail(`frame ${seq}: byte ${i} is ${bytes[at + i]}`);
}

function frameSize(i: number): number {
  // 60..1514, spread over the range, the extremes included
  return i % 7 === 0 ? 1514 : i % 5 === 0 ? 60 : 60 + ((i * 331) % 1455);
}

/** Sends the whole batch (retrying while the queue is full), within the deadline. */
function sendAll(dev: IxyDevice, batch: PacketBatch, deadline: number): void {
  while (batch.length > 0) {
    batch.shift(dev.txBatch(0, batch));
    if (batch.length > 0 && performance.now() > deadline)
      assert.fail(`${dev.address}: the TX queue took nothing more for too long (${batch.length} packets left)`);
  }
}

/**
 * Receives on `dev` until `count` of the suite's frames have arrived (others are dropped),
 * handing each to `each` and freeing it. Fails at the deadline with how many came.
 */
function receive(
  dev: IxyDevice,
  count: number,
  timeoutMs: number,
  each: (pool: Mempool, h: number, seq: number) => void,
): void {
  const batch = new PacketBatch(32);
  const deadline = performance.now() + timeoutMs;
  // a driver that names its queue's pool (IxyDevice.rxPool) receives into that pool only
  const home = dev.rxPool?.(0);
  let got = 0;
  while (got < count) {
    const n = dev.rxBatch(0, batch);
    for (let i = 0; i < n; i++) {
      const h = batch.handles[i];
      const pool = Mempool.of(h);
      if (home !== undefined && pool !== home)
        assert.fail(`${dev.address}: received a buffer of mempool ${pool?.id}, but rxPool(0) is mempool ${home.id}`);
      const seq = seqOf(pool, h);
      if (seq >= 0) {
        each(pool, h, seq);
        got++;
      }
    }
    Mempool.freeBatch(batch);
    if (n === 0 && performance.now() > deadline)
      assert.fail(`${dev.address}: ${got} of ${count} frames arrived within ${timeoutMs} ms`);
  }
}

/** Receives whatever comes within `ms` (after the frames that must come have come) and frees it. */
function drain(dev: IxyDevice, ms: number, each?: (pool: Mempool, h: number, seq: number) => void): void {
  const batch = new PacketBatch(32);
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const n = dev.rxBatch(0, batch);
    if (each)
      for (let i = 0; i < n; i++) {
        const h = batch.handles[i];
        const pool = Mempool.of(h);
        each(pool, h, seqOf(pool, h));
      }
    Mempool.freeBatch(batch);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms`: the cases' wait loops are synchronous. */
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Adds `dev`'s counters to `stats` until `done()` holds or `timeoutMs` pass. */
function readUntil(dev: IxyDevice, stats: DeviceStats, done: () => boolean, timeoutMs: number): void {
  const deadline = performance.now() + timeoutMs;
  dev.readStats(stats);
  while (!done() && performance.now() < deadline) {
    sleepMs(1);
    dev.readStats(stats);
  }
}

function waitForLink(devs: IxyDevice[], timeoutMs: number): void {
  const deadline = performance.now() + timeoutMs;
  for (const dev of devs)
    while (dev.linkSpeed() === 0) {
      if (performance.now() > deadline) assert.fail(`${dev.address}: no link within ${timeoutMs} ms`);
      sleepMs(1);
    }
}

// ---------------------------------------------------------------- the cases

/** The contract as a list of cases (what describeIxyDevice and runIxyDeviceConformance run). */
export function conformanceCases(target: ConformanceTarget, options: ConformanceOptions = {}): ConformanceCase[] {
  const ringSize = options.ringSize ?? 64;
  const timeout = options.deliveryTimeoutMs ?? 5000;
  const base: DeviceOptions = { ...target.options, ringSize, safe: true };

  /** Opens a fresh pair (safe mode), with a safe pool of 4096 buffers on a's DMA memory; closes it all after. */
  async function withPair(body: (p: Pair) => void | Promise<void>, extra: DeviceOptions = {}): Promise<void> {
    const [addrA, addrB] = target.addresses();
    const opened: IxyDevice[] = [];
    let pool: Mempool | undefined;
    try {
      opened.push(openDevice(addrA, { ...base, ...extra }));
      opened.push(openDevice(addrB, { ...base, ...extra }));
      const [a, b] = opened;
      const dma = deviceDma(a);
      pool = new Mempool({ allocator: dma, entries: 4096, safe: true });
      waitForLink([a, b], timeout);
      await body({ a, b, pool, dma });
    } finally {
      for (const d of opened) d.close();
      pool?.close();
      target.cleanup?.();
    }
  }

  /**
   * Sends `count` frames to `dst` from a in bursts of 8 with sequence numbers from `first`,
   * each burst received at b before the next goes (no ring runs over), checked byte by byte.
   */
  function transfer(p: Pair, dst: Uint8Array, count: number, first = 0): void {
    const batch = new PacketBatch(8);
    let next = first;
    for (let at = first; at < first + count; at += 8) {
      const n = p.pool.allocBatch(batch, Math.min(8, first + count - at));
      for (let i = 0; i < n; i++) writeFrame(p.pool, batch.handles[i], dst, frameSize(at + i), at + i);
      sendAll(p.a, batch, performance.now() + timeout);
      receive(p.b, n, timeout, (rxPool, h, seq) => {
        assert.equal(seq, next, `frame ${next} expected, ${seq} came`);
        checkFrame(rxPool, h, dst, frameSize(seq), seq);
        next++;
      });
    }
  }

  /** Sends `count` frames to `dst` from a, in bursts, with sequence numbers from `first`. */
  function send(p: Pair, dst: Uint8Array, count: number, first = 0, size = frameSize): void {
    const batch = new PacketBatch(16);
    for (let sent = 0; sent < count;) {
      const n = p.pool.allocBatch(batch, Math.min(16, count - sent));
      assert.ok(n > 0, 'the test pool ran dry');
      for (let i = 0; i < n; i++) writeFrame(p.pool, batch.handles[i], dst, size(first + sent + i), first + sent + i);
      sendAll(p.a, batch, performance.now() + timeout);
      sent += n;
    }
  }

  const cases: ConformanceCase[] = [
    {
      id: 'identity',
      name: 'says what it is: address, driver, queues',
      run: () =>
        withPair(({ a, b }) => {
          for (const d of [a, b]) {
            assert.ok(typeof d.address === 'string' && d.address.length > 0);
            assert.ok(typeof d.driverName === 'string' && d.driverName.length > 0);
            assert.ok(Number.isInteger(d.rxQueueCount) && d.rxQueueCount >= 1);
            assert.ok(Number.isInteger(d.txQueueCount) && d.txQueueCount >= 1);
          }
          assert.notEqual(a.address, b.address);
        }),
    },
    {
      id: 'link',
      name: 'link: a speed in Mbit/s while the peer is there',
      run: () =>
        withPair(({ a, b }) => {
          for (const d of [a, b]) {
            const speed = d.linkSpeed();
            assert.ok(Number.isInteger(speed) && speed > 0, `${d.address}: link speed ${speed}`);
          }
        }),
    },
    {
      id: 'rxtx',
      name: 'rx/tx: frames of 60..1514 bytes arrive byte-exact and in order; received packets are the caller’s',
      run: () =>
        withPair(({ a, b, pool }) => {
          const dst = b.macAddress();
          // in bursts of 8, each received before the next goes: no ring runs dry or over
          transfer({ a, b, pool, dma: deviceDma(a) }, dst, 200);
          // a received packet belongs to the caller: it frees it, once
          send({ a, b, pool, dma: deviceDma(a) }, dst, 1, 1000);
          const rx = new PacketBatch(32);
          const deadline = performance.now() + timeout;
          while (rx.length === 0) {
            b.rxBatch(0, rx);
            if (rx.length === 0 && performance.now() > deadline) assert.fail('frame 1000 did not arrive');
          }
          const h = rx.handles[0];
          Mempool.freeBatch(rx);
          expectIxyError(() => Mempool.of(h).free(h), OwnershipError, 'EOWNERSHIP');
        }),
    },
    {
      id: 'partial',
      name: 'tx of more than the ring holds: takes a prefix, leaves the rest (and the batch) with the caller',
      run: () =>
        withPair(({ a, pool }) => {
          const count = 4 * ringSize;
          const batch = new PacketBatch(count);
          assert.equal(pool.allocBatch(batch, count), count);
          for (let i = 0; i < count; i++) writeFrame(pool, batch.handles[i], FOREIGN, 60, i);
          const before = batch.handles.slice();
          const n = a.txBatch(0, batch);
          assert.ok(n > 0 && n < count, `took ${n} of ${count} with a ring of ${ringSize}`);
          assert.equal(batch.length, count, 'txBatch changed the batch length');
          assert.deepEqual(batch.handles, before, 'txBatch changed the batch');
          // the first n are the driver's now (safe mode catches a free of one); the rest are ours
          expectIxyError(() => pool.free(batch.handles[0]), OwnershipError, 'EOWNERSHIP');
          Mempool.freeBatch(batch, n);
          assert.equal(batch.length, n);
        }),
    },
    {
      id: 'bad-frame',
      name: 'tx of a batch with a bad frame: FrameSizeError, no packet of the batch taken',
      run: () =>
        withPair((p) => {
          const { a, b, pool } = p;
          const dst = b.macAddress();
          for (const bad of [0, 9000]) {
            const batch = new PacketBatch(8);
            pool.allocBatch(batch, 8);
            for (let i = 0; i < 8; i++) writeFrame(pool, batch.handles[i], dst, 100, 500 + i);
            pool.length[batch.handles[5] & INDEX_MASK] = bad;
            const before = batch.handles.slice();
            expectIxyError(() => a.txBatch(0, batch), FrameSizeError, 'EFRAMESIZE');
            assert.equal(batch.length, 8);
            assert.deepEqual(batch.handles, before);
            // every packet is still the caller's (safe mode would throw on a driver's)
            Mempool.freeBatch(batch);
          }
          // and none of them went out: the next frames are the first to arrive
          send(p, dst, 4, 600, () => 100);
          receive(b, 4, timeout, (_pool, _h, seq) => assert.ok(seq >= 600, `frame ${seq} of a refused batch arrived`));
        }),
    },
    {
      id: 'no-pool',
      name: 'tx of a handle of no mempool: OwnershipError, no packet of the batch taken',
      run: () =>
        withPair(({ a, pool }) => {
          const batch = new PacketBatch(4);
          pool.allocBatch(batch, 3);
          for (let i = 0; i < 3; i++) writeFrame(pool, batch.handles[i], FOREIGN, 60, i);
          batch.push(NO_POOL_HANDLE);
          expectIxyError(() => a.txBatch(0, batch), OwnershipError, 'EOWNERSHIP');
          assert.equal(batch.length, 4);
          batch.length = 3; // drop the foreign handle; the rest are still ours
          Mempool.freeBatch(batch);
        }),
    },
    {
      id: 'not-owned',
      name: 'tx in safe mode of a packet the caller does not own: OwnershipError, none taken',
      run: () =>
        withPair(({ a, pool }) => {
          const batch = new PacketBatch(4);
          pool.allocBatch(batch, 3);
          for (let i = 0; i < 3; i++) writeFrame(pool, batch.handles[i], FOREIGN, 60, i);
          pool.free(batch.handles[1]); // freed: no longer the caller's
          expectIxyError(() => a.txBatch(0, batch), OwnershipError, 'EOWNERSHIP');
          pool.free(batch.handles[0]);
          pool.free(batch.handles[2]);
        }),
    },
    {
      id: 'stats',
      name: 'stats: read adds the counts since the last read (no wrap at 32 bits), bytes with FCS',
      run: () =>
        withPair((p) => {
          const { a, b } = p;
          const dst = b.macAddress();
          a.resetStats();
          b.resetStats();
          const count = 100;
          let bytes = 0;
          for (let i = 0; i < count; i++) bytes += frameSize(i) + FCS;
          transfer(p, dst, count, 0);
          const big = 2 ** 40; // counters live in JS numbers: adding to 2^40 stays exact
          const sa: DeviceStats = { ...createStats(), txPackets: big, txBytes: big };
          const sb: DeviceStats = { ...createStats(), rxPackets: big, rxBytes: big };
          // A device may count a frame a moment after the receiver has it (QEMU's NICs update
          // the sender's counters after delivering): read until the counts are in, or time out.
          readUntil(a, sa, () => sa.txPackets - big >= count, timeout);
          readUntil(b, sb, () => sb.rxPackets - big >= count, timeout);
          assert.equal(sa.txPackets - big, count, 'tx packets');
          assert.equal(sa.txBytes - big, bytes, 'tx bytes (frame + 4-byte FCS each)');
          assert.equal(sb.rxPackets - big, count, 'rx packets');
          assert.equal(sb.rxBytes - big, bytes, 'rx bytes (frame + 4-byte FCS each)');
          assert.equal(sb.rxDropped, 0);
          // a second read adds nothing: the first consumed the counts
          const again = createStats();
          b.readStats(again);
          a.readStats(again);
          assert.deepEqual(again, createStats());
          // resetStats discards what came since (once the sender has counted it: see above)
          transfer(p, dst, 10, 200);
          const sent = createStats();
          readUntil(a, sent, () => sent.txPackets >= 10, timeout);
          a.resetStats();
          b.resetStats();
          b.readStats(again);
          a.readStats(again);
          assert.deepEqual(again, createStats());
        }),
    },
    {
      id: 'promisc',
      name: 'promiscuous mode: off, only frames to the port’s MAC and broadcasts arrive; on, all',
      run: () =>
        withPair((p) => {
          const { b } = p;
          const own = b.macAddress();
          b.setPromisc(false);
          send(p, FOREIGN, 3, 0, () => 60);
          send(p, BROADCAST, 1, 10, () => 60);
          send(p, own, 1, 20, () => 60);
          const seen: number[] = [];
          receive(b, 2, timeout, (_pool, _h, seq) => seen.push(seq));
          drain(b, 50, (_pool, _h, seq) => seen.push(seq));
          assert.deepEqual(seen, [10, 20], 'with promiscuous mode off');
          b.setPromisc(true);
          send(p, FOREIGN, 3, 30, () => 60);
          seen.length = 0;
          receive(b, 3, timeout, (_pool, _h, seq) => seen.push(seq));
          assert.deepEqual(seen, [30, 31, 32], 'with promiscuous mode on');
        }),
    },
    {
      id: 'mac',
      name: 'MAC address: six bytes, a copy; set and read back, the filter follows; bad ones refused',
      run: () =>
        withPair((p) => {
          const { b } = p;
          const old = b.macAddress();
          assert.ok(old instanceof Uint8Array && old.length === 6);
          old[5] ^= 0xff;
          assert.notDeepEqual(b.macAddress(), old, 'macAddress() returned the device’s own array');
          old[5] ^= 0xff;
          const mac = Uint8Array.of(0x02, 0x12, 0x34, 0x56, 0x78, 0x9a);
          b.setMacAddress(mac);
          assert.deepEqual(b.macAddress(), mac);
          b.setPromisc(false);
          send(p, old, 2, 0, () => 60);
          send(p, mac, 1, 10, () => 60);
          const seen: number[] = [];
          receive(b, 1, timeout, (_pool, _h, seq) => seen.push(seq));
          drain(b, 50, (_pool, _h, seq) => seen.push(seq));
          assert.deepEqual(seen, [10], 'frames to the old MAC must not arrive, to the new one must');
          for (const bad of [
            Uint8Array.of(0x02, 0, 0, 0, 1),
            Uint8Array.of(0x01, 0, 0x5e, 0, 0, 1),
            new Uint8Array(6),
            new Uint8Array(7),
          ])
            expectIxyError(() => b.setMacAddress(bad), InvalidOptionError, 'EINVALIDOPTION');
          assert.deepEqual(b.macAddress(), mac, 'a refused MAC changed the address');
          b.setMacAddress(old);
          assert.deepEqual(b.macAddress(), old);
        }),
    },
    {
      id: 'rx-pool',
      name: 'rxPool option: receives into the given pool where the driver can, and leaves it open at close',
      run: () => {
        const [addrA, addrB] = target.addresses();
        const opened: IxyDevice[] = [];
        let pool: Mempool | undefined;
        try {
          const a = openDevice(addrA, base);
          opened.push(a);
          pool = new Mempool({ allocator: deviceDma(a), entries: 4096, safe: true });
          const b = openDevice(addrB, { ...base, rxPool: pool });
          opened.push(b);
          waitForLink([a, b], timeout);
          const used = b.rxPool?.(0);
          // frames arrive whichever pool b receives into (`receive` checks they are rxPool's)
          transfer({ a, b, pool, dma: deviceDma(a) }, b.macAddress(), 40);
          if (used === pool) {
            assert.ok(pool.freeCount < pool.entries, "b's ring took no buffer of the given pool");
            // (a's TX ring may still hold some of the frames sent: they are the pool's too)
            for (const d of opened.splice(0).reverse()) d.close();
            assert.equal(pool.isClosed, false, 'closing b closed the pool it was given');
            assert.equal(pool.freeCount, pool.entries, "b's ring buffers did not come back to the given pool");
          }
        } finally {
          for (const d of opened) d.close();
          pool?.close();
          target.cleanup?.();
        }
      },
    },
    {
      id: 'queues',
      name: 'queues that do not exist: DeviceStateError',
      run: () =>
        withPair(({ a }) => {
          const batch = new PacketBatch(4);
          expectIxyError(() => a.rxBatch(a.rxQueueCount, batch), DeviceStateError, 'EDEVSTATE');
          expectIxyError(() => a.txBatch(a.txQueueCount, batch), DeviceStateError, 'EDEVSTATE');
          expectIxyError(() => a.rxBatch(-1, batch), DeviceStateError, 'EDEVSTATE');
          expectIxyError(() => a.rxWakeup(a.rxQueueCount), DeviceStateError, 'EDEVSTATE');
          if (a.rxPool !== undefined) expectIxyError(() => a.rxPool?.(a.rxQueueCount), DeviceStateError, 'EDEVSTATE');
        }),
    },
    {
      id: 'options',
      name: 'options: unknown ones refused with the known ones named; bad values refused',
      run: () => {
        const [addr] = target.addresses();
        let err: unknown;
        try {
          openDevice(addr, { ...base, ringSzie: 64 }).close();
        } catch (e) {
          err = e;
        }
        target.cleanup?.();
        assert.ok(err instanceof UnknownOptionError, `expected UnknownOptionError, got ${String(err)}`);
        assert.equal(err.code, 'EUNKNOWNOPTION');
        assert.equal(err.option, 'ringSzie');
        assert.ok(err.known.includes('ringSize') && err.hint?.includes('ringSize'));
        for (const bad of [{ ringSize: 3 }, { rxQueues: 0 }, { poolSize: -1 }]) {
          let e: unknown;
          try {
            openDevice(target.addresses()[0], { ...base, ...bad }).close();
          } catch (x) {
            e = x;
          }
          target.cleanup?.();
          assert.ok(
            e instanceof InvalidOptionError,
            `${JSON.stringify(bad)}: expected InvalidOptionError, got ${String(e)}`,
          );
        }
      },
    },
    {
      id: 'close',
      name: 'close: idempotent, the driver’s packets back in their pools, every other call a DeviceStateError',
      run: () =>
        withPair((p) => {
          const { a, b, pool } = p;
          send(p, b.macAddress(), 40, 0, () => 60); // some of them still in a's TX ring
          a.close();
          a.close();
          assert.equal(pool.freeCount, pool.entries, 'packets a held for sending did not come back at close');
          const batch = new PacketBatch(4);
          const calls: [string, () => unknown][] = [
            ['rxBatch', () => a.rxBatch(0, batch)],
            ['txBatch', () => a.txBatch(0, batch)],
            ['rxWakeup', () => a.rxWakeup(0)],
            ...(a.rxPool === undefined ? [] : [['rxPool', () => a.rxPool?.(0)] as [string, () => unknown]]),
            ['readStats', () => a.readStats(createStats())],
            ['resetStats', () => a.resetStats()],
            ['setPromisc', () => a.setPromisc(true)],
            ['linkSpeed', () => a.linkSpeed()],
            ['macAddress', () => a.macAddress()],
            ['setMacAddress', () => a.setMacAddress(Uint8Array.of(2, 0, 0, 0, 0, 1))],
          ];
          for (const [what, call] of calls) {
            try {
              call();
              assert.fail(`${what} after close did not throw`);
            } catch (err) {
              assert.ok(err instanceof DeviceStateError, `${what} after close: ${String(err)}`);
              assert.equal(err.code, 'EDEVSTATE');
            }
          }
          drain(b, 20);
        }),
    },
    {
      id: 'allocation',
      name: 'steady state allocates nothing per packet (heap measured over many batches)',
      run: () =>
        withPair(async ({ a, b, pool }) => {
          const perRound = options.allocationPackets ?? 20_000;
          const budget = options.allocationBudget ?? 4;
          const dst = b.macAddress();
          const tx = new PacketBatch(32);
          const rx = new PacketBatch(32);
          // every buffer gets a frame once; lengths and bytes stay with the buffer
          for (let i = 0; i < pool.entries; i++) writeFrame(pool, pool.handle(i), dst, 60, i);
          const round = (packets: number): void => {
            let sent = 0;
            let stalls = 0;
            while (sent < packets) {
              const n = pool.allocBatch(tx, 32);
              const took = a.txBatch(0, tx);
              if (took < n) Mempool.freeBatch(tx, took);
              sent += took;
              if (took === 0 && ++stalls > 10_000_000) assert.fail(`${a.address}: TX stalled after ${sent} packets`);
              b.rxBatch(0, rx);
              Mempool.freeBatch(rx);
            }
          };
          let gcs = 0;
          const observer = new PerformanceObserver((list) => (gcs += list.getEntries().length));
          observer.observe({ entryTypes: ['gc'] });
          try {
            // warm up: fill the rings and let the compiler settle. Node 24 tiers up in steps
            // (Sparkplug, Maglev, TurboFan) whose code and feedback land on the same heap: after
            // one round of 20,000 packets on the 82599 model it still showed 5-11 bytes per packet,
            // after ten rounds 0.03-0.06 (the packet path itself allocates nothing)
            for (let warm = 0; warm < 10; warm++) round(perRound);
            const results: string[] = [];
            for (let attempt = 0; attempt < 10; attempt++) {
              await new Promise((r) => setImmediate(r));
              const gcsBefore = gcs;
              const before = getHeapStatistics().used_heap_size;
              round(perRound);
              const after = getHeapStatistics().used_heap_size;
              await new Promise((r) => setImmediate(r));
              if (gcs !== gcsBefore) {
                results.push(`a GC ran during round ${attempt}`);
                continue; // the heap shrank under the measurement: measure again
              }
              const perPacket = (after - before) / perRound;
              if (perPacket < budget) return;
              results.push(`${(after - before).toFixed(0)} bytes over ${perRound} packets`);
            }
            assert.fail(`allocation in steady state: ${results.join('; ')} (budget ${budget} bytes per packet)`);
          } finally {
            observer.disconnect();
          }
        }),
    },
  ];
  return cases.filter((c) => options.omit?.[c.id] === undefined);
}
