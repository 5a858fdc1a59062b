/**
 * Shared pieces of the benchmark suites: timing with warm-up and medians, a Markdown table, and
 * the result file bench/results/<suite>-<date>.json (gitignored) with backend and machine.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendInfo } from '../src/engine/backend.js';
import { writeJsonAtomic } from '../src/io/atomic.js';

/** The repository root (bench/ is one level below). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Options every suite receives from bench/run.ts. */
export interface SuiteOptions {
  /** Timed repetitions per measurement (after warm-up). */
  readonly reps: number;
  /** Untimed repetitions first. */
  readonly warmup: number;
  /** Arguments after `--` that are the suite's own (e.g. `--networks resnet20`). */
  readonly args: readonly string[];
}

/** A benchmark suite: `npm run bench -- --suite <name>`. */
export interface Suite {
  readonly description: string;
  /** Runs, prints its table, and returns what goes into the JSON result (or undefined if it wrote its own). */
  run(options: SuiteOptions): Promise<Record<string, unknown> | undefined>;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Calls `fn` `warmup` times, then `reps` times, returning the wall time of each timed call in ms. */
export function timeIt(fn: () => void, { reps, warmup }: { reps: number; warmup: number }): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** A Markdown table (the format README results are pasted in). */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, align?: readonly ('l' | 'r')[]): string {
  const sep = header.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Local date-time as YYYY-MM-DDTHH-MM (file-name safe). */
export function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}`;
}

/** Writes bench/results/<suite>-<stamp>.json atomically; returns its path. */
export async function writeResult(suite: string, backend: BackendInfo | undefined, payload: Record<string, unknown>): Promise<string> {
  const file = path.join(REPO_ROOT, 'bench', 'results', `${suite}-${stamp()}.json`);
  await writeJsonAtomic(file, { suite, date: new Date().toISOString(), backend, ...payload });
  return file;
}
