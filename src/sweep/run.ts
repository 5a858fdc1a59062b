/**
 * Running a sweep (grid.ts describes the grid). For each cell of this shard (and of the `cells`
 * selection, when given), in run order:
 *
 *   0. with a results folder (results.ts): a cell parked there when a sweep was stopped part-way,
 *      whose folder is missing here, is moved in (its config checked against the grid first) and
 *      resumes from its parked checkpoint; a cell whose folder is missing here but whose results are
 *      there, made with the grid's evaluation, is restored (without its model), unless a cell
 *      still to train continues or fine-tunes from it: then it trains again (keptToRetrain);
 *      then, with --reuse folders (reuse.ts): a cell still without a folder that is the same run as
 *      a done cell there (config and evaluation) is copied from it
 *   1. its folder says it is done (eval.json made with the grid's evaluation) → skip
 *   2. config.json there → it must be the grid's config for the cell (else ConfigError: the grid
 *      changed after the cell started; nothing is touched)
 *   3. no final model → train(): a new run, or the run resumed from its latest checkpoint (the
 *      loop resumes bit for bit, so an interrupted sweep ends with an uninterrupted one's weights);
 *      a cell that continues a shorter twin (grid.ts) starts as a copy of its finished run, resumed
 *   4. no current evaluation → evaluate() the final model on the cell's backend (setupBackend, as
 *      train() does) → <cell>/eval.json, then <cell>/cell.json
 *   5. sweep.json rewritten (atomically) from what the cell folders say; with a results folder,
 *      the cell's results saved there and its sweep.json rewritten too
 *
 * Everything that can fail on bad input (the grid, the evaluation settings, each dataset's
 * evaluation split) is checked before anything is written. A cell that fails with a ScaatError
 * (bad data, divergence…) is recorded in its error.json and the sweep goes on; the next sitting
 * retries it. Abort (Ctrl-C): the running train() writes a checkpoint, or the running evaluation
 * stops after its batch; with a results folder the stopped cell is parked there; sweep.json is
 * written; ScaatError 'INTERRUPTED' is thrown.
 *
 * Several processes may run one sweep at once when each takes its own shard (`--shard i/n`): cell
 * folders are disjoint and sweep.json is only ever replaced whole.
 */
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { setupBackend } from '../engine/backend.js';
import { isWasmHeapExhausted, WASM_HEAP_LIMIT_BYTES } from '../engine/memory.js';
import { ConfigError, DataError, HeapLimitError, ScaatError } from '../errors.js';
import type { Dataset } from '../datasets/dataset.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { evaluate, resolveEvaluationConfig } from '../metrics/evaluate.js';
import type { EvaluateOptions } from '../metrics/evaluate.js';
import { loadModel, MODEL_JSON } from '../models/io.js';
import { saliencyMethods } from '../saliency/registry.js';
import type { TrainConfig } from '../train/config.js';
import { train } from '../train/loop.js';
import { SILENT_PROGRESS } from '../train/progress.js';
import type { ProgressSink } from '../train/progress.js';
import type { TrainerRegistry } from '../train/registry.js';
import { lockRunDir, runPaths } from '../train/run-dir.js';
import { expandGrid, selectCells, shardCells } from './grid.js';
import type { Cell, Grid, GridEvaluation } from './grid.js';
import { dropParked, evaluationCurrent, parkCell, parkedDir, parkedCells, restorable, restoreCellResults, saveCellResults, unparkCell } from './results.js';
import { configDifferences, FREE_KEYS, planReuse, reuseCell, reuseSources, runValue, savedConfig } from './reuse.js';
import type { ReuseSource } from './reuse.js';
import { SWEEP_CELL_KIND, SWEEP_FILES, SWEEP_KIND, SWEEP_SCHEMA_VERSION } from './sweep-files.js';
import type { CellStatus, SweepCellError, SweepCellFile, SweepCellRecord, SweepFile } from './sweep-files.js';

