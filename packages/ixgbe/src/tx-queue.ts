import {
  FrameSizeError,
  OwnershipError,
  type DmaAllocator,
  type DmaRegion,
  type PacketBatch,
  type Registers,
} from '@ixy/core';
import { allocateDescriptorRing } from './descriptor-ring.js';
import { BUFFER_APP, BUFFER_DRIVER, INDEX_MASK, Mempool, POOL_SHIFT } from '@ixy/memory';
import {
  IXGBE_ADVTXD_DCMD_DEXT,
  IXGBE_ADVTXD_DCMD_EOP,
  IXGBE_ADVTXD_DCMD_IFCS,
  IXGBE_ADVTXD_DCMD_RS,
  IXGBE_ADVTXD_DTYP_DATA,
  IXGBE_ADVTXD_PAYLEN_SHIFT,
  IXGBE_ADVTXD_STAT_DD,
  IXGBE_TDT,
} from './registers.js';

// Imported bindings are live (ES modules): optimised code loads them from a cell and checks for
// the hole on every use. Module-local constants are folded into the code.
const TX_DD = IXGBE_ADVTXD_STAT_DD;
const PAYLEN_SHIFT = IXGBE_ADVTXD_PAYLEN_SHIFT;
const SHIFT = POOL_SHIFT;
const IDX = INDEX_MASK;
const APP = BUFFER_APP;
const DRIVER = BUFFER_DRIVER;
// The same for the pool functions, called through the imported class before: the class's cell
// and the method were loaded and checked at each call (fwd step at batch 1 ×0.90–0.93, batch 32
// ×0.98, with ixy-fwd's touch likewise; ab-paired, Node 24).
const poolOf = Mempool.of;
const freeRing = Mempool.driverFreeRing;
const CLEAN_BATCH = 32;
/** Descriptors are cleaned (their buffers freed) in batches of this many, as in ixy. */
export const TX_CLEAN_BATCH = CLEAN_BATCH;
/**
 * Every packet is one advanced data descriptor (§7.2.3.2.4): one buffer (EOP), report
 * status (RS) so the device writes DD back, insert the Ethernet CRC (IFCS).
 */
const TX_CMD =
  IXGBE_ADVTXD_DCMD_EOP |
  IXGBE_ADVTXD_DCMD_RS |
  IXGBE_ADVTXD_DCMD_IFCS |
  IXGBE_ADVTXD_DCMD_DEXT |
  IXGBE_ADVTXD_DTYP_DATA;

/**
 * One transmit queue: a ring of advanced TX descriptors in DMA memory and the handle of the
 * packet behind each one. The driver writes descriptors at `index` and moves TDT; the device
 * sends them, moves TDH and writes DD back. Sent buffers are freed in batches of 32 by checking
 * DD of the batch's last descriptor (ixy's scheme; the device writes back in order).
 */
/**
 * The smallest frame the advanced TX descriptor takes: PAYLEN of at least 17 bytes (§7.2.3.2.4;
 * Linux pads anything shorter to 17). The card pads frames to 64 bytes on the wire itself.
 */
export const MIN_TX_FRAME = 17;
const MIN_FRAME = MIN_TX_FRAME;

export class TxQueue {
  readonly region: DmaRegion;
  readonly ring: Uint32Array;
  /** The ring as 8-byte words, for the 64-bit buffer address in one store. */
  private readonly ring64: Float64Array;
  readonly handles: Uint32Array;
  readonly mask: number;
  /** Next descriptor to fill. */
  private index = 0;
  /** Oldest descriptor not yet cleaned up. */
  private cleanIndex = 0;
  private readonly tdt: number;
  /**
   * The second 8 bytes of a data descriptor for each frame length up to maxFrame:
   * cmd_type_len (TX_CMD | length) and olinfo_status (PAYLEN = length), as the bit pattern of
   * a float64, stored with one 8-byte store (see Mempool.addrBits; PAYLEN below 2^15 keeps the
   * exponent short of a NaN's).
   */
  private readonly cmdWords: Float64Array;

  constructor(
    readonly queue: number,
    readonly size: number,
    /** Largest frame the device may send, without CRC (bytes). */
    readonly maxFrame: number,
    dma: DmaAllocator,
    private readonly regs: Registers,
  ) {
    ({ region: this.region, ring: this.ring, ring64: this.ring64 } = allocateDescriptorRing(dma, size));
    this.handles = new Uint32Array(size);
    this.mask = size - 1;
    this.tdt = IXGBE_TDT(queue);
    this.cmdWords = new Float64Array(maxFrame + 1);
    const words = new Uint32Array(this.cmdWords.buffer);
    for (let len = 0; len <= maxFrame; len++) {
      words[2 * len] = (TX_CMD | len) >>> 0;
      words[2 * len + 1] = len << PAYLEN_SHIFT;
    }
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
    const mask = this.mask;
    let clean = this.cleanIndex;
    for (;;) {
      const cleanable = (this.index - clean) & mask;
      if (cleanable < CLEAN_BATCH) break;
      const last = (clean + CLEAN_BATCH - 1) & mask;
      // DD goes from 1 to 0 only by this driver's own store: a plain read that sees it set
      // is right; "not yet" is asked again of memory (see RxQueue.receive)
      const status = (last << 2) + 3;
      if ((ring[status] & TX_DD) === 0 && (Atomics.load(ring, status) & TX_DD) === 0) break;
      freeRing(this.handles, clean, CLEAN_BATCH, mask);
      clean = (last + 1) & mask;
    }
    this.cleanIndex = clean;
  }

