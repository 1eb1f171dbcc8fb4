import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { IxyError, systemErrorCode } from '@ixy/core';

const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = constants;

export function fileError(path: string, err: unknown, doing: string): IxyError {
  const e = err as NodeJS.ErrnoException;
  const hint =
    e.code === 'ELOOP'
      ? 'the path is a symbolic link: ixy-capture does not write through links; give the file itself'
      : e.code === 'ENOSPC'
        ? 'the disk is full'
        : e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS'
          ? 'choose a path you can write'
          : undefined;
  return new IxyError(systemErrorCode(e) ?? 'EPCAP', `cannot ${doing} ${path}: ${e.message}`, hint, { cause: err });
}

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
    // no following of a symbolic link at the last component (a planted link must not make us
    // truncate its target), and only a regular file: not /proc or a device
    try {
      this.fd = openSync(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
    } catch (err) {
      throw fileError(path, err, 'write the capture to');
    }
    if (!fstatSync(this.fd).isFile()) {
      closeSync(this.fd);
      this.fd = -1;
      throw new IxyError(
        'EPCAP',
        `cannot write the capture to ${path}: not a regular file`,
        'give the path of a file (it is created or overwritten)',
      );
    }
    const h = this.buf;
    h.writeUInt32LE(0xa1b2c3d4, 0); // magic: microsecond timestamps, our byte order
    h.writeUInt16LE(2, 4); // version 2.4
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8); // thiszone
    h.writeUInt32LE(0, 12); // sigfigs
    h.writeUInt32LE(snaplen, 16);
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.used = 24;
    // the header goes out now: a path that takes no writes (/proc, a full disk) fails here,
    // before the capture starts, not at its end
    try {
      this.flush();
    } catch (err) {
      closeSync(this.fd);
      this.fd = -1;
      throw err;
    }
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
    if (this.used > 0) {
      try {
        let done = 0;
        while (done < this.used) done += writeSync(this.fd, this.buf, done, this.used - done);
      } catch (err) {
        this.used = 0;
        throw fileError(this.path, err, 'write to');
      }
    }
    this.used = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