/** The axis averaged over in reports, and the one that splits them into separate comparisons. */
export const SEED_AXIS = 'seed';
export const PARTITION_AXIS = 'data';

/** Opens one split of a data source (a DATASETS name, `name:key=value,…` or a path); `where` names it in errors. */
export type OpenData = (spec: string, split: string, where: string) => Promise<Dataset>;

/** Inputs of {@link runSweep}. */
export interface SweepOptions {
  readonly grid: Grid;
  /** The sweep folder (created). */
  readonly out: string;
  /** Trainer registry (the CLI's: baselines + SCAAT). */
  readonly trainers: TrainerRegistry;
  /** How data sources are opened (the CLI's opener). */
  readonly openData: OpenData;
  /** Run only this shard's cells (grid.ts). @default every cell */
  readonly shard?: { index: number; count: number };
  /** Run only these cells (1-based, in run order) and the cells they fine-tune or continue from (grid.ts selectCells). @default every cell */
  readonly cells?: ReadonlySet<number>;
  /** Replaces every cell's `backend` (not part of a cell's identity). */
  readonly backend?: TrainConfig['backend'];
  /** Abort → checkpoint / stop after the batch, write sweep.json, throw ScaatError 'INTERRUPTED'. */
  readonly signal?: AbortSignal;
  /** Training display. @default silent */
  readonly progress?: ProgressSink;
  /** One line per event (cell started, skipped, failed…). @default none */
  readonly log?: (line: string) => void;
  /** Recorded in sweep.json and each evaluation. @default 'scaat sweep' */
  readonly command?: string;
  /** A results folder (results.ts): done cells restored from it first, each cell saved there when done. @default none */
  readonly results?: string;
  /** Other sweeps' folders or results folders whose done cells are copied in for the cells that are the same run (reuse.ts). @default none */
  readonly reuse?: readonly string[];
}

/** What {@link runSweep} did. */
export interface SweepSummary {
  /** Every cell of the grid, and this shard's. */
  readonly cells: readonly Cell[];
  readonly mine: readonly Cell[];
  /** Cells of this shard that were already done, that this call trained and/or evaluated, that failed. */
  readonly skipped: readonly string[];
  readonly ran: readonly string[];
  readonly failed: ReadonlyArray<{ readonly name: string; readonly message: string }>;
}

/** The cells of a grid and of one shard (for `--dry-run` and {@link runSweep}). */
export function planSweep(
  grid: Grid,
  o: { out: string; trainers: TrainerRegistry; shard?: { index: number; count: number }; cells?: ReadonlySet<number> },
): { cells: Cell[]; mine: Cell[] } {
  const cells = expandGrid(grid, { out: o.out, trainers: o.trainers });
  const selected = new Set(selectCells(cells, o.cells).map((c) => c.name));
  return { cells, mine: shardCells(cells, o.shard).filter((c) => selected.has(c.name)) };
}

/**
 * The kept cells (restorable from the results folder, results.ts) that are not restored but trained
 * again: the runs that a cell still to train continues or fine-tunes from (`continues`, `source`),
 * transitively, within `mine`. A restored cell has no model, and a longer cell of an epochs chain or
 * a fine-tuning cell needs its source's; so on a machine that lacks the sweep folder the source
 * trains again (the same run: bit for bit its kept one on the same backend; its results are then
 * saved anew) rather than being restored and stopping its dependant with SOURCE_NOT_READY. A
 * continuing cell that has started (its config.json: it resumes from its own checkpoints) needs no
 * source; a fine-tuning cell that has not finished training does (its source's weights are checked
 * on every start). A cell with an evaluation but no model trains nothing (MODEL_NOT_KEPT). Keyed by
 * cell name: the dependant that needs it. Cells in `reused` (copied from a --reuse folder, reuse.ts)
 * train nothing; cells in `parked` (to be moved in from the results folder's parked cells) are read
 * there.
 */
