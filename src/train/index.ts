// Public API of the train room (re-exports only).
export type { Trainer, StepInput, StepContext, StepMetrics } from './types.js';
