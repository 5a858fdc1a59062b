// Public API of the io room (re-exports only).
export { writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from './atomic.js';
export { readNpy, writeNpy, parseNpy, encodeNpy, npyHeader, dtypeOf, NpyReader, NpyWriter } from './npy.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';
export { canonicalJson } from './canonical-json.js';