export function keptToRetrain(
  mine: readonly Cell[],
  out: string,
  results: string | undefined,
  evaluation: GridEvaluation,
  reused: ReadonlySet<string> = new Set(),
  parked: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const retrain = new Map<string, string>();
  if (results === undefined) return retrain;
  const names = new Set(mine.map((c) => c.name));
  const kept = (name: string) => restorable(results, out, name, evaluation);
  const dir = (name: string) => (parked.has(name) ? parkedDir(results, name) : path.join(out, name));
  const hasModel = (name: string) => existsSync(path.join(runPaths(dir(name)).model, MODEL_JSON));
  // trains in this sweep: retrained, or neither trained, evaluated (now or with other settings) nor kept
  const trains = (c: Cell) => retrain.has(c.name) || (!reused.has(c.name) && !hasModel(c.name) && !existsSync(path.join(dir(c.name), SWEEP_FILES.evaluation)) && !kept(c.name));
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of mine) {
      if (!trains(c)) continue;
      // a started continuing cell resumes from its own checkpoints (a retrained one starts anew)
      const continuesFrom = c.continues !== undefined && (retrain.has(c.name) || !existsSync(runPaths(dir(c.name)).config)) ? c.continues : undefined;
      for (const from of [continuesFrom, c.source]) {
        if (from !== undefined && names.has(from) && !retrain.has(from) && kept(from)) {
          retrain.set(from, c.name);
          changed = true;
        }
      }
    }
  }
  return retrain;
}

/** What a sweep does before its loop (runSweep, and `--dry-run`'s listing). */
export interface StartPlan {
  /** Kept cells trained again (keptToRetrain; not those copied from a --reuse folder instead), with the dependant that needs each. */
  readonly retrain: ReadonlyMap<string, string>;
  /** Cells restored from the results folder. */
  readonly restore: ReadonlySet<string>;
  /** Cells copied from a --reuse folder (reuse.ts), with their source. */
  readonly reuse: ReadonlyMap<string, ReuseSource>;
  /** Cells moved in from the results folder's parked cells (results.ts), resumed from their checkpoint. */
  readonly parked: ReadonlySet<string>;
}

/**
 * The start of a sweep of `mine`: the results folder's kept cells are restored (its own results come
 * first), except those that a cell still to train continues or fine-tunes from (trained again); then
 * the cells still without a folder that are the same runs as --reuse sources are copied from them (a
 * cell trained again among them, where a source has its model). A cell that will be copied trains
 * nothing, so its kept source is restored, not trained again. A parked cell (moved in first, and
 * resumed) is a started cell, never copied nor restored: one that is not kept, and a kept one that
 * trains again (a sweep stopped it while it trained again); a kept one that need not train again
 * is restored, and its parked copy dropped when the sweep reaches it.
 */
export function planStart(
  mine: readonly Cell[],
  out: string,
  o: { results?: string | undefined; sources: readonly ReuseSource[]; evaluation: GridEvaluation; configOf: (cell: Cell) => TrainConfig },
): StartPlan {
  const results = o.results;
  const kept = new Set(results === undefined ? [] : mine.filter((c) => restorable(results, out, c.name, o.evaluation)).map((c) => c.name));
  const parkedAll = parkedCells(results, out, mine.map((c) => c.name));
  const early = planReuse(mine, out, o.sources, o.configOf, new Set([...kept, ...parkedAll]));
  // a parked cell that trains resumes from its parked checkpoint: it needs no shorter run's model
  const retrain = keptToRetrain(mine, out, results, o.evaluation, new Set(early.keys()), parkedAll);
  const parked = new Set([...parkedAll].filter((n) => !kept.has(n) || retrain.has(n)));
  const restore = new Set([...kept].filter((n) => !retrain.has(n)));
  const reuse = planReuse(mine, out, o.sources, o.configOf, new Set([...restore, ...parked]));
  return { retrain: new Map([...retrain].filter(([n]) => !reuse.has(n))), restore, reuse, parked };
}

