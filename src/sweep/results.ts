/**
 * A sweep's results folder (`scaat sweep --results <dir>`): every done cell's small files, without
 * its model and checkpoints, so that a study can outlive the disk it trains on. A long study spans
 * sittings on machines that do not keep their disks; what must survive is what the report reads,
 * a few hundred kB per cell, not the megabytes of weights:
 *
 *   <results>/sweep.json         as the sweep folder's, the statuses read from <results>
 *   <results>/<cell>/config.json, log.jsonl, eval.json, cell.json
 *
 * `scaat report <results>` makes the same table as `scaat report <out>` for those cells. A sweep
 * given the results folder first restores into <out> every cell of its part that <out> lacks
 * (nothing in <out> is ever replaced) and then saves each cell the moment it is done, so a sweep on
 * a fresh machine skips what an earlier machine finished. A restored cell is done without its
 * model: a cell that fine-tunes or continues from it needs the model, so a sweep trains such a
 * source again instead of restoring it (run.ts keptToRetrain); one restored earlier says so.
 *
 * A cell stopped part-way (Ctrl-C, or a scheduler's SIGTERM at the end of a machine's time) is
 * parked there too, so that the next machine resumes it instead of starting it over:
 *
 *   <results>/parked/<cell>/     config.json, log.jsonl, checkpoints/latest.json and the checkpoint
 *                                it names, model/ when training had finished (stopped evaluating)
 *
 * megabytes rather than kilobytes, and only while the cell is unfinished: a sweep moves it into an
 * --out that has no folder for the cell (the run then resumes from that checkpoint, bit for bit the
 * uninterrupted run) and removes it once the cell's results are saved.
 */
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';
import { makeDir } from '../io/atomic.js';
import { canonicalJson } from '../io/canonical-json.js';
import { MODEL_JSON, readLatestName } from '../models/io.js';
import { RUN_FILES, runPaths } from '../train/run-dir.js';
import { SWEEP_CELL_KIND, SWEEP_FILES } from './sweep-files.js';
import type { SweepCellFile } from './sweep-files.js';

/** The files of a done cell that its results keep, in the order they are written (cell.json last: it marks the evaluation current). */
export const RESULT_FILES = [RUN_FILES.config, RUN_FILES.log, SWEEP_FILES.evaluation, SWEEP_FILES.cell] as const;

/** Whether `dir` holds an eval.json made with `evaluation` (its cell.json says so). */
export function evaluationCurrent(dir: string, evaluation: unknown): boolean {
  const cellFile = path.join(dir, SWEEP_FILES.cell);
  if (!existsSync(path.join(dir, SWEEP_FILES.evaluation)) || !existsSync(cellFile)) return false;
  try {
    const record = JSON.parse(readFileSync(cellFile, 'utf8')) as Partial<SweepCellFile>;
    return record.kind === SWEEP_CELL_KIND && canonicalJson(record.evaluation) === canonicalJson(evaluation);
  } catch {
    return false; // unreadable: evaluate again
  }
}

/** Whether a results folder's `dir` keeps a cell whole: every result file, its evaluation made with `evaluation`. */
export function keptWhole(dir: string, evaluation: unknown): boolean {
  return RESULT_FILES.every((f) => existsSync(path.join(dir, f))) && evaluationCurrent(dir, evaluation);
}

/**
 * Whether a sweep would restore `cell` from the results folder into `out`: `out` has no folder for
 * it, and the results folder keeps it whole ({@link keptWhole}).
 */
export function restorable(results: string, out: string, cell: string, evaluation: unknown): boolean {
  return !existsSync(path.join(out, cell)) && keptWhole(path.join(results, cell), evaluation);
}

/**
 * Copies `parts` (files or folders, relative) of `from` into the folder `to`, staged in a hidden
 * sibling and swapped into place, so `to` holds either what it held or the new copy, never a
 * mixture: how results are saved and restored, and cells parked and moved back.
 */
