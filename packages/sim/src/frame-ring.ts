import type { FutexWord } from '@ixy/core';
import { futexWake } from '@ixy/memory';

// index words: the consumer's head and the producer's tail, 64 bytes apart
const HEAD = 0;
const TAIL = 16;
// wake-up words (16 bytes on their own line): a sleeping consumer's flag and the word it sleeps
// on, which the producer bumps; the same for a producer sleeping until there is room
const DATA_WAITING = 0;
const DATA_SEQ = 1;
const ROOM_WAITING = 2;
const ROOM_SEQ = 3;
/** Bytes of the wake-up block. */
export const FRAME_RING_WAKE_BYTES = 16;

/**
 * A single-producer single-consumer ring of frames in shared memory: one direction of a
 * cable. Indices are free-running 32-bit counters in shared memory, each on its own 64-byte
 * line, read and written with Atomics; slots hold a 32-bit length and the frame's bytes.
 * All-zero memory is an empty ring, so a fresh (zero-filled) file is a valid cable.
 *
 * The producer writes a slot, then publishes it by storing the tail; the consumer reads the
 * tail, copies the slot, then frees it by storing the head. Atomics order the plain byte
 * copies against the index updates, in one process or across threads and processes.
 *
 * Each side keeps its own index locally and the other side's as last seen, so a burst of
 * frames costs one shared load when the cached view runs out and one shared store at the end
 * (`flush` for the producer, `commit` for the consumer). The side that attaches an end calls
 * `syncProducer`/`syncConsumer` to take over the indices in shared memory.
 *
 * Either side may sleep (a poll loop gone idle): the consumer until a frame arrives, the
 * producer until there is room. The sleeper raises its flag, reads the sequence word, checks
 * the ring once more and sleeps on the word (a futex); the other side, after publishing its
 * index, sees the flag (one atomic load per burst), bumps the word and wakes it (a system
 * call, only then). Both sides store before they load, with sequentially consistent Atomics,
 * so either the sleeper sees the new index or the other side sees the flag: no lost wake-up.
 */
export class FrameRing {
  /** Bytes of frame data per slot. */
  readonly maxFrame: number;
  readonly slots: number;
  /** The slot memory: frames at the byte offsets reserve/peek return. */
  readonly data: Uint8Array;
  /** The slot memory as 32-bit words (slots and frame data are 4-byte aligned). */
  readonly words: Uint32Array;
  private readonly mask: number;
  private readonly index: Int32Array;
  private readonly wake: Int32Array;
  private readonly buffer: ArrayBuffer;
  private readonly wakeOffset: number;
  private readonly slotSize: number;
  // producer side
  private tail = 0;
  private seenHead = 0;
  // consumer side
  private head = 0;
  private seenTail = 0;
  /** Why the ring is unusable ('' while it is fine): the peer's index made no sense. */
  private brokenBy = '';

  /**
   * @param buffer the shared mapping
   * @param indexOffset byte offset of the two index lines (128 bytes)
   * @param dataOffset byte offset of the slots
   * @param wakeOffset byte offset of the wake-up words (FRAME_RING_WAKE_BYTES)
   */
  constructor(
    buffer: ArrayBuffer,
    indexOffset: number,
    dataOffset: number,
    slots: number,
    slotSize: number,
    wakeOffset: number,
  ) {
    this.buffer = buffer;
    this.wakeOffset = wakeOffset;
    this.wake = new Int32Array(buffer, wakeOffset, FRAME_RING_WAKE_BYTES >>> 2);
    this.slots = slots;
    this.mask = slots - 1;
    this.slotSize = slotSize;
    this.maxFrame = slotSize - 4;
    this.index = new Int32Array(buffer, indexOffset, 32);
    this.data = new Uint8Array(buffer, dataOffset, slots * slotSize);
    this.words = new Uint32Array(buffer, dataOffset, (slots * slotSize) >>> 2);
    this.syncProducer();
    this.syncConsumer();
  }

