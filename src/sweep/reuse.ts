/**
 * Reusing the done cells of other sweeps (`scaat sweep --reuse <dir>`): grids that ask different
 * questions often share a run. CIFAR-10's ε axis has the length axis's 4-epoch regular, SGT, SCAAT
 * and PGD-AT cells at ε = 8/255 FGSM-RS under other names; training and evaluating them again
 * costs an hour and gives the same numbers. A cell of this grid that has no folder yet takes a done
 * cell of a --reuse folder (a sweep folder, or a results folder of `--results`) when that cell is
 * the same run: the same resolved config (below) and an evaluation made with this grid's settings.
 * Its folder is copied whole (model, checkpoints and log included where the source has them) with
 * cell.json rewritten to this cell's name and parameters; eval.json keeps the provenance of where it
 * was made. Staged in a hidden sibling, then renamed into place.
 *
 * "The same run": {@link configDifferences} finds none, ignoring where it ran (`backend`) and the
 * recorded source hash, and comparing of `trainerOptions` only the run's own trainer's entry: the
 * training loop reads no other trainer's options (train/loop.ts), so a regular cell of a grid whose
 * SCAAT options differ is still the same regular run. Fine-tuning cells are never reused (their
 * `model` names their own source cell). A source without its model (a results folder) is not
 * reused for a cell that a cell of this part continues or fine-tunes from: that one needs weights.
 */
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { canonicalJson } from '../io/canonical-json.js';
import { MODEL_JSON } from '../models/io.js';
import { resolveConfig } from '../train/config.js';
import type { TrainConfig } from '../train/config.js';
import { optionsResolver } from '../train/registry.js';
import type { TrainerRegistry } from '../train/registry.js';
import { readRunConfig, runPaths } from '../train/run-dir.js';
import type { Cell, GridEvaluation } from './grid.js';
import { keptWhole } from './results.js';
import { SWEEP_FILES } from './sweep-files.js';
import type { SweepCellFile } from './sweep-files.js';

/** Keys in which two configs of the same run may differ: where it runs, and the recorded hash of a source model. */
export const FREE_KEYS = ['backend', 'modelSha256'] as const;

/** A config key's value as the run depends on it: of `trainerOptions`, the run's own trainer's entry. */
export function runValue(config: TrainConfig, key: string): unknown {
  if (key === 'trainerOptions') return (config.trainerOptions as Readonly<Record<string, unknown>>)[config.trainer];
  return (config as unknown as Readonly<Record<string, unknown>>)[key];
}

/** The keys (not in `ignore`) in which `saved` and `config` differ as runs ({@link runValue}). */
export function configDifferences(saved: TrainConfig, config: TrainConfig, ignore: ReadonlySet<string>): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(config)])].filter((k) => !ignore.has(k));
  return keys.filter((k) => canonicalJson(runValue(saved, k)) !== canonicalJson(runValue(config, k)));
}

/**
 * A run folder's config.json, resolved as a sweep reads it (defaults of options added since filled in).
 * @throws ConfigError from the config's checks.
 */
export function savedConfig(dir: string, trainers: TrainerRegistry): TrainConfig {
  return resolveConfig([{ source: runPaths(dir).config, values: readRunConfig(dir) }], optionsResolver(trainers));
}

/** A done cell of a --reuse folder. */
export interface ReuseSource {
  /** Its folder. */
  readonly dir: string;
  readonly config: TrainConfig;
  /** Whether it has its final model (a sweep folder's cells do; a results folder's do not). */
  readonly model: boolean;
}

/**
 * The done cells of the --reuse folders whose evaluation was made with `evaluation` (every result
 * file there, cell.json naming these settings), in folder order, then by name.
 * @throws ConfigError naming a --reuse folder that does not exist.
 */
export function reuseSources(dirs: readonly string[], evaluation: GridEvaluation, trainers: TrainerRegistry): ReuseSource[] {
  const found: ReuseSource[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) throw new ConfigError(`--reuse ${dir}: no such folder (expected a sweep folder of scaat sweep --out, or a results folder of --results)`);
    const names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
    for (const name of names) {
      const cellDir = path.join(dir, name);
      if (!keptWhole(cellDir, evaluation)) continue;
      let config: TrainConfig;
      try {
        config = savedConfig(cellDir, trainers);
      } catch {
        continue; // not a config this version reads: not the same run as any cell here
      }
      found.push({ dir: cellDir, config, model: existsSync(path.join(runPaths(cellDir).model, MODEL_JSON)) });
    }
  }
  return found;
}

/**
 * Which cells of `mine` take a reused cell: those without a folder in `out` (and not in `skip`, e.g.
 * restored from the results folder) that are the same run as a source. Keyed by cell name.
 */
export function planReuse(
  mine: readonly Cell[],
  out: string,
  sources: readonly ReuseSource[],
  configOf: (cell: Cell) => TrainConfig,
  skip: ReadonlySet<string> = new Set(),
): Map<string, ReuseSource> {
  const plan = new Map<string, ReuseSource>();
  if (sources.length === 0) return plan;
  const needsModel = new Set(mine.flatMap((c) => [c.continues, c.source]).filter((n): n is string => n !== undefined));
  const free = new Set<string>(FREE_KEYS);
  for (const cell of mine) {
    if (cell.source !== undefined || skip.has(cell.name) || existsSync(path.join(out, cell.name))) continue;
    const config = configOf(cell);
    const from = sources.find((s) => (s.model || !needsModel.has(cell.name)) && configDifferences(s.config, config, free).length === 0);
    if (from !== undefined) plan.set(cell.name, from);
  }
  return plan;
}

/**
 * Copies the source cell's folder into `<out>/<record.name>` (none there yet), with `record` as its
 * cell.json, written last; lock files, temporaries and error.json are left behind.
 * @throws DataError naming both folders when the copy fails (nothing is left in `out`).
 */
export async function reuseCell(from: string, out: string, record: SweepCellFile): Promise<void> {
  const to = path.join(out, record.name);
  const staged = path.join(out, `.${record.name}.reusing-${process.pid}`);
  try {
    await fsp.rm(staged, { recursive: true, force: true });
    await fsp.cp(from, staged, {
      recursive: true,
      filter: (src) => src === from || !(path.basename(src).startsWith('.') || (path.dirname(src) === from && (path.basename(src) === SWEEP_FILES.error || path.basename(src) === SWEEP_FILES.cell))),
    });
    await writeJsonAtomic(path.join(staged, SWEEP_FILES.cell), record);
    await fsp.rename(staged, to);
  } catch (err) {
    await fsp.rm(staged, { recursive: true, force: true }).catch(() => {});
    throw new DataError(`cannot copy the done cell ${from} into ${to}: ${(err as Error).message}`, { cause: err });
  }
}
