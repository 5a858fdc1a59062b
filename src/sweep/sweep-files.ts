/**
 * The files `scaat sweep` writes besides the run folders (plain JSON types, no imports, so the
 * report room can read them):
 *
 *   <sweep>/sweep.json          SweepFile: the grid, every cell's parameters and status
 *   <sweep>/<cell>/             a run folder of `scaat train` (config.json, log.jsonl, checkpoints/, model/)
 *   <sweep>/<cell>/eval.json    the cell's evaluation (metrics/evaluation-result.ts EvaluationResult)
 *   <sweep>/<cell>/cell.json    SweepCellFile: the evaluation settings eval.json was made with
 *   <sweep>/<cell>/error.json   SweepCellError: why the cell's last attempt failed (removed on success)
 *
 * A cell's status is read from its folder, never kept only in memory, so shards of one sweep
 * running at once (each rewriting sweep.json atomically) and later sittings all agree.
 */

/** Version of these formats; bump on an incompatible change. */
export const SWEEP_SCHEMA_VERSION = 1;

/** `kind` of sweep.json. */
export const SWEEP_KIND = 'scaat-sweep';
/** `kind` of cell.json. */
export const SWEEP_CELL_KIND = 'scaat-sweep-cell';

/** File names. */
export const SWEEP_FILES = { sweep: 'sweep.json', evaluation: 'eval.json', cell: 'cell.json', error: 'error.json' } as const;

/**
 * pending: nothing yet; training: config.json but no final model (running, or interrupted: resumes
 * from its checkpoint); trained: final model, evaluation missing or made with other settings;
 * done: final model + eval.json with the grid's settings; failed: error.json from the last attempt.
 */
export type CellStatus = 'pending' | 'training' | 'trained' | 'done' | 'failed';

/** One cell in sweep.json. */
export interface SweepCellRecord {
  /** Folder name under the sweep folder. */
  readonly name: string;
  /** Axis name → value as shown in reports, in folder-name order (`seed` among them when it is an axis). */
  readonly params: Readonly<Record<string, string>>;
  /** The cell whose final model this one starts from (fine-tuning). */
  readonly source?: string;
  /** The shorter cell whose finished run this one continues (an epochs axis; grid.ts). */
  readonly continues?: string;
  readonly status: CellStatus;
  /** The error of the last attempt (status 'failed'). */
  readonly error?: string;
}

/** sweep.json. */
export interface SweepFile {
  readonly kind: typeof SWEEP_KIND;
  readonly schemaVersion: number;
  /** The grid file as given, and its JSON as read. */
  readonly gridFile: string;
  readonly grid: unknown;
  readonly title?: string;
  /** The grid's `$comment`: the question it answers. */
  readonly comment?: string;
  /** The grid's evaluation section, defaults filled in: a cell's eval.json is current when its cell.json holds the same. */
  readonly evaluation: unknown;
  /** The axis whose cells are averaged (mean ± std) in the report. */
  readonly seedAxis: string;
  /** The axis that splits the report into separate comparisons. */
  readonly partitionAxis: string;
  /** The command that last wrote the file, and when. */
  readonly command: string;
  readonly updatedAt: string;
  /** Cells per status. */
  readonly counts: Readonly<Record<CellStatus, number>>;
  /** Every cell of the grid, in run order. */
  readonly cells: readonly SweepCellRecord[];
}

/** cell.json: the evaluation settings (the grid's section, defaults filled in) eval.json was made with. */
export interface SweepCellFile {
  readonly kind: typeof SWEEP_CELL_KIND;
  readonly schemaVersion: number;
  readonly name: string;
  readonly params: Readonly<Record<string, string>>;
  readonly evaluation: unknown;
  /** The done cell of another sweep this cell was copied from (`scaat sweep --reuse`, reuse.ts), if it was. */
  readonly reusedFrom?: string;
}

/** error.json. */
export interface SweepCellError {
  /** Error class and code (ConfigError, DataError, ShapeError, ScaatError 'DIVERGED', …). */
  readonly error: string;
  readonly code: string;
  readonly message: string;
  readonly time: string;
}
