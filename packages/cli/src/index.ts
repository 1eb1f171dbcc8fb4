export { reportError, runMain } from './run-main.js';
export { pollLoop, type PollLoopOptions } from './poll-loop.js';
export { StatsReporter } from './stats-reporter.js';
export { DEFAULT_DRIVERS, loadDrivers } from './drivers.js';
export { intOption, secondsOption } from './options.js';
