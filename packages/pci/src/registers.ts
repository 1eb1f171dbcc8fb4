import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { IxyError, type Registers } from '@ixy/core';
import { unmapBuffer } from '@ixy/memory';

/**
 * Registers of a memory-mapped BAR, through typed-array views of the mapping.
 *
 * Reads are `Atomics.load`: a plain `mov`, which the engine may not cache, hoist out of a loop
 * or merge with an earlier read (a poll loop must see the device change a register).
 *
 * Writes are plain typed-array stores: a plain `mov`, as C ixy's volatile store. Not
 * `Atomics.store`: V8 (Node 20 and 24) compiles that to `xchg`, a bus-locked read-modify-write
 * that also reads the register (harmful for read-to-clear registers), costs a round trip to
 * the device per write and can trip the kernel's split-lock detection. TurboFan eliminates no
 * typed-array store, not even the first of two writes of one value to one register: a test
 * checks the optimised machine code for every store. BARs are mapped uncached, so x86 keeps
 * the accesses in program order without a fence (as C ixy notes in device.h).
 */
export class MmioRegisters implements Registers {
  readonly size: number;
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly u8: Uint8Array;

  constructor(readonly buffer: ArrayBuffer | SharedArrayBuffer) {
    this.size = buffer.byteLength;
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    this.u16 = new Uint16Array(buffer, 0, buffer.byteLength >>> 1);
    this.u8 = new Uint8Array(buffer);
  }

  read32(offset: number): number {
    return Atomics.load(this.u32, offset >>> 2);
  }
  write32(offset: number, value: number): void {
    this.u32[offset >>> 2] = value;
  }
  read16(offset: number): number {
    return Atomics.load(this.u16, offset >>> 1);
  }
  write16(offset: number, value: number): void {
    this.u16[offset >>> 1] = value;
  }
  read8(offset: number): number {
    return Atomics.load(this.u8, offset);
  }
  write8(offset: number, value: number): void {
    this.u8[offset] = value;
  }

  /** Unmaps the BAR if @ixy/memory mapped it; later accesses see an empty buffer. */
  unmap(): void {
    if (this.buffer instanceof ArrayBuffer) unmapBuffer(this.buffer);
  }
}

/** Thrown in safe mode for a register access outside the BAR or not aligned to its width. */
export class RegisterAccessError extends IxyError {
  constructor(message: string) {
    super('EREGACCESS', message, 'this is a driver bug: check the register offset');
  }
}

/**
 * Safe mode: checks each access for bounds and alignment before passing it on (ixy.rs checks
 * bounds on every access). The benchmark shows what it costs.
 */
export class CheckedRegisters implements Registers {
  readonly size: number;

  constructor(private readonly inner: Registers) {
    this.size = inner.size;
  }

  private check(offset: number, width: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.size || offset % width !== 0) {
      throw new RegisterAccessError(
        `register access of ${width} bytes at offset 0x${Number(offset).toString(16)} is outside the ${this.size}-byte BAR or misaligned`,
      );
    }
  }
  read32(offset: number): number {
    this.check(offset, 4);
    return this.inner.read32(offset);
  }
  write32(offset: number, value: number): void {
    this.check(offset, 4);
    this.inner.write32(offset, value);
  }
  read16(offset: number): number {
    this.check(offset, 2);
    return this.inner.read16(offset);
  }
  write16(offset: number, value: number): void {
    this.check(offset, 2);
    this.inner.write16(offset, value);
  }
  read8(offset: number): number {
    this.check(offset, 1);
    return this.inner.read8(offset);
  }
  write8(offset: number, value: number): void {
    this.check(offset, 1);
    this.inner.write8(offset, value);
  }
}

/**
 * Registers of an I/O-port BAR (legacy virtio's BAR0): sysfs `resourceN` of an I/O BAR cannot
 * be mmapped, but pread/pwrite at an offset perform the port access. The kernel accepts only
 * 1-, 2- and 4-byte accesses. Node's fs.readSync/writeSync with a position are pread/pwrite.
 */
export class IoPortRegisters implements Registers {
  private readonly scratch = new DataView(new ArrayBuffer(4));
  private readonly bytes = new Uint8Array(this.scratch.buffer);
  private fd: number;
  /** Where the BAR starts in the file (0 for sysfs resourceN, the region offset for VFIO). */
  private readonly base: number;
  private readonly ownsFd: boolean;
  readonly path: string;

  /** `source`: a sysfs `resourceN` path (opened here), or an open fd and the BAR's offset in it. */
  constructor(
    source: string | { fd: number; base: number },
    readonly size: number,
  ) {
    if (typeof source === 'string') {
      this.path = source;
      this.fd = openSync(source, 'r+');
      this.base = 0;
      this.ownsFd = true;
    } else {
      this.path = `fd ${source.fd}`;
      this.fd = source.fd;
      this.base = source.base;
      this.ownsFd = false;
    }
  }

  private read(offset: number, width: number): void {
    const n = readSync(this.fd, this.bytes, 0, width, this.base + offset);
    if (n !== width)
      throw new IxyError('EIO', `short read of ${width} bytes at 0x${offset.toString(16)} from ${this.path}`);
  }
  private write(offset: number, width: number): void {
    const n = writeSync(this.fd, this.bytes, 0, width, this.base + offset);
    if (n !== width)
      throw new IxyError('EIO', `short write of ${width} bytes at 0x${offset.toString(16)} to ${this.path}`);
  }
  read32(offset: number): number {
    this.read(offset, 4);
    return this.scratch.getUint32(0, true);
  }
  write32(offset: number, value: number): void {
    this.scratch.setUint32(0, value, true);
    this.write(offset, 4);
  }
  read16(offset: number): number {
    this.read(offset, 2);
    return this.scratch.getUint16(0, true);
  }
  write16(offset: number, value: number): void {
    this.scratch.setUint16(0, value, true);
    this.write(offset, 2);
  }
  read8(offset: number): number {
    this.read(offset, 1);
    return this.bytes[0];
  }
  write8(offset: number, value: number): void {
    this.bytes[0] = value;
    this.write(offset, 1);
  }

  close(): void {
    if (this.fd >= 0 && this.ownsFd) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Releases registers a device access opened: unmaps memory BARs, closes I/O-port files. */
export function releaseRegisters(list: (MmioRegisters | IoPortRegisters)[]): void {
  for (const regs of list.splice(0)) {
    if (regs instanceof IoPortRegisters) regs.close();
    else regs.unmap();
  }
}
