/**
 * Reading results from disk for `scaat report` and `scaat compare` (plain JSON; no TF.js).
 *
 * A RUN argument may be:
 * 1. a results file (`RunResults`, schemaVersion 1), as written by `scaat demo`, `scaat compare
 *    --save` or a previous `scaat report` (its results.json);
 * 2. an evaluation file of `scaat evaluate` / `scaat merge` (`kind: 'scaat-evaluation'`); the run
 *    folder of the evaluated model (from its `model.source`, else the file's folder) adds the
 *    trainer, config, seed and training curves;
 * 3. a folder holding `results.json`, or exactly one evaluation file;
 * 4. a run folder written by `scaat train` (config.json + log.jsonl), which gives a run with its
 *    config and training curves but no evaluation.
 * All runs are merged into one document, in argument order.
 */
import { existsSync, promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';
import { fromEvaluation, isEvaluationJson } from './from-evaluation.js';
import type { RunContext } from './from-evaluation.js';
import { mergeResults, parseResults, RESULTS_SCHEMA_VERSION } from './run-results.js';
import type { EpochRecord, QEpoch, RunResult, RunResults, TrainingWarning } from './run-results.js';

/** File names the loader looks for in a folder. */
export const RESULTS_FILE = 'results.json';
export const RUN_CONFIG_FILE = 'config.json';
export const RUN_LOG_FILE = 'log.jsonl';

/** Reads and merges the results of every path (see the module header). @throws DataError naming the path. */
export async function loadResults(paths: readonly string[]): Promise<RunResults> {
  if (paths.length === 0) throw new DataError('no results given: pass one or more results files or run folders');
  const docs: RunResults[] = [];
  for (const p of paths) docs.push(await loadOne(p));
  return docs.length === 1 ? docs[0]! : mergeResults(docs);
}

async function loadOne(p: string): Promise<RunResults> {
  if (!existsSync(p)) throw new DataError(`${p}: no such file or folder (expected a results JSON file or a run folder)`);
  if (!statSync(p).isDirectory()) return fromJsonFile(p);
  const file = path.join(p, RESULTS_FILE);
  if (existsSync(file)) return fromJsonFile(file);
  const evaluations = await findEvaluations(p);
  if (evaluations.length > 1) {
    throw new DataError(`${p}: holds several evaluation files (${evaluations.map((f) => path.basename(f)).join(', ')}); pass the one to report`);
  }
  if (evaluations.length === 1) return fromJsonFile(evaluations[0]!);
  if (existsSync(path.join(p, RUN_CONFIG_FILE))) return fromTrainRunDir(p);
  throw new DataError(
    `${p}: a folder without ${RESULTS_FILE}, an evaluation file or ${RUN_CONFIG_FILE}; expected a results folder or a run folder from 'scaat train'`,
  );
}

/**
 * The run of an evaluation file whose run folder is known: `runDir`'s config and log, not those of
 * the folder its model was loaded from (a sweep cell restored from a results folder or copied from
 * another sweep's cell names that other folder in eval.json).
 */
export async function loadEvaluationOfRun(file: string, runDir: string): Promise<RunResults> {
  return fromJsonFile(file, runDir);
}

/** A results file, or an evaluation file completed with its run folder's context (`runDir`, else found from the file). */
async function fromJsonFile(file: string, knownRunDir?: string): Promise<RunResults> {
  const json = await readJson(file);
  if (!isEvaluationJson(json)) return withSource(parseResults(json, file), file);
  const modelSource = (json as { model?: { source?: unknown } }).model?.source;
  const runDir = knownRunDir !== undefined && existsSync(path.join(knownRunDir, RUN_CONFIG_FILE))
    ? knownRunDir
    : findRunDir([...(typeof modelSource === 'string' ? [modelSource, path.dirname(modelSource)] : []), path.dirname(file)]);
  const context = runDir ? await runContext(runDir) : {};
  const run = fromEvaluation(json, file, { ...(runDir ? {} : { id: path.basename(file, '.json') }), ...context });
  return parseResults({ schemaVersion: RESULTS_SCHEMA_VERSION, runs: [run] }, file);
}

/** The first candidate folder holding a config.json (a run folder), if any. */
function findRunDir(candidates: readonly string[]): string | undefined {
  for (const c of candidates) {
    const dir = existsSync(c) && statSync(c).isFile() ? path.dirname(c) : c;
    if (existsSync(path.join(dir, RUN_CONFIG_FILE))) return dir;
    // A model folder inside a run folder (<run>/model) points at its run.
    if (existsSync(path.join(dir, '..', RUN_CONFIG_FILE)) && path.basename(dir) === 'model') return path.dirname(dir);
  }
  return undefined;
}

/** Top-level *.json files of `dir` that are evaluation files (small files only are opened). */
export async function findEvaluations(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of (await fsp.readdir(dir)).sort()) {
    if (!f.endsWith('.json') || f === RUN_CONFIG_FILE) continue;
    const file = path.join(dir, f);
    const st = statSync(file);
    if (!st.isFile() || st.size > 256 * 2 ** 20) continue;
    try {
      if (isEvaluationJson(JSON.parse(await fsp.readFile(file, 'utf8')))) out.push(file);
    } catch {
      // not JSON: not an evaluation file
    }
  }
  return out;
}

