import { InvalidArgumentError, Option, type Command } from 'commander';

const DECIMAL_INTEGER = /^[0-9]{1,16}$/;
const DECIMAL_NUMBER = /^(?:[0-9]{1,16}(?:\.[0-9]{1,9})?|\.[0-9]{1,9})$/;

/**
 * A commander option parser for an integer in [min, max]: decimal digits only. `Number()` alone
 * would take '' as 0, '0x10' as 16 and '1e3' as 1000 (an empty count once released all the
 * machine's hugepages).
 */
export function intOption(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = DECIMAL_INTEGER.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max} (decimal digits), got '${value}'`);
    return n;
  };
}

/** A commander option parser for a non-negative decimal number (e.g. 0.5). */
export function decimalOption(what: string, positive = false): (value: string) => number {
  return (value: string): number => {
    const n = DECIMAL_NUMBER.test(value) ? Number(value) : NaN;
    if (!Number.isFinite(n) || n < 0 || (positive && n === 0))
      throw new InvalidArgumentError(`expected ${what}, got '${value}'`);
    return n;
  };
}

/** A commander option parser for a non-negative number of seconds. */
export const secondsOption = decimalOption('a number of seconds');

/** -d, --duration <seconds>: every app's time limit; 0, the default, runs until Ctrl-C. */
export function durationOption(): Option {
  return new Option('-d, --duration <seconds>', 'stop after this many seconds')
    .argParser(secondsOption)
    .default(0, 'run until Ctrl-C');
}

/** The poll-mode options every app has (see pollLoop's HybridOptions for the defaults). */
export interface PollModeOptions {
  busyPoll?: boolean;
  sleepAfter: number;
}

/**
 * Adds --busy-poll and --sleep-after to an app's command line. Hybrid mode is the default:
 * poll while packets flow, sleep on the queues' wake-ups once idle.
 */
export function addPollModeOptions(program: Command): Command {
  return program
    .option(
      '--busy-poll',
      'never sleep: poll even when idle, burning a core (the benchmark mode; without it the app sleeps once idle)',
    )
    .option(
      '--sleep-after <us>',
      'hybrid mode: sleep after this many µs without packets',
      intOption(1, 10_000_000),
      100,
    );
}

/**
 * Adds --cable-group: simulated ports share their cables with a group (a gid), the explicit
 * opt-in to a test bed across users; without it a cable is its user's alone.
 */
export function addCableGroupOption(program: Command): Command {
  return program.option(
    '--cable-group <gid>',
    "simulated ports: share cables with this group (a gid; 'getent group <name>' shows it)",
    intOption(0, 0xfffffffe),
  );
}

/** The OpenOptions a parsed --cable-group adds. */
export function cableGroupOptions(opts: { cableGroup?: number }): { cableGroup?: number } {
  return opts.cableGroup === undefined ? {} : { cableGroup: opts.cableGroup };
}

/** pollLoop's HybridOptions from the parsed --busy-poll / --sleep-after. */
export function hybridOptions(opts: PollModeOptions): { busyPoll: boolean; idleUs: number } {
  return { busyPoll: opts.busyPoll === true, idleUs: opts.sleepAfter };
}