  /** Takes over the producer index from shared memory (when this side attaches). */
  syncProducer(): void {
    this.tail = Atomics.load(this.index, TAIL);
    this.seenHead = Atomics.load(this.index, HEAD);
    if ((this.tail - this.seenHead) >>> 0 > this.slots)
      this.markBroken(
        `at attach, the tail ${this.tail} is ${(this.tail - this.seenHead) >>> 0} ahead of the head ${this.seenHead}`,
      );
  }

  /** Takes over the consumer index from shared memory (when this side attaches). */
  syncConsumer(): void {
    this.head = Atomics.load(this.index, HEAD);
    this.seenTail = Atomics.load(this.index, TAIL);
    if ((this.seenTail - this.head) >>> 0 > this.slots) {
      this.markBroken(
        `at attach, the tail ${this.seenTail} is ${(this.seenTail - this.head) >>> 0} ahead of the head ${this.head}`,
      );
      this.seenTail = this.head;
    }
  }

  /** Frames waiting to be received (as shared memory says now). */
  get count(): number {
    return (Atomics.load(this.index, TAIL) - Atomics.load(this.index, HEAD)) >>> 0;
  }

  /** Is there room for one more frame? (producer side) */
  hasRoom(): boolean {
    return this.reserve() >= 0;
  }

  // ---- producer ----

  /**
   * The slot to write the next frame into, as a byte offset in `data`, or -1 when the ring is
   * full. Write at most `maxFrame` bytes there, then `publish(length)`, and `flush()` after a
   * burst.
   */
  reserve(): number {
    if ((this.tail - this.seenHead) >>> 0 >= this.slots) {
      if (this.brokenBy !== '') return -1;
      // the consumer's index is input: it can only trail the tail by at most `slots`
      const head = Atomics.load(this.index, HEAD);
      const used = (this.tail - head) >>> 0;
      if (used > this.slots) {
        this.markBroken(
          `the consumer's head ${head} is ${used} behind the tail ${this.tail} of a ${this.slots}-slot ring`,
        );
        return -1;
      }
      this.seenHead = head;
      if (used >= this.slots) return -1;
    }
    return (this.tail & this.mask) * this.slotSize + 4;
  }

  /** Completes the reserved slot (visible to the consumer at the next flush). */
  publish(length: number): void {
    this.words[((this.tail & this.mask) * this.slotSize) >>> 2] = length;
    this.tail = (this.tail + 1) | 0;
  }

  /** Makes every published frame visible to the consumer. */
  flush(): void {
    Atomics.store(this.index, TAIL, this.tail);
    if (Atomics.load(this.wake, DATA_WAITING) !== 0) this.wakeSleeper(DATA_WAITING, DATA_SEQ);
  }

  // ---- consumer ----

  /** Byte offset in `data` of the oldest frame, or -1 when the ring is empty. */
  peek(): number {
    if (this.head === this.seenTail) {
      if (this.brokenBy !== '') return -1;
      // the producer's index is input: it can only lead the head by at most `slots`
      const tail = Atomics.load(this.index, TAIL);
      if ((tail - this.head) >>> 0 > this.slots) {
        this.markBroken(
          `the producer's tail ${tail} is ${(tail - this.head) >>> 0} ahead of the head ${this.head} of a ${this.slots}-slot ring`,
        );
        return -1;
      }
      this.seenTail = tail;
      if (this.head === this.seenTail) return -1;
    }
    return (this.head & this.mask) * this.slotSize + 4;
  }

  /** Length of the frame at `peek()` (0 for a corrupt length). */
  peekLength(): number {
    const len = this.words[((this.head & this.mask) * this.slotSize) >>> 2];
    return len > this.maxFrame ? 0 : len;
  }

  /** Frees the oldest frame (for the producer at the next commit). */
  release(): void {
    this.head = (this.head + 1) | 0;
  }

  /** Hands every released slot back to the producer. */
  commit(): void {
    Atomics.store(this.index, HEAD, this.head);
    if (Atomics.load(this.wake, ROOM_WAITING) !== 0) this.wakeSleeper(ROOM_WAITING, ROOM_SEQ);
  }

