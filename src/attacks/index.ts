// Public API of the attacks room (re-exports only).
export type { AttackFn, AttackCallOptions } from './types.js';
