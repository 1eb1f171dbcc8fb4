import {
  DeviceStateError,
  PoolExhaustedError,
  type DmaAllocator,
  type DmaRegion,
  type PacketBatch,
  type Registers,
} from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { allocateDescriptorRing } from './descriptor-ring.js';
import { E1000_RDT, E1000_RXD_STAT_DD, E1000_RXD_STAT_EOP } from './registers.js';

/** Multiplying by 2^-32 is exact (a power of two) and cheaper than dividing by 2^32. */
const TWO_POW_MINUS_32 = 1 / 4294967296;

/**
 * Writes a legacy receive descriptor (§7.1.3) for the buffer at bus address `addr`: the
 * address as two 32-bit halves, and zeroes over the fields the device writes back (length,
 * checksum, status with DD, errors, VLAN tag), so DD reads 0 until the device has used it.
 */
export function writeRxDescriptor(ring: Uint32Array, index: number, addr: number): void {
  const w = index << 2;
  ring[w] = addr >>> 0;
  ring[w + 1] = (addr * TWO_POW_MINUS_32) >>> 0;
  ring[w + 2] = 0;
  ring[w + 3] = 0;
}

/**
 * The receive queue: a ring of legacy RX descriptors in DMA memory, the mempool its buffers
 * come from, and the handle of the buffer behind each descriptor.
 *
 * Legacy descriptors (RFCTL.EXTEN clear, the reset default) rather than extended ones (§7.1.4):
 * with one buffer per packet and one queue, the extended write-back adds nothing this driver
 * reads (RSS hash, IP ID, extended status), and it overwrites the buffer address, which the
 * legacy one leaves alone. Both carry the length and DD/EOP; QEMU's model implements both.
 *
 * Ring protocol (§7.1.8): the device owns descriptors from RDH up to RDT (exclusive) and
 * writes received packets back into them; the driver owns the rest, reads write-backs from
 * `index`, refills each descriptor with a fresh buffer and hands it back by moving RDT.
 */
export class RxQueue {
  readonly region: DmaRegion;
  /** The ring as 32-bit words: descriptor i is words 4i..4i+3. */
  readonly ring: Uint32Array;
  /** Buffer handle behind each descriptor. */
  readonly handles: Uint32Array;
  readonly mask: number;
  /** Next descriptor to check for a received packet. */
  private index = 0;
  /** Descriptors that hold a buffer (all of them once filled). */
  private filled = 0;

  constructor(
    readonly size: number,
    readonly pool: Mempool,
    dma: DmaAllocator,
    private readonly regs: Registers,
  ) {
    ({ region: this.region, ring: this.ring } = allocateDescriptorRing(dma, size));
    this.handles = new Uint32Array(size);
    this.mask = size - 1;
  }

  /** Bus address of the ring (for RDBAL/RDBAH). */
  get ringAddress(): number {
    return this.region.physAddr(0);
  }

  /** Puts a fresh buffer behind every descriptor (before receive is enabled). */
  fill(): void {
    for (let i = 0; i < this.size; i++) {
      const h = this.pool.driverAlloc();
      if (h < 0) {
        throw new PoolExhaustedError(
          `rx queue: the mempool (${this.pool.entries} buffers) cannot fill a ring of ${this.size}`,
          'use a poolSize larger than ringSize',
        );
      }
      writeRxDescriptor(this.ring, i, this.pool.physAddr[h & INDEX_MASK]);
      this.handles[i] = h;
      this.filled = i + 1;
    }
    this.index = 0;
  }

  /**
   * Receives up to `max` packets into `batch`. The first status read of a call is plain, and
   * repeated as an Atomics.load when it says "not yet" (the read a receive loop repeats while
   * nothing arrives: the engine may not hoist or cache it; only "not yet" can be stale, since
   * DD is cleared only by this driver's own refill); the rest of the batch reads plainly, each
   * a descriptor not read before in the call, as packages/ixgbe's receive explains. No
   * allocation, no exceptions per packet.
   */
  receive(batch: PacketBatch, max: number): number {
    const ring = this.ring;
    const handles = this.handles;
    const pool = this.pool;
    const phys = pool.physAddr;
    const lengths = pool.length;
    const out = batch.handles;
    const mask = this.mask;
    let index = this.index;
    let last = index;
    let n = 0;
    let status = ring[(index << 2) + 3];
    if ((status & E1000_RXD_STAT_DD) === 0) status = Atomics.load(ring, (index << 2) + 3);
    while (n < max) {
      if ((status & E1000_RXD_STAT_DD) === 0) break;
      // a packet spanning descriptors ends the batch before it (the packets ahead of it are
      // delivered, the ring handed back) and is reported by the call that finds it first in line
      if ((status & E1000_RXD_STAT_EOP) === 0) {
        if (n > 0) break;
        throw new DeviceStateError(
          `rx: a packet spans several descriptors (status 0x${status.toString(16)})`,
          'multi-buffer packets are not supported: long packets (RCTL.LPE) must stay off',
        );
      }
      const fresh = pool.driverAlloc();
      if (fresh < 0) break; // pool empty: leave the packet in the ring until buffers come back
      const w = index << 2;
      const h = handles[index];
      lengths[h & INDEX_MASK] = ring[w + 2] & 0xffff;
      out[n++] = h;
      const addr = phys[fresh & INDEX_MASK];
      ring[w] = addr >>> 0;
      ring[w + 1] = (addr * TWO_POW_MINUS_32) >>> 0;
      ring[w + 2] = 0;
      ring[w + 3] = 0;
      handles[index] = fresh;
      last = index;
      index = (index + 1) & mask;
      status = ring[(index << 2) + 3];
    }
    if (n > 0) {
      // one behind the next descriptor to check: RDT == RDH would mean "ring empty"
      this.regs.write32(E1000_RDT, last);
      this.index = index;
    }
    batch.length = n;
    // safe mode: each received buffer becomes the application's, checked, once the ring is
    // consistent again: a buffer the driver did not own is reported without losing the batch
    // (a throw inside the loop left a fresh buffer taken and the ring's index behind)
    if (pool.safe) {
      let error: Error | undefined;
      for (let k = 0; k < n; k++) {
        try {
          pool.driverGive(out[k]);
        } catch (err) {
          error ??= err as Error; // an OwnershipError
        }
      }
      if (error !== undefined) throw error;
    }
    return n;
  }

  /** Has the device written a packet back into the next descriptor to check? (an atomic read) */
  hasPacket(): boolean {
    return (Atomics.load(this.ring, (this.index << 2) + 3) & E1000_RXD_STAT_DD) !== 0;
  }

  /** Returns every buffer to the pool and frees the ring (receive must be stopped). */
  free(): void {
    // a buffer the pool refuses (safe mode) is left out, its error thrown after the rest
    try {
      Mempool.driverFreeAll(this.handles, 0, this.filled, this.mask);
    } finally {
      this.filled = 0;
      this.region.free();
    }
  }
}
