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
/** A view of the first n fds for each n, made once: a subarray per sleep would allocate. */
const FD_VIEWS = Array.from({ length: fds.length + 1 }, (_, n) => fds.subarray(0, n));
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
  let futexCount = 0;
  for (const w of wakeups) {
    for (const fd of w.fds) {
      if (fdCount === fds.length) throw new RangeError(`waitForWakeups: at most ${fds.length} fds`);
      fds[fdCount++] = fd;
    }
    for (const f of w.futexes) {
      buffers[futexCount] = f.buffer;
      offsets[futexCount] = f.byteOffset;
      values[futexCount++] = f.value | 0;
    }
  }
  // set by index and cut to length after: `length = 0` gives an array up its storage, and the
  // next store allocates it again (about 0.5 KB a sleep, a scavenge a second for an idle loop
  // on simulated ports; Node 24)
  buffers.length = offsets.length = values.length = futexCount;
  return native().waitAny(FD_VIEWS[fdCount], buffers, offsets, values, timeoutMs);
}
