import {
  IxyError,
  OwnershipError,
  PoolExhaustedError,
  type DmaAllocator,
  type DmaRegion,
  type PacketBatch,
  type PacketPool,
} from '@ixy/core';

/**
 * A packet handle: `poolId << POOL_SHIFT | index`. Handles are plain integers, so a batch of
 * packets is a Uint32Array and nothing is allocated per packet.
 */
// Exported bindings are cells that optimised code loads and checks for the hole at every use;
// these private copies are folded into the code (the packet path uses only these).
const SHIFT = 20;
const IDX = (1 << SHIFT) - 1;
export const POOL_SHIFT = SHIFT;
export const MAX_POOL_ENTRIES = 1 << POOL_SHIFT;
export const INDEX_MASK = IDX;
const MAX_POOLS = 1 << (32 - POOL_SHIFT);

/**
 * Buffer states tracked in safe mode, one byte per buffer (`Mempool.owner`). A transfer checks
 * the byte inline (no call) and calls `transfer` only to throw; a handle of the wrong pool fails
 * the same check (`this.id` is compared). The checks tell two sides apart, the application's
 * (BUFFER_APP) and the pool's (BUFFER_FREE, BUFFER_DRIVER): see `Mempool.owner`.
 */
const FREE = 0;
const APP = 1;
const DRIVER = 2;
/**
 * Safe mode, the pool's side: the buffer was never used, or the application freed it last. It
 * is in the free stack, or a driver has taken it since (an RX refill does not store the byte:
 * see `Mempool.owner`).
 */
export const BUFFER_FREE = FREE;
/** Safe mode: the application owns the buffer (allocated, or received and not yet sent or freed). */
export const BUFFER_APP = APP;
/**
 * Safe mode, the pool's side: the application sent the buffer last (`driverTake`, or a
 * driver's inline send): it is in a TX ring, or has come back to the free stack or gone on to
 * an RX ring from there.
 */
export const BUFFER_DRIVER = DRIVER;
const STATE_NAMES = ['free', 'owned by the application', 'owned by a driver'];

export interface MempoolOptions {
  /** Where the buffers live: hugepages for hardware, simulated memory for device models. */
  allocator: DmaAllocator;
  /** Number of buffers (at most 2^20). */
  entries: number;
  /** Bytes per buffer including headroom: a power of two from 256 to 2 MiB (default 2048). */
  entrySize?: number;
  /** Bytes before the packet data, for drivers' headers such as virtio-net's (default 128). */
  headroom?: number;
  /** Check every ownership transfer: double free, use after free, foreign buffers. */
  safe?: boolean;
}

/**
 * The live pools by id. A module constant, which the optimised code folds in, rather than the
 * static field of the class it was, read off the class at every lookup (`Mempool.of` in TX and
 * in ixy-fwd's touch, the TX clean-up): fwd step at batch 1 ×0.94, batch 32 unchanged
 * (ab-paired, Node 24).
 */
const POOLS: (Mempool | undefined)[] = [];

/**
 * A pool of fixed-size packet buffers in one DMA region, with a LIFO stack of free indices
 * (ixy's mempool). Metadata lives in typed arrays beside the buffers: the bus address of each
 * buffer's data and each packet's length. A packet's bytes are
 * `pool.bytes[pool.dataOffset(h) .. + pool.length[h & INDEX_MASK])`.
 *
 * The application uses alloc/free; drivers use the driver* transfers, which in safe mode
 * check that the packet belongs to whoever hands it over.
 */
export class Mempool implements PacketPool {
  /**
   * The pool a handle belongs to (undefined for a handle of no live pool). `this: void`: it may
   * be called detached, as the packet paths keep module-local copies of it (see the ixgbe TX).
   */
  static of(this: void, handle: number): Mempool {
    return POOLS[handle >>> SHIFT] as Mempool;
  }

  /** Frees packets of any pool: `batch.handles[from, batch.length)`, then cuts the batch to `from`. */
  static freeBatch(batch: PacketBatch, from = 0): void {
    const h = batch.handles;
    for (let i = from; i < batch.length; i++) {
      const handle = h[i];
      const pool = POOLS[handle >>> SHIFT];
      if (pool === undefined)
        throw new OwnershipError(`freeing handle 0x${handle.toString(16)}, which belongs to no pool`);
      const index = handle & IDX;
      if (pool.safe) {
        if (pool.owner[index] !== APP) pool.transfer(handle, APP, FREE, 'free');
        pool.owner[index] = FREE;
      }
      pool.freeStack[pool.top++] = index;
      if (pool.top === pool.releaseAt) pool.release();
    }
    batch.length = from;
  }

