/**
 * Copies `len` bytes between two memories without allocating (the model's DMA): 32-bit words
 * when both offsets are 4-byte aligned, which packet buffers and cable slots are, then the
 * remaining bytes. Long copies go through TypedArray.set (memcpy).
 */
export function copyBytes(
  src: Uint8Array,
  srcWords: Uint32Array,
  srcAt: number,
  dst: Uint8Array,
  dstWords: Uint32Array,
  dstAt: number,
  len: number,
): void {
  if (len > 512 || ((srcAt | dstAt) & 3) !== 0) {
    dst.set(src.subarray(srcAt, srcAt + len), dstAt);
    return;
  }
  const words = len >>> 2;
  const s = srcAt >>> 2;
  const d = dstAt >>> 2;
  for (let i = 0; i < words; i++) dstWords[d + i] = srcWords[s + i];
  for (let i = words << 2; i < len; i++) dst[dstAt + i] = src[srcAt + i];
}
