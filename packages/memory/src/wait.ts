import type { FutexWord, Wakeup } from '@ixy/core';
import { native } from './native.js';

/**
 * Wakes every process and thread sleeping on a futex word in shared memory (after the word was
 * changed). A system call: call it only when a sleeper announced itself.
 */
export function futexWake(buffer: ArrayBuffer, byteOffset: number): number {
  return native().futexWake(buffer, byteOffset, 0x7fffffff);
}

const NO_FDS = new Int32Array(0);

/**
 * Sleeps until one of the armed wake-ups fires, a signal arrives, or `timeoutMs` passes
 * (without wake-ups: just sleeps). Returns true when woken, false on timeout. Blocks the
 * thread: keep `timeoutMs` short in a thread that also serves the event loop.
 */
export function waitForWakeups(wakeups: readonly Wakeup[], timeoutMs: number): boolean {
  let fds: Int32Array = NO_FDS;
  const buffers: ArrayBuffer[] = [];
  const offsets: number[] = [];
  const values: number[] = [];
  let fdCount = 0;
  for (const w of wakeups) fdCount += w.fds.length;
  if (fdCount > 0) {
    fds = new Int32Array(fdCount);
    let i = 0;
    for (const w of wakeups) for (const fd of w.fds) fds[i++] = fd;
  }
  for (const w of wakeups) {
    for (const f of w.futexes as readonly FutexWord[]) {
      buffers.push(f.buffer);
      offsets.push(f.byteOffset);
      values.push(f.value | 0);
    }
  }
  return native().waitAny(fds, buffers, offsets, values, timeoutMs);
}
