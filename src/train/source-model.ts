/**
 * Starting a run from saved weights (fine-tuning): `config.model` is a path instead of a zoo name.
 *
 *   scaat train --trainer scaat --model runs/regular --epochs 2 --out runs/scaat-ft
 *
 * The path is a model.json, a folder holding one, or a *finished* run folder of `scaat train`,
 * whose final `model/` is used (never a checkpoint: a run still training has no final weights, and
 * starting from a half-trained model by accident would go unnoticed). The architecture comes from
 * the saved model; for a run folder, `width`, `normalizeMean` and `normalizeStd` are taken from
 * its config.json when left at their defaults and must equal it otherwise (they describe the saved
 * architecture; a different value would be silently ignored). The SHA-256 of the starting weights
 * is recorded as `modelSha256` in the new run's config.json; a config that already names one pins
 * the weights (a mismatch is a DataError), so a resumed or repeated run cannot start from other
 * weights than it says.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../errors.js';
import { MODEL_JSON, resolveModelDir, RUN_LAYOUT } from '../models/io.js';
import { MODELS } from '../models/registry.js';
import { DEFAULT_TRAIN_CONFIG } from './config.js';
import type { TrainConfig } from './config.js';
import { readRunConfig, RUN_FILES } from './run-dir.js';

/** A saved model a run starts from. */
export interface SourceModel {
  /** The folder holding model.json (for a run folder: its final `model/`). */
  readonly dir: string;
  /** The run folder, when `config.model` is one (it has config.json). */
  readonly runDir?: string;
  /** SHA-256 (hex) of the weight files, concatenated in the manifest's order. */
  readonly sha256: string;
}

/** Config keys that describe a zoo model's architecture (inherited from a source run). */
const ARCHITECTURE_KEYS = ['width', 'normalizeMean', 'normalizeStd'] as const;

/** Whether `model` names a zoo architecture (else it is a path to saved weights). */
export function isZooModel(model: string): boolean {
  return MODELS.has(model);
}

/**
 * The model folder `modelPath` starts from: a model.json, a model folder, or a finished run
 * folder's final `model/`.
 * @throws ConfigError when the path does not exist; DataError when a run folder has no final model
 *   (still training) or nothing loadable is there.
 */
export function resolveSourceDir(modelPath: string): { dir: string; runDir?: string } {
  if (!existsSync(modelPath)) {
    throw new ConfigError(`model: '${modelPath}' is neither a zoo model (${[...MODELS.keys()].join(', ')}) nor an existing model path`);
  }
  if (statSync(modelPath).isDirectory() && existsSync(path.join(modelPath, RUN_FILES.config)) && !existsSync(path.join(modelPath, MODEL_JSON))) {
    const final = path.join(modelPath, RUN_LAYOUT.finalModel);
    if (!existsSync(path.join(final, MODEL_JSON))) {
      throw new DataError(
        `model: run folder ${modelPath} has no final model (${RUN_LAYOUT.finalModel}/${MODEL_JSON}): it has not finished training. ` +
          `Finish it (scaat train --resume ${modelPath}), or start from one of its checkpoints explicitly (${path.join(modelPath, RUN_LAYOUT.checkpoints, '<name>')})`,
      );
    }
    return { dir: final, runDir: modelPath };
  }
  return { dir: resolveModelDir(modelPath) };
}

/** SHA-256 (hex) of a model folder's weight files, concatenated in its manifest's order. @throws DataError */
export async function weightsSha256(modelDir: string): Promise<string> {
  const file = path.join(modelDir, MODEL_JSON);
  let manifest: unknown;
  try {
    manifest = (JSON.parse(await fsp.readFile(file, 'utf8')) as { weightsManifest?: unknown }).weightsManifest;
  } catch (err) {
    throw new DataError(`cannot read model ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(manifest)) throw new DataError(`${file}: expected a weightsManifest array`);
  const hash = createHash('sha256');
  for (const group of manifest as Array<{ paths?: unknown }>) {
    if (!Array.isArray(group.paths)) throw new DataError(`${file}: a weightsManifest entry has no paths`);
    for (const p of group.paths) {
      const wf = path.join(modelDir, String(p));
      try {
        hash.update(await fsp.readFile(wf));
      } catch (err) {
        throw new DataError(`${file}: cannot read weights file ${wf}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return hash.digest('hex');
}

/**
 * The config a run writes (config.json), given where it starts:
 * - a zoo model: `config` unchanged (`modelSha256` must be empty: ConfigError);
 * - saved weights: the {@link SourceModel}, and `config` with `modelSha256` filled in (when empty)
 *   and, for a run folder, the architecture keys taken from / checked against its config.json
 *   (ConfigError). Whether the weights match a pinned `modelSha256` is {@link checkModelPin}'s
 *   question (not asked when a resumed run's checkpoint replaces them).
 */
export async function startingPoint(config: TrainConfig): Promise<{ config: TrainConfig; source?: SourceModel }> {
  if (isZooModel(config.model)) {
    if (config.modelSha256 !== '') {
      throw new ConfigError(`modelSha256: pins the weights of a saved model, but model '${config.model}' is a zoo architecture (initialised from the seed); remove modelSha256`);
    }
    return { config };
  }
  const { dir, runDir } = resolveSourceDir(config.model);
  const sha256 = await weightsSha256(dir);
  const out: TrainConfig = { ...config, modelSha256: config.modelSha256 || sha256 };
  if (runDir !== undefined) {
    const saved = readRunConfig(runDir);
    for (const key of ARCHITECTURE_KEYS) {
      const theirs = saved[key] ?? DEFAULT_TRAIN_CONFIG[key];
      const ours = config[key];
      if (same(ours, theirs)) continue;
      if (!same(ours, DEFAULT_TRAIN_CONFIG[key])) {
        throw new ConfigError(
          `${key}: ${JSON.stringify(ours)}, but the source run ${runDir} was trained with ${JSON.stringify(theirs)}; ` +
            `the architecture of a fine-tuned model is the source's (leave ${key} unset)`,
        );
      }
      (out as unknown as Record<string, unknown>)[key] = theirs;
    }
  }
  return { config: out, source: { dir, ...(runDir !== undefined ? { runDir } : {}), sha256 } };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** @throws DataError when `config` pins (modelSha256) other weights than `source` holds. */
export function checkModelPin(config: Pick<TrainConfig, 'model' | 'modelSha256'>, source: SourceModel | undefined): void {
  if (source && config.modelSha256 !== '' && config.modelSha256 !== source.sha256) {
    throw new DataError(
      `model ${config.model}: its weights (${source.dir}) have SHA-256 ${source.sha256}, but the config pins modelSha256 ${config.modelSha256}: the source model changed since this run was configured`,
    );
  }
}
