/**
 * `scaat compare RUNS...`: several runs side by side in the terminal: the paper's table
 * (metrics ↓/↑ per saliency method, clean accuracy, best marked with '*'), as text, Markdown or
 * the merged results JSON.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { writeJsonAtomic } from '../../io/atomic.js';
import { loadResults } from '../../report/load-results.js';
import { buildTable, formatTableMarkdown, formatTableText } from '../../report/table.js';

/** Options of `scaat compare`. */
export interface CompareCommandOptions {
  metrics: 'headline' | 'all';
  format: 'text' | 'markdown' | 'json';
  save?: string;
}

/** Adds `scaat compare`. */
export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare evaluated runs side by side: the paper\'s table of saliency metrics per method and trainer')
    .argument('<runs...>', 'results JSON files, folders holding results.json, or run folders')
    .addOption(new Option('--metrics <set>', "'headline' (entropy, size, AOPC_lerf, AOPC_rel) or 'all'").choices(['headline', 'all']).default('headline'))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--save <file>', 'also write the merged results JSON here (input to scaat report)')
    .action(async (runs: string[], opts: CompareCommandOptions) => {
      await runCompare(runs, opts);
    });
}

/** Loads the runs and prints the comparison. */
export async function runCompare(runs: readonly string[], opts: CompareCommandOptions): Promise<void> {
  const results = await loadResults(runs);
  if (opts.save) await writeJsonAtomic(opts.save, results);
  if (opts.format === 'json') {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  const table = buildTable(results, { metrics: opts.metrics });
  process.stdout.write((opts.format === 'markdown' ? formatTableMarkdown(table) : formatTableText(table)) + '\n');
  if (opts.format === 'text') process.stdout.write("\n(* = best in row; ↓ lower is better, ↑ higher is better)\n");
}
