// Loads h5wasm before tsx is registered, so tsx does not transform its 4 MB of JavaScript (which
// alone adds about 600 MB of RSS); used by the PCam memory measurement of bench/suites/datasets.ts.
import h5wasm from 'h5wasm/node';

await h5wasm.ready;
