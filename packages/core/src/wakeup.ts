/**
 * How a poll loop sleeps while a receive queue is idle (ixy's interrupt mode, DPDK's
 * l3fwd-power): it polls while packets flow and, once a queue has been empty for a while, arms
 * the queue's wake-up, sleeps until it fires (or a timeout), disarms it and polls again.
 *
 * A wake-up is an interrupt's eventfd (MSI-X through VFIO) or a futex word in memory shared
 * with a peer process (a simulated cable). @ixy/memory's `waitForWakeups` sleeps on any mix.
 */
export interface Wakeup {
  /**
   * Enables the wake-up (unmasks the queue's interrupt, turns notifications on, tells the
   * peer it may sleep) and records what to sleep on. Returns false, with the wake-up
   * disabled again, when work is already waiting: then do not sleep, poll.
   */
  arm(): boolean;
  /** Disables the wake-up after the sleep: the queue is polled from here on. */
  disarm(): void;
  /** Event fds to wait on (readable when the interrupt fired); read after the sleep. */
  readonly fds: readonly number[];
  /** Futex words to wait on, each with the value it held when `arm` ran. */
  readonly futexes: readonly FutexWord[];
}

/** A 32-bit word in shared memory that a peer changes (and futex-wakes) to wake a sleeper. */
export interface FutexWord {
  readonly buffer: ArrayBuffer;
  /** Byte offset of the word in `buffer` (4-byte aligned). */
  readonly byteOffset: number;
  /** The value seen at `arm`: the sleep ends as soon as the word differs. */
  value: number;
}
