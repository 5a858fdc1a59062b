/**
 * Reading results from disk for `scaat report` and `scaat compare` (plain JSON; no TF.js).
 *
 * A RUN argument may be:
 * 1. a results file (`RunResults`, schemaVersion 1), as written by `scaat evaluate`, `scaat demo`
 *    or a previous `scaat report` (its results.json);
 * 2. a folder holding `results.json`;
 * 3. a run folder written by `scaat train` (config.json + log.jsonl), which gives a run with its
 *    config and training curves but no evaluation.
 * All runs are merged into one document, in argument order.
 */
import { existsSync, promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../errors.js';
import { mergeResults, parseResults, RESULTS_SCHEMA_VERSION } from './results.js';
import type { EpochRecord, QEpoch, RunResult, RunResults } from './results.js';

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
  if (statSync(p).isDirectory()) {
    const file = path.join(p, RESULTS_FILE);
    if (existsSync(file)) return withSource(parseResults(await readJson(file), file), file);
    if (existsSync(path.join(p, RUN_CONFIG_FILE))) return fromTrainRunDir(p);
    throw new DataError(`${p}: a folder without ${RESULTS_FILE} or ${RUN_CONFIG_FILE}; expected a results folder or a run folder from 'scaat train'`);
  }
  return withSource(parseResults(await readJson(p), p), p);
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
 * A run folder from `scaat train` (no evaluation yet): config.json is the resolved config;
 * log.jsonl holds one JSON record per line, and the records with a numeric `epoch` are the
 * per-epoch summaries (the last one per epoch wins). A nested `q.histogram` ({edges, counts}) in
 * an epoch record is SCAAT's q_i distribution.
 */
export async function fromTrainRunDir(dir: string): Promise<RunResults> {
  const configFile = path.join(dir, RUN_CONFIG_FILE);
  const config = await readJson(configFile);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DataError(`${configFile}: expected a JSON object (the resolved config)`);
  }
  const cfg = config as Record<string, unknown>;
  const { epochs, q } = existsSync(path.join(dir, RUN_LOG_FILE)) ? await readTrainLog(path.join(dir, RUN_LOG_FILE)) : { epochs: [], q: [] };
  const trainer = typeof cfg['trainer'] === 'string' ? cfg['trainer'] : 'unknown';
  const run: RunResult = {
    id: path.basename(path.resolve(dir)),
    trainer,
    config: cfg,
    seed: typeof cfg['seed'] === 'number' && Number.isInteger(cfg['seed']) ? cfg['seed'] : null,
    ...(typeof cfg['model'] === 'string' ? { model: cfg['model'] } : {}),
    source: dir,
    training: { epochs, ...(q.length > 0 ? { q } : {}) },
  };
  return parseResults({ schemaVersion: RESULTS_SCHEMA_VERSION, runs: [run] }, dir);
}

/** Reads the per-epoch records (and q_i histograms) of a training log. */
export async function readTrainLog(file: string): Promise<{ epochs: EpochRecord[]; q: QEpoch[] }> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const byEpoch = new Map<number, Record<string, unknown>>();
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
    if (typeof r['epoch'] === 'number' && Number.isInteger(r['epoch']) && r['epoch'] >= 0 && isEpochRecord(r)) byEpoch.set(r['epoch'], r);
  });
  const epochs: EpochRecord[] = [];
  const q: QEpoch[] = [];
  for (const [epoch, r] of [...byEpoch.entries()].sort((a, b) => a[0] - b[0])) {
    epochs.push({ ...flatNumbers(r), epoch });
    const hist = qHistogram(r);
    if (hist) q.push({ epoch, ...hist });
  }
  return { epochs, q };
}

/** Epoch summaries are marked `type: 'epoch'` or carry no `type`/`step`-only marker. */
function isEpochRecord(r: Record<string, unknown>): boolean {
  const t = r['type'] ?? r['kind'] ?? r['event'];
  return t === undefined || t === 'epoch' || t === 'epoch-end';
}

/** The record's top-level finite numbers, plus `q.mean` as `qMean` (the curves figure plots them). */
function flatNumbers(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  const q = r['q'];
  if (typeof q === 'object' && q !== null && typeof (q as Record<string, unknown>)['mean'] === 'number') out['qMean'] = (q as Record<string, unknown>)['mean'];
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
