/**
 * Checkpoints: everything a run needs to continue as if it had never stopped.
 *
 *   checkpoints/step-00000120/
 *     model.json, weights.bin   all model weights (incl. batch-norm statistics), TF.js format
 *     optimizer.bin             optimizer buffers (float32, in state.json's slot order)
 *     trainer-state.bin         the trainer's per-sample state (SCAAT's q_i, cached maps and attack
 *                               directions), each array's raw bytes in state.json's table order
 *     state.json                epoch / batch / step, RNG state, epoch accumulators, log size,
 *                               slot tables and the SHA-256 of every other file
 *
 * Writing is atomic at the folder level: files go to a hidden temporary folder, which is renamed
 * to its final name once complete; then `latest.json` is replaced atomically, then old
 * checkpoints beyond `keep` are deleted. A crash at any point leaves the previous checkpoint
 * named by latest.json intact (its temporary folder is removed by the next resume). Reading verifies every hash before anything is restored, so a
 * corrupted checkpoint is a DataError and changes nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { trackTemporary } from '../io/temp-files.js';
import type { Classifier } from '../models/classifier.js';
import { fileSystem, MODEL_JSON, readLatestName, RUN_LAYOUT, WEIGHTS_BIN } from '../models/io.js';
import type { OptimizerName, OptimizerState, TrainOptimizer } from './optimizers.js';
import type { StateArray, TrainerState } from './types.js';

export const CHECKPOINT_SCHEMA = 1;
const FILES = { optimizer: 'optimizer.bin', trainer: 'trainer-state.bin', state: RUN_LAYOUT.checkpointState } as const;

/** Where the loop is, and what it has accumulated, at a checkpoint. */
export interface LoopState {
  /** Epoch to continue in (0-based). */
  readonly epoch: number;
  /** Batches of that epoch already done. */
  readonly batch: number;
  /** Global steps done. */
  readonly step: number;
  /** State of the trainer's Rng (sfc32 words). */
  readonly rng: readonly number[];
  /** Running sums of the epoch's step metrics (weighted by batch size) and the samples seen. */
  readonly epochSums: Readonly<Record<string, number>>;
  readonly epochSamples: number;
  /** Seconds already spent in this epoch. */
  readonly epochSeconds: number;
  /** Bytes of log.jsonl at the checkpoint. */
  readonly logBytes: number;
}

interface StateFile extends LoopState {
  schemaVersion: number;
  createdAt: string;
  optimizer: { kind: OptimizerName; step: number; slots: Array<{ variable: number; buffer: string; shape: number[] }> };
  /** trainer-state.bin's arrays in order; `dtype` absent: float32 (checkpoints written before typed state). */
  trainerState: Array<{ key: string; length: number; dtype?: StateDtype }>;
  sha256: Record<string, string>;
}

/** A verified checkpoint, read into memory. */
export interface Checkpoint {
  readonly name: string;
  readonly dir: string;
  readonly loop: LoopState;
  readonly optimizer: OptimizerState;
  readonly trainerState: TrainerState;
  /** model.json + weights.bin folder (this checkpoint's folder). */
  readonly modelDir: string;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** [step, repeat] of a checkpoint folder name ('step-00000012' or 'step-00000012-1'), else undefined. */
function checkpointOrder(name: string): [number, number] | undefined {
  const m = /^step-(\d{8})(?:-(\d+))?$/.exec(name);
  return m ? [Number(m[1]), Number(m[2] ?? 0)] : undefined;
}

/**
 * Writes a checkpoint into `checkpointsDir` and makes it the latest; keeps the newest `keep`.
 * @returns the checkpoint's folder name.
 */
export async function writeCheckpoint(
  checkpointsDir: string,
  parts: {
    classifier: Classifier;
    optimizer: TrainOptimizer;
    trainerState: TrainerState | undefined;
    loop: LoopState;
    keep: number;
  },
): Promise<string> {
  const base = checkpointName(parts.loop.step);
  const tmp = path.join(checkpointsDir, `.tmp-${base}-${process.pid}`);
  const untrack = trackTemporary(tmp); // removed if the process is stopped meanwhile (a killed one: by the next resume, run-dir.ts)
  try {
    return await commitCheckpoint(checkpointsDir, tmp, base, parts);
  } finally {
    untrack();
  }
}

async function commitCheckpoint(
  checkpointsDir: string,
  tmp: string,
  base: string,
  parts: Parameters<typeof writeCheckpoint>[1],
): Promise<string> {
  rmSync(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });

