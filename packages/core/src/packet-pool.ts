/**
 * A pool of packet buffers as a packet loop reads it (@ixy/memory's Mempool is one). A packet
 * handle `h` is `id << 20 | index` (@ixy/memory's POOL_SHIFT); the packet's bytes start at
 * `bytes[index * entrySize + headroom]` and its length is `length[index]`.
 */
export interface PacketPool {
  readonly id: number;
  /** The pool's whole memory. */
  readonly bytes: Uint8Array;
  /** Bytes per buffer, headroom included. */
  readonly entrySize: number;
  /** Bytes in front of each packet's data. */
  readonly headroom: number;
  /** Each packet's length, by index. */
  readonly length: Uint16Array;
}
