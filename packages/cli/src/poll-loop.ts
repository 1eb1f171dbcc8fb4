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
/** An idle loop first reads the clock after this many empty steps in a row (see pollLoop). */
const IDLE_FIRST = 64;
/**
 * The loop runs steps in blocks, reading the clock after each (intervals, the duration, the
 * yield); a block's length adapts to about this many ms, as the time a step takes varies from
 * 0.1 µs (nothing received) to tens of µs (a batch of 256 through a driver and a device model).
 */
const BLOCK_MS = 1;
const MIN_BLOCK_STEPS = 16;
const MAX_BLOCK_STEPS = 1 << 16;
/**
 * A block also ends after this much work (packets, as the step counts them; a step that returns
 * nothing counts 1): 256 steps of batches of 32, as the blocks of 256 steps before.
 */
const MAX_WORK = 8192;

/**
 * Runs `step` (one batch of work, which must not block) in a loop, like ixy's endless loops,
 * and yields to the event loop every few milliseconds so signals and timers are seen: it stops
 * cleanly on SIGINT/SIGTERM, after `durationSeconds`, or when `stopWhen` says so.
 *
 * Hybrid mode (the default; `busyPoll` turns it off): `step` returns how many packets it
 * handled. While packets flow the loop polls; after `idleUs` without any it arms the queues'
 * wake-ups and sleeps until one fires (an interrupt, a peer's write to a cable) or
 * `maxSleepMs` passes, then polls again. A step that returns nothing counts as work.
 * Reads the clock about once a millisecond while busy (blocks of steps that adapt to BLOCK_MS,
 * and end after 8192 packets), and a few times in each idle stretch before a sleep.
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
  /** Empty steps in a row (since work, or since a sleep on the wake-ups). */
  let idleSteps = 0;
  /** At which of them the clock is read next. */
  let nextRead = IDLE_FIRST;
  let backoffUs = BACKOFF_MIN_US;
  let blockSteps = MIN_BLOCK_STEPS;
  let blockStart = start;

  // One sleep; returns after it (the caller goes on polling): true if it armed the wake-ups,
  // after which the idle time counts again. (The clock times are not assigned in here:
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
      let i = 0;
      let worked = 0;
      for (; i < blockSteps; i++) {
        const work = step();
        if (work !== 0) {
          idleSteps = 0;
          nextRead = IDLE_FIRST;
          // a block grown long on steps that found nothing ends after MAX_WORK packets, which
          // take far longer: when traffic comes, its first block does not run for 100s of ms
          worked += typeof work === 'number' ? work : 1;
          if (worked >= MAX_WORK) break;
          continue;
        }
        if (!hybrid) continue;
        if (dueInMs !== undefined) {
          const due = dueInMs();
          if (due > 0) {
            if (sleep(performance.now(), due)) {
              idleSteps = 0;
              nextRead = IDLE_FIRST;
            }
            break;
          }
        }
        // Idle: is it idleUs since work? The clock is read at the IDLE_FIRST-th empty step in a
        // row (the idle time counts from there), then at the step where idleUs should be over
        // at the rate of the steps so far, but at most 3 times as many steps on (should the
        // steps slow down), so a sleep comes after 128 empty steps at the least. Each read
        // allocates (performance.now(), about 30 bytes in Node 24, 60 in 20 and 22). Read at
        // each turn to idle and every 16 empty steps, as before, it made ixy-fwd's
        // demo allocate 3.8 MB/s (a scavenge every 0.85 s); ixy-capture behind a slower
        // ixy-pktgen, which spins before each of its 2 800 sleeps a second, scavenged 29 times
        // in 9 s, 13 times reading every 64 empty steps (56 000 reads a second), 5 times now
        // (14 000 reads a second; --trace-gc, Node 24).
        if (++idleSteps < nextRead) continue;
        const now = performance.now();
        if (idleSteps === IDLE_FIRST) {
          // a new idle stretch (after work or an armed sleep): back-off starts short again
          idleSince = now;
          backoffUs = BACKOFF_MIN_US;
          nextRead = 2 * IDLE_FIRST;
          continue;
        }
        const elapsed = now - idleSince;
        if (elapsed < idleMs) {
          const counted = idleSteps - IDLE_FIRST;
          const more = elapsed > 0 ? Math.ceil(((idleMs - elapsed) * counted) / elapsed) : counted;
          nextRead = idleSteps + Math.min(Math.max(more, IDLE_FIRST), 3 * idleSteps);
          continue;
        }
        if (sleep(now, Infinity)) {
          // the wake-ups were armed: the idle time counts again from the next first read
          idleSteps = 0;
          nextRead = IDLE_FIRST;
        } else {
          // a back-off sleep, or none (a stats line or the end is due): still idle, read again soon
          idleSteps = IDLE_FIRST;
          nextRead = 2 * IDLE_FIRST;
        }
        break;
      }
      const now = performance.now();
      // blocks of about a millisecond (BLOCK_MS), whatever a step takes: fewer clock reads
      // when steps are short, timers and signals still seen within a few ms when they are long
      if (i === blockSteps) {
        const took = now - blockStart;
        if (took < BLOCK_MS / 2 && blockSteps < MAX_BLOCK_STEPS) blockSteps *= 2;
        else if (took > BLOCK_MS * 2 && blockSteps > MIN_BLOCK_STEPS) blockSteps >>= 1;
      }
      blockStart = now;
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