  // 1) model, optimizer buffers, trainer state (each file fsynced)
  await parts.classifier.model.save(fileSystem(tmp));
  const opt = parts.optimizer.getState();
  const optBytes = concatFloat32(opt.slots.map((s) => s.data));
  await writeFileAtomic(path.join(tmp, FILES.optimizer), optBytes);
  const tEntries = Object.entries(parts.trainerState ?? {});
  // the arrays' bytes in place (a cache can be 100s of MiB): written and hashed piece by piece
  const trainerHash = await writeParts(path.join(tmp, FILES.trainer), tEntries.map(([, v]) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));

  // 2) state.json last, with the hashes of everything above
  const sha256: Record<string, string> = { [FILES.trainer]: trainerHash };
  for (const f of [MODEL_JSON, WEIGHTS_BIN, FILES.optimizer]) sha256[f] = hash(await fsp.readFile(path.join(tmp, f)));
  const state: StateFile = {
    schemaVersion: CHECKPOINT_SCHEMA,
    createdAt: new Date().toISOString(),
    ...parts.loop,
    rng: [...parts.loop.rng],
    optimizer: { kind: opt.kind, step: opt.step, slots: opt.slots.map((s) => ({ variable: s.variable, buffer: s.buffer, shape: [...s.shape] })) },
    trainerState: tEntries.map(([key, v]) => ({ key, length: v.length, dtype: dtypeOf(v, key) })),
    sha256,
  };
  await writeJsonAtomic(path.join(tmp, FILES.state), state);

  // 3) commit: rename the folder (a fresh name if this step was checkpointed before, e.g. on
  //    Ctrl-C right after a resume), then point latest.json at it
  let name = base;
  for (let k = 1; existsSync(path.join(checkpointsDir, name)); k++) name = `${base}-${k}`;
  renameSync(tmp, path.join(checkpointsDir, name));
  await writeJsonAtomic(path.join(checkpointsDir, 'latest.json'), { name });

  // 4) prune older checkpoints
  const all = readdirSync(checkpointsDir)
    .map((f) => ({ f, key: checkpointOrder(f) }))
    .filter((e): e is { f: string; key: [number, number] } => e.key !== undefined)
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
  for (const { f } of all.slice(0, Math.max(0, all.length - parts.keep))) rmSync(path.join(checkpointsDir, f), { recursive: true, force: true });
  return name;
}

/**
 * Reads and verifies the latest checkpoint of `checkpointsDir` (nothing is modified).
 * @returns undefined when there is no checkpoint yet.
 * @throws DataError for a missing file, a hash mismatch, or an unreadable state.json.
 */
export async function readLatestCheckpoint(checkpointsDir: string): Promise<Checkpoint | undefined> {
  const latest = path.join(checkpointsDir, 'latest.json');
  if (!existsSync(latest)) return undefined;
  const name = readLatestName(latest);
  return readCheckpoint(path.join(checkpointsDir, name));
}