/** Runs the sweep (module header). */
export async function runSweep(o: SweepOptions): Promise<SweepSummary> {
  const { grid, out } = o;
  const log = o.log ?? (() => {});
  const command = o.command ?? 'scaat sweep';
  const { cells, mine } = planSweep(grid, o);

  // Checks before any output: the evaluation settings against every dataset this shard evaluates.
  let evaluation: ReturnType<typeof checkEvaluation> | undefined;
  for (const spec of new Set(mine.map((c) => c.config.data))) {
    const ds = await o.openData(spec, grid.evaluation.split, `${grid.file}: data '${spec}' (split '${grid.evaluation.split}' of evaluation.split)`);
    try {
      evaluation = checkEvaluation(grid, ds);
    } finally {
      await ds.close?.();
    }
  }
  const { methods, options: evalOptions } = evaluation ?? { methods: [], options: evaluateOptions(grid.evaluation) }; // no cell in this shard

  const configOf = (c: Cell) => cellConfigOf(c, o.backend);
  const sources = o.reuse !== undefined && o.reuse.length > 0 ? reuseSources(o.reuse, grid.evaluation, o.trainers) : [];
  const plan = planStart(mine, out, { results: o.results, sources, evaluation: grid.evaluation, configOf });
  if (o.results !== undefined) {
    // a parked cell started under other settings means the grid changed: refuse before writing anything
    for (const cell of mine) if (plan.parked.has(cell.name)) checkCellConfig(cell, parkedDir(o.results, cell.name), configOf(cell), o.trainers, grid.file);
    await fsp.mkdir(out, { recursive: true });
    for (const cell of mine) {
      if (!plan.parked.has(cell.name)) continue;
      await unparkCell(o.results, out, cell.name);
      log(`${cell.name}: moved in from ${parkedDir(o.results, cell.name)} (parked when a sweep stopped it): it resumes from there`);
    }
    for (const cell of mine) {
      const needs = plan.retrain.get(cell.name);
      if (needs !== undefined && !plan.parked.has(cell.name)) log(`${cell.name}: kept in ${o.results} without its model, which ${needs} starts from: trained again`);
      else if (plan.restore.has(cell.name) && (await restoreCellResults(o.results, out, cell.name, grid.evaluation))) log(`${cell.name}: results restored from ${o.results} (no model)`);
    }
  }

  // A cell started under other settings means the grid changed: refuse before copying anything in.
  for (const cell of mine) {
    const dir = path.join(out, cell.name);
    if (existsSync(runPaths(dir).config)) checkCellConfig(cell, dir, configOf(cell), o.trainers, grid.file);
  }

  if (plan.reuse.size > 0) await fsp.mkdir(out, { recursive: true });
  for (const cell of mine) {
    const from = plan.reuse.get(cell.name);
    if (from === undefined) continue;
    const why = await reuseCell(from.dir, out, cellRecord(cell, grid.evaluation), configOf(cell), o.trainers);
    log(why === undefined
      ? `${cell.name}: the same run as ${from.dir} (config and evaluation): copied from it${from.model ? '' : ' (no model)'}`
      : `${cell.name}: not copied from ${from.dir} (${why}): it runs here`);
  }

  await fsp.mkdir(out, { recursive: true });
  await writeSweepFile(out, grid, cells, command);
  const skipped: string[] = [];
  const ran: string[] = [];
  const failed: Array<{ name: string; message: string }> = [];
  for (const [k, cell] of mine.entries()) {
    const where = `[${k + 1}/${mine.length}] ${cell.name}`;
    const { status } = cellStatus(out, cell, grid.evaluation);
    if (status === 'done') {
      log(`${where}: done, skipped`);
      skipped.push(cell.name);
      if (o.results !== undefined) await dropParked(o.results, cell.name); // a parked copy of a done cell resumes nothing
      if (o.results !== undefined && !evaluationCurrent(path.join(o.results, cell.name), grid.evaluation)) await saveResults(o.results, out, grid, cells, cell, command);
      continue;
    }
    try {
      // One call per cell does all of the cell's work (train or resume, evaluate, clear its error):
      // one writer per cell folder: train() holds the folder's lock while it trains, runCell
      // while it evaluates (a second sweep of the same cell is refused, exit 4)
      await runCell(cell, { ...o, where, log, command, methods, evalOptions });
      ran.push(cell.name);
      if (o.results !== undefined) await saveResults(o.results, out, grid, cells, cell, command);
    } catch (caught) {
      // training names its own (train/loop.ts); the heap can also run out while the cell is evaluated
      const err = !(caught instanceof ScaatError) && isWasmHeapExhausted(caught) ? heapFullInCell(cell.name, grid.evaluation.batchSize, caught) : caught;
      const recordError = (e: ScaatError) =>
        writeJsonAtomic(path.join(out, cell.name, SWEEP_FILES.error), { error: e.name, code: e.code, message: e.message, time: new Date().toISOString() } satisfies SweepCellError);
      if (err instanceof ScaatError && err.code !== 'INTERRUPTED' && err.code !== 'HEAP_LIMIT') {
        await recordError(err);
        log(`${where}: failed: ${err.name}: ${err.message}`);
        failed.push({ name: cell.name, message: `${err.name}: ${err.message}` });
      } else {
        // a full heap stops the sweep (the heap may be corrupted), recorded as a failure of its cell
        if (err instanceof HeapLimitError) await recordError(err);
        else if (o.results !== undefined && err instanceof ScaatError) await parkStopped(o.results, out, cell, log);
        await writeSweepFile(out, grid, cells, command);
        throw err;
      }
    }
    await writeSweepFile(out, grid, cells, command);
  }
  return { cells, mine, skipped, ran, failed };
}

