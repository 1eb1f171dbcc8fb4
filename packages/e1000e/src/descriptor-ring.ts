import type { DmaAllocator, DmaRegion } from '@ixy/core';
import { E1000_DESC_SIZE } from './registers.js';

/** A ring of 16-byte legacy descriptors in physically contiguous DMA memory. */
export interface DescriptorRing {
  region: DmaRegion;
  /** The ring as 32-bit words: descriptor i is words 4i..4i+3. */
  ring: Uint32Array;
}

/**
 * Allocates a ring of `size` descriptors (the region is page-aligned: the 16-byte base
 * alignment RDBAL/TDBAL ask for, and RDLEN/TDLEN a multiple of 128 bytes for size ≥ 8).
 * Every word starts as all ones (ixy's trick): a descriptor the device reads before set-up
 * points at no real memory.
 */
export function allocateDescriptorRing(dma: DmaAllocator, size: number): DescriptorRing {
  const region = dma.allocate(size * E1000_DESC_SIZE, { contiguous: true });
  const ring = new Uint32Array(region.buffer, 0, size * 4);
  ring.fill(0xffffffff);
  return { region, ring };
}
