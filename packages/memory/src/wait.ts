import type { Wakeup } from '@ixy/core';
import { native } from './native.js';

/**
 * Wakes every process and thread sleeping on a futex word in shared memory (after the word was
 * changed). A system call: call it only when a sleeper announced itself.
 */
export function futexWake(buffer: ArrayBuffer, byteOffset: number): number {
  return native().futexWake(buffer, byteOffset, 0x7fffffff);
}

// what the native wait reads, reused from sleep to sleep (it reads them before it returns): an
// idle poll loop sleeps up to a thousand times a second and should not allocate for it
const fds = new Int32Array(64);
const NO_FDS = fds.subarray(0, 0);
const buffers: ArrayBuffer[] = [];
const offsets: number[] = [];
const values: number[] = [];

/**
 * Sleeps until one of the armed wake-ups fires, a signal arrives, or `timeoutMs` passes
 * (without wake-ups: just sleeps). Returns true when woken, false on timeout. Blocks the
 * thread: keep `timeoutMs` short in a thread that also serves the event loop.
 */
export function waitForWakeups(wakeups: readonly Wakeup[], timeoutMs: number): boolean {
  let fdCount = 0;
  buffers.length = offsets.length = values.length = 0;
  for (const w of wakeups) {
    for (const fd of w.fds) {
      if (fdCount === fds.length) throw new RangeError(`waitForWakeups: at most ${fds.length} fds`);
      fds[fdCount++] = fd;
    }
    for (const f of w.futexes) {
      buffers.push(f.buffer);
      offsets.push(f.byteOffset);
      values.push(f.value | 0);
    }
  }
  return native().waitAny(fdCount === 0 ? NO_FDS : fds.subarray(0, fdCount), buffers, offsets, values, timeoutMs);
}