  /**
   * A driver frees `count` buffers it owns (TX completion): the handles in `ring` from `start`
   * on, wrapping with `mask` (a ring's size - 1), of any pools: a run of one pool at a time
   * (driverFreeRun; the packets of one batch mostly come from one pool). The run's loop in
   * driverFreeRun alone, not a copy of it here: a copy measured ×0.985 (fwd batch 32, packets of
   * a pool the TX queue does not know, ab-paired both ways, Node 24).
   *
   * An error (safe mode) frees none of them: the runs before the failing one are taken back
   * off their free stacks (the failing run frees none of itself), so a driver that keeps its
   * handles may clean up again once the cause is gone. Only a pool that a run released (closed,
   * with its last buffer back) cannot take its run back; the error says so.
   */
  static driverFreeRing(this: void, ring: Uint32Array, start: number, count: number, mask: number): void {
    let i = 0;
    try {
      while (i < count) {
        const first = ring[(start + i) & mask];
        const pool = POOLS[first >>> SHIFT];
        if (pool === undefined)
          throw new OwnershipError(`driver free of handle 0x${first.toString(16)}, which belongs to no pool`);
        i += pool.driverFreeRun(ring, start + i, count - i, mask);
      }
    } catch (err) {
      Mempool.takeBackRuns(ring, start, i, mask, err);
      throw err;
    }
  }

  /**
   * A driver frees every buffer it still holds at teardown (a stopped queue's ring): the
   * handles in `ring` from `start` on, wrapping with `mask`, `count` of them, of any pools
   * (a handle of no live pool is passed over). Unlike driverFreeRing it frees all it can: a
   * buffer a pool refuses (safe mode: the application's too, a driver's bug) is left out, and
   * the first such error thrown after the rest are freed, so that a teardown leaves nothing
   * half-freed behind one bad buffer.
   */
  static driverFreeAll(this: void, ring: Uint32Array, start: number, count: number, mask: number): void {
    let error: Error | undefined;
    for (let i = 0; i < count; i++) {
      const h = ring[(start + i) & mask];
      try {
        POOLS[h >>> SHIFT]?.driverFree(h);
      } catch (err) {
        error ??= err as Error;
      }
    }
    if (error !== undefined) throw error;
  }

  /**
   * The error path of driverFreeRing: takes the `count` buffers it freed from `ring[start..]`
   * back off their pools' free stacks, where they are the last pushed (nothing else ran since).
   */
  private static takeBackRuns(ring: Uint32Array, start: number, count: number, mask: number, err: unknown): void {
    for (let i = 0; i < count;) {
      const id = ring[(start + i) & mask] >>> SHIFT;
      let n = 1;
      while (i + n < count && ring[(start + i + n) & mask] >>> SHIFT === id) n++;
      const pool = POOLS[id];
      if (pool !== undefined && !pool.released) pool.top -= n;
      else if (err instanceof Error)
        err.message += ` (the ${n} buffer${n === 1 ? '' : 's'} of mempool ${id} before it stay freed: the pool was released)`;
      i += n;
    }
  }

