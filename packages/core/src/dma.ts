/**
 * Memory a device can reach by DMA. @ixy/memory implements it on hugepages (physical
 * addresses from /proc/self/pagemap) and on ordinary memory for device models (addresses the
 * model translates back). Drivers see only this interface, so one driver serves both.
 */
export interface DmaRegion {
  /** The region's bytes as the process sees them. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly size: number;
  /**
   * The bus address of byte `offset`, as the device must be given it. Contiguous only within
   * one `contiguousChunk`; a chunk boundary is never crossed by one descriptor ring or buffer.
   */
  physAddr(offset: number): number;
  /** Bytes per physically contiguous chunk (2 MiB on hugepages). */
  readonly contiguousChunk: number;
  /** Unmaps the region; views of it become unusable. Idempotent. */
  free(): void;
}

export interface DmaAllocator {
  /** Short description for messages (`hugepages`, `simulated`). */
  readonly name: string;
  /**
   * Where the memory's bus addresses hold: devices whose allocators name the same domain
   * reach each other's memory (`physical`: hugepages by physical address, any device without
   * an IOMMU in the way). Left out: only devices using this very allocator do.
   */
  readonly domain?: string;
  /**
   * Allocates `size` bytes (rounded up to the allocator's granularity), zeroed. With
   * `contiguous`, the whole region must be physically contiguous (at most one chunk).
   */
  allocate(size: number, options?: { contiguous?: boolean }): DmaRegion;
}

/** Can a device whose memory comes from `device` reach memory allocated by `memory`? */
export function dmaReaches(device: DmaAllocator, memory: DmaAllocator): boolean {
  return device === memory || (device.domain !== undefined && device.domain === memory.domain);
}
