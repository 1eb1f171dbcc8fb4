import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Wakeup } from '@ixy/core';
import { waitForWakeups } from '@ixy/memory';
import { stopRequested } from './stop-signals.js';

/**
 * How an idle poll loop behaves. The defaults, and why:
 * - `idleUs` 100: sleeping and being woken costs a few µs of system calls plus the scheduler's
 *   wake-up latency (tens of µs on a busy machine), so the loop keeps polling through gaps
 *   shorter than that; under load a queue is never empty that long, so hybrid mode costs one
 *   comparison per empty poll.
 * - `maxSleepMs` 100: a sleep ends at the latest after this (and before the next stats line or
 *   the end of --duration), so the event loop's timers run at least ten times a second even
 *   when nothing wakes the loop. A signal (Ctrl-C) ends a sleep at once (the futex wait or
 *   ppoll returns EINTR). Each wake-up costs CPU: in the QEMU guest under TCG an idle two-port
 *   loop used 15-58 % of a core with 10 ms sleeps and 2-4.5 % with 100 ms.
 * - `backoffMaxUs` 1000: a device that cannot wake a sleeper (no interrupts: a card opened
 *   through sysfs) is polled after sleeps that double from 10 µs up to this: an idle loop
 *   polls about 1000 times a second, and the first packet after a quiet spell waits up to
 *   1 ms (the added latency of this mode; the ring holds what arrives meanwhile).
 */
export interface HybridOptions {
  /** Poll without ever sleeping (the benchmark mode, ixy's classic behaviour). */
  busyPoll?: boolean;
  /** Sleep after this many µs without work (default 100). */
  idleUs?: number;
  /** Longest single sleep in ms (default 100). */
  maxSleepMs?: number;
  /** Longest back-off sleep in µs for devices that cannot wake a sleeper (default 1000). */
  backoffMaxUs?: number;
}

export interface PollLoopOptions extends HybridOptions {
  /** Stop after this many seconds (0: run until a signal). */
  durationSeconds?: number;
  /** Called about once per `intervalMs` with the elapsed nanoseconds since the last call. */
  onInterval?: (nanos: number) => void;
  intervalMs?: number;
  /** Checked every few milliseconds: stop when it returns true. */
  stopWhen?: () => boolean;
  /** Stop on these signals (default SIGINT and SIGTERM). */
  signals?: NodeJS.Signals[];
  /**
   * What the loop sleeps on when idle: the wake-ups of the queues it polls (IxyDevice.rxWakeup).
   * A null among them (a device that cannot wake a sleeper) makes the loop back off with short
   * sleeps instead. Left out: the loop only sleeps when `dueInMs` asks it to.
   */
  wakeups?: readonly (Wakeup | null)[];
  /**
   * For paced work (a rate-limited generator): ms until the step has work again, 0 when it has
   * work now. After a step without work, the loop sleeps that long at once (at most
   * `maxSleepMs`), on the wake-ups if any, whatever `idleUs` says.
   */
  dueInMs?: () => number;
}

/** Counts of what an idle loop did, for tests and the benchmark. */
export interface PollLoopResult {
  reason: 'signal' | 'duration' | 'stopped';
  /** Sleeps on wake-ups (interrupts, cable futexes). */
  sleeps: number;
  /** Of those, the ones a wake-up ended (the rest timed out). */
  wakeups: number;
  /** Back-off sleeps (devices without wake-ups). */
  backoffs: number;
}

const BACKOFF_MIN_US = 10;
/**
 * How often a busy loop yields to the event loop (signals, timers, a worker's messages); a stop
 * signal waits at most this long. Each yield allocates about 0.9 KB (the immediate, its promise,
 * the async context; Node 24), which brings the next scavenge, a pause of the packet loop,
 * closer: yielding every 5 ms, ixy-fwd's demo scavenged every 5–9 s (0.2–0.8 ms each); every
 * 20 ms, once in 30 s (--trace-gc, Node 24).
 */
const YIELD_MS = 20;

/**
 * Runs `step` (one batch of work, which must not block) in a loop, like ixy's endless loops,
 * and yields to the event loop every few milliseconds so signals and timers are seen: it stops
 * cleanly on SIGINT/SIGTERM, after `durationSeconds`, or when `stopWhen` says so.
 *
 * Hybrid mode (the default; `busyPoll` turns it off): `step` returns how many packets it
 * handled. While packets flow the loop polls; after `idleUs` without any it arms the queues'
 * wake-ups and sleeps until one fires (an interrupt, a peer's write to a cable) or
 * `maxSleepMs` passes, then polls again. A step that returns nothing counts as work.
 * Reads the clock only every 256 steps while busy, and every 16 empty steps while idle.
 */