function withSource(doc: RunResults, source: string): RunResults {
  return { ...doc, runs: doc.runs.map((r) => (r.source ? r : { ...r, source })) };
}

/** Parses a JSON file. @throws DataError with the file name and the parser's message. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DataError(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/**
 * What a run folder of `scaat train` says about its run: config.json is the resolved config
 * (trainer, model, seed); log.jsonl holds one JSON record per line, and the records with a
 * numeric `epoch` (and no other `type` than 'epoch') are the per-epoch summaries (the last one per
 * epoch wins). A nested `q.histogram` ({edges, counts}) in an epoch record is SCAAT's q_i
 * distribution. The training time is the sum of the epochs' `seconds`. Its `type: 'warning'`
 * records become the run's `trainingWarnings` (one per code, see readTrainLog).
 */
export async function runContext(dir: string): Promise<RunContext> {
  const configFile = path.join(dir, RUN_CONFIG_FILE);
  const config = await readJson(configFile);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DataError(`${configFile}: expected a JSON object (the resolved config)`);
  }
  const cfg = config as Record<string, unknown>;
  const log = path.join(dir, RUN_LOG_FILE);
  const { epochs, q, backend, warnings } = existsSync(log) ? await readTrainLog(log) : { epochs: [], q: [], backend: undefined, warnings: [] };
  const trainSeconds = epochs.reduce((s, e) => s + (typeof e['seconds'] === 'number' ? e['seconds'] : 0), 0);
  return {
    id: path.basename(path.resolve(dir)),
    trainer: typeof cfg['trainer'] === 'string' ? cfg['trainer'] : 'unknown',
    ...(typeof cfg['model'] === 'string' ? { model: cfg['model'] } : {}),
    config: cfg,
    seed: typeof cfg['seed'] === 'number' && Number.isInteger(cfg['seed']) ? cfg['seed'] : null,
    training: { epochs, ...(q.length > 0 ? { q } : {}) },
    ...(warnings.length > 0 ? { trainingWarnings: warnings } : {}),
    ...(trainSeconds > 0 ? { timings: { train: trainSeconds } } : {}),
    ...(backend ? { backend } : {}),
  };
}

/** A run folder from `scaat train` without an evaluation: config and training curves only. */
export async function fromTrainRunDir(dir: string): Promise<RunResults> {
  const c = await runContext(dir);
  const run: RunResult = {
    id: c.id!,
    trainer: c.trainer!,
    ...(c.model !== undefined ? { model: c.model } : {}),
    config: c.config ?? {},
    seed: c.seed ?? null,
    ...(c.timings ? { timings: c.timings } : {}),
    ...(c.backend ? { backend: c.backend } : {}),
    source: dir,
    ...(c.training ? { training: c.training } : {}),
    ...(c.trainingWarnings ? { trainingWarnings: c.trainingWarnings } : {}),
  };
  return parseResults({ schemaVersion: RESULTS_SCHEMA_VERSION, runs: [run] }, dir);
}