/** Reads and verifies one checkpoint folder. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const name = path.basename(dir);
  const bad = (what: string): DataError => new DataError(`checkpoint ${dir} is corrupted or incomplete: ${what}; (older checkpoints, if any, are in ${path.dirname(dir)})`);
  let state: StateFile;
  try {
    state = JSON.parse(await fsp.readFile(path.join(dir, FILES.state), 'utf8')) as StateFile;
  } catch (err) {
    throw bad(`cannot read ${FILES.state}: ${(err as Error).message}`);
  }
  if (state.schemaVersion !== CHECKPOINT_SCHEMA) throw bad(`${FILES.state} has schemaVersion ${state.schemaVersion}, expected ${CHECKPOINT_SCHEMA}`);
  const files: Record<string, Buffer> = {};
  for (const f of [MODEL_JSON, WEIGHTS_BIN, FILES.optimizer, FILES.trainer]) {
    try {
      files[f] = await fsp.readFile(path.join(dir, f));
    } catch {
      throw bad(`${f} is missing`);
    }
    if (hash(files[f]) !== state.sha256?.[f]) throw bad(`${f} does not match its SHA-256 in ${FILES.state}`);
  }
  // optimizer buffers
  const optData = toFloat32(files[FILES.optimizer]!);
  let off = 0;
  const slots = state.optimizer.slots.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = optData.slice(off, off + n);
    off += n;
    return { variable: s.variable, buffer: s.buffer, shape: s.shape, data };
  });
  if (off !== optData.length) throw bad(`${FILES.optimizer} holds ${optData.length} values, the slot table ${off}`);
  // trainer state: each array copied out of the file's bytes (a copy is aligned for its type)
  const tBytes = files[FILES.trainer]!;
  const trainerState: TrainerState = {};
  off = 0;
  for (const { key, length, dtype = 'float32' } of state.trainerState) {
    const Type = Object.hasOwn(STATE_DTYPES, dtype) ? STATE_DTYPES[dtype] : undefined;
    if (!Type) throw bad(`${FILES.state} gives trainer state '${key}' the type '${String(dtype)}', expected one of ${Object.keys(STATE_DTYPES).join(', ')}`);
    if (!Number.isSafeInteger(length) || length < 0) throw bad(`${FILES.state} gives trainer state '${key}' the length ${String(length)}`);
    const bytes = length * Type.BYTES_PER_ELEMENT;
    if (off + bytes > tBytes.byteLength) throw bad(`${FILES.trainer} holds ${tBytes.byteLength} bytes, the table needs more (at '${key}')`);
    const out = new Type(length);
    new Uint8Array(out.buffer).set(tBytes.subarray(off, off + bytes));
    trainerState[key] = out;
    off += bytes;
  }
  if (off !== tBytes.byteLength) throw bad(`${FILES.trainer} holds ${tBytes.byteLength} bytes, the table ${off}`);
  const loop: LoopState = {
    epoch: state.epoch,
    batch: state.batch,
    step: state.step,
    rng: state.rng,
    epochSums: state.epochSums,
    epochSamples: state.epochSamples,
    epochSeconds: state.epochSeconds,
    logBytes: state.logBytes,
  };
  return { name, dir, loop, optimizer: { kind: state.optimizer.kind, step: state.optimizer.step, slots }, trainerState, modelDir: dir };
}

/**
 * Copies a checkpoint's model weights into `classifier` (same architecture).
 * @throws DataError when the number or shapes of the weights differ.
 */
export async function restoreModelWeights(classifier: Classifier, modelDir: string): Promise<void> {
  let saved: tf.LayersModel;
  try {
    saved = await tf.loadLayersModel(fileSystem(modelDir));
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot load the checkpoint model in ${modelDir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const have = classifier.model.weights;
    const got = saved.getWeights();
    const mismatch = have.length !== got.length || have.some((w, i) => w.shape.join(',') !== got[i]!.shape.join(','));
    if (mismatch) {
      throw new DataError(
        `checkpoint model in ${modelDir} does not match the configured model: ${got.length} weights [${got.map((t) => t.shape.join('×')).join(', ')}] vs ${have.length} [${have.map((w) => w.shape.join('×')).join(', ')}]`,
      );
    }
    classifier.model.setWeights(got);
  } finally {
    saved.dispose();
  }
}

/** The element types of trainer state, by the name state.json gives them. */
const STATE_DTYPES = {
  float32: Float32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const;
type StateDtype = keyof typeof STATE_DTYPES;

function dtypeOf(v: StateArray, key: string): StateDtype {
  for (const [name, Type] of Object.entries(STATE_DTYPES)) if (v instanceof Type) return name as StateDtype;
  throw new TypeError(`trainer state '${key}' is a ${Object.prototype.toString.call(v)}, not one of the checkpointed types`);
}

/** Writes `parts` one after another into `file` (fsynced); returns the SHA-256 of the whole. */
async function writeParts(file: string, parts: readonly Uint8Array[]): Promise<string> {
  const h = createHash('sha256');
  try {
    const fh = await fsp.open(file, 'w');
    try {
      for (const p of parts) {
        for (let off = 0; off < p.byteLength; ) off += (await fh.write(p, off, p.byteLength - off)).bytesWritten;
        h.update(p);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new DataError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
  return h.digest('hex');
}

function hash(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function concatFloat32(parts: readonly Float32Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float32Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return new Uint8Array(out.buffer);
}

function toFloat32(b: Buffer): Float32Array {
  if (b.byteLength % 4 !== 0) return new Float32Array(0);
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}
