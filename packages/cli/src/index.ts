export { reportError, runMain } from './run-main.js';
export { installStopSignals, stopRequested, stopSignals } from './stop-signals.js';
export { pollLoop, rxWakeups, type HybridOptions, type PollLoopOptions, type PollLoopResult } from './poll-loop.js';
export { StatsReporter } from './stats-reporter.js';
export {
  addCableGroupOption,
  addPollModeOptions,
  cableGroupOptions,
  decimalOption,
  hybridOptions,
  intOption,
  secondsOption,
  durationOption,
  type PollModeOptions,
} from './options.js';
export { forwardBatch, forwardHeld } from './forward.js';
export { drainTx, type TxHandover } from './drain.js';
export { PACKET_LOOP_V8_FLAGS, packetLoopV8Flags, tunePacketLoopV8 } from './v8-tuning.js';
