// Sweeps: a study's grid of training runs (grid.ts: the grid file, its cells, their shards), run
// one after another with the train room's loop and the metrics room's evaluate(), resumable and
// shardable (run.ts); the files it writes besides the run folders (sweep-files.ts). `scaat sweep` is
// the CLI over it; `scaat report <sweep folder>` (report room) reads what it wrote. Public API
// (re-exports only).
export { readGrid, parseGrid, expandGrid, shardCells } from './grid.js';
export type { Grid, GridEvaluation, Cell, Axis, AxisValue, CellRef, PlainValue } from './grid.js';
export { runSweep, planSweep, cellStatus, checkEvaluation, SEED_AXIS, PARTITION_AXIS } from './run.js';
export type { SweepOptions, SweepSummary, OpenData } from './run.js';
export { SWEEP_SCHEMA_VERSION, SWEEP_KIND, SWEEP_CELL_KIND, SWEEP_FILES } from './sweep-files.js';
export type { CellStatus, SweepCellRecord, SweepFile, SweepCellFile, SweepCellError } from './sweep-files.js';
