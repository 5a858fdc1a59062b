// Public API of the io room (re-exports only).
export { writeFileAtomic, writeFileAtomicSync, writeJsonAtomic, makeDir, tempName } from './atomic.js';
export { trackTemporary, trackedTemporaries, removeTemporaries } from './temp-files.js';
export { readNpy, writeNpy, parseNpy, encodeNpy, npyHeader, dtypeOf, NpyReader, NpyWriter } from './npy.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';
export { canonicalJson } from './canonical-json.js';
export { readNumber, parseNumber } from './numbers.js';
export { SETTINGS, settingsOf, describeSettings, resolveLayers } from './config-schema.js';
export type { ConfigLayer, SettingInfo, SettingEntry } from './config-schema.js';