export async function pollLoop(step: () => number | void, options: PollLoopOptions = {}): Promise<PollLoopResult> {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const intervalMs = options.intervalMs ?? 1000;
  const hybrid = options.busyPoll !== true;
  const idleMs = (options.idleUs ?? 100) / 1000;
  const maxSleepMs = options.maxSleepMs ?? 100;
  const backoffMaxUs = options.backoffMaxUs ?? 1000;
  const wakeups = options.wakeups ?? [];
  const canWait = wakeups.length > 0 && wakeups.every((w) => w !== null);
  const armed = wakeups.filter((w): w is Wakeup => w !== null);
  const dueInMs = options.dueInMs;
  const start = performance.now();
  const end = options.durationSeconds ? start + options.durationSeconds * 1000 : Infinity;
  const result: PollLoopResult = { reason: 'stopped', sleeps: 0, wakeups: 0, backoffs: 0 };
  let stop: 'signal' | 'duration' | 'stopped' | undefined;
  const onSignal = (): void => {
    stop = 'signal';
  };
  for (const s of signals) process.on(s, onSignal);
  let lastInterval = start;
  let lastYield = start;
  let idleSince = 0;
  let idleSteps = 0;
  let backoffUs = BACKOFF_MIN_US;

  // One sleep; returns after it (the caller goes on polling): true if it armed the wake-ups,
  // after which the idle time counts from now again. (The clock times are not assigned in here:
  // a double stored in a variable a closure shares is a heap number, allocated at each store.)
  const sleep = (now: number, dueMs: number): boolean => {
    let timeout = Math.min(maxSleepMs, dueMs, end - now, lastInterval + intervalMs - now);
    if (timeout <= 0) return false;
    if (!canWait) {
      timeout = Math.min(timeout, backoffUs / 1000);
      backoffUs = Math.min(backoffUs * 2, backoffMaxUs);
      waitForWakeups([], timeout);
      result.backoffs++;
      return false;
    }
    let i = 0;
    for (; i < armed.length; i++) if (!armed[i].arm()) break;
    if (i === armed.length) {
      result.sleeps++;
      if (waitForWakeups(armed, timeout)) result.wakeups++;
    }
    // work is waiting (an arm failed) or the sleep is over: disarm and poll again
    for (let j = 0; j < i; j++) armed[j].disarm();
    return true;
  };

  // a stop signal that arrived before the loop (while a port opened) counts too
  if (stopRequested()) stop = 'signal';
  try {
    while (stop === undefined) {
      for (let i = 0; i < 256; i++) {
        const work = step();
        if (work !== 0) {
          idleSteps = 0;
          continue;
        }
        if (!hybrid) continue;
        if (dueInMs !== undefined) {
          const due = dueInMs();
          if (due > 0) {
            if (sleep(performance.now(), due)) idleSince = performance.now();
            break;
          }
        }
        // The clock is read at every 16th empty step in a row, the idle time counted from the
        // first such read: a loop sleeps after 32 empty steps at the least (with slow steps, µs
        // each, later than idleUs). A forwarder a little faster than its input turns idle and
        // busy again at almost every step, and each read allocates (performance.now(), about 30
        // bytes in Node 24, 60 in 20 and 22): read at each turn to idle, as before, it made the
        // demo's forwarding thread allocate 3.8 MB/s, a scavenge every 0.85 s (--trace-gc, Node
        // 24). The count wraps below 2^30, a small integer: a loop idle for days without
        // sleeping would otherwise count in heap numbers (the wrap restarts the idle time once).
        idleSteps = (idleSteps + 1) & 0x3fffffff;
        if ((idleSteps & 15) !== 0) continue;
        const now = performance.now();
        if (idleSteps === 16) {
          idleSince = now;
          backoffUs = BACKOFF_MIN_US;
          continue;
        }
        if (now - idleSince < idleMs) continue;
        if (sleep(now, Infinity)) idleSince = performance.now();
        break;
      }
      const now = performance.now();
      if (now - lastInterval >= intervalMs) {
        options.onInterval?.((now - lastInterval) * 1e6);
        lastInterval = now;
      }
      if (stopRequested()) stop = 'signal';
      else if (now >= end) stop = 'duration';
      else if (options.stopWhen?.()) stop = 'stopped';
      else if (now - lastYield >= YIELD_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
  result.reason = stop ?? 'stopped';
  return result;
}

/** The wake-ups of receive queue 0 of each device, for `pollLoop`'s `wakeups`. */
export function rxWakeups(devices: readonly { rxWakeup(queue: number): Wakeup | null }[]): (Wakeup | null)[] {
  return devices.map((d) => d.rxWakeup(0));
}