  readonly id: number;
  readonly entries: number;
  readonly entrySize: number;
  readonly headroom: number;
  /** Usable bytes per buffer: entrySize - headroom. */
  readonly bufSize: number;
  readonly safe: boolean;
  /** Where the buffers were allocated (a device reaches them if `dmaReaches(its allocator, this)`). */
  readonly allocator: DmaAllocator;
  readonly region: DmaRegion;
  /** The whole region as bytes. */
  readonly bytes: Uint8Array;
  /** Bus address of each buffer's data (after the headroom), by index. */
  readonly physAddr: Float64Array;
  /**
   * The same addresses as the 8 bytes a descriptor holds (a little-endian 64-bit integer),
   * viewed as float64: a driver writes a descriptor's address field with one 8-byte store
   * through a Float64Array view of its ring, as C writes a uint64_t, instead of two 32-bit
   * halves computed with a float multiply and two conversions each. Loads and stores of a
   * float64 copy its bits exactly; addresses below 2^52 are never NaN patterns (a NaN, whose
   * bits an engine may canonicalise, needs all 11 exponent bits set).
   */
  readonly addrBits: Float64Array;
  /** Packet length of each buffer, by index. */
  readonly length: Uint16Array;
  /**
   * Safe mode: who owns each buffer, by index; empty in fast mode. The checks tell two sides
   * apart: the application's (BUFFER_APP) and the pool's, which is the free stack and the
   * drivers' rings (BUFFER_FREE or BUFFER_DRIVER).
   * - What the application hands over must be its own: a send (`driverTake`) or a free finds
   *   BUFFER_APP and stores BUFFER_DRIVER or BUFFER_FREE. This refuses a double free, a use
   *   after free, and a send of a packet already sent.
   * - What a driver hands to the application or frees must not be the application's: a receive
   *   (`driverGive`) finds BUFFER_FREE or BUFFER_DRIVER and stores BUFFER_APP; a TX clean-up
   *   (`driverFree`, `driverFreeRun`) finds either. This refuses a buffer the application still
   *   holds that a driver's ring also holds (a driver's bug, or a ring's handles corrupted):
   *   once received (the device has written into it by then), or before the pool hands it out
   *   again (a clean-up).
   * - Moves within the pool's side store nothing: an RX refill (`driverAlloc`, or inline)
   *   and a TX clean-up leave the byte as it was. Each such store was a few per cent of safe
   *   mode's fwd step (the ixgbe RX refill's ×1.035, the TX clean-up's ×1.06; ab-paired,
   *   Node 24). The byte then still says how the buffer left the application, which is what
   *   an error names: a free of a buffer freed before is a double free wherever the buffer is
   *   now (ownershipError looks in the free stack for the rest).
   * - alloc, allocBatch and driverAlloc refuse a buffer popped off the free stack that is the
   *   application's: it was in the stack twice. A driver's inline refill (the ixgbe RX) does
   *   not check what it pops: its receive check finds such a buffer when it comes back.
   *
   * A driver's packet loop may check and move the byte inline, a compare and a store per
   * packet instead of a call (the pool's id already matched when the pool was looked up by the
   * handle): `if (owner[i] !== BUFFER_APP) throw pool.ownershipError(h, BUFFER_APP,
   * 'transmit'); owner[i] = BUFFER_DRIVER`.
   *
   * What the two sides give up: a buffer that is in two places of the pool's side at once (a
   * clean-up that frees one twice, a driver's bug) is not refused where it happens. It is
   * caught when a free stack would hold more buffers than the pool, when alloc, allocBatch or
   * driverAlloc pop it as the application's, or when a receive or clean-up finds it so. Until
   * then the device and the application may both write into it, and in some orders it is not
   * caught at all (alloc, send, alloc again, send; or a buffer the application freed that an
   * RX ring also holds, received, sent, and popped again by alloc). The application's own
   * mistakes are all refused where they happen.
   */
  readonly owner: Uint8Array;
  /**
   * The free stack (indices; `freeCount` of them, the top one last). Drivers may pop it inline
   * in a refill loop: see driverAvailable.
   */
  readonly freeStack: Uint32Array;
  private top: number;
  /** Allocation fails while `top` is at or below this: 0 while open, above `entries` once closed. */
  private allocFloor = 0;
  /** The memory is released when `top` comes back to this: never while open, `entries` once closed. */
  private releaseAt = -1;
  private closed = false;
  private released = false;

