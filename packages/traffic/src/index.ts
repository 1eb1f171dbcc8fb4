export * from './frame.js';
export * from './c-ixy-frame.js';
export { Generator, type GeneratorOptions } from './generator.js';
export { MAX_EXPECTED, Sink } from './sink.js';
export { Pacer } from './pacer.js';
