/**
 * Models on disk in the standard TF.js layers format: `model.json` (topology + weights manifest)
 * and `weights.bin` (little-endian weights), readable by `tf.loadLayersModel` anywhere.
 *
 * Pure TF.js has no `file://` handler in Node (that lives in tfjs-node), so {@link fileSystem}
 * is a small `tf.io.IOHandler` for a folder. Writes are atomic per file and ordered (weights
 * first, model.json last, each through temp file + fsync + rename), so a reader never sees a
 * model.json that points at missing or partial weights; `load` also checks every weight file's
 * size against the manifest and reports a mismatch as a DataError.
 *
 * Loading names the weights it loaded ({@link ModelWeights}): the SHA-256 of the weight bytes, and
 * the checkpoint when a run folder has no final model yet; a checkpoint's files are verified
 * against the SHA-256s in its state.json before use.
 *
 * Typical steps:
 * 1. `await saveClassifier(clf, 'runs/a/model')`
 * 2. `const clf = await loadClassifier('runs/a')` (a run folder, a model folder or a model.json)
 * 3. `const { classifier, weights } = await loadModel('runs/a')` (and which weights those are)
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { fromLayersModel } from './classifier.js';
import type { Classifier, FromLayersModelOptions } from './classifier.js';
import { registerCustomLayers } from './layers.js';

/** File names inside a model folder. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/**
 * Where a run folder (written by `scaat train`, see train/run-dir.ts) keeps its models:
 * the final model in `model/`, checkpoints in `checkpoints/<name>/` with the newest named by
 * `checkpoints/latest.json` ({"name": "<name>"}).
 */
export const RUN_LAYOUT = {
  finalModel: 'model',
  checkpoints: 'checkpoints',
  latest: 'latest.json',
  /** In a checkpoint folder: its step and the SHA-256 of each file (train/checkpoint.ts writes it). */
  checkpointState: 'state.json',
} as const;

/** Which weights a loaded model holds (recorded in every evaluation and explanation). */
export interface ModelWeights {
  /**
   * SHA-256 (hex) of the weight bytes as stored: `weights.bin` (several weight files: their
   * concatenation in manifest order), what `sha256sum weights.bin` prints.
   */
  readonly sha256: string;
  /** The checkpoint the weights come from (a run folder without a final model, or a checkpoint folder), else null. */
  readonly checkpoint: { readonly name: string; readonly step: number } | null;
}

/** A loaded model: the classifier, the folder it was read from and which weights it holds. */
export interface LoadedModel {
  readonly classifier: Classifier;
  readonly dir: string;
  readonly weights: ModelWeights;
}

/**
 * An IOHandler that saves to / loads from a folder on the local file system.
 * @example
 * await model.save(fileSystem('out/model'));
 * const m = await tf.loadLayersModel(fileSystem('out/model'));
 */
export function fileSystem(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new DataError(`fileSystem(${dir}): binary (graph-model) topologies are not supported`);
      }
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      // Weights first, then the JSON that references them.
      await writeFileAtomic(path.join(dir, WEIGHTS_BIN), weights);
      await writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(modelJson.modelTopology).length,
          weightSpecsBytes: JSON.stringify(modelJson.weightsManifest).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const file = path.join(dir, MODEL_JSON);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await fsp.readFile(file, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new DataError(`cannot read model ${file}: ${(err as Error).message}`, { cause: err });
      }
      if (typeof modelJson !== 'object' || modelJson === null || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
        throw new DataError(`${file}: expected a TF.js layers model.json with modelTopology and weightsManifest`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const wf = path.join(dir, p);
            try {
              parts.push(await fsp.readFile(wf));
            } catch (err) {
              throw new DataError(`${file}: cannot read weights file ${wf}: ${(err as Error).message}`, { cause: err });
            }
          }
        }
        const total = parts.reduce((s, b) => s + b.byteLength, 0);
        const expected = specs.reduce((s, w) => s + weightBytes(w), 0);
        if (total !== expected) {
          throw new DataError(`${file}: weights are ${total} bytes, the manifest describes ${expected} (corrupted or mismatched files)`);
        }
        const data = new Uint8Array(total);
        let off = 0;
        for (const b of parts) {
          data.set(b, off);
          off += b.byteLength;
        }
        return [specs, data.buffer];
      });
    },
  };
}

/** Bytes of one (unquantised or quantised) weight entry. */
function weightBytes(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization) {
    const q = w.quantization.dtype;
    return n * (q === 'uint8' ? 1 : 2);
  }
  const bytes: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
  const b = bytes[w.dtype];
  if (b === undefined) throw new DataError(`weight ${w.name}: unsupported dtype '${w.dtype}'`);
  return n * b;
}

/**
 * Saves the classifier's model (all weights, including batch-norm statistics) to `dir`
 * as model.json + weights.bin. Creates `dir`.
 * @returns which weights were saved (the SHA-256 of the weights.bin written; checkpoint null).
 */
export async function saveClassifier(classifier: Classifier, dir: string): Promise<ModelWeights> {
  const files = fileSystem(dir);
  let sha256 = '';
  await classifier.model.save({
    save: (artifacts) => {
      sha256 = sha256Hex(new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0))));
      return files.save!(artifacts);
    },
  });
  return { sha256, checkpoint: null };
}

/**
 * Loads a classifier from a model.json file, a folder holding model.json, or a run folder
 * (its final `model/`, else its latest checkpoint, verified; see {@link RUN_LAYOUT}, {@link loadModel}).
 * @throws DataError when nothing loadable is there or the files are corrupted; ShapeError when
 *   the model is not an image classifier (see {@link fromLayersModel}).
 */