/** Saves a done cell's results (dropping its parked copy, if any) and rewrites the results folder's sweep.json. */
async function saveResults(results: string, out: string, grid: Grid, cells: readonly Cell[], cell: Cell, command: string): Promise<void> {
  await saveCellResults(out, results, cell.name);
  await dropParked(results, cell.name);
  await writeSweepFile(results, grid, cells, command);
}

/** Parks the cell a stop interrupted (results.ts parkCell); a failure to park is said, not thrown over the interruption. */
async function parkStopped(results: string, out: string, cell: Cell, log: (line: string) => void): Promise<void> {
  try {
    log(await parkCell(out, results, cell.name)
      ? `${cell.name}: parked in ${parkedDir(results, cell.name)}: a sweep with --results ${results} resumes it from there, on this machine or another`
      : `${cell.name}: not parked (no checkpoint yet)`);
  } catch (err) {
    log(`${cell.name}: ${(err as Error).message}`);
  }
}

interface CellContext extends SweepOptions {
  readonly where: string;
  readonly log: (line: string) => void;
  readonly command: string;
  readonly methods: EvaluateOptions['methods'];
  readonly evalOptions: Omit<EvaluateOptions, 'methods'>;
}

/** Trains (or resumes) and evaluates one cell. */
async function runCell(cell: Cell, c: CellContext): Promise<void> {
  const dir = path.join(c.out, cell.name);
  const paths = runPaths(dir);
  if (!existsSync(paths.config) && cell.continues !== undefined) await continueShorterRun(cell, c);
  const started = existsSync(paths.config);
  const config: TrainConfig = { ...cellConfigOf(cell, c.backend), ...(started ? { modelSha256: checkCellConfig(cell, dir, cellConfigOf(cell, c.backend), c.trainers, c.grid.file) } : {}) };

  if (!existsSync(path.join(paths.model, MODEL_JSON))) {
    if (existsSync(path.join(dir, SWEEP_FILES.evaluation))) {
      throw new ScaatError(`cell ${cell.name} has an evaluation made with other settings and no model (restored from a results folder, or the model removed): delete ${dir} to train it again`, 'MODEL_NOT_KEPT');
    }
    if (cell.source !== undefined && !existsSync(path.join(runPaths(path.join(c.out, cell.source)).model, MODEL_JSON))) {
      throw new ScaatError(`cell ${cell.name} starts from cell ${cell.source}, which has no final model ${whyNoModel(path.join(c.out, cell.source))}`, 'SOURCE_NOT_READY');
    }
    c.log(`${c.where}: ${started ? 'resuming training' : 'training'}${cell.source ? ` (from ${cell.source})` : ''}${cell.continues ? ` (continuing ${cell.continues})` : ''}`);
    const data = {
      train: await c.openData(config.data, 'train', `${c.grid.file}: cell ${cell.name}: data`),
      ...(config.evalEvery > 0 ? { test: await c.openData(config.data, 'test', `${c.grid.file}: cell ${cell.name}: data`) } : {}),
    };
    try {
      const r = await train({
        config, data, runDir: dir, resume: started, trainers: c.trainers,
        ...(c.signal ? { signal: c.signal } : {}), progress: c.progress ?? SILENT_PROGRESS,
      });
      r.classifier.model.dispose();
    } finally {
      await Promise.all([data.train.close?.(), data.test?.close?.()]);
    }
  }

  if (!evaluationCurrent(dir, c.grid.evaluation)) {
    const split = c.grid.evaluation.split;
    c.log(`${c.where}: evaluating (${split} split${c.evalOptions.limit !== undefined ? `, a class-stratified sample of ${c.evalOptions.limit} images` : ''})`);
    // The cell's backend, as train() sets it: a sweep resumed at an evaluation has trained nothing
    // in this process, and TF.js's default backend would be 'cpu' (one thread, no accelerator).
    await setupBackend({ backend: config.backend });
    const lock = await lockRunDir(dir);
    const { classifier, weights } = await loadModel(paths.model);
    const dataset = await c.openData(config.data, split, `${c.grid.file}: cell ${cell.name}: data`).catch((e: unknown) => {
      classifier.model.dispose();
      lock.release();
      throw e;
    });
    try {
      const result = await evaluate(classifier, dataset, {
        ...c.evalOptions,
        methods: c.methods,
        modelSource: dir,
        modelWeights: weights,
        command: `${c.command} (cell ${cell.name})`,
        onProgress: () => {
          if (c.signal?.aborted) throw new ScaatError(`interrupted while evaluating cell ${cell.name}; the next 'scaat sweep' evaluates it again`, 'INTERRUPTED');
        },
      });
      // eval.json first: a cell.json naming these settings always has its eval.json.
      await writeJsonAtomic(path.join(dir, SWEEP_FILES.evaluation), result);
      await writeJsonAtomic(path.join(dir, SWEEP_FILES.cell), cellRecord(cell, c.grid.evaluation));
    } finally {
      classifier.model.dispose();
      await dataset.close?.();
      lock.release();
    }
  }
  await fsp.rm(path.join(dir, SWEEP_FILES.error), { force: true });
  c.log(`${c.where}: done`);
}

