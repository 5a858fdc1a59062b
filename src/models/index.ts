// Public API of the models room (re-exports only).
export type { Classifier } from './classifier.js';