export async function loadClassifier(pathOrRunDir: string, options: FromLayersModelOptions = {}): Promise<Classifier> {
  return (await loadModel(pathOrRunDir, options)).classifier;
}

/**
 * {@link loadClassifier}, also naming the weights loaded: their SHA-256 (of the bytes read, the
 * ones the model holds) and, for a checkpoint folder (one with state.json, e.g. the latest
 * checkpoint of a run folder without a final model), the checkpoint's name and step, after
 * verifying model.json and weights.bin against the SHA-256s in its state.json.
 * @throws DataError as loadClassifier, and when a checkpoint's files do not match their SHA-256.
 */
export async function loadModel(pathOrRunDir: string, options: FromLayersModelOptions = {}): Promise<LoadedModel> {
  const dir = resolveModelDir(pathOrRunDir);
  registerCustomLayers();
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await fileSystem(dir).load!();
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot load model from ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const sha256 = sha256Hex(new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0))));
  const checkpoint = existsSync(path.join(dir, RUN_LAYOUT.checkpointState)) ? await verifyCheckpointModel(dir, sha256) : null;
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new DataError(`cannot load model from ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return { classifier: fromLayersModel(model, options), dir, weights: { sha256, checkpoint } };
}

/**
 * The SHA-256 (hex) of the weights {@link loadModel} would load from `pathOrRunDir` (the same
 * bytes, the same folder resolution), without building the model: to tell whether a result was
 * computed from the weights a run holds now.
 * @throws DataError as loadModel when nothing loadable is there.
 */
export async function modelWeightsSha256(pathOrRunDir: string): Promise<string> {
  const dir = resolveModelDir(pathOrRunDir);
  const artifacts = await fileSystem(dir).load!();
  return sha256Hex(new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0))));
}

/** SHA-256 of bytes, hex. */
function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A checkpoint folder's model: model.json and the weights (their SHA-256 `weightsSha256`) must
 * match the SHA-256s its state.json recorded when it was written.
 * @returns the checkpoint's name and step.
 * @throws DataError naming the checkpoint and the file that does not match.
 */
async function verifyCheckpointModel(dir: string, weightsSha256: string): Promise<{ name: string; step: number }> {
  const stateFile = path.join(dir, RUN_LAYOUT.checkpointState);
  const bad = (what: string): DataError => new DataError(`checkpoint ${dir} is corrupted or incomplete: ${what}; (older checkpoints, if any, are in ${path.dirname(dir)})`);
  let state: { step?: unknown; sha256?: Record<string, unknown> };
  try {
    state = JSON.parse(await fsp.readFile(stateFile, 'utf8')) as typeof state;
  } catch (err) {
    throw bad(`cannot read ${RUN_LAYOUT.checkpointState}: ${(err as Error).message}`);
  }
  if (typeof state?.step !== 'number' || typeof state.sha256 !== 'object' || state.sha256 === null) {
    throw bad(`${RUN_LAYOUT.checkpointState} has no step and SHA-256 table`);
  }
  if (state.sha256[WEIGHTS_BIN] !== weightsSha256) throw bad(`${WEIGHTS_BIN} does not match its SHA-256 in ${RUN_LAYOUT.checkpointState}`);
  if (state.sha256[MODEL_JSON] !== sha256Hex(await fsp.readFile(path.join(dir, MODEL_JSON)))) {
    throw bad(`${MODEL_JSON} does not match its SHA-256 in ${RUN_LAYOUT.checkpointState}`);
  }
  return { name: path.basename(dir), step: state.step };
}

/** The folder holding model.json for a model.json path, a model folder or a run folder. */
export function resolveModelDir(p: string): string {
  if (!existsSync(p)) throw new DataError(`model path ${p} does not exist`);
  if (statSync(p).isFile()) {
    if (path.basename(p) !== MODEL_JSON && !p.endsWith('.json')) {
      throw new DataError(`model path ${p}: expected a model.json file or a folder`);
    }
    if (path.basename(p) !== MODEL_JSON) {
      throw new DataError(`model path ${p}: the file must be named ${MODEL_JSON} (weights are found next to it)`);
    }
    return path.dirname(p);
  }
  if (existsSync(path.join(p, MODEL_JSON))) return p;
  const final = path.join(p, RUN_LAYOUT.finalModel);
  if (existsSync(path.join(final, MODEL_JSON))) return final;
  const latest = path.join(p, RUN_LAYOUT.checkpoints, RUN_LAYOUT.latest);
  if (existsSync(latest)) {
    const name = readLatestName(latest);
    const dir = path.join(p, RUN_LAYOUT.checkpoints, name);
    if (existsSync(path.join(dir, MODEL_JSON))) return dir;
    throw new DataError(`${latest} names checkpoint '${name}', but ${dir}/${MODEL_JSON} is missing`);
  }
  throw new DataError(
    `no model in ${p}: expected ${MODEL_JSON}, ${RUN_LAYOUT.finalModel}/${MODEL_JSON} or ${RUN_LAYOUT.checkpoints}/${RUN_LAYOUT.latest}`,
  );
}

/** Reads `checkpoints/latest.json` → checkpoint folder name. */
export function readLatestName(latestFile: string): string {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(latestFile, 'utf8'));
  } catch (err) {
    throw new DataError(`cannot read ${latestFile}: ${(err as Error).message}`, { cause: err });
  }
  const name = (v as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || name.length === 0 || name.includes('/') || name.includes('..')) {
    throw new DataError(`${latestFile}: expected {"name": "<checkpoint folder>"}, got ${JSON.stringify(v)}`);
  }
  return name;
}