  /**
   * Sends `batch.handles[0, batch.length)` as far as the ring has room (ixy's
   * ixgbe_tx_batch); returns how many it took. A frame that is empty, larger than its buffer
   * or larger than the wire allows is refused with FrameSizeError, a handle of no mempool (and,
   * in safe mode, a packet the caller does not own) with OwnershipError; then the call takes
   * none of the batch (the IxyDevice contract): the descriptors written for the packets before
   * it stay behind the tail, which does not move, and those packets go back to the caller.
   * Only the error path pays for that.
   */
  send(batch: PacketBatch): number {
    this.clean();
    const ring64 = this.ring64;
    const cmdWords = this.cmdWords;
    const handles = this.handles;
    const mask = this.mask;
    const input = batch.handles;
    const count = batch.length;
    let index = this.index;
    // the packets the ring has room for (one descriptor stays empty: index == clean means
    // "all cleaned"), so that the loop needs no "ring full" check per packet (as DPDK's drivers
    // count it; about 0.6 ns per packet at batch 32)
    const room = (this.cleanIndex - index - 1) & mask;
    const end = count < room ? count : room;
    let sent = 0;
    let error: Error | undefined;
    // A run of packets of one pool at a time (a batch is mostly one run): the pool's arrays are
    // constants of the inner loop, so the optimised code loads their data pointers and lengths
    // once per run. As variables of one loop, reassigned when the pool changed, they were
    // reloaded at every packet: fwd step at batch 32 40.4 -> 34.0 ns (Node 24).
    runs: while (sent < end) {
      const id = input[sent] >>> SHIFT;
      const pool = poolOf(input[sent]);
      if (pool === undefined) {
        error = new OwnershipError(`tx of handle 0x${(input[sent] >>> 0).toString(16)}, which belongs to no mempool`);
        break;
      }
      const lengths = pool.length;
      const addrs = pool.addrBits;
      const maxLen = Math.min(this.maxFrame, pool.bufSize);
      // a loop per mode, as Mempool.driverFreeRing: one branch per packet fewer and one array
      // fewer in the fast one (fwd step at batch 32 ×0.966, safe ×0.973; ab-paired, Node 24)
      if (pool.safe === true) {
        // safe mode: application-owned → driver-owned, a state byte checked inline (the pool's
        // id matched above); a packet not the caller's ends the batch
        const owner = pool.owner;
        for (; sent < end; sent++) {
          const h = input[sent];
          if (h >>> SHIFT !== id) continue runs;
          const i = h & IDX;
          const len = lengths[i];
          if (len < MIN_FRAME || len > maxLen) {
            error = this.sizeError(len, pool.bufSize);
            break runs;
          }
          if (owner[i] !== APP) {
            error = pool.ownershipError(h, APP, 'transmit', DRIVER);
            break runs;
          }
          owner[i] = DRIVER;
          handles[index] = h;
          // advanced data descriptor (§7.2.3.2.4): buffer address, then cmd_type_len, olinfo_status
          ring64[index << 1] = addrs[i];
          ring64[(index << 1) | 1] = cmdWords[len];
          index = (index + 1) & mask;
        }
      } else {
        for (; sent < end; sent++) {
          const h = input[sent];
          if (h >>> SHIFT !== id) continue runs;
          const i = h & IDX;
          const len = lengths[i];
          if (len < MIN_FRAME || len > maxLen) {
            error = this.sizeError(len, pool.bufSize);
            break runs;
          }
          handles[index] = h;
          // advanced data descriptor (§7.2.3.2.4), as above
          ring64[index << 1] = addrs[i];
          ring64[(index << 1) | 1] = cmdWords[len];
          index = (index + 1) & mask;
        }
      }
    }
    if (error !== undefined) {
      // give the packets before the bad one back (safe mode tracks them as the driver's)
      for (let k = 0; k < sent; k++) Mempool.of(input[k]).driverGive(input[k]);
      error.message += ` (packet ${sent} of the batch; none of the batch was taken)`;
      throw error;
    }
    if (index !== this.index) {
      this.index = index;
      // hand the descriptors to the device by moving the tail (§7.2.3)
      this.regs.write32(this.tdt, index);
    }
    return sent;
  }

  private sizeError(len: number, bufSize: number): FrameSizeError {
    return new FrameSizeError(
      `tx queue ${this.queue}: cannot send a frame of ${len} bytes (the card takes ${MIN_TX_FRAME} to ${Math.min(this.maxFrame, bufSize)}: buffer holds ${bufSize}, the wire at most ${this.maxFrame} without CRC)`,
      len === 0
        ? 'set the packet length (pool.length[handle & INDEX_MASK]) before sending'
        : len < MIN_TX_FRAME
          ? `pad the frame to at least ${MIN_TX_FRAME} bytes (the card pads it to 64 on the wire)`
          : 'jumbo frames are not supported: keep frames at most 1514 bytes (1518 with a VLAN tag)',
    );
  }

  /** Frees the buffers of every packet still in the ring and the ring itself (queue stopped). */
  free(): void {
    for (let i = this.cleanIndex; i !== this.index; i = (i + 1) & this.mask) {
      const h = this.handles[i];
      Mempool.of(h)?.driverFree(h);
    }
    this.cleanIndex = this.index;
    this.region.free();
  }
}