/**
 * Starts a cell as the continuation of its shorter twin's finished run (grid.ts, `Cell.continues`):
 * that run's checkpoints and log are copied in with its config.json, `epochs` set to this cell's;
 * train() then resumes the final checkpoint, bit for bit the longer run from scratch. config.json
 * is written last, so a copy interrupted part-way leaves an unstarted cell that is copied anew.
 * @throws ScaatError 'SOURCE_NOT_READY' when the shorter run has no final model (it failed or was
 *   interrupted).
 */
async function continueShorterRun(cell: Cell, c: CellContext): Promise<void> {
  const from = runPaths(path.join(c.out, cell.continues!));
  const to = runPaths(path.join(c.out, cell.name));
  if (!existsSync(path.join(from.model, MODEL_JSON))) {
    throw new ScaatError(`cell ${cell.name} continues cell ${cell.continues}, which has no final model ${whyNoModel(from.dir)}`, 'SOURCE_NOT_READY');
  }
  c.log(`${c.where}: continuing the finished run of ${cell.continues} (its checkpoints and log copied in)`);
  const saved = JSON.parse(readFileSync(from.config, 'utf8')) as Record<string, unknown>;
  await fsp.mkdir(to.dir, { recursive: true });
  for (const part of ['checkpoints', 'log'] as const) {
    const staged = `${to[part]}.continuing`;
    await fsp.rm(staged, { recursive: true, force: true });
    await fsp.cp(from[part], staged, { recursive: true });
    await fsp.rm(to[part], { recursive: true, force: true });
    await fsp.rename(staged, to[part]);
  }
  await writeJsonAtomic(to.config, { ...saved, epochs: cell.config.epochs });
}

