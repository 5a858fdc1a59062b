// Public API of the datasets room (re-exports only).
export type { Batch, BatchOptions, Dataset, DatasetInfo } from './dataset.js';
export { toTensors } from './dataset.js';