  constructor(options: MempoolOptions) {
    const entrySize = options.entrySize ?? 2048;
    const headroom = options.headroom ?? 128;
    const { entries } = options;
    if (!Number.isInteger(entries) || entries < 1 || entries > MAX_POOL_ENTRIES) {
      throw new RangeError(`mempool entries must be an integer in 1..${MAX_POOL_ENTRIES}, got ${entries}`);
    }
    if (!Number.isInteger(entrySize) || entrySize < 256 || entrySize > 2 << 20 || (entrySize & (entrySize - 1)) !== 0) {
      throw new RangeError(`mempool entrySize must be a power of two from 256 to 2 MiB, got ${entrySize}`);
    }
    if (!Number.isInteger(headroom) || headroom < 0 || headroom > entrySize - 64 || headroom % 8 !== 0) {
      throw new RangeError(`mempool headroom must be a multiple of 8 leaving 64 bytes of buffer, got ${headroom}`);
    }
    const id = POOLS.findIndex((p) => p === undefined);
    this.id = id >= 0 ? id : POOLS.length;
    if (this.id >= MAX_POOLS) throw new IxyError('ETOOMANYPOOLS', `at most ${MAX_POOLS} mempools can exist at once`);

    this.entries = entries;
    this.entrySize = entrySize;
    this.headroom = headroom;
    this.bufSize = entrySize - headroom;
    this.safe = options.safe ?? false;
    this.allocator = options.allocator;
    this.region = options.allocator.allocate(entries * entrySize);
    if (this.region.contiguousChunk % entrySize !== 0 && this.region.contiguousChunk < this.region.size) {
      this.region.free();
      throw new RangeError(`entrySize ${entrySize} does not divide the allocator's contiguous chunk`);
    }
    this.bytes = new Uint8Array(this.region.buffer, 0, entries * entrySize);
    this.physAddr = new Float64Array(entries);
    this.addrBits = new Float64Array(entries);
    const bits = new Uint32Array(this.addrBits.buffer);
    this.length = new Uint16Array(entries);
    this.freeStack = new Uint32Array(entries);
    this.owner = new Uint8Array(this.safe ? entries : 0);
    for (let i = 0; i < entries; i++) {
      const addr = this.region.physAddr(i * entrySize + headroom);
      this.physAddr[i] = addr;
      bits[2 * i] = addr >>> 0;
      bits[2 * i + 1] = Math.floor(addr / 2 ** 32);
      // LIFO: index 0 is handed out first, as in ixy
      this.freeStack[i] = entries - 1 - i;
    }
    this.top = entries;
    POOLS[this.id] = this;
  }

  /** Free buffers left. */
  get freeCount(): number {
    return this.top;
  }

  /** Byte offset of a packet's data in `bytes`. */
  dataOffset(handle: number): number {
    return (handle & IDX) * this.entrySize + this.headroom;
  }

  /** Handle of buffer `index` of this pool. */
  handle(index: number): number {
    return ((this.id << SHIFT) | index) >>> 0;
  }

  /** Takes a buffer for the application; returns its handle, or -1 when the pool is empty. */
  alloc(): number {
    if (this.top <= this.allocFloor) return -1;
    const index = this.freeStack[--this.top];
    if (this.safe) {
      if (this.owner[index] === APP) throw this.freedTwice(index);
      this.owner[index] = APP;
    }
    return ((this.id << SHIFT) | index) >>> 0;
  }

  /** Like alloc, but throws PoolExhaustedError instead of returning -1 (for set-up code). */
  allocOrThrow(): number {
    const h = this.alloc();
    if (h < 0) throw new PoolExhaustedError(`mempool ${this.id} has no free buffer (${this.entries} in all)`);
    return h;
  }

  /**
   * Fills `batch` with up to `count` fresh buffers (default: its capacity), replacing its
   * contents; returns how many it got.
   */
  allocBatch(batch: PacketBatch, count = batch.capacity): number {
    const n = Math.max(0, Math.min(count, batch.capacity, this.top - this.allocFloor));
    const h = batch.handles;
    const stack = this.freeStack;
    const tag = this.id << SHIFT;
    let top = this.top;
    for (let i = 0; i < n; i++) h[i] = (tag | stack[--top]) >>> 0;
    this.top = top;
    if (this.safe) {
      for (let i = 0; i < n; i++) {
        if (this.owner[h[i] & IDX] === APP) {
          this.top += n - i - 1; // the rest back on the stack; the second entry of h[i] dropped
          batch.length = i;
          throw this.freedTwice(h[i] & IDX);
        }
        this.owner[h[i] & IDX] = APP;
      }
    }
    batch.length = n;
    return n;
  }

  /** Returns an application-owned buffer to the pool. */
  free(handle: number): void {
    const index = handle & IDX;
    if (this.safe) {
      if (this.owner[index] !== APP || handle >>> SHIFT !== this.id || this.released)
        this.transfer(handle, APP, FREE, 'free');
      this.owner[index] = FREE;
    }
    this.freeStack[this.top++] = index;
    if (this.top === this.releaseAt) this.release();
  }

  // ---- transfers between driver and application (drivers call these) ----