async function copyParts(from: string, to: string, parts: readonly string[], what: string): Promise<void> {
  const staged = path.join(path.dirname(to), `.${path.basename(to)}.${what}-${process.pid}`);
  const old = path.join(path.dirname(to), `.${path.basename(to)}.old-${process.pid}`);
  await fsp.mkdir(path.dirname(to), { recursive: true });
  try {
    await fsp.rm(staged, { recursive: true, force: true });
    for (const part of parts) await fsp.cp(path.join(from, part), path.join(staged, part), { recursive: true });
    if (existsSync(to)) await fsp.rename(to, old);
    await fsp.rename(staged, to);
    await fsp.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fsp.rm(staged, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Copies a done cell's result files from the sweep folder into `<results>/<cell>/`, replacing what
 * was there: staged in a hidden sibling folder, then swapped in, so the results folder holds either
 * the old files or the new ones, never a mixture.
 * @throws DataError naming the folder when it cannot be written.
 */
export async function saveCellResults(out: string, results: string, cell: string): Promise<void> {
  await makeDir(results, 'results folder');
  try {
    await copyParts(path.join(out, cell), path.join(results, cell), RESULT_FILES, 'saving');
  } catch (err) {
    throw new DataError(`cannot save the results of cell ${cell} in ${results}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Restores a cell's results into the sweep folder when the sweep folder has no folder for it and the
 * results folder has a complete one made with `evaluation`; returns whether it did. Staged in a
 * hidden sibling, then renamed into place.
 */
export async function restoreCellResults(results: string, out: string, cell: string, evaluation: unknown): Promise<boolean> {
  if (!restorable(results, out, cell, evaluation)) return false;
  try {
    await copyParts(path.join(results, cell), path.join(out, cell), RESULT_FILES, 'restoring');
  } catch (err) {
    throw new DataError(`cannot restore the results of cell ${cell} from ${results} into ${out}: ${(err as Error).message}`, { cause: err });
  }
  return true;
}

/** The folder of a results folder that holds the cells stopped part-way (module header). */
export const PARKED_DIR = 'parked';

/** Where `results` parks `cell`. */
export function parkedDir(results: string, cell: string): string {
  return path.join(results, PARKED_DIR, cell);
}

/**
 * What of a stopped cell's folder its resumption needs, relative to the folder: config.json,
 * log.jsonl, the latest checkpoint (with latest.json) and the final model where there is one.
 * Undefined when the cell has nothing to resume from (not started, or no checkpoint yet).
 */
function resumeParts(dir: string): string[] | undefined {
  const p = runPaths(dir);
  const hasModel = existsSync(path.join(p.model, MODEL_JSON));
  if (!existsSync(p.config) || (!existsSync(p.latest) && !hasModel)) return undefined;
  const checkpoint = existsSync(p.latest) ? [path.join(RUN_FILES.checkpoints, RUN_FILES.latest), path.join(RUN_FILES.checkpoints, readLatestName(p.latest))] : [];
  return [RUN_FILES.config, ...(existsSync(p.log) ? [RUN_FILES.log] : []), ...checkpoint, ...(hasModel ? [RUN_FILES.model] : [])];
}

/**
 * Parks the stopped cell `cell` of the sweep folder `out` in the results folder (module header),
 * replacing an earlier parked copy. Returns false, parking nothing, when it has nothing to resume
 * from yet (no checkpoint written).
 * @throws DataError naming the folder when it cannot be written.
 */
export async function parkCell(out: string, results: string, cell: string): Promise<boolean> {
  const parts = resumeParts(path.join(out, cell));
  if (parts === undefined) return false;
  try {
    await copyParts(path.join(out, cell), parkedDir(results, cell), parts, 'parking');
  } catch (err) {
    throw new DataError(`cannot park the stopped cell ${cell} in ${path.join(results, PARKED_DIR)}: ${(err as Error).message}`, { cause: err });
  }
  return true;
}

/**
 * The cells of `cells` parked in the results folder that `out` has no folder for: those a sweep may
 * move in (run.ts planStart decides: not a cell kept done, unless it trains again).
 */
export function parkedCells(results: string | undefined, out: string, cells: readonly string[]): Set<string> {
  if (results === undefined) return new Set();
  return new Set(cells.filter((c) => existsSync(runPaths(parkedDir(results, c)).config) && !existsSync(path.join(out, c))));
}

/**
 * Copies a parked cell into `<out>/<cell>` (which must not exist), staged and renamed into place;
 * the parked copy stays until the cell's results are saved ({@link dropParked}).
 * @throws DataError naming both folders when it cannot.
 */
export async function unparkCell(results: string, out: string, cell: string): Promise<void> {
  const from = parkedDir(results, cell);
  try {
    const parts = (await fsp.readdir(from)).filter((f) => !f.startsWith('.'));
    await copyParts(from, path.join(out, cell), parts, 'unparking');
  } catch (err) {
    throw new DataError(`cannot resume the parked cell ${cell} from ${from} into ${out}: ${(err as Error).message}`, { cause: err });
  }
}

/** Removes a cell's parked copy (its results are saved), and the parked folder once it is empty. */
export async function dropParked(results: string, cell: string): Promise<void> {
  const dir = parkedDir(results, cell);
  if (!existsSync(dir)) return;
  await fsp.rm(dir, { recursive: true, force: true });
  const parent = path.dirname(dir);
  if ((await fsp.readdir(parent)).length === 0) await fsp.rm(parent, { recursive: true, force: true });
}
