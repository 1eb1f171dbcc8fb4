import { InvalidArgumentError, type Command } from 'commander';

/** A commander option parser for an integer in [min, max]. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** A commander option parser for a non-negative number of seconds. */
export function secondsOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds');
  return n;
}

/** The poll-mode options every app has (see pollLoop's HybridOptions for the defaults). */
export interface PollModeOptions {
  busyPoll: boolean;
  sleepAfter: number;
}

/**
 * Adds --busy-poll and --sleep-after to an app's command line. Hybrid mode is the default:
 * poll while packets flow, sleep on the queues' wake-ups once idle.
 */
export function addPollModeOptions(program: Command): Command {
  return program
    .option('--busy-poll', 'never sleep: poll even when idle, burning a core (the benchmark mode; default: sleep once idle)', false)
    .option('--sleep-after <us>', 'hybrid mode: sleep after this many µs without packets', intOption(1, 10_000_000), 100);
}

/** pollLoop's HybridOptions from the parsed --busy-poll / --sleep-after. */
export function hybridOptions(opts: PollModeOptions): { busyPoll: boolean; idleUs: number } {
  return { busyPoll: opts.busyPoll, idleUs: opts.sleepAfter };
}
