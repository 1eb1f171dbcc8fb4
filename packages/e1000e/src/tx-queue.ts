import {
  FrameSizeError,
  OwnershipError,
  type DmaAllocator,
  type DmaRegion,
  type PacketBatch,
  type Registers,
} from '@ixy/core';
import { INDEX_MASK, Mempool, POOL_SHIFT } from '@ixy/memory';
import { allocateDescriptorRing } from './descriptor-ring.js';
import { E1000_TDT, E1000_TXD_CMD_EOP, E1000_TXD_CMD_IFCS, E1000_TXD_CMD_RS, E1000_TXD_STAT_DD } from './registers.js';

// a module-local copy: the packet loop calls it without loading the imported class (see the
// ixgbe TX queue)
const poolOf = Mempool.of;

/** Multiplying by 2^-32 is exact (a power of two) and cheaper than dividing by 2^32. */
const TWO_POW_MINUS_32 = 1 / 4294967296;
/** Descriptors are cleaned (their buffers freed) in batches of this many, as in ixy. */
export const TX_CLEAN_BATCH = 32;
/**
 * Every packet is one legacy data descriptor (§7.2): one buffer (EOP), the CRC appended by
 * the card (IFCS), and status reported (RS) so the device writes DD back.
 */
export const TX_CMD = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
/**
 * The smallest frame the card takes: 17 bytes with TCTL.PSP set (Linux's e1000e pads shorter
 * ones to 17 for the same reason); the card pads it to 64 bytes on the wire.
 */
export const MIN_TX_FRAME = 17;

/**
 * Writes a legacy transmit descriptor: buffer address as two 32-bit halves, length and command
 * in word 2, and word 3 (status with DD, checksum start, VLAN tag) zeroed.
 */
export function writeTxDescriptor(ring: Uint32Array, index: number, addr: number, length: number): void {
  const w = index << 2;
  ring[w] = addr >>> 0;
  ring[w + 1] = (addr * TWO_POW_MINUS_32) >>> 0;
  ring[w + 2] = (TX_CMD | length) >>> 0;
  ring[w + 3] = 0;
}

/**
 * The transmit queue: a ring of legacy TX descriptors in DMA memory and the handle of the
 * packet behind each one. The driver writes descriptors at `index` and moves TDT; the device
 * sends them, moves TDH and writes DD back (in order). Sent buffers are freed in batches of 32
 * by checking DD of the batch's last descriptor (ixy's scheme).
 */
export class TxQueue {
  readonly region: DmaRegion;
  readonly ring: Uint32Array;
  readonly handles: Uint32Array;
  readonly mask: number;
  /** Next descriptor to fill. */
  private index = 0;
  /** Oldest descriptor not yet cleaned up. */
  private cleanIndex = 0;

  constructor(
    readonly size: number,
    /** Largest frame the device may send, without CRC (bytes). */
    readonly maxFrame: number,
    dma: DmaAllocator,
    private readonly regs: Registers,
  ) {
    ({ region: this.region, ring: this.ring } = allocateDescriptorRing(dma, size));
    this.handles = new Uint32Array(size);
    this.mask = size - 1;
  }

  get ringAddress(): number {
    return this.region.physAddr(0);
  }

  /** Packets handed to the device and not yet cleaned up. */
  get inFlight(): number {
    return (this.index - this.cleanIndex) & this.mask;
  }

  /** Frees the buffers of sent packets, whole batches of TX_CLEAN_BATCH at a time. */
  clean(): void {
    const ring = this.ring;
    const handles = this.handles;
    const mask = this.mask;
    let clean = this.cleanIndex;
    for (;;) {
      const cleanable = (this.index - clean) & mask;
      if (cleanable < TX_CLEAN_BATCH) break;
      const last = (clean + TX_CLEAN_BATCH - 1) & mask;
      // DD is cleared only by this driver's own store: a plain read that sees it set is right,
      // "not yet" is asked again of memory (see the RX queue)
      const status = (last << 2) + 3;
      if ((ring[status] & E1000_TXD_STAT_DD) === 0 && (Atomics.load(ring, status) & E1000_TXD_STAT_DD) === 0) break;
      // packets of one batch mostly come from one pool: look it up only when the id changes
      let poolId = -1;
      let pool: Mempool | undefined;
      for (let i = 0; i < TX_CLEAN_BATCH; i++) {
        const h = handles[(clean + i) & mask];
        if (h >>> POOL_SHIFT !== poolId) {
          poolId = h >>> POOL_SHIFT;
          pool = poolOf(h);
        }
        (pool as Mempool).driverFree(h);
        // at each buffer: an ownership error (safe mode) must not leave the buffers freed before
        // it to be freed again by the next clean-up (driverFree does not mark them freed). Every
        // descriptor reports its status (RS), so the next clean-up may start mid-batch
        this.cleanIndex = (clean + i + 1) & mask;
      }
      clean = (last + 1) & mask;
    }
  }