/** Why a cell folder without a final model has none, for SOURCE_NOT_READY. */
function whyNoModel(dir: string): string {
  return existsSync(path.join(dir, SWEEP_FILES.evaluation))
    ? `(it is done, but its model is not kept: restored from a results folder, or removed; delete ${dir} to train it again)`
    : 'yet (it failed or was interrupted)';
}

/** Keys a fine-tuning cell's config.json may differ in from the grid besides FREE_KEYS (reuse.ts): what train() fills in from a source model. */
const FROM_SOURCE_KEYS = ['model', 'width', 'normalizeMean', 'normalizeStd'] as const;

/**
 * The cell's config.json must be the grid's config for it (a grid edited after the cell started
 * would otherwise mix two settings in one folder), as a run (reuse.ts configDifferences: of
 * trainerOptions only the cell's own trainer's, which is all its training reads). Returns the recorded modelSha256 (train() then
 * checks the source weights against it).
 * @throws ConfigError naming the cell, the file and the keys that differ.
 */
function checkCellConfig(cell: Cell, dir: string, config: TrainConfig, trainers: TrainerRegistry, gridFile: string): string {
  const file = runPaths(dir).config;
  let saved: TrainConfig;
  try {
    saved = savedConfig(dir, trainers);
  } catch (err) {
    if (err instanceof ConfigError) throw new DataError(`cell ${cell.name}: ${err.message}`, { cause: err });
    throw err;
  }
  const ignore = new Set<string>([...FREE_KEYS, ...(cell.source !== undefined ? FROM_SOURCE_KEYS : [])]);
  const differ = configDifferences(saved, config, ignore);
  if (cell.source !== undefined && path.basename(saved.model) !== cell.source) differ.unshift('model');
  if (differ.length > 0) {
    const show = (v: unknown) => JSON.stringify(v);
    throw new ConfigError(
      `${gridFile}: cell ${cell.name}: ${file} differs from the grid in ${differ.map((k) => `'${k === 'trainerOptions' ? `trainerOptions.${config.trainer}` : k}' (${show(runValue(saved, k))} there, ${show(runValue(config, k))} in the grid)`).join(', ')}; ` +
        'the grid changed after this cell started. Restore the grid, or delete the cell\'s folder to run it anew',
    );
  }
  return saved.modelSha256;
}

/** The cell's config as it trains here (`backend` replaced when asked). */
export function cellConfigOf(cell: Cell, backend: TrainConfig['backend'] | undefined): TrainConfig {
  return backend !== undefined ? { ...cell.config, backend } : cell.config;
}

/** A cell's status, read from its folder (sweep-files.ts). */
export function cellStatus(out: string, cell: Cell, evaluation: GridEvaluation): { status: CellStatus; error?: string } {
  const dir = path.join(out, cell.name);
  const paths = runPaths(dir);
  const trained = existsSync(path.join(paths.model, MODEL_JSON));
  // done: evaluated with the grid's settings (eval.json is only ever written for a final model, which
  // may since have been removed, or never restored: results.ts)
  if (evaluationCurrent(dir, evaluation)) return { status: 'done' };
  const errorFile = path.join(dir, SWEEP_FILES.error);
  if (existsSync(errorFile)) {
    try {
      const e = JSON.parse(readFileSync(errorFile, 'utf8')) as Partial<SweepCellError>;
      return { status: 'failed', error: `${e.error ?? 'error'}: ${e.message ?? ''}` };
    } catch {
      return { status: 'failed', error: `unreadable ${errorFile}` };
    }
  }
  if (trained) return { status: 'trained' };
  return { status: existsSync(paths.config) ? 'training' : 'pending' };
}

