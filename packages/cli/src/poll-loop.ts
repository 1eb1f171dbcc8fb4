import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

export interface PollLoopOptions {
  /** Stop after this many seconds (0: run until a signal). */
  durationSeconds?: number;
  /** Called about once per `intervalMs` with the elapsed nanoseconds since the last call. */
  onInterval?: (nanos: number) => void;
  intervalMs?: number;
  /** Checked every few milliseconds: stop when it returns true. */
  stopWhen?: () => boolean;
  /** Stop on these signals (default SIGINT and SIGTERM). */
  signals?: NodeJS.Signals[];
}

/**
 * Runs `step` (one batch of work, which must not block) as fast as it can, like ixy's endless
 * loops, but yields to the event loop every few milliseconds so signals and timers are seen:
 * it stops cleanly on SIGINT/SIGTERM or after `durationSeconds`. Checks the clock only every
 * 256 steps; the clock read allocates nothing. Resolves with the reason it stopped.
 */
export async function pollLoop(step: () => void, options: PollLoopOptions = {}): Promise<'signal' | 'duration' | 'stopped'> {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const intervalMs = options.intervalMs ?? 1000;
  const start = performance.now();
  const end = options.durationSeconds ? start + options.durationSeconds * 1000 : Infinity;
  let stop: 'signal' | 'duration' | 'stopped' | undefined;
  const onSignal = (): void => {
    stop = 'signal';
  };
  for (const s of signals) process.on(s, onSignal);
  let lastInterval = start;
  let lastYield = start;
  try {
    while (stop === undefined) {
      for (let i = 0; i < 256; i++) step();
      const now = performance.now();
      if (now - lastInterval >= intervalMs) {
        options.onInterval?.((now - lastInterval) * 1e6);
        lastInterval = now;
      }
      if (now >= end) stop = 'duration';
      else if (options.stopWhen?.()) stop = 'stopped';
      else if (now - lastYield >= 5) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
  return stop;
}
