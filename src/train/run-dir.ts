/**
 * The run folder of `scaat train` and its log:
 *
 *   <run>/config.json          the resolved config (written once, atomically, before the first step)
 *   <run>/log.jsonl            one JSON record per line: start, step, epoch, checkpoint, end
 *   <run>/checkpoints/<name>/  model.json, weights.bin, optimizer.bin, trainer-state.bin, state.json
 *   <run>/checkpoints/latest.json   {"name": "<newest checkpoint>"}
 *   <run>/model/               the final model (model.json + weights.bin)
 *
 * (models/io.ts RUN_LAYOUT names the same folders, so `loadClassifier(<run>)` finds the model.)
 */
import { appendFileSync, existsSync, openSync, closeSync, fsyncSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../errors.js';
import { RUN_LAYOUT } from '../models/io.js';

export const RUN_FILES = {
  config: 'config.json',
  log: 'log.jsonl',
  checkpoints: RUN_LAYOUT.checkpoints,
  latest: RUN_LAYOUT.latest,
  model: RUN_LAYOUT.finalModel,
} as const;

/** Paths of a run folder. */
export function runPaths(dir: string) {
  return {
    dir,
    config: path.join(dir, RUN_FILES.config),
    log: path.join(dir, RUN_FILES.log),
    checkpoints: path.join(dir, RUN_FILES.checkpoints),
    latest: path.join(dir, RUN_FILES.checkpoints, RUN_FILES.latest),
    model: path.join(dir, RUN_FILES.model),
  };
}

/**
 * Refuses to start a new run in a folder that already holds one (config.json, log.jsonl or
 * checkpoints), so an existing run is never overwritten. An empty or absent folder is fine.
 * @throws ConfigError naming the folder and suggesting --resume.
 */
export function assertFreshRunDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new ConfigError(`--out ${dir}: exists and is not a folder`);
  const taken = readdirSync(dir).filter((f) => f === RUN_FILES.config || f === RUN_FILES.log || f === RUN_FILES.checkpoints || f === RUN_FILES.model);
  if (taken.length > 0) {
    throw new ConfigError(`--out ${dir}: already holds a run (${taken.join(', ')}); continue it with --resume ${dir}, or choose another --out`);
  }
}

/** Reads and parses `<run>/config.json` (DataError when missing or malformed). */
export function readRunConfig(dir: string): Record<string, unknown> {
  const file = runPaths(dir).config;
  if (!existsSync(file)) throw new DataError(`--resume ${dir}: no ${RUN_FILES.config} there (not a run folder?)`);
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new DataError(`${file}: cannot parse: ${(err as Error).message}`, { cause: err });
  }
}

/** Appends JSON records to log.jsonl, one line each, synced so a crash keeps every written line. */
export class RunLog {
  constructor(readonly file: string) {}

  write(record: Record<string, unknown>): void {
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }

  /** Bytes written so far (stored in checkpoints so a resume can drop lines written after them). */
  size(): number {
    return existsSync(this.file) ? statSync(this.file).size : 0;
  }

  /** Cuts the log back to `bytes` (resume: the lines after the checkpoint are written again). */
  truncate(bytes: number): void {
    if (!existsSync(this.file)) return;
    if (statSync(this.file).size > bytes) truncateSync(this.file, bytes);
    const fd = openSync(this.file, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
