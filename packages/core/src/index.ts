export * from './errors.js';
export * from './packet-batch.js';
export * from './stats.js';
export * from './registers.js';
export * from './device.js';
export * from './dma.js';
export * from './registry.js';
export * from './plugins.js';