/** Axis name → display value of a cell (sweep.json, cell.json). */
function paramsOf(cell: Cell): Record<string, string> {
  return Object.fromEntries(cell.params.map((p) => [p.axis.name, p.value.display]));
}

/** The cell.json of a cell evaluated with `evaluation`. */
function cellRecord(cell: Cell, evaluation: GridEvaluation): SweepCellFile {
  return { kind: SWEEP_CELL_KIND, schemaVersion: SWEEP_SCHEMA_VERSION, name: cell.name, params: paramsOf(cell), evaluation };
}

/** Writes <out>/sweep.json (atomically) with every cell's status as its folder says. */
async function writeSweepFile(out: string, grid: Grid, cells: readonly Cell[], command: string): Promise<SweepFile> {
  const counts: Record<CellStatus, number> = { pending: 0, training: 0, trained: 0, done: 0, failed: 0 };
  const records: SweepCellRecord[] = cells.map((cell) => {
    const { status, error } = cellStatus(out, cell, grid.evaluation);
    counts[status] += 1;
    return { name: cell.name, params: paramsOf(cell), ...(cell.source !== undefined ? { source: cell.source } : {}), ...(cell.continues !== undefined ? { continues: cell.continues } : {}), status, ...(error !== undefined ? { error } : {}) };
  });
  const file: SweepFile = {
    kind: SWEEP_KIND,
    schemaVersion: SWEEP_SCHEMA_VERSION,
    gridFile: grid.file,
    grid: grid.json,
    ...(grid.title !== undefined ? { title: grid.title } : {}),
    ...(grid.comment !== undefined ? { comment: grid.comment } : {}),
    evaluation: grid.evaluation,
    seedAxis: SEED_AXIS,
    partitionAxis: PARTITION_AXIS,
    command,
    updatedAt: new Date().toISOString(),
    counts,
    cells: records,
  };
  await writeJsonAtomic(path.join(out, SWEEP_FILES.sweep), file);
  return file;
}

/**
 * The grid's evaluation section as evaluate() options, checked against a dataset's size and masks.
 * @throws ConfigError naming the grid file and 'evaluation' (unknown method or metric, a
 *   localisation metric on data without masks, …).
 */
export function checkEvaluation(grid: Grid, dataset: Pick<Dataset, 'size' | 'hasMask'>): { methods: EvaluateOptions['methods']; options: Omit<EvaluateOptions, 'methods'> } {
  const methods = inGrid(grid.file, 'evaluation', () => saliencyMethods(grid.evaluation.methods, grid.evaluation.methodOptions ?? {}));
  const options = evaluateOptions(grid.evaluation);
  inGrid(grid.file, 'evaluation', () => resolveEvaluationConfig({ ...options, methods }, dataset));
  return { methods, options };
}

/** The grid's evaluation section as evaluate() options (methods apart). */
function evaluateOptions(e: GridEvaluation): Omit<EvaluateOptions, 'methods'> {
  const { split: _split, methods: _methods, methodOptions: _methodOptions, ...settings } = e;
  return settings;
}

/** Runs `f`, naming the grid file and section in a ConfigError's message. */
function inGrid<T>(file: string, section: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${section}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** A cell that ran out of the wasm heap outside a training step (its evaluation): the named error. */
function heapFullInCell(cell: string, evalBatchSize: number | undefined, cause: unknown): HeapLimitError {
  return new HeapLimitError(
    `cell ${cell}: the wasm backend's ${WASM_HEAP_LIMIT_BYTES / 1024 ** 3} GiB heap (wasm32's limit) is full outside a training step ` +
      `(wasm said: ${cause instanceof Error ? cause.message : String(cause)}); lower the grid's evaluation.batchSize` +
      (evalBatchSize !== undefined ? ` (${evalBatchSize} now)` : ''),
    { cause },
  );
}
