/**
 * Is an adversarially trained run robust where it was trained to be? For each run (a run folder, or
 * every run folder inside a sweep folder) whose trainer has an ε (pgd-at, scaat), its accuracy under
 * a whole-image PGD-7 attack at the run's own training ε (`scaat evaluate --metrics
 * robustness-attack --ratios 0,1`: q = 1 attacks every pixel; α = 2.5ε/7), next to its clean
 * accuracy, on a class-stratified sample of the test split. A whole-image control trained with
 * FGSM-RS that keeps almost nothing under PGD-7 while its PGD-7-trained twin keeps much more has
 * overfitted catastrophically (Wong et al. 2020): it is a weak control. SCAAT is not meant to be
 * robust on the whole image; its row is there for reference.
 *
 * --ratio q (default 1) confines the attack to the q lowest-saliency pixels of each image by the
 * run's vanilla-gradient map (the mask rule of SCAAT's training, method.md §4.5): at q = 0.5, SCAAT's
 * q_init, it asks the same of SCAAT inside its mask (a run trained with FGSM-RS that keeps almost
 * nothing under masked PGD-7, while its PGD-7-trained twin keeps much more, has overfitted inside
 * the mask).
 *
 *   npx tsx scripts/whole-image-robustness.ts studies-out/cifar10-epsilon [--limit 500] [--trainers pgd-at] [--ratio 0.5] [--data SPEC]
 *
 * --ratio takes a list (`--ratio 0.5,1`: one column per ratio, from one evaluation of each run; the
 * attack's random start is seeded by a ratio's place in the list, so a ratio's value depends, within
 * the sampling noise, on the list it came in). --epsilon E attacks every run at E rather than at its
 * own training ε, which also brings in runs of trainers without one (`--trainers
 * regular,scaat,pgd-at,sgt --epsilon 16/255`: a regular model's robustness as the reference).
 *
 *   npx tsx scripts/whole-image-robustness.ts studies-out/cifar10-resnet20 --trainers regular,scaat,pgd-at,sgt --ratio 0.5,1 --epsilon 16/255
 *
 * --data replaces the runs' own `data` (e.g. where the dataset's relative path does not resolve).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './_args.js';
import { readNumber } from '../src/io/numbers.js';

const USAGE = 'npx tsx scripts/whole-image-robustness.ts RUN_OR_SWEEP_DIR... [--limit N] [--trainers pgd-at,scaat] [--ratio Q[,Q...]] [--epsilon E] [--data SPEC]';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = scriptArgs(
  {
    allowPositionals: true,
    options: {
      limit: { type: 'string', default: '500' },
      trainers: { type: 'string', default: 'pgd-at,scaat' },
      ratio: { type: 'string', default: '1' },
      epsilon: { type: 'string' },
      data: { type: 'string' },
    },
  },
  USAGE,
);
const fail = (message: string, code = 3): never => {
  console.error(`whole-image-robustness.ts: ${message}`);
  process.exit(code);
};
if (positionals.length === 0) fail(`no run or sweep folder given\nusage: ${USAGE}`, 2);
if (!/^[1-9]\d*$/.test(values.limit!)) fail(`--limit: expected an integer ≥ 1, got '${values.limit}'`, 2);
const ratios = values.ratio!.split(',').map((given) => {
  const q = Number(given);
  if (!/^\s*[\d.]+\s*$/.test(given) || !(q > 0 && q <= 1)) fail(`--ratio: expected a number in (0, 1] or a list of them, got '${values.ratio}'`, 2);
  return q;
});
if (new Set(ratios).size !== ratios.length) fail(`--ratio: a ratio is listed twice in '${values.ratio}'`, 2);
const epsilon = values.epsilon === undefined ? undefined : readNumber(values.epsilon);
if (values.epsilon !== undefined && !(epsilon !== undefined && epsilon > 0)) fail(`--epsilon: expected a number > 0 (or a fraction such as 16/255), got '${values.epsilon}'`, 2);
const trainers = new Set(values.trainers!.split(',').map((t) => t.trim()).filter(Boolean));

interface RunConfig {
  trainer: string;
  data: string;
  trainerOptions: Record<string, { epsilon?: number; attack?: string } | undefined>;
}
const isRun = (dir: string): boolean => existsSync(path.join(dir, 'config.json')) && existsSync(path.join(dir, 'model', 'model.json'));

const runs: string[] = [];
for (const given of positionals) {
  if (!existsSync(given) || !statSync(given).isDirectory()) fail(`${given}: not a folder`);
  if (isRun(given)) runs.push(given);
  else {
    const inside = readdirSync(given).map((n) => path.join(given, n)).filter((d) => statSync(d).isDirectory() && isRun(d)).sort();
    if (inside.length === 0) fail(`${given}: neither a run folder (config.json and model/model.json) nor a folder of runs`);
    runs.push(...inside);
  }
}

const columnOf = (q: number): string => `accuracy under ${q === 1 ? 'whole-image PGD-7' : `PGD-7 on the ${q} least salient pixels`} at ε`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-whole-image-'));
const rows = [
  `| run | trainer | attack | ε | clean accuracy | ${ratios.map(columnOf).join(' | ')} |`,
  `|---|---|---|---:|---:|${ratios.map(() => '---:|').join('')}`,
];
try {
  for (const run of runs) {
    const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')) as RunConfig;
    const options = config.trainerOptions?.[config.trainer];
    const own = typeof options?.epsilon === 'number' ? options.epsilon : undefined;
    const at = epsilon ?? own;
    if (!trainers.has(config.trainer) || at === undefined) continue;
    const out = path.join(tmp, `${rows.length}.json`);
    const args = [path.join(ROOT, 'bin', 'scaat.js'), 'evaluate', '-m', run, '-d', values.data ?? config.data, '--limit', values.limit!,
      '--methods', 'vanilla-gradient', '--metrics', 'robustness-attack', '--ratios', [0, ...ratios].join(','), '--epsilon', String(at), '-q', '-o', out];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) fail(`${run}: scaat evaluate failed (exit ${r.status}):\n${r.stderr.trim()}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { methods: Array<{ robustness?: Array<{ kind: string; accuracy: number[] }> }> };
    const curve = result.methods[0]?.robustness?.find((c) => c.kind === 'attack');
    if (!curve || curve.accuracy.length !== ratios.length + 1) fail(`${run}: no attack robustness curve at q = ${[0, ...ratios].join(', ')} in the evaluation`);
    const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
    rows.push(`| ${path.basename(run)} | ${config.trainer} | ${(own !== undefined && options?.attack) || '—'} | ${Number(at.toPrecision(4))} | ${curve!.accuracy.map(pct).join(' | ')} |`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (rows.length === 2) fail(`no run of a trainer in --trainers (${[...trainers].join(', ')}) with an ε${epsilon === undefined ? ' (--epsilon E attacks runs without one)' : ''}`);
const described = ratios.map((q) => (q === 1 ? 'q = 1 attacks every pixel' : `q = ${q}: the ${q} lowest-saliency pixels of each image by its vanilla-gradient map`));
const attackedAt = epsilon === undefined ? "each run's own training ε" : `ε = ${Number(epsilon.toPrecision(4))} for every run`;
process.stdout.write(`${rows.join('\n')}\n\n${values.limit} class-stratified test images; PGD-7 at ${attackedAt} with α = 2.5ε/7, random start, valid box; ${described.join('; ')}.\n`);
