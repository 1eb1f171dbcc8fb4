import {
  DeviceStateError,
  PoolExhaustedError,
  type DmaAllocator,
  type DmaRegion,
  type PacketBatch,
  type Registers,
} from '@ixy/core';
import { allocateDescriptorRing } from './descriptor-ring.js';
import { BUFFER_APP, BUFFER_DRIVER, INDEX_MASK, POOL_SHIFT, Mempool } from '@ixy/memory';
import { IXGBE_RDT, IXGBE_RXDADV_STAT_DD, IXGBE_RXDADV_STAT_EOP } from './registers.js';

// Imported bindings are live (ES modules): optimised code loads them from a cell and checks for
// the hole on every use, in the packet loop too. Module-local constants are folded into the code.
const STAT_DD = IXGBE_RXDADV_STAT_DD;
const STAT_EOP = IXGBE_RXDADV_STAT_EOP;
const IDX = INDEX_MASK;
const SHIFT = POOL_SHIFT;
const APP = BUFFER_APP;
const DRIVER = BUFFER_DRIVER;
const TWO_POW_32 = 4294967296;
/** Multiplying by 2^-32 is exact (a power of two) and cheaper than dividing by 2^32. */
const TWO_POW_MINUS_32 = 1 / TWO_POW_32;

/**
 * One receive queue: a ring of advanced RX descriptors (§7.1.6) in DMA memory, the mempool
 * its buffers come from, and the handle of the buffer behind each descriptor.
 *
 * Ring protocol (§7.1.9): the device owns descriptors from RDH up to RDT (exclusive) and
 * writes received packets back into them; the driver owns the rest, reads write-backs from
 * `index`, refills each descriptor with a fresh buffer and hands it back by moving RDT.
 */
export class RxQueue {
  readonly region: DmaRegion;
  /** The ring as 32-bit words: descriptor i is words 4i..4i+3. */
  readonly ring: Uint32Array;
  /** The ring as 8-byte words (descriptor i is 2i, 2i+1), for 64-bit fields in one store. */
  private readonly ring64: Float64Array;
  /** Buffer handle behind each descriptor. */
  readonly handles: Uint32Array;
  readonly mask: number;
  /** Next descriptor to check for a received packet. */
  private index = 0;
  private readonly rdt: number;
  /** Descriptors that hold a buffer (all of them once filled). */
  private filled = 0;

  constructor(
    readonly queue: number,
    readonly size: number,
    readonly pool: Mempool,
    dma: DmaAllocator,
    private readonly regs: Registers,
  ) {
    ({ region: this.region, ring: this.ring, ring64: this.ring64 } = allocateDescriptorRing(dma, size));
    this.handles = new Uint32Array(size);
    this.mask = size - 1;
    this.rdt = IXGBE_RDT(queue);
  }

  /** Bus address of the ring (for RDBAL/RDBAH). */
  get ringAddress(): number {
    return this.region.physAddr(0);
  }

  /** Puts a fresh buffer behind every descriptor (before the queue is enabled). */
  fill(): void {
    const ring = this.ring;
    for (let i = 0; i < this.size; i++) {
      const h = this.pool.driverAlloc();
      if (h < 0) {
        throw new PoolExhaustedError(
          `rx queue ${this.queue}: the mempool (${this.pool.entries} buffers) cannot fill a ring of ${this.size}`,
          'use a poolSize larger than ringSize',
        );
      }
      const addr = this.pool.physAddr[h & INDEX_MASK];
      const w = i << 2;
      ring[w] = addr >>> 0;
      ring[w + 1] = (addr * TWO_POW_MINUS_32) >>> 0;
      ring[w + 2] = 0; // header address 0: also clears DD of the write-back format
      ring[w + 3] = 0;
      this.handles[i] = h;
      this.filled = i + 1;
    }
    this.index = 0;
  }

