import { IxyError } from './errors.js';
import type { Registers } from './registers.js';

// Waiting on a device register, which every driver's reset and queue start-up does (C ixy's
// wait_set_reg32/wait_clear_reg32).

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps the thread for `ms` milliseconds (Atomics.wait, no busy loop). */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/** Register bits did not reach the expected state in time. */
export class RegisterTimeoutError extends IxyError {
  constructor(name: string, offset: number, mask: number, set: boolean, ms: number, last: number) {
    super(
      'ETIMEDOUT',
      `${name} (0x${offset.toString(16)}): bits 0x${(mask >>> 0).toString(16)} not ${set ? 'set' : 'clear'} after ${ms} ms (reads 0x${(last >>> 0).toString(16)})`,
      'the device did not respond as its datasheet says: check that it is the card the driver is for, and that no other driver uses it',
    );
  }
}

/**
 * Polls a register until all `mask` bits are set (or, with `set` false, all clear). Only
 * reads: it never writes the register it waits on. Polls every millisecond, up to `timeoutMs`.
 */
export function waitRegister(
  regs: Registers,
  name: string,
  offset: number,
  mask: number,
  set: boolean,
  timeoutMs = 1000,
): void {
  const want = set ? mask : 0;
  let value = regs.read32(offset);
  for (let waited = 0; (value & mask) >>> 0 !== want >>> 0; waited++) {
    if (waited >= timeoutMs) throw new RegisterTimeoutError(name, offset, mask, set, timeoutMs, value);
    sleepMs(1);
    value = regs.read32(offset);
  }
}
