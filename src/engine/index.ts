export { setupBackend, backendInfo, machineSummary, BACKEND_NAMES } from './backend.js';
export type { BackendInfo, BackendName } from './backend.js';
export { Rng, deriveSeed } from './random.js';
export { countTensors, leakGuard, measureLeak, disposeAll, guardWasmAllocations, isWasmHeapExhausted, wasmHeapBytes, WASM_HEAP_LIMIT_BYTES } from './memory.js';
export { assertShape } from './shapes.js';
export type { Images, Labels, Mask, Logits } from './shapes.js';
export { inputGradientOnly, isInputGradientOnly } from './grad-scope.js';