  /**
   * Receives up to `max` packets into `batch` (ixy's ixgbe_rx_batch).
   *
   * One pass, as C ixy's: descriptor by descriptor while the device has written it back (DD,
   * §7.1.6.2), hand the received buffer over and refill the descriptor with a fresh buffer
   * popped off the pool's free stack; one RDT write per batch. How many it may take is known
   * before the loop (`max`, the ring, the pool's free buffers), so the loop tests only DD.
   * Through an array of fresh buffers filled first it cost about 1 ns more per packet at batch
   * 32; counting the written-back descriptors in a first pass, about 1 ns more (paired runs in one
   * process, Node 24).
   *
   * The device writes status words behind the program's back, so the engine must never answer
   * a read of one with an earlier read. Only "not yet" can be stale that way: DD goes from 1
   * to 0 only by this driver's own refill store, which the engine sees (the 8-byte view
   * aliases the 4-byte one), so a DD it reports set is set. So the first read of each call is
   * plain, and only when it says "not yet" is it repeated with Atomics.load, which the engine
   * may not cache, hoist or reorder: the read an application's receive loop repeats while
   * nothing arrives. The reads after it in the same call are plain: each is of a descriptor
   * not read before in the call, and typed-array loads stay in program order. Atomics.load is
   * a builtin call (Node 20 and 24 alike, 20–30 ns on the bench machine), and a forwarder
   * under load finds a packet at almost every call: at batch 1 the plain first read (with the
   * TX clean-up's, in the same way) took the bench's fwd step from 235 to 139 ns on Node 24
   * (best of 6 processes each, in alternation). A test polls a compiled receive loop while
   * another thread writes descriptors.
   *
   * Safe mode checks, per packet, that the received buffer is not the application's and makes
   * it so: a compare and a store on the pool's `owner` bytes, inline (a call per packet made
   * safe mode 1.4× fast mode at batch 32).
   */
  receive(batch: PacketBatch, max: number): number {
    const ring = this.ring;
    const mask = this.mask;
    let index = this.index;
    const first = (index << 2) + 2;
    let status = max > 0 ? ring[first] : 0;
    if ((status & STAT_DD) === 0) {
      if (max > 0) status = Atomics.load(ring, first);
      if ((status & STAT_DD) === 0) {
        batch.length = 0;
        return 0;
      }
    }
    const pool = this.pool;
    // at most size - 1 (the descriptor at RDT is never the device's); pool short: the packets
    // without a fresh buffer stay in the ring until buffers come back
    const limit = pool.driverAvailable(max < mask ? max : mask);
    const stack = pool.freeStack;
    let top = pool.freeCount;
    const tag = pool.id << SHIFT;
    const handles = this.handles;
    const ring64 = this.ring64;
    const addrs = pool.addrBits;
    const lengths = pool.length;
    // `=== true`: a bit the loop tests with one branch; a field of any type costs a chain of
    // compares (true, false, undefined, ...) at each use: safe mode about 2 % faster at batch 32
    const safe = pool.safe === true;
    const owner = pool.owner;
    const out = batch.handles;
    let bad = -1;
    let n = 0;
    for (;;) {
      // one pass, as C ixy's: `status` is the write-back of descriptor `index`, DD set
      while (n < limit) {
        // a packet spanning descriptors ends the batch before it, and is reported by the call
        // that finds it first in line, with the ring consistent
        if ((status & STAT_EOP) === 0) {
          if (n > 0) break;
          throw this.multiSegmentError(status);
        }
        const h = handles[index];
        const x = h & IDX;
        if (safe) {
          // the pool's side → the application's (the ring holds only this pool's handles: the
          // tag above); a buffer the application holds leaves the loop, see below
          if (owner[x] === APP) break;
          owner[x] = APP;
        }
        const w = index << 2;
        lengths[x] = ring[w | 3] & 0xffff;
        out[n++] = h;
        // the fresh buffer, popped off the pool's free stack; safe mode leaves its byte as it
        // is, the pool's side (see Mempool.owner: storing BUFFER_DRIVER cost ×1.035, ab-paired)
        const f = stack[--top];
        // the read format (§7.1.6.1): packet buffer address, header address 0 (which clears DD)
        ring64[index << 1] = addrs[f];
        ring64[(index << 1) | 1] = 0;
        handles[index] = (tag | f) >>> 0;
        index = (index + 1) & mask;
        // full: the next descriptor is not read (the next call reads it first). Read here and
        // tested at the loop's head, it was a load and a jump back per call that cost the fwd
        // step at batch 1 ×1.09 (×1.06 safe); the extra test costs batch 32 ×1.015 (ab-paired,
        // AMD EPYC, Node 24; a do-while or a for(;;) with the test only here: ×1.05–1.07)
        if (n === limit) break;
        status = ring[(index << 2) | 2];
        if ((status & STAT_DD) === 0) break;
      }
      // Safe mode, a received buffer the application holds: the first such is noted, its byte
      // set to the driver's, and the loop goes on and takes it as any other, so that the
      // error is raised with the ring consistent. Noted inside the loop, the two variables it
      // kept cost safe fwd at batch 32 ×1.03 (ab-paired, Node 24).
      if (!safe || n === limit || (status & (STAT_DD | STAT_EOP)) !== (STAT_DD | STAT_EOP)) break;
      const x = handles[index] & IDX;
      if (owner[x] !== APP) break;
      if (bad < 0) bad = n;
      owner[x] = DRIVER;
    }
    pool.driverAllocEnd(top);
    if (n > 0) {
      // one behind the next descriptor to check: RDT == RDH would mean "ring empty" (ixy)
      this.regs.write32(this.rdt, (index + mask) & mask);
      this.index = index;
    }
    batch.length = n;
    if (bad >= 0) throw pool.ownershipError(out[bad], DRIVER, 'receive', APP, APP);
    return n;
  }

  private multiSegmentError(status: number): DeviceStateError {
    return new DeviceStateError(
      `rx queue ${this.queue}: a packet spans several descriptors (status 0x${status.toString(16)})`,
      'multi-buffer packets are not supported: the max frame size must fit one buffer',
    );
  }

  /** Has the device written a packet back into the next descriptor to check? (an atomic read) */
  hasPacket(): boolean {
    return (Atomics.load(this.ring, (this.index << 2) + 2) & STAT_DD) !== 0;
  }

  /**
   * Returns every buffer to the pool and frees the ring (the queue must be stopped). A buffer
   * the pool refuses (safe mode) is left out and its error thrown after everything else is
   * freed (Mempool.driverFreeAll).
   */
  free(): void {
    try {
      Mempool.driverFreeAll(this.handles, 0, this.filled, this.mask);
    } finally {
      this.filled = 0;
      this.region.free();
    }
  }
}
