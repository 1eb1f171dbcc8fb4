import type { DmaAllocator, DmaRegion } from '@ixy/core';

const CHUNK = 2 * 1024 * 1024;
/** Where simulated bus addresses start: far from 0, so a zero or small address is caught. */
const BASE = 0x1_0000_0000;

/** Ordinary memory with a simulated bus address, for device models. */
export class SimulatedRegion implements DmaRegion {
  readonly contiguousChunk: number;
  readonly bytes: Uint8Array;
  freed = false;

  constructor(
    readonly buffer: ArrayBuffer,
    /** Bus address of byte 0. */
    readonly base: number,
    private readonly owner: SimulatedMemory,
  ) {
    this.bytes = new Uint8Array(buffer);
    this.contiguousChunk = buffer.byteLength;
  }

  get size(): number {
    return this.buffer.byteLength;
  }

  physAddr(offset: number): number {
    return this.base + offset;
  }

  free(): void {
    if (this.freed) return;
    this.owner.forget(this); // a device model may refuse (throw): then nothing is freed
    this.freed = true;
  }
}

/**
 * A simulated bus address space: DMA memory from ordinary ArrayBuffers (no root, no hugepages)
 * whose bus addresses a device model translates back with `find`. Regions are laid out with a
 * 2 MiB unmapped gap between them, so an address past a region's end belongs to nothing.
 * One address space serves every simulated port of a process, as a host's memory serves
 * every card in it.
 */
export class SimulatedMemory implements DmaAllocator {
  readonly name = 'simulated';
  private readonly regions: SimulatedRegion[] = [];
  private readonly freeListeners: ((region: SimulatedRegion) => void)[] = [];
  private next = BASE;
  private last: SimulatedRegion | undefined;

  allocate(size: number, _options: { contiguous?: boolean } = {}): SimulatedRegion {
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new RangeError(`DMA size must be a positive integer, got ${size}`);
    const rounded = Math.ceil(size / 4096) * 4096;
    const region = new SimulatedRegion(new ArrayBuffer(rounded), this.next, this);
    this.next += Math.ceil(rounded / CHUNK) * CHUNK + CHUNK;
    this.regions.push(region);
    return region;
  }

  /**
   * The region holding bus addresses [addr, addr + length), or undefined when any byte of it
   * lies outside every live region. The device model's address translation.
   */
  find(addr: number, length: number): SimulatedRegion | undefined {
    const last = this.last;
    if (last !== undefined && !last.freed && addr >= last.base && addr + length <= last.base + last.bytes.length)
      return last;
    for (const r of this.regions) {
      if (addr >= r.base && addr + length <= r.base + r.bytes.length) {
        this.last = r;
        return r;
      }
    }
    return undefined;
  }

  /** Number of live regions (for leak checks in tests). */
  get regionCount(): number {
    return this.regions.length;
  }

  /**
   * Calls `listener` with each region about to be freed (before its memory goes): a device
   * model checks that none of its queues can still write there. Returns a function that
   * removes the listener.
   */
  onFree(listener: (region: SimulatedRegion) => void): () => void {
    this.freeListeners.push(listener);
    return () => {
      const at = this.freeListeners.indexOf(listener);
      if (at >= 0) this.freeListeners.splice(at, 1);
    };
  }

  /** @internal */
  forget(region: SimulatedRegion): void {
    for (const l of this.freeListeners) l(region);
    const at = this.regions.indexOf(region);
    if (at >= 0) this.regions.splice(at, 1);
    if (this.last === region) this.last = undefined;
  }
}

/** The process's simulated address space, shared by every simulated device in it. */
export const simulatedMemory = new SimulatedMemory();