  /**
   * Sends `batch.handles[0, batch.length)` as far as the ring has room; returns how many it
   * took. A frame that is too short, too long or larger than its buffer is refused with
   * FrameSizeError, a handle of no mempool (or, in safe mode, one the caller does not own)
   * with OwnershipError; then the call takes none of the batch (the IxyDevice contract): the
   * descriptors written for the packets before it stay behind the tail, where the card does
   * not look, and those packets go back to the caller. Only the error path pays for that.
   */
  send(batch: PacketBatch): number {
    this.clean();
    const ring = this.ring;
    const handles = this.handles;
    const mask = this.mask;
    const input = batch.handles;
    const count = batch.length;
    const clean = this.cleanIndex;
    let index = this.index;
    let sent = 0;
    let poolId = -1;
    let pool: Mempool | undefined;
    try {
      for (; sent < count; sent++) {
        const next = (index + 1) & mask;
        if (next === clean) break; // ring full
        const h = input[sent];
        if (h >>> POOL_SHIFT !== poolId) {
          poolId = h >>> POOL_SHIFT;
          pool = poolOf(h);
          if (pool === undefined)
            throw new OwnershipError(`tx of handle 0x${(h >>> 0).toString(16)}, which belongs to no mempool`);
        }
        if (pool === undefined) break; // (not reached: narrows the type)
        const i = h & INDEX_MASK;
        const len = pool.length[i];
        if (len < MIN_TX_FRAME || len > this.maxFrame || len > pool.bufSize) throw this.sizeError(len, pool.bufSize);
        pool.driverTake(h);
        handles[index] = h;
        const addr = pool.physAddr[i];
        const w = index << 2;
        ring[w] = addr >>> 0;
        ring[w + 1] = (addr * TWO_POW_MINUS_32) >>> 0;
        ring[w + 2] = (TX_CMD | len) >>> 0;
        ring[w + 3] = 0;
        index = next;
      }
    } catch (err) {
      // give the packets before the bad one back (safe mode tracks them as the driver's)
      for (let k = 0; k < sent; k++) Mempool.of(input[k]).driverGive(input[k]);
      if (err instanceof Error) err.message += ` (packet ${sent} of the batch; none of the batch was taken)`;
      throw err;
    }
    if (index !== this.index) {
      this.index = index;
      // hand the descriptors to the device by moving the tail (§7.2)
      this.regs.write32(E1000_TDT, index);
    }
    return sent;
  }

  private sizeError(len: number, bufSize: number): FrameSizeError {
    return new FrameSizeError(
      `tx: cannot send a frame of ${len} bytes (the card takes ${MIN_TX_FRAME} to ${Math.min(this.maxFrame, bufSize)}: buffer holds ${bufSize}, the wire at most ${this.maxFrame} without CRC)`,
      len === 0
        ? 'set the packet length (pool.length[handle & INDEX_MASK]) before sending'
        : len < MIN_TX_FRAME
          ? `pad the frame to at least ${MIN_TX_FRAME} bytes (the card pads it to 64 on the wire)`
          : 'jumbo frames are not supported: keep frames at most 1514 bytes (1518 with a VLAN tag)',
    );
  }

  /** Frees the buffers of every packet still in the ring and the ring itself (transmit stopped). */
  free(): void {
    // a buffer a pool refuses (safe mode) is left out, its error thrown after the rest
    try {
      Mempool.driverFreeAll(this.handles, this.cleanIndex, this.inFlight, this.mask);
    } finally {
      this.cleanIndex = this.index;
      this.region.free();
    }
  }
}
