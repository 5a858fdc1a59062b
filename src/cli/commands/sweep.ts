/**
 * `scaat sweep <grid.json> --out <dir>`: a study's grid of training runs (src/sweep/grid.ts),
 * one run folder per cell, each trained with `scaat train`'s loop and evaluated with `scaat
 * evaluate`'s evaluate(), then `scaat report <dir>` (mean ± std over seeds). Thin: it reads the
 * grid, installs the Ctrl-C handler and calls runSweep (src/sweep/run.ts).
 *
 *   scaat sweep studies/smoke.json --out runs/smoke --dry-run     # list the cells
 *   scaat sweep studies/mnist.json --out runs/mnist               # run (again: skips finished cells)
 *   scaat sweep studies/mnist.json --out runs/mnist --shard 2/4   # every 4th cell, from the 3rd
 *   scaat sweep studies/mnist.json --out runs/mnist --cells 7-12  # cells 7 to 12 of the --dry-run list
 *   scaat sweep studies/mnist.json --out /scratch/mnist --results results/mnist   # keep each done cell's results (no model)
 *   scaat sweep studies/b.json --out runs/b --reuse runs/a       # cells that are the same runs as runs/a's done ones: copied
 */
import type { Command } from 'commander';
import path from 'node:path';
import { ConfigError, ScaatError } from '../../errors.js';
import { readGrid } from '../../sweep/grid.js';
import { reuseSources } from '../../sweep/reuse.js';
import { cellConfigOf, cellStatus, planStart, planSweep, runSweep } from '../../sweep/run.js';
import { consoleProgress } from '../../train/progress.js';
import { openDataSource, parseShard } from './_inputs.js';
import { runSweepReport } from './report.js';
import { onInterrupt } from '../signals.js';
import { ALL_TRAINERS } from '../../scaat/registry.js';
import { parseWritten } from '../../io/config-schema.js';
import { TRAIN_CONFIG_SCHEMA } from '../../train/config.js';
import type { TrainConfig } from '../../train/config.js';

/** Options of `scaat sweep`. */
export interface SweepCommandOptions {
  out: string;
  shard?: string;
  cells?: string;
  results?: string;
  /** --reuse folders (repeatable). */
  reuse?: string[];
  dryRun?: boolean;
  backend?: string;
  /** false with --no-report. */
  report: boolean;
  quiet?: boolean;
}