  /** A driver takes a buffer for itself (RX refill). Returns -1 when the pool is empty. */
  driverAlloc(): number {
    if (this.top <= this.allocFloor) return -1;
    const index = this.freeStack[--this.top];
    // the byte stays as it is: the pool's side (see `owner`)
    if (this.safe && this.owner[index] === APP) throw this.freedTwice(index);
    return ((this.id << SHIFT) | index) >>> 0;
  }

  /**
   * Inline bulk take, for a driver's refill loop (the ixgbe RX refill: one store and one load
   * per packet less than taking the buffers into an array first). Returns how many of `count` buffers the driver
   * may take. The loop starts from `let top = pool.freeCount`, pops `index = pool.freeStack[--top]`
   * that many times or fewer (handle: `pool.handle(index)`; the state byte stays as it is, see
   * `owner`), and ends with `pool.driverAllocEnd(top)`.
   */
  driverAvailable(count: number): number {
    const avail = this.top - this.allocFloor;
    return count < avail ? count : avail > 0 ? avail : 0;
  }

  /** Ends an inline bulk take (see driverAvailable): `top` is where the driver's pops stopped. */
  driverAllocEnd(top: number): void {
    if (!(top <= this.top && top >= this.allocFloor)) {
      throw new RangeError(
        `mempool ${this.id}: a driver's take ended at ${top}, outside ${this.allocFloor}..${this.top}`,
      );
    }
    this.top = top;
  }

  /** A driver hands a received buffer to the application (RX). */
  driverGive(handle: number): void {
    if (this.safe) {
      const index = handle & IDX;
      if (this.owner[index] === APP || index >= this.entries || handle >>> SHIFT !== this.id || this.released)
        this.transfer(handle, DRIVER, APP, 'receive');
      this.owner[index] = APP;
    }
  }

  /** A driver accepts a buffer from the application (TX). */
  driverTake(handle: number): void {
    if (this.safe) {
      const index = handle & IDX;
      if (this.owner[index] !== APP || handle >>> SHIFT !== this.id || this.released)
        this.transfer(handle, APP, DRIVER, 'transmit');
      this.owner[index] = DRIVER;
    }
  }

  /** A driver frees a buffer it owns (TX completion, queue teardown); its byte stays as it is (see `owner`). */
  driverFree(handle: number): void {
    const index = handle & IDX;
    if (this.safe) {
      if (this.owner[index] === APP || index >= this.entries || handle >>> SHIFT !== this.id || this.released)
        this.transfer(handle, DRIVER, DRIVER, 'release');
      if (this.top >= this.entries) throw this.overfilled();
    }
    this.freeStack[this.top++] = index;
    if (this.top === this.releaseAt) this.release();
  }

  /**
   * A driver frees buffers of this pool it owns (TX completion): the handles in `ring` from
   * `start` on, wrapping with `mask`, up to `count` of them or the first of another pool;
   * returns how many it freed. A driver that knows its packets' pool calls it on that pool,
   * whose arrays are then constants of its compiled loop (see the ixgbe TX queue's clean-up).
   */
  driverFreeRun(ring: Uint32Array, start: number, count: number, mask: number): number {
    const id = this.id;
    const stack = this.freeStack;
    let top = this.top;
    let i = 0;
    // a loop per mode: the fast one keeps no state array and tests no mode per packet (fwd
    // step at batch 32 ×0.93–0.955, safe ×0.985; ab-paired, Node 24)
    if (this.safe === true) {
      const state = this.owner;
      const entries = this.entries;
      // a buffer the application holds (or an index past the pool: a corrupted handle) leaves
      // the loop, and the error is raised after it, with none of the run freed: the driver's
      // ring keeps it, and a second clean-up of the ring must not free the buffers before the
      // bad one again (their bytes do not say they were freed). With the call inside, the loop
      // had a path back from a call, which could have changed anything, so the optimised code
      // could keep nothing it had loaded across packets: safe fwd step at batch 32 ×0.94,
      // safe ÷ fast 1.19 -> 1.13 (ab-paired, Node 24)
      //
      // The byte is checked not to be the application's and left as it is (see `owner`): a
      // store of BUFFER_FREE here cost safe fwd at batch 32 ×1.06 (ab-paired, Node 24, in the
      // loop or in a loop of its own after it).
      let failed = false;
      for (; i < count; i++) {
        const h = ring[(start + i) & mask];
        if (h >>> SHIFT !== id) break;
        const index = h & IDX;
        if (state[index] === APP || index >= entries) {
          failed = true;
          break;
        }
        stack[top++] = index;
      }
      // either error: the run's pushes undone (`top` not saved)
      if (failed) this.transfer(ring[(start + i) & mask], DRIVER, DRIVER, 'release');
      if (top > this.entries) throw this.overfilled();
    } else {
      for (; i < count; i++) {
        const h = ring[(start + i) & mask];
        if (h >>> SHIFT !== id) break;
        stack[top++] = h & IDX;
      }
    }
    this.top = top;
    if (top >= this.releaseAt && this.releaseAt >= 0) this.release();
    return i;
  }

