// Public API of the io room (re-exports only).
export { writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from './atomic.js';
