import type { DmaAllocator, DmaRegion } from '@ixy/core';
import { IXGBE_DESC_SIZE } from './registers.js';

/** A ring of 16-byte advanced descriptors (§7.1.6, §7.2.3) in physically contiguous DMA memory. */
export interface DescriptorRing {
  region: DmaRegion;
  /** The ring as 32-bit words: descriptor i is words 4i..4i+3. */
  ring: Uint32Array;
  /**
   * The same memory as 8-byte words, for one-store writes of a 64-bit field (descriptor i is
   * words 2i, 2i+1): a buffer address from Mempool.addrBits, or +0 for all-zero bits.
   */
  ring64: Float64Array;
}

/**
 * Allocates a ring of `size` descriptors. Every word starts as all ones (Snabb's and ixy's
 * trick): a descriptor the device reads before set-up points at no real memory.
 */
export function allocateDescriptorRing(dma: DmaAllocator, size: number): DescriptorRing {
  const region = dma.allocate(size * IXGBE_DESC_SIZE, { contiguous: true });
  const ring = new Uint32Array(region.buffer, 0, size * 4);
  ring.fill(0xffffffff);
  return { region, ring, ring64: new Float64Array(region.buffer, 0, size * 2) };
}