const HELP = `
Grid (studies/*.json; the format is described in src/sweep/grid.ts):
  {"$comment": "the question it answers, the expected cost",
   "base": {"data": "mnist", "model": "small-cnn", "epochs": 3, ...},        every cell's config
   "axes": {"trainer": ["regular", "scaat", "pgd-at"], "*.epsilon": ["8/255", 0.3], "seed": [0, 1, 2]},
   "evaluation": {"limit": 1000, "methods": ["vanilla-gradient", "smooth-grad"]}}
  Axis keys: any config key; <trainer>.<option>; *.<option> (every trainer that has it; it drops
  out of the others' cells). A list of axes objects is the union of their products. A model value
  {"cell": {"trainer": "regular"}} fine-tunes from that cell's final model. Cells that differ only
  in epochs continue each other's finished runs, shorter first, bit for bit (not under a cosine
  schedule, SCAAT's ratioStep 'auto' or its cached maps: those train anew).

Each cell is a run folder <dir>/<key=value__...>/ (config.json, log.jsonl, checkpoints/, model/,
eval.json). Running the command again skips finished cells and resumes an interrupted one from its
checkpoint, bit for bit; <dir>/sweep.json lists every cell's status; <dir>/report/ is rewritten at
the end (or: scaat report <dir>).

Shards run a study in parallel with nothing else installed (0-based, like scaat evaluate --shard;
from-scratch cells by turns, a fine-tuning cell with its source; all shards share <dir>):
  Slurm:       #SBATCH --array=0-7
               scaat sweep studies/mnist.json --out runs/mnist --shard $SLURM_ARRAY_TASK_ID/8
  Kubernetes:  an indexed Job (completionMode: Indexed, completions: 8, a shared volume at runs/):
               scaat sweep studies/mnist.json --out runs/mnist --shard $JOB_COMPLETION_INDEX/8
  then, once:  scaat report runs/mnist

--results <dir> keeps each done cell's small files (config.json, log.jsonl, eval.json, cell.json:
what the report reads, not the model) in <dir>/<cell>/ with a sweep.json, and first restores into
--out the cells that --out lacks: a study that spans machines whose disks are not kept carries only
<dir> (a few hundred kB per cell) and skips on a new machine what an earlier one finished.
scaat report <dir> makes the table from them. A restored cell has no model, so a kept cell that a
cell still to train fine-tunes or continues from is not restored but trained again (the same run,
bit for bit on the same backend); one restored by an earlier sweep stops its dependant with
SOURCE_NOT_READY (delete the cell's folder in --out to train it again). With --dry-run, restored cells show as 'kept'.
A cell stopped part-way (Ctrl-C, or SIGTERM when a machine's time ends) is parked in
<dir>/parked/<cell>/: its config, log and latest checkpoint (megabytes: the weights and optimizer
state), so that the next sweep with --results, on this machine or a new one, moves it into an --out
that lacks it and resumes it from that checkpoint (bit for bit the uninterrupted run) instead of
starting over; the parked copy is removed once the cell's results are saved. A SIGKILL parks
nothing. With --dry-run: 'parked'.

--reuse <dir> (repeatable): another sweep's folder, or its --results folder. A cell of this grid that
has no folder yet and is the same run as a done cell there (the same resolved config, comparing of
trainerOptions only its own trainer's; an evaluation made with this grid's settings) is copied from
it (model and checkpoints too where they are there; cell.json renamed, naming the source in
'reusedFrom') instead of trained: grids asking different questions share runs under other names.
The copy is checked again before it lands (a source changed meanwhile is not copied: the cell
runs). Fine-tuning cells are never copied, nor cells of a saved-weights model unless both pin the
same weights (modelSha256); a cell without its model is not copied for a cell that another
continues. --results restores this grid's own kept cells first. With --dry-run: 'reused'.

--cells 7-12,15 runs only those cells, numbered as --dry-run lists them (with the cells they
fine-tune or continue from): a part of a study first, or one cell again.

Exit codes: 0 every cell of this shard done; 130 interrupted (Ctrl-C: checkpoint written);
2 bad grid (named by file and JSON path) or option; 3 bad data; 1 some cells failed (each
recorded in <cell>/error.json and retried by the next run).`;

/** Adds `scaat sweep`. */
export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('run a grid of training runs (data × trainer × ε × config keys × seed), evaluate each, report mean ± std over seeds; resumable, shardable')
    .argument('<grid.json>', 'the grid file (see studies/)')
    .requiredOption('-o, --out <dir>', 'sweep folder: one run folder per cell, sweep.json, report/')
    .option('--shard <i/n>', 'run only shard i of n (0 ≤ i < n): for array jobs')
    .option('--cells <list>', 'run only these cells, numbered as --dry-run lists them (e.g. 7-12,15), with the cells they fine-tune or continue from')
    .option('--results <dir>', "keep each done cell's results (no model) in <dir>, and restore from it the done cells --out lacks")
    .option('--reuse <dir>', "copy in the done cells of another sweep's folder (or results folder) that are the same runs as cells here (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--dry-run', 'list the cells (with their status in --out) and run nothing')
    .option('--backend <name>', "TF.js backend of every cell: auto, wasm, cpu, tensorflow (default: the grid's 'backend')")
    .option('--no-report', 'do not write <dir>/report at the end')
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', HELP)
    .action(async (gridFile: string, opts: SweepCommandOptions) => {
      await runSweepCommand(gridFile, opts);
    });
}

