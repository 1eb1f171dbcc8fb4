import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes the classic libpcap file format (https://wiki.wireshark.org/Development/LibpcapFileFormat):
 * a 24-byte global header, then a 16-byte record header before each frame. Microsecond
 * timestamps, link type 1 (Ethernet). Buffered: one write per megabyte, none per packet.
 */
export class PcapWriter {
  private readonly buf = Buffer.alloc(1 << 20);
  private used = 0;
  private fd: number;
  frames = 0;

  constructor(
    readonly path: string,
    /** Longest frame part stored (frames are cut there, as tcpdump -s does). */
    readonly snaplen = 65535,
  ) {
    this.fd = openSync(path, 'w');
    const h = this.buf;
    h.writeUInt32LE(0xa1b2c3d4, 0); // magic: microsecond timestamps, our byte order
    h.writeUInt16LE(2, 4); // version 2.4
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone
    h.writeUInt32LE(0, 12); // sigfigs
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.used = 24;
  }

  /** Appends one frame: `length` bytes of `bytes` at `offset`, stamped `timeMicros` (since the epoch). */
  write(bytes: Uint8Array, offset: number, length: number, timeMicros: number): void {
    const stored = Math.min(length, this.snaplen);
    if (this.used + 16 + stored > this.buf.length) this.flush();
    const b = this.buf;
    const seconds = Math.floor(timeMicros / 1e6);
    b.writeUInt32LE(seconds >>> 0, this.used);
    b.writeUInt32LE(Math.floor(timeMicros - seconds * 1e6), this.used + 4);
    b.writeUInt32LE(stored, this.used + 8);
    b.writeUInt32LE(length, this.used + 12);
    b.set(bytes.subarray(offset, offset + stored), this.used + 16);
    this.used += 16 + stored;
    this.frames++;
  }

  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