  /** Safe mode: a free stack that would hold more buffers than the pool. */
  private overfilled(): OwnershipError {
    return new OwnershipError(
      `release: a driver freed more buffers than mempool ${this.id} holds (${this.entries}): one was freed twice`,
    );
  }

  /**
   * Safe mode: a buffer popped off the free stack that is the application's: it was in the
   * stack twice (a TX clean-up freed it twice, see `owner`), and handed out before.
   */
  private freedTwice(index: number): OwnershipError {
    return new OwnershipError(
      `alloc of buffer ${index} of mempool ${this.id}: it was in the free stack twice (a driver freed it twice) and is the application's`,
    );
  }

  /**
   * Safe mode: is this handle one of ours and on the side `from` names (BUFFER_APP: the
   * application's; BUFFER_DRIVER: the pool's, see `owner`)? Then move it to `to`.
   */
  private transfer(handle: number, from: number, to: number, what: string): void {
    const index = handle & INDEX_MASK;
    const state = this.owner[index];
    if (
      this.released ||
      handle >>> POOL_SHIFT !== this.id ||
      index >= this.entries ||
      (from === APP ? state !== APP : state === APP)
    ) {
      throw this.ownershipError(handle, from, what, to);
    }
    this.owner[index] = to;
  }

  /**
   * Safe mode: the error for a transfer of `handle` that expected the buffer in state `from`
   * (BUFFER_APP, BUFFER_DRIVER) and found it otherwise (`state`: what the check saw, by default
   * the buffer's state now); `what` names the transfer ('transmit', 'receive', ...) and `to`
   * the state it was for. For drivers that check ownership inline (see `owner`).
   */
  ownershipError(handle: number, from: number, what: string, to = -1, state?: number): OwnershipError {
    const index = handle & INDEX_MASK;
    if (this.released) return new OwnershipError(`${what}: mempool ${this.id} is closed`);
    if (handle >>> POOL_SHIFT !== this.id || index >= this.entries) {
      return new OwnershipError(
        `${what} of a foreign buffer: handle 0x${(handle >>> 0).toString(16)} is not a buffer of mempool ${this.id}`,
      );
    }
    let seen = state ?? this.owner[index];
    // a buffer a TX clean-up freed keeps the driver's byte (see `owner`)
    if (seen === DRIVER && this.freeStack.subarray(0, this.top).includes(index)) seen = FREE;
    const detail =
      seen === FREE
        ? from === APP && to === FREE
          ? 'double free'
          : 'use after free'
        : from === APP
          ? `buffer is ${STATE_NAMES[seen]}, expected ${STATE_NAMES[APP]}`
          : // a driver's transfer: any buffer but the application's (see `owner`)
            `buffer is ${STATE_NAMES[seen]}, expected a driver's or a free one`;
    return new OwnershipError(`${what} of buffer ${index} of mempool ${this.id}: ${detail}`);
  }

  /**
   * Closes the pool: nothing more is allocated from it, and its memory is released as soon as
   * every buffer is back: at once if all are free, else when the last one comes back. A
   * buffer may still sit in another device's TX ring (ixy-fwd sends one port's packets out of
   * the other): that device frees it once it has stopped, and only then does the memory go,
   * never under a queue that can still use it. Handles of a released pool are invalid.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.allocFloor = this.entries + 1;
    this.releaseAt = this.entries;
    if (this.top === this.entries) this.release();
  }

  /** Is the pool closed (it gives out no more buffers)? */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Is the pool's memory released (closed with every buffer back)? */
  get isReleased(): boolean {
    return this.released;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseAt = -1;
    POOLS[this.id] = undefined;
    this.region.free();
  }
}
