export * from './frame.js';
export * from './c-ixy-frame.js';
export { Generator, type GeneratorOptions } from './generator.js';
export { MAX_EXPECTED, Sink } from './sink.js';
export { Pacer } from './pacer.js';
export { MonotonicClock, nsBetween } from './clock.js';
export {
  LATENCY_MAX_NS,
  LatencyHistogram,
  LatencyRecorder,
  formatLatency,
  formatNs,
  type LatencySummary,
} from './latency.js';