/**
 * Reads the per-epoch records (and q_i histograms) of a training log (train/loop.ts): records of
 * `type: 'epoch'` (or without a type) with a numeric `epoch`; the last one per epoch wins (a
 * resumed run rewrites them). Nested numbers are flattened with dotted keys ('train.loss',
 * 'test.acc', 'trainer.advAcc'); the q_i distribution is `trainer.q` (SCAAT) or `q`. The 'start'
 * record's `backend` is returned too. The `type: 'warning'` records (a string `code`) are merged per
 * code, in order of first appearance: `epochs` the distinct epochs logged (0-based, as recorded;
 * the messages say epoch + 1), `message` the last record's (a resumed run rewrites a warning of
 * an epoch it repeats, so an epoch counts once).
 */
export async function readTrainLog(file: string): Promise<{ epochs: EpochRecord[]; q: QEpoch[]; backend?: Record<string, unknown>; warnings: TrainingWarning[] }> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const byEpoch = new Map<number, Record<string, unknown>>();
  let backend: Record<string, unknown> | undefined;
  const warnings = new Map<string, { epochs: Set<number>; message: string }>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new DataError(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    if (typeof rec !== 'object' || rec === null) return;
    const r = rec as Record<string, unknown>;
    const type = r['type'];
    if (type === 'start' && typeof r['backend'] === 'object' && r['backend'] !== null) backend = r['backend'] as Record<string, unknown>;
    if (type === 'warning' && typeof r['code'] === 'string' && r['code'] !== '') {
      const w = warnings.get(r['code']) ?? { epochs: new Set<number>(), message: '' };
      if (typeof r['epoch'] === 'number' && Number.isInteger(r['epoch']) && r['epoch'] >= 0) w.epochs.add(r['epoch']);
      if (typeof r['message'] === 'string') w.message = r['message'];
      warnings.set(r['code'], w);
    }
    if ((type === undefined || type === 'epoch') && typeof r['epoch'] === 'number' && Number.isInteger(r['epoch']) && r['epoch'] >= 0) byEpoch.set(r['epoch'], r);
  });
  const epochs: EpochRecord[] = [];
  const q: QEpoch[] = [];
  for (const [epoch, r] of [...byEpoch.entries()].sort((a, b) => a[0] - b[0])) {
    epochs.push({ ...flatNumbers(r), epoch });
    const trainer = r['trainer'];
    const hist = qHistogram(typeof trainer === 'object' && trainer !== null && 'q' in trainer ? (trainer as Record<string, unknown>) : r);
    if (hist) q.push({ epoch, ...hist });
  }
  const trainingWarnings = [...warnings].map(([code, w]): TrainingWarning => ({ code, epochs: [...w.epochs].sort((a, b) => a - b), message: w.message }));
  return { epochs, q, ...(backend ? { backend } : {}), warnings: trainingWarnings };
}

/** Keys whose contents are not curves (distributions, machine info, the test split's most predicted class). */
const NOT_FLATTENED = new Set(['histogram', 'quantiles', 'backend', 'mode']);

/** The record's finite numbers; nested ones under dotted keys ('train.loss', 'trainer.q.mean'). */
function flatNumbers(r: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(r)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[prefix + k] = v;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v) && !NOT_FLATTENED.has(k) && prefix.split('.').length < 3) {
      flatNumbers(v as Record<string, unknown>, `${prefix}${k}.`, out);
    }
  }
  return out;
}

function qHistogram(r: Record<string, unknown>): Omit<QEpoch, 'epoch'> | undefined {
  const q = r['q'];
  if (typeof q !== 'object' || q === null) return undefined;
  const qq = q as Record<string, unknown>;
  const h = qq['histogram'] as Record<string, unknown> | undefined;
  if (!h || !Array.isArray(h['edges']) || !Array.isArray(h['counts'])) return undefined;
  const quantiles = qq['quantiles'] as Record<string, unknown> | undefined;
  return {
    histogram: { edges: h['edges'] as number[], counts: h['counts'] as number[] },
    ...(typeof qq['mean'] === 'number' ? { mean: qq['mean'] } : {}),
    ...(typeof quantiles?.['median'] === 'number' ? { median: quantiles['median'] } : {}),
  };
}
