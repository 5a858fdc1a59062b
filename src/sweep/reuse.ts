/**
 * Reusing the done cells of other sweeps (`scaat sweep --reuse <dir>`): grids that ask different
 * questions often share a run. CIFAR-10's ε axis has the length axis's 4-epoch regular, SGT, SCAAT
 * and PGD-AT cells at ε = 8/255 FGSM-RS under other names; training and evaluating them again
 * costs an hour and gives the same numbers. A cell of this grid that has no folder yet takes a done
 * cell of a --reuse folder (a sweep folder, or a results folder of `--results`) when that cell is
 * the same run: the same resolved config (below) and an evaluation made with this grid's settings.
 * Its folder is copied whole (model, checkpoints and log included where the source has them) with
 * cell.json rewritten to this cell's name and parameters and `reusedFrom` naming the source;
 * eval.json keeps the provenance of where it was made. Staged in a hidden sibling, checked again
 * there (the source may have changed since the plan), then renamed into place; a copy that fails
 * leaves nothing, and the cell trains.
 *
 * "The same run": {@link configDifferences} finds none, ignoring only where it ran (`backend`; a
 * saved-weights model's recorded hash is compared: the grid's pin or '' against the hash the
 * source's training recorded, so such cells are reused only where both pin the same weights), and
 * comparing of `trainerOptions` only the run's own trainer's entry: the
 * training loop reads no other trainer's options (train/loop.ts), so a regular cell of a grid whose
 * SCAAT options differ is still the same regular run. Fine-tuning cells are never reused (their
 * `model` names their own source cell). A source without its model (a results folder) is not
 * reused for a cell that a cell of this part continues or fine-tunes from: that one needs weights.
 */
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
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

/** Keys in which a started cell's config.json may differ from the grid: where it runs, and the hash of a source model that train() records (and checks on every start). */
export const FREE_KEYS = ['backend', 'modelSha256'] as const;

/** Keys in which a reused cell's config may differ from the grid's: where it ran. */
const REUSE_FREE_KEYS: ReadonlySet<string> = new Set(['backend']);

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
  for (const cell of mine) {
    if (cell.source !== undefined || skip.has(cell.name) || existsSync(path.join(out, cell.name))) continue;
    const config = configOf(cell);
    const from = sources.find((s) => (s.model || !needsModel.has(cell.name)) && sameRun(s.config, config));
    if (from !== undefined) plan.set(cell.name, from);
  }
  return plan;
}

/** Whether a reuse source's config is the cell's run. */
function sameRun(saved: TrainConfig, config: TrainConfig): boolean {
  return configDifferences(saved, config, REUSE_FREE_KEYS).length === 0;
}

/**
 * Copies the source cell's folder into `<out>/<record.name>` (none there yet), with `record` (plus
 * `reusedFrom`) as its cell.json, written last; lock files, temporaries and error.json are left
 * behind. The staged copy is checked again before it is renamed into place: still done with the
 * grid's evaluation (`record.evaluation`), still the same run as `config`. Returns why it did not
 * copy (the source changed or vanished, a copy error, the folder appeared meanwhile), leaving
 * nothing behind, or undefined when it did.
 */
export async function reuseCell(from: string, out: string, record: SweepCellFile, config: TrainConfig, trainers: TrainerRegistry): Promise<string | undefined> {
  const to = path.join(out, record.name);
  const prefix = `.${record.name}.reusing-`;
  const staged = path.join(out, `${prefix}${process.pid}`);
  try {
    // a copy killed part-way leaves its staging folder; no other process copies this cell (shards are disjoint)
    for (const e of readdirSync(out)) if (e.startsWith(prefix)) await fsp.rm(path.join(out, e), { recursive: true, force: true });
    await fsp.cp(from, staged, {
      recursive: true,
      filter: (src) => src === from || !(path.basename(src).startsWith('.') || (path.dirname(src) === from && path.basename(src) === SWEEP_FILES.error)),
    });
    if (!keptWhole(staged, record.evaluation)) return `${from} is no longer evaluated with this grid's settings`;
    if (!sameRun(savedConfig(staged, trainers), config)) return `${from} is no longer the same run`;
    await writeJsonAtomic(path.join(staged, SWEEP_FILES.cell), { ...record, reusedFrom: path.resolve(from) });
    if (existsSync(to)) return `${to} appeared meanwhile`;
    await fsp.rename(staged, to);
    return undefined;
  } catch (err) {
    return `copying it failed: ${(err as Error).message}`;
  } finally {
    await fsp.rm(staged, { recursive: true, force: true }).catch(() => {});
  }
}
