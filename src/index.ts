/**
 * scaat: the public library API (re-exports only; each room's index.ts lists its exports).
 */
export * from './errors.js';
export * from './engine/index.js';
export * from './models/index.js';
export * from './datasets/index.js';
export * from './saliency/index.js';
export * from './attacks/index.js';
export * from './train/index.js';
export * from './scaat/index.js';
export * from './metrics/index.js';
export * from './report/index.js';
export * from './sweep/index.js';
export * from './io/index.js';
