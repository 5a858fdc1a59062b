/**
 * Reading a sweep folder written by `scaat sweep` (src/sweep/sweep-files.ts describes its files) for
 * `scaat report <sweep folder>`: sweep.json gives the cells and their parameters; each cell with a
 * current evaluation (eval.json, and a cell.json holding the sweep's evaluation settings, so an
 * evaluation made with other settings never enters the table) becomes a report run, with its run
 * folder's training context (load-results.ts). Plain JSON; no TF.js.
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DataError } from '../errors.js';
import { canonicalJson } from '../io/canonical-json.js';
import { loadEvaluationOfRun, readJson } from './load-results.js';
import type { RunResult } from './run-results.js';
import type { SweepTableCell } from './sweep-table.js';

/** File names inside a sweep folder (as src/sweep/sweep-files.ts SWEEP_FILES). */
export const SWEEP_FILE = 'sweep.json';
const EVALUATION_FILE = 'eval.json';
const CELL_FILE = 'cell.json';
const SWEEP_KIND = 'scaat-sweep';
const SWEEP_SCHEMA_VERSION = 1;

const cellName = z.string().regex(/^[A-Za-z0-9+=.,-][A-Za-z0-9_+=.,-]*$/, { message: 'expected a folder name' }).refine((s) => s !== '.' && s !== '..', { message: 'expected a folder name' });
const sweepSchema = z.looseObject({
  kind: z.literal(SWEEP_KIND),
  schemaVersion: z.number().int().max(SWEEP_SCHEMA_VERSION),
  gridFile: z.string(),
  grid: z.unknown(),
  title: z.string().optional(),
  comment: z.string().optional(),
  evaluation: z.unknown(),
  seedAxis: z.string(),
  partitionAxis: z.string(),
  command: z.string().optional(),
  updatedAt: z.string().optional(),
  cells: z.array(
    z.looseObject({
      name: cellName,
      params: z.record(z.string(), z.string()),
      source: z.string().optional(),
      status: z.string(),
      error: z.string().optional(),
    }),
  ),
});

/** One cell of a sweep, with its results when it has a current evaluation. */
export interface SweepCell extends SweepTableCell {
  /** The cell it was fine-tuned from. */
  readonly source?: string;
  /** As sweep.json last recorded it ('pending', 'training', 'trained', 'done', 'failed'). */
  readonly status: string;
  readonly error?: string;
}

/** A sweep folder as the report shows it. */
export interface SweepResults {
  /** The sweep folder. */
  readonly dir: string;
  readonly title?: string;
  /** The grid's `$comment`. */
  readonly comment?: string;
  readonly gridFile: string;
  readonly grid: unknown;
  /** The evaluation settings of every cell. */
  readonly evaluation: unknown;
  readonly seedAxis: string;
  readonly partitionAxis: string;
  readonly command?: string;
  readonly updatedAt?: string;
  readonly cells: readonly SweepCell[];
}

/**
 * The command that runs the whole grid: the sweep's last command without `--cells` / `--shard` (a
 * part of the grid), or `scaat sweep <grid> --out <dir>` where none was recorded.
 */
export function wholeGridCommand(sweep: Pick<SweepResults, 'command' | 'gridFile' | 'dir'>): string {
  return sweep.command === undefined ? `scaat sweep ${sweep.gridFile} --out ${sweep.dir}` : sweep.command.replace(/\s--(?:cells|shard)(?:=|\s+)\S+/g, '');
}

/**
 * "Sweep `<command>`" (table.md's first line): the command that runs the whole grid
 * ({@link wholeGridCommand}), and the last invocation after it where that ran part of the grid, so
 * a reader does not take the part for the grid.
 */
export function sweepCommandLine(sweep: Pick<SweepResults, 'command' | 'gridFile' | 'dir'>): string {
  const whole = wholeGridCommand(sweep);
  return sweep.command === undefined || whole === sweep.command ? `Sweep \`${whole}\`` : `Sweep \`${whole}\` (its last invocation ran part of the grid: \`${sweep.command}\`)`;
}

/** Whether `p` is a sweep folder (holds sweep.json). */
export function isSweepDir(p: string): boolean {
  return existsSync(path.join(p, SWEEP_FILE));
}

/**
 * Reads a sweep folder (module header).
 * @throws DataError naming the file and JSON path when sweep.json or a cell's evaluation is malformed.
 */
export async function loadSweep(dir: string): Promise<SweepResults> {
  const file = path.join(dir, SWEEP_FILE);
  const json = await readJson(file);
  const parsed = sweepSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new DataError(`${file}: not a valid sweep file: ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)'}: ${i.message}`);
  }
  const s = parsed.data;
  const cells: SweepCell[] = [];
  for (const c of s.cells) {
    const run = await currentRun(path.join(dir, c.name), s.evaluation, c.name, c.params);
    cells.push({
      name: c.name,
      params: c.params,
      ...(c.source !== undefined ? { source: c.source } : {}),
      status: c.status,
      ...(c.error !== undefined ? { error: c.error } : {}),
      ...(run ? { run } : {}),
    });
  }
  return {
    dir,
    ...(s.title !== undefined ? { title: s.title } : {}),
    ...(s.comment !== undefined ? { comment: s.comment } : {}),
    gridFile: s.gridFile,
    grid: s.grid,
    evaluation: s.evaluation,
    seedAxis: s.seedAxis,
    partitionAxis: s.partitionAxis,
    ...(s.command !== undefined ? { command: s.command } : {}),
    ...(s.updatedAt !== undefined ? { updatedAt: s.updatedAt } : {}),
    cells,
  };
}

/** The cell's run, when eval.json is there and cell.json says it was made with `evaluation`. */
async function currentRun(cellDir: string, evaluation: unknown, name: string, params: Readonly<Record<string, string>>): Promise<RunResult | undefined> {
  const evalFile = path.join(cellDir, EVALUATION_FILE);
  const cellFile = path.join(cellDir, CELL_FILE);
  if (!existsSync(evalFile) || !existsSync(cellFile)) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(await fsp.readFile(cellFile, 'utf8'));
  } catch {
    return undefined; // half-written by a killed process: not current
  }
  if (canonicalJson((record as { evaluation?: unknown } | null)?.evaluation) !== canonicalJson(evaluation)) return undefined;
  const run = (await loadEvaluationOfRun(evalFile, cellDir)).runs[0]!; // the cell's own config and log
  return { ...run, id: name, label: Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ') };
}