  /** Why the ring is unusable, or '' while it is fine. */
  get broken(): string {
    return this.brokenBy;
  }

  /**
   * A shared index made no sense (a corrupt or hostile peer): the ring is not used again, so no
   * phantom frame is ever delivered and no slot outside the ring is touched; the port sees its
   * link go down.
   */
  private markBroken(why: string): void {
    if (this.brokenBy === '') this.brokenBy = why;
  }

  // ---- sleeping and waking ----

  private wakeSleeper(flag: number, seq: number): void {
    if (Atomics.compareExchange(this.wake, flag, 1, 0) !== 1) return; // someone else woke it
    Atomics.add(this.wake, seq, 1);
    futexWake(this.buffer, this.wakeOffset + seq * 4);
  }

  /**
   * Consumer: announces a sleep until a frame arrives, and sets `word` to sleep on. False (and
   * nothing announced) when a frame is already waiting.
   */
  armConsumer(word: FutexWord): boolean {
    Atomics.store(this.wake, DATA_WAITING, 1);
    word.value = Atomics.load(this.wake, DATA_SEQ);
    if (Atomics.load(this.index, TAIL) !== this.head) {
      Atomics.store(this.wake, DATA_WAITING, 0);
      return false;
    }
    return true;
  }

  /** Producer: announces a sleep until there is room; false when there is room already. */
  armProducer(word: FutexWord): boolean {
    Atomics.store(this.wake, ROOM_WAITING, 1);
    word.value = Atomics.load(this.wake, ROOM_SEQ);
    if ((this.tail - Atomics.load(this.index, HEAD)) >>> 0 < this.slots) {
      Atomics.store(this.wake, ROOM_WAITING, 0);
      return false;
    }
    return true;
  }

  /** Consumer: ends an announced sleep (leaves the producer's flag alone). */
  disarmConsumer(): void {
    if (this.wake[DATA_WAITING] !== 0) Atomics.store(this.wake, DATA_WAITING, 0);
  }

  /** Producer: ends an announced sleep (leaves the consumer's flag alone). */
  disarmProducer(): void {
    if (this.wake[ROOM_WAITING] !== 0) Atomics.store(this.wake, ROOM_WAITING, 0);
  }

  /** The word a sleeping consumer (`data`) or producer waits on, for a FutexWord. */
  wakeWord(data: boolean): { buffer: ArrayBuffer; byteOffset: number } {
    return { buffer: this.buffer, byteOffset: this.wakeOffset + (data ? DATA_SEQ : ROOM_SEQ) * 4 };
  }

  /** Wakes both sides whether or not they sleep (a link change). */
  wakeAll(): void {
    Atomics.add(this.wake, DATA_SEQ, 1);
    Atomics.add(this.wake, ROOM_SEQ, 1);
    futexWake(this.buffer, this.wakeOffset + DATA_SEQ * 4);
    futexWake(this.buffer, this.wakeOffset + ROOM_SEQ * 4);
  }

  /** Throws away every waiting frame (an end that opens discards stale frames). */
  discardAll(): void {
    this.seenTail = Atomics.load(this.index, TAIL);
    this.head = this.seenTail;
    this.commit();
  }

  // ---- copying conveniences for tools and tests (they allocate) ----

  /** Sends a copy of `frame`; false when the ring is full. */
  send(frame: Uint8Array): boolean {
    if (frame.length > this.maxFrame)
      throw new RangeError(`frame of ${frame.length} bytes exceeds the slot size ${this.maxFrame}`);
    const at = this.reserve();
    if (at < 0) return false;
    this.data.set(frame, at);
    this.publish(frame.length);
    this.flush();
    return true;
  }

  /** Receives a copy of the next frame, or null. */
  receive(): Uint8Array | null {
    const at = this.peek();
    if (at < 0) return null;
    const frame = this.data.slice(at, at + this.peekLength());
    this.release();
    this.commit();
    return frame;
  }
}
