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
    /**
     * The pool the device receives into, when it has one for all its RX queues: the pool most
     * packets sent come from (a forwarder's, with the ports sharing one pool). Its packets are
     * taken and freed by loops whose arrays are constants of the app's compiled step.
     */
    readonly home?: Mempool,
  ) {
    ({ region: this.region, ring: this.ring, ring64: this.ring64 } = allocateDescriptorRing(dma, size));
    this.handles = new Uint32Array(size);
    this.mask = size - 1;
    this.tdt = IXGBE_TDT(queue);
    // PAYLEN below 2^15 (cmdWords, below) and the safe TX check's one compare (`take`) need it
    if (!(maxFrame >= MIN_TX_FRAME && maxFrame <= 0x7fff))
      throw new RangeError(`tx queue ${queue}: max frame ${maxFrame} is outside ${MIN_TX_FRAME}..${0x7fff}`);
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
    const handles = this.handles;
    const home = this.home;
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
      // the buffers go back to their pools: a run of the home pool's first, any others after
      // it looked up by their handles (home's arrays are constants: see `home`)
      const done = home === undefined ? 0 : home.driverFreeRun(handles, clean, CLEAN_BATCH, mask);
      if (done < CLEAN_BATCH) this.freeRuns(clean, done);
      clean = (last + 1) & mask;
      // at each batch: a later batch's ownership error (safe mode) must not leave this one's
      // buffers to be freed a second time
      this.cleanIndex = clean;
    }
  }

  /**
   * Frees the rest of the clean-up batch at `clean`, from its `done`th buffer on: a run of one
   * pool at a time, looked up by its handles. The position is saved before each run: an
   * ownership error (safe mode) in a later run must not leave the runs before it to be freed
   * again by the next clean-up (a run that fails frees none of itself, see
   * Mempool.driverFreeRun). Every descriptor reports its status (RS), so the next clean-up may
   * start mid-batch.
   */
  private freeRuns(clean: number, done: number): void {
    const handles = this.handles;
    const mask = this.mask;
    while (done < CLEAN_BATCH) {
      this.cleanIndex = (clean + done) & mask;
      const h = handles[(clean + done) & mask];
      const pool = poolOf(h);
      if (pool === undefined)
        throw new OwnershipError(`driver free of handle 0x${(h >>> 0).toString(16)}, which belongs to no pool`);
      done += pool.driverFreeRun(handles, clean + done, CLEAN_BATCH - done, mask);
    }
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
    const mask = this.mask;
    const input = batch.handles;
    const count = batch.length;
    const home = this.home;
    const start = this.index;
    // the packets the ring has room for (one descriptor stays empty: index == clean means
    // "all cleaned"), so that the loop needs no "ring full" check per packet (as DPDK's drivers
    // count it; about 0.6 ns per packet at batch 32)
    const room = (this.cleanIndex - start - 1) & mask;
    const end = count < room ? count : room;
    let sent = 0;
    // A run of packets of one pool at a time (a batch is mostly one run), each by a call of
    // `take` on its pool that the compiler inlines: one call for the home pool, whose arrays
    // are then constants of the app's compiled step (with the clean-up's run of the home pool:
    // fwd step at batch 1 ×0.89, batch 32 ×0.92, safe ×0.95 and ×0.97; ab-paired, Node 24), one
    // for any other pool, looked up by the handle. As variables of one loop, reassigned when
    // the pool changed, the pool's arrays were reloaded at every packet: fwd step at batch 32
    // 40.4 -> 34.0 ns (Node 24).
    while (sent < end) {
      const first = input[sent];
      let next: number;
      if (home !== undefined && first >>> SHIFT === home.id) {
        next = this.take(home, input, sent, end, (start + sent) & mask);
      } else {
        const pool = poolOf(first);
        if (pool === undefined) {
          throw this.refuse(
            input,
            sent,
            new OwnershipError(`tx of handle 0x${(first >>> 0).toString(16)}, which belongs to no mempool`),
          );
        }
        next = this.take(pool, input, sent, end, (start + sent) & mask);
      }
      if (next < 0) throw this.refuse(input, -1 - next);
      sent = next;
    }
    const index = (start + sent) & mask;
    if (index !== start) {
      this.index = index;
      // hand the descriptors to the device by moving the tail (§7.2.3)
      this.regs.write32(this.tdt, index);
    }
    return sent;
  }

  /**
   * Writes the descriptors of `input[from, end)` from ring slot `index` on, while the packets
   * are `pool`'s. Returns where it stopped, or -1 - k for a packet k the card cannot send or
   * (safe mode) the caller does not own.
   */
  private take(pool: Mempool, input: Uint32Array, from: number, end: number, index: number): number {
    const ring64 = this.ring64;
    const cmdWords = this.cmdWords;
    const handles = this.handles;
    const mask = this.mask;
    const id = pool.id;
    const lengths = pool.length;
    const addrs = pool.addrBits;
    const maxLen = this.maxLen(pool.bufSize);
    let k = from;
    // the size in one compare: lengths MIN_FRAME..maxLen are 0..span after the subtraction, a
    // shorter one wraps to above 2^31 with `>>> 0` (two compares: fwd step at batch 32 ×1.02)
    const span = maxLen - MIN_FRAME;
    // a loop per mode, as Mempool.driverFreeRun: one branch per packet fewer and one array
    // fewer in the fast one (fwd step at batch 32 ×0.966, safe ×0.973; ab-paired, Node 24)
    if (pool.safe === true) {
      // safe mode: application-owned → driver-owned, a state byte checked inline (the pool's
      // id matched); a packet not the caller's ends the batch
      const owner = pool.owner;
      for (; k < end; k++) {
        const h = input[k];
        if (h >>> SHIFT !== id) break;
        const i = h & IDX;
        const len = lengths[i];
        // the size and the owner in one compare: a state byte other than APP sets bits 16 and
        // up (three compares and branches cost safe fwd at batch 32 ×1.02, ab-paired, Node 24)
        if (((len - MIN_FRAME) | ((owner[i] ^ APP) << 16)) >>> 0 > span) return -1 - k;
        owner[i] = DRIVER;
        handles[index] = h;
        // advanced data descriptor (§7.2.3.2.4): buffer address, then cmd_type_len, olinfo_status
        ring64[index << 1] = addrs[i];
        ring64[(index << 1) | 1] = cmdWords[len];
        index = (index + 1) & mask;
      }
    } else {
      for (; k < end; k++) {
        const h = input[k];
        if (h >>> SHIFT !== id) break;
        const i = h & IDX;
        const len = lengths[i];
        if ((len - MIN_FRAME) >>> 0 > span) return -1 - k;
        handles[index] = h;
        // advanced data descriptor (§7.2.3.2.4), as above
        ring64[index << 1] = addrs[i];
        ring64[(index << 1) | 1] = cmdWords[len];
        index = (index + 1) & mask;
      }
    }
    return k;
  }

  /**
   * The error for packet `at` of a batch `send` refuses (`error`, else what is wrong with the
   * packet: its size, or in safe mode its owner); the packets before it go back to the caller
   * (safe mode tracked them as the driver's), the tail does not move.
   */
  private refuse(input: Uint32Array, at: number, error?: Error): Error {
    if (error === undefined) {
      const h = input[at];
      const pool = poolOf(h);
      const len = pool.length[h & IDX];
      error =
        len < MIN_FRAME || len > this.maxLen(pool.bufSize)
          ? this.sizeError(len, pool.bufSize)
          : pool.ownershipError(h, APP, 'transmit', DRIVER);
    }
    for (let k = 0; k < at; k++) poolOf(input[k]).driverGive(input[k]);
    error.message += ` (packet ${at} of the batch; none of the batch was taken)`;
    return error;
  }

  /** The longest frame this queue sends from buffers of `bufSize` bytes. */
  private maxLen(bufSize: number): number {
    return this.maxFrame < bufSize ? this.maxFrame : bufSize;
  }

  private sizeError(len: number, bufSize: number): FrameSizeError {
    return new FrameSizeError(
      `tx queue ${this.queue}: cannot send a frame of ${len} bytes (the card takes ${MIN_TX_FRAME} to ${this.maxLen(bufSize)}: buffer holds ${bufSize}, the wire at most ${this.maxFrame} without CRC)`,
      len === 0
        ? 'set the packet length (pool.length[handle & INDEX_MASK]) before sending'
        : len < MIN_TX_FRAME
          ? `pad the frame to at least ${MIN_TX_FRAME} bytes (the card pads it to 64 on the wire)`
          : 'jumbo frames are not supported: keep frames at most 1514 bytes (1518 with a VLAN tag)',
    );
  }

  /**
   * Frees the buffers of every packet still in the ring and the ring itself (queue stopped).
   * A buffer a free refuses (safe mode) is left out and its error thrown after everything else
   * is freed (Mempool.driverFreeAll).
   */
  free(): void {
    try {
      Mempool.driverFreeAll(this.handles, this.cleanIndex, this.inFlight, this.mask);
    } finally {
      this.cleanIndex = this.index;
      this.region.free();
    }
  }
}
