import type { Registers } from '@ixy/core';

/**
 * Registers for testing a driver's queues without a device: every write is recorded in
 * `writes` as [offset, value], in order; every read returns 0. A queue's tail writes (RDT,
 * TDT) are then a list to compare with what the ring protocol asks for.
 */
export class RecordingRegisters implements Registers {
  readonly writes: [offset: number, value: number][] = [];

  constructor(readonly size = 0x20000) {}

  read32(): number {
    return 0;
  }
  write32(offset: number, value: number): void {
    this.writes.push([offset, value]);
  }
  read16(): number {
    return 0;
  }
  write16(offset: number, value: number): void {
    this.writes.push([offset, value]);
  }
  read8(): number {
    return 0;
  }
  write8(offset: number, value: number): void {
    this.writes.push([offset, value]);
  }
}