/** Runs `scaat sweep` (see the module header and the help text). */
export async function runSweepCommand(gridFile: string, opts: SweepCommandOptions): Promise<void> {
  const grid = readGrid(gridFile, ALL_TRAINERS);
  const shard = opts.shard !== undefined ? parseShard(opts.shard) : undefined;
  const cells = opts.cells !== undefined ? parseCellNumbers(opts.cells) : undefined;
  const part = shard ? `shard ${shard.index}/${shard.count}` : cells ? 'the selection' : 'the grid';
  const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`sweep: ${line}\n`);
  if (opts.dryRun) {
    const { cells: all, mine } = planSweep(grid, { out: opts.out, trainers: ALL_TRAINERS, ...(shard ? { shard } : {}), ...(cells ? { cells } : {}) });
    // a cell the results folder keeps and --out lacks is restored, not run: 'kept'; unless a cell
    // still to train starts from it (keptToRetrain): then it trains again; a cell still without a
    // folder that is the same run as a done cell of a --reuse folder: 'reused' (run.ts planStart)
    const plan = planStart(mine, opts.out, { results: opts.results, sources: reuseSources(opts.reuse ?? [], grid.evaluation, ALL_TRAINERS), evaluation: grid.evaluation, configOf: (c) => cellConfigOf(c, undefined) });
    const [kept, reused, retrain, parked] = [plan.restore, plan.reuse, plan.retrain, plan.parked];
    const lines = mine.map((c) => {
      const { status } = kept.has(c.name) ? { status: 'kept' } : reused.has(c.name) ? { status: 'reused' } : parked.has(c.name) ? { status: 'parked' } : cellStatus(opts.out, c, grid.evaluation);
      const again = retrain.has(c.name) ? `  (kept without its model, which ${retrain.get(c.name)!} starts from: ${parked.has(c.name) ? 'resumed from its parked checkpoint' : 'trained again'})` : '';
      return `${String(all.indexOf(c) + 1).padStart(4)}  ${status.padEnd(8)}  ${path.join(opts.out, c.name)}${c.source ? `  (fine-tunes ${c.source})` : ''}${c.continues ? `  (continues ${c.continues})` : ''}${again}${reused.has(c.name) ? `  (the same run as ${reused.get(c.name)!.dir})` : ''}`;
    });
    process.stdout.write(
      `${grid.file}: ${all.length} cells${shard || cells ? `, ${mine.length} in ${part}` : ''}${grid.comment ? `\n  ${grid.comment}` : ''}\n` +
        `   #  status    folder\n${lines.join('\n')}\n`,
    );
    return;
  }
  const abort = new AbortController();
  const progress = opts.quiet ? undefined : consoleProgress();
  // the first SIGINT/SIGTERM stops the cell cleanly (checkpoint), a second one at once (signals.ts)
  const stopOnSignal = onInterrupt((sig) => {
    log(`${sig}: finishing the current step and writing a checkpoint (again to stop at once)`);
    abort.abort();
  });
  let summary: Awaited<ReturnType<typeof runSweep>>;
  try {
    summary = await runSweep({
      grid,
      out: opts.out,
      trainers: ALL_TRAINERS,
      openData: (spec, split, where) => openDataSource(spec, { option: where, split }),
      ...(shard ? { shard } : {}),
      ...(cells ? { cells } : {}),
      ...(opts.results !== undefined ? { results: opts.results } : {}),
      ...(opts.reuse !== undefined ? { reuse: opts.reuse } : {}),
      ...(opts.backend !== undefined ? { backend: parseWritten(TRAIN_CONFIG_SCHEMA, { backend: opts.backend }, '--backend')['backend'] as TrainConfig['backend'] } : {}),
      signal: abort.signal,
      ...(progress ? { progress } : {}),
      log,
      command: `scaat ${process.argv.slice(2).join(' ')}`.trim(),
    });
  } finally {
    stopOnSignal();
  }
  log(`${summary.ran.length} cells run, ${summary.skipped.length} already done, ${summary.failed.length} failed (${summary.mine.length} in ${part})`);
  if (opts.report) await runSweepReport(opts.out, {});
  if (summary.failed.length > 0) {
    throw new ScaatError(
      `${summary.failed.length} of ${summary.mine.length} cells failed (each recorded in <cell>/error.json; the next 'scaat sweep' retries them):\n` +
        summary.failed.map((f) => `  ${f.name}: ${f.message}`).join('\n'),
      'SWEEP_INCOMPLETE',
    );
  }
}

/** `--cells 7-12,15` → the cell numbers (1-based, as --dry-run lists them). */
export function parseCellNumbers(v: string): Set<number> {
  const out = new Set<number>();
  for (const part of v.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const [a, b] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
    if (!(a >= 1 && b >= a)) {
      throw new ConfigError(`--cells: expected cell numbers and ranges as --dry-run lists them, e.g. 7-12,15; got '${part}' in '${v}'`);
    }
    for (let n = a; n <= b; n++) out.add(n);
  }
  return out;
}
