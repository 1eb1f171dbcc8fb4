import type { DmaRegion } from '@ixy/core';
import { VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_USED_F_NO_NOTIFY } from './constants.js';
import type { VirtqueueLayout } from './virtqueue-layout.js';

/**
 * One split virtqueue (§2.7) in DMA memory, seen through typed arrays:
 *
 * - `desc`: the descriptor table as 32-bit words, four per descriptor: addr low, addr high,
 *   len, flags | next << 16 (§2.7.5). Addresses are written as two 32-bit halves.
 * - `avail`: the available ring as 16-bit words: flags, idx, ring[size], used_event (§2.7.6).
 * - `usedIdx16`/`used32`: the used ring: flags and idx as 16-bit words, elements {id, len}
 *   as 32-bit words from word 1 on (§2.7.8).
 *
 * Fields the device writes (used flags and idx) are read with Atomics.load, so the engine
 * reads memory every time instead of reusing an earlier value; the available idx is
 * published with Atomics.store after the descriptors and ring slots it covers (a sequentially
 * consistent store: on x86 it also orders the following read of the used flags, as the
 * notification suppression check in §2.7.10 needs).
 *
 * Descriptors are handed out from a stack of free indices, so the device may complete them
 * in any order. `bufs` remembers the packet handle each descriptor carries.
 */
export class Virtqueue {
  readonly size: number;
  readonly mask: number;
  readonly desc: Uint32Array;
  readonly avail: Uint16Array;
  readonly usedIdx16: Uint16Array;
  readonly used32: Uint32Array;
  /** Bus addresses of the three parts (for the transport). */
  readonly descAddr: number;
  readonly availAddr: number;
  readonly usedAddr: number;
  /** Packet handle carried by each descriptor. */
  readonly bufs: Uint32Array;
  /** Our copy of avail->idx (free-running, 16 bits). */
  availIdx = 0;
  /** Used ring entries consumed so far (free-running, 16 bits). */
  lastUsed = 0;
  private readonly freeStack: Uint16Array;
  private freeTop = 0;

  /**
   * @param usable descriptors the driver may have outstanding (at most `layout.size`): a
   *   legacy queue's size is fixed by the device, so a smaller ring is a smaller free stack.
   */
  constructor(
    readonly index: number,
    region: DmaRegion,
    offset: number,
    readonly layout: VirtqueueLayout,
    usable = layout.size,
  ) {
    const { size } = layout;
    if (!Number.isInteger(usable) || usable < 1 || usable > size) {
      throw new RangeError(`usable descriptors must be in 1..${size}, got ${usable}`);
    }
    this.size = size;
    this.mask = size - 1;
    this.desc = new Uint32Array(region.buffer, offset + layout.descOffset, 4 * size);
    this.avail = new Uint16Array(region.buffer, offset + layout.availOffset, 3 + size);
    this.usedIdx16 = new Uint16Array(region.buffer, offset + layout.usedOffset, 2);
    this.used32 = new Uint32Array(region.buffer, offset + layout.usedOffset, 1 + 2 * size);
    this.descAddr = region.physAddr(offset + layout.descOffset);
    this.availAddr = region.physAddr(offset + layout.availOffset);
    this.usedAddr = region.physAddr(offset + layout.usedOffset);
    new Uint8Array(region.buffer, offset, layout.bytes).fill(0);
    this.bufs = new Uint32Array(size);
    this.freeStack = new Uint16Array(usable);
    // lowest index on top, so descriptors are used 0, 1, 2, ... at first
    for (let i = 0; i < usable; i++) this.freeStack[i] = usable - 1 - i;
    this.freeTop = usable;
    // We poll: ask the device not to interrupt (§2.7.7 Used Buffer Notification Suppression);
    // a receive queue with a wake-up allows interrupts only while its poller sleeps.
    this.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
  }

  /** Descriptors the driver uses (the ring size it was asked for; at most `size`). */
  get usable(): number {
    return this.freeStack.length;
  }

  /** Free descriptors. */
  get freeCount(): number {
    return this.freeTop;
  }

  /** Descriptors the driver has handed to the device and not got back. */
  get inFlight(): number {
    return this.freeStack.length - this.freeTop;
  }

  /** Ids of the descriptors in flight (for teardown; allocates). */
  inFlightIds(): number[] {
    const free = new Uint8Array(this.size);
    for (let i = 0; i < this.freeTop; i++) free[this.freeStack[i]] = 1;
    const ids: number[] = [];
    for (let id = 0; id < this.freeStack.length; id++) if (!free[id]) ids.push(id);
    return ids;
  }

  /** Takes a free descriptor; the caller checks freeCount first. */
  allocDesc(): number {
    return this.freeStack[--this.freeTop];
  }

  freeDesc(id: number): void {
    this.freeStack[this.freeTop++] = id;
  }

  /** Fills descriptor `id` (flags as in §2.7.5; `next` only with VIRTQ_DESC_F_NEXT). */
  setDesc(id: number, addr: number, len: number, flags: number, next = 0): void {
    const w = id << 2;
    const d = this.desc;
    d[w] = addr >>> 0;
    d[w + 1] = (addr / 0x1_0000_0000) >>> 0;
    d[w + 2] = len;
    d[w + 3] = flags | (next << 16);
  }

  /** Puts descriptor chain head `id` in the next available slot (not yet visible). */
  pushAvail(id: number): void {
    this.avail[2 + (this.availIdx & this.mask)] = id;
    this.availIdx = (this.availIdx + 1) & 0xffff;
  }

  /** Makes the slots pushed so far visible to the device (§2.7.13 Supplying Buffers). */
  publish(): void {
    Atomics.store(this.avail, 1, this.availIdx);
  }

  /** Does the device want a notification now (§2.7.10, without VIRTIO_F_EVENT_IDX)? */
  needsNotify(): boolean {
    return (Atomics.load(this.usedIdx16, 0) & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /**
   * Asks the device for used buffer notifications (interrupts) again by clearing
   * VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7), then looks at the used ring once more: the device
   * decides whether to interrupt when it adds a buffer, so one added before the flag was
   * cleared raised none. Returns false, with notifications suppressed again, when used buffers
   * are waiting (then poll instead of sleeping). Without VIRTIO_F_EVENT_IDX (not negotiated).
   */
  enableInterrupts(): boolean {
    // A sequentially consistent store (xchg on x86): the flag is visible to the device
    // before the used idx is read below.
    Atomics.store(this.avail, 0, 0);
    if (Atomics.load(this.usedIdx16, 1) !== this.lastUsed) {
      Atomics.store(this.avail, 0, VIRTQ_AVAIL_F_NO_INTERRUPT);
      return false;
    }
    return true;
  }

  /** Suppresses used buffer notifications (§2.7.7): the driver polls. The state after set-up. */
  disableInterrupts(): void {
    Atomics.store(this.avail, 0, VIRTQ_AVAIL_F_NO_INTERRUPT);
  }

  /** The device's used idx, read from memory. */
  usedIdx(): number {
    return Atomics.load(this.usedIdx16, 1);
  }

  /** Descriptor id of used ring slot `n` (free-running index). */
  usedId(n: number): number {
    return this.used32[1 + ((n & this.mask) << 1)];
  }

  /** Bytes the device wrote into the buffer of used ring slot `n`. */
  usedLen(n: number): number {
    return this.used32[2 + ((n & this.mask) << 1)];
  }
}
