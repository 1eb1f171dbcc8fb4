export * from './frame.js';
export * from './c-ixy-frame.js';
export { Generator, type GeneratorOptions } from './generator.js';
export { Sink } from './sink.js';
export { Pacer } from './pacer.js';
