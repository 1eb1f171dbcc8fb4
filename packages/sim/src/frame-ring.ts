/**
 * A single-producer single-consumer ring of frames in shared memory: one direction of a
 * cable. Indices are free-running 32-bit counters, read and written with Atomics, each on its
 * own 64-byte line; slots hold a 32-bit length and the frame's bytes. All-zero memory is an
 * empty ring, so a fresh (zero-filled) file is a valid cable.
 *
 * The producer writes a slot, then publishes it by storing the tail; the consumer reads the
 * tail, copies the slot, then frees it by storing the head. Atomics order the plain byte
 * copies against the index updates, in one process or across processes.
 */
export class FrameRing {
  /** Bytes of frame data per slot. */
  readonly maxFrame: number;
  readonly slots: number;
  private readonly mask: number;
  private readonly index: Int32Array;
  private readonly headAt: number;
  private readonly tailAt: number;
  private readonly lengths: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly slotSize: number;
  private readonly dataStart: number;

  /**
   * @param buffer the shared mapping
   * @param indexOffset byte offset of the two index lines (128 bytes)
   * @param dataOffset byte offset of the slots
   */
  constructor(buffer: ArrayBuffer, indexOffset: number, dataOffset: number, slots: number, slotSize: number) {
    this.slots = slots;
    this.mask = slots - 1;
    this.slotSize = slotSize;
    this.maxFrame = slotSize - 4;
    this.index = new Int32Array(buffer, indexOffset, 32);
    this.headAt = 0;
    this.tailAt = 16;
    this.lengths = new Int32Array(buffer, dataOffset, (slots * slotSize) >>> 2);
    this.bytes = new Uint8Array(buffer, dataOffset, slots * slotSize);
    this.dataStart = 4;
  }

  /** Frames waiting to be received. */
  get count(): number {
    return (Atomics.load(this.index, this.tailAt) - Atomics.load(this.index, this.headAt)) >>> 0;
  }

  /** Is there room for one more frame? (producer side) */
  hasRoom(): boolean {
    return this.count < this.slots;
  }

  /**
   * Producer: the slot to write the next frame into, as a byte offset in `bytes`, or -1 when
   * the ring is full. Write at most `maxFrame` bytes there, then `publish(length)`.
   */
  reserve(): number {
    const tail = Atomics.load(this.index, this.tailAt);
    const head = Atomics.load(this.index, this.headAt);
    if (((tail - head) >>> 0) >= this.slots) return -1;
    return (tail & this.mask) * this.slotSize + this.dataStart;
  }

  /** Producer: publishes the frame written into the reserved slot. */
  publish(length: number): void {
    const tail = Atomics.load(this.index, this.tailAt);
    this.lengths[((tail & this.mask) * this.slotSize) >>> 2] = length;
    Atomics.store(this.index, this.tailAt, (tail + 1) | 0);
  }

  /** Consumer: byte offset of the oldest frame in `bytes`, or -1 when the ring is empty. */
  peek(): number {
    const head = Atomics.load(this.index, this.headAt);
    if (head === Atomics.load(this.index, this.tailAt)) return -1;
    return (head & this.mask) * this.slotSize + this.dataStart;
  }

  /** Consumer: length of the frame at `peek()`. */
  peekLength(): number {
    const head = Atomics.load(this.index, this.headAt);
    const len = this.lengths[((head & this.mask) * this.slotSize) >>> 2];
    return len < 0 || len > this.maxFrame ? 0 : len;
  }

  /** Consumer: frees the oldest frame. */
  release(): void {
    Atomics.store(this.index, this.headAt, (Atomics.load(this.index, this.headAt) + 1) | 0);
  }

  /** Consumer: throws away every waiting frame (an end that opens discards stale frames). */
  discardAll(): void {
    Atomics.store(this.index, this.headAt, Atomics.load(this.index, this.tailAt));
  }

  /** The slot memory (frame bytes at the offsets reserve/peek return). */
  get data(): Uint8Array {
    return this.bytes;
  }

  /** Convenience for tests and tools (allocates): sends a copy of `frame`; false when full. */
  send(frame: Uint8Array): boolean {
    if (frame.length > this.maxFrame) throw new RangeError(`frame of ${frame.length} bytes exceeds the slot size ${this.maxFrame}`);
    const at = this.reserve();
    if (at < 0) return false;
    this.bytes.set(frame, at);
    this.publish(frame.length);
    return true;
  }

  /** Convenience for tests and tools (allocates): receives a copy of the next frame, or null. */
  receive(): Uint8Array | null {
    const at = this.peek();
    if (at < 0) return null;
    const frame = this.bytes.slice(at, at + this.peekLength());
    this.release();
    return frame;
  }
}
