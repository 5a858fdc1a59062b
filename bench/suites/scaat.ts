/**
 * SCAAT's cost and effect, per variant, against regular training (issue #5):
 *
 *   npx tsx bench/suites/scaat.ts [--backend wasm] [--quick] [--seeds 3] [--parts timing,effect,peer] [--json bench/results/scaat.json]
 *                                 [--networks small-cnn,resnet20] [--passes regular,scaat,scaat-fgsm,scaat-shared,pgd-at,evaluation]
 *                                 [--reps 5] [--warmup 1] [--rounds 1] [--no-peer] [--peer-threads 2]
 *   (through the harness: npm run bench -- --suite scaat -- <the flags above>)
 *
 * 1. Step time. A SCAAT step is 1 saliency pass + K attack passes + 2 training forwards (one
 *    backward). Every variant trains its own copy of the same model on the same batches for 5
 *    epochs, the variants taking their steps in turn (so a busy machine slows all alike). Per
 *    epoch the median step time is taken (all steps of an epoch are of one kind), and averaged
 *    over epochs 1–4 (epoch 0 is the first visit: JIT warm-up, no cached maps), so a cached
 *    variant's refresh epochs count at their real share ('previous-visit' with R = 2: every other
 *    epoch). Reported in process CPU time (the ratio to quote; single-threaded backends) and wall
 *    time. Models: the MLP on 16×16×1 (the effect data) and the small CNN on 32×32×3
 *    (CIFAR-sized, random pixels: timing only), batch 64.
 * 2. Effect. On a synthetic set with ground-truth object masks (16×16×1, 4 classes, a 4×4 class
 *    pattern at one of 4 positions on U(0, 0.5) noise; 512 train / 256 test images), the MLP is
 *    trained 10 epochs (Adam 0.01) per variant and seed, from the same initialisation on the same
 *    batches; reported: relevance mass inside the object (metrics/localization.ts), saliency
 *    entropy (metrics/saliency-entropy.ts, bits), clean test accuracy, final mean q_i.
 *    SCAAT runs at ε = 0.3 (the MNIST-like preset of method.md §2) with the other defaults; the
 *    control "whole image" is the same trainer with q_i ≡ 1 (the mask is every pixel: PGD
 *    adversarial training with the same loss), which isolates the saliency mask's contribution.
 *
 * 3. Against PyTorch (part 'peer', scaat-peer.ts): scaat's SCAAT step (PGD-7, FGSM-RS), PGD-AT
 *    step and evaluation pass (SmoothGrad-50, IG-50, AOPC MoRF + LeRF) side by side with the same
 *    passes of bench/peer_torch.py, small CNN and ResNet-20 at batch 128: ms, scaat / PyTorch per
 *    round (`--rounds`), and each step as a ratio to the same side's regular step. `--reps` and
 *    `--warmup` (this part's own: the harness does not forward its flags to this script).
 *
 * `scaatSuite(options)` returns the rows; the bench harness (bench/run.ts) calls it. Run as a
 * script, it prints two tables and optionally writes JSON.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../src/engine/backend.js';
import { ConfigError } from '../../src/errors.js';
import type { BackendInfo } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/random.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { relevanceMassAccuracy } from '../../src/metrics/localization.js';
import { toUint8Map } from '../../src/metrics/uint8-map.js';
import { saliencyEntropy } from '../../src/metrics/saliency-entropy.js';
import type { Classifier } from '../../src/models/classifier.js';
import { mlp } from '../../src/models/mlp.js';
import { smallCnn } from '../../src/models/small-cnn.js';
import { vanillaGradient } from '../../src/saliency/vanilla-gradient.js';
import { createScaatTrainer } from '../../src/scaat/trainer.js';
import { regularTrainer } from '../../src/train/regular.js';
import type { Trainer } from '../../src/train/types.js';
import { OBJECTS_CLASSES, OBJECTS_SIZE, objectsDataset } from '../../src/scaat/_testing.js';
import type { ObjectsData } from '../../src/scaat/_testing.js';
import { NETWORKS } from '../networks.js';
import { PEER_PASSES, scaatPeerComparison } from './scaat-peer.js';
import type { PeerPass, ScaatPeerOptions, ScaatPeerRow } from './scaat-peer.js';
import { scriptArgs } from '../../scripts/_args.js';

/** The suite's parts. */
export const SCAAT_SUITE_PARTS = ['timing', 'effect', 'peer'] as const;
export type ScaatSuitePart = (typeof SCAAT_SUITE_PARTS)[number];

/** A trained variant: 'regular' or SCAAT with config layers over the defaults. */
export interface ScaatBenchVariant {
  readonly name: string;
  /** SCAAT options; undefined = regular training. */
  readonly scaat?: Readonly<Record<string, unknown>>;
}

/** The variants of the issue: the default step, the cheap ones, and the whole-image control. */
export const SCAAT_BENCH_VARIANTS: readonly ScaatBenchVariant[] = [
  { name: 'regular' },
  { name: 'scaat (PGD K=7, fresh saliency)', scaat: {} },
  { name: 'scaat fgsm-rs', scaat: { attack: 'fgsm-rs' } },
  { name: 'scaat previous-visit (R=2)', scaat: { saliencySource: 'previous-visit', saliencyRefreshEpochs: 2 } },
  { name: 'scaat train-backward', scaat: { saliencySource: 'train-backward' } },
  { name: 'scaat fgsm-rs + previous-visit', scaat: { attack: 'fgsm-rs', saliencySource: 'previous-visit' } },
  { name: 'scaat fgsm-rs sharedBackward (2 passes)', scaat: { attack: 'fgsm-rs', sharedBackward: true } },
  { name: 'scaat noise (no adversary)', scaat: { attack: 'noise' } },
  { name: 'scaat one-pass (noise, adv-only, train-backward)', scaat: { attack: 'noise', loss: 'adv-only', saliencySource: 'train-backward' } },
  { name: 'control: whole image (q ≡ 1)', scaat: { ratioInit: 1, ratioMin: 1, ratioMax: 1 } },
];

export interface ScaatSuiteOptions {
  /** TF.js backend. @default 'wasm' */
  readonly backend?: string;
  /** Smaller CNN (width 0.25) and one seed. @default false */
  readonly quick?: boolean;
  /** Seeds of the effect runs (model initialisation). @default 3 (1 with quick) */
  readonly seeds?: number;
  /** Which parts to run. @default every part */
  readonly parts?: readonly ScaatSuitePart[];
  /** Options of the 'peer' part (scaat-peer.ts). @default both networks, every pass, 5 reps after 1 warm-up, 1 round, 2 peer threads */
  readonly peer?: Partial<Omit<ScaatPeerOptions, 'log'>>;
  /** Progress lines. @default console.log */
  readonly log?: (line: string) => void;
}

export interface StepTimeRow {
  readonly model: string;
  readonly variant: string;
  /** Passes per step (regular: 1 training pass; SCAAT: 1 saliency + K attack + 2 training forwards, trainer.derived.passesPerStep). */
  readonly passesPerStep: number;
  /** Wall-clock ms per step: the median step of each of epochs 1–4, averaged. */
  readonly msPerStep: number;
  /** The same in process CPU time (user + system), less sensitive to other processes. */
  readonly cpuMsPerStep: number;
  /** cpuMsPerStep / regular's on the same model (the cost ratio to quote). */
  readonly ratioToRegular: number;
  /** msPerStep / regular's (wall clock). */
  readonly wallRatioToRegular: number;
}

export interface EffectRow {
  readonly variant: string;
  readonly seeds: number;
  /** Mean over seeds of the mean relevance mass inside the object (higher: more on the object);
   *  over the images whose map is not all zero (NaN when every map is zero: a dead network). */
  readonly relevanceMass: number;
  /** Share of test images whose saliency map is all zero (mean over seeds). */
  readonly zeroMaps: number;
  readonly relevanceMassMin: number;
  readonly relevanceMassMax: number;
  /** Mean saliency entropy in bits (lower: sparser). */
  readonly entropy: number;
  /** Mean clean test accuracy. */
  readonly testAcc: number;
  /** Mean q_i at the end (NaN for regular). */
  readonly qMean: number;
  /** Mean wall ms per training step over the whole run (not interleaved: use the timing part for cost). */
  readonly msPerStep: number;
}

export interface ScaatSuiteResult {
  readonly suite: 'scaat';
  readonly date: string;
  readonly backend: BackendInfo;
  readonly options: { readonly quick: boolean; readonly seeds: number; readonly parts: readonly ScaatSuitePart[] };
  readonly timing: readonly StepTimeRow[];
  readonly effect: readonly EffectRow[];
  /** The 'peer' part: rows, the peer's name (or why it is unavailable) and the printed table. */
  readonly peer?: { readonly rows: readonly ScaatPeerRow[]; readonly peer: string; readonly table: string };
}

const H = OBJECTS_SIZE;
const K = OBJECTS_CLASSES;
type Data = ObjectsData;
/** The ground-truth set of the module header (shared with src/scaat/effect.test.ts). */
const objects = objectsDataset;

/** Random pixels and labels (timing only). */
function noise(n: number, shape: readonly [number, number, number], classes: number, seed: number): Data {
  const rng = new Rng(seed);
  const size = shape[0] * shape[1] * shape[2];
  const x = Float32Array.from({ length: n * size }, () => rng.next());
  const y = Int32Array.from({ length: n }, () => rng.nextInt(classes));
  return { x, y, mask: new Uint8Array(0), n, shape };
}

function makeTrainer(
  v: ScaatBenchVariant,
  n: number,
  extra: Readonly<Record<string, unknown>>,
): { trainer: Trainer; passes: number; rng: Rng; q?: () => Float32Array } {
  const rng = new Rng(`attack/${v.name}`);
  if (!v.scaat) return { trainer: regularTrainer(), passes: 1, rng };
  const t = createScaatTrainer({ trainSize: n, config: [extra, v.scaat] });
  return { trainer: t, passes: t.derived.passesPerStep, rng, q: () => t.irrelevantRatios() };
}

/** Calls `fn(epoch, batch)` for every batch of `epochs` epochs (order fixed by seed and epoch). */
function forEachBatch(
  data: Data,
  epochs: number,
  batch: number,
  seed: number,
  fn: (epoch: number, input: { x: tf.Tensor4D; y: tf.Tensor1D; index: Int32Array }) => void,
  endOfEpoch: (epoch: number) => void,
): void {
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = new Rng(`order/${seed}/${epoch}`).permutation(data.n);
    for (let s = 0; s + batch <= data.n; s += batch) {
      const index = order.slice(s, s + batch);
      const xb = new Float32Array(batch * size);
      const yb = new Int32Array(batch);
      index.forEach((i, b) => {
        xb.set(data.x.subarray(i * size, (i + 1) * size), b * size);
        yb[b] = data.y[i]!;
      });
      const x = tf.tensor4d(xb, [batch, ...data.shape]);
      const y = tf.tensor1d(yb, 'int32');
      try {
        fn(epoch, { x, y, index });
      } finally {
        tf.dispose([x, y]);
      }
    }
    endOfEpoch(epoch);
  }
}

/** Trains `epochs` epochs; returns the wall ms of every step. */
function trainEpochs(trainer: Trainer, clf: Classifier, optimizer: tf.Optimizer, data: Data, epochs: number, batch: number, seed: number): number[] {
  const rng = new Rng(seed);
  const times: number[] = [];
  let step = 0;
  forEachBatch(data, epochs, batch, seed, (epoch, input) => {
    const t0 = performance.now();
    trainer.step(input, { classifier: clf, optimizer, epoch, step: step++, rng });
    times.push(performance.now() - t0);
  }, (epoch) => trainer.epochSummary?.(epoch));
  return times;
}

function mean(a: readonly number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

function median(a: readonly number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const h = (s.length - 1) / 2;
  return (s[Math.floor(h)]! + s[Math.ceil(h)]!) / 2;
}

/** Relevance mass, entropy and accuracy of a trained classifier on the ground-truth test set. */
function evaluate(clf: Classifier, test: Data): { mass: number; zeroMaps: number; entropy: number; acc: number } {
  const x = tf.tensor4d(test.x, [test.n, ...test.shape]);
  const y = tf.tensor1d(test.y, 'int32');
  const s = tf.tidy(() => tf.sum(tf.abs(vanillaGradient()(clf, x, y)), 3));
  const hit = tf.tidy(() => tf.mean(tf.equal(tf.argMax(clf.logits(x), 1), y).toFloat()));
  const scores = s.dataSync();
  const acc = hit.dataSync()[0]!;
  tf.dispose([x, y, s, hit]);
  const n = H * H;
  const masses: number[] = [];
  const entropies: number[] = [];
  for (let i = 0; i < test.n; i++) {
    const si = scores.subarray(i * n, (i + 1) * n);
    const m = relevanceMassAccuracy(si, test.mask.subarray(i * n, (i + 1) * n));
    if (m !== null) masses.push(m); // null: an all-zero map (every object mask is non-empty)
    entropies.push(saliencyEntropy(toUint8Map(si)));
  }
  return { mass: masses.length > 0 ? mean(masses) : NaN, zeroMaps: 1 - masses.length / test.n, entropy: mean(entropies), acc };
}

/** Runs both parts; see the module header. */
export async function scaatSuite(options: ScaatSuiteOptions = {}): Promise<ScaatSuiteResult> {
  const { backend = 'wasm', quick = false, parts = SCAAT_SUITE_PARTS, log = console.log } = options;
  const seeds = options.seeds ?? (quick ? 1 : 3);
  const info = await setupBackend({ backend });
  log(`scaat suite on ${info.name} (${info.machine}), ${new Date().toISOString()}`);

  // 1) step time: every variant has its own model, optimizer and trainer, and they take their
  //    steps in turn on the same batch (interleaved, so a busy machine slows all alike)
  const timing: StepTimeRow[] = [];
  const models: Array<{ name: string; data: Data; build: () => Classifier }> = [
    { name: 'mlp 16×16×1', data: objects(256, 7), build: () => mlp({ inputShape: [H, H, 1], numClasses: K, width: 0.25, seed: 1 }) },
    {
      name: `small-cnn 32×32×3${quick ? ' (width 0.25)' : ''}`,
      data: noise(128, [32, 32, 3], 10, 8),
      build: () => smallCnn({ inputShape: [32, 32, 3], numClasses: 10, width: quick ? 0.25 : 1, seed: 1 }),
    },
  ];
  for (const m of parts.includes('timing') ? models : []) {
    const runs = SCAAT_BENCH_VARIANTS.map((v) => ({
      v,
      clf: m.build(),
      optimizer: tf.train.adam(0.001),
      ...makeTrainer(v, m.data.n, { epsilon: 8 / 255, warmupEpochs: 0 }),
      wall: [] as number[][],
      cpu: [] as number[][],
      steps: 0,
    }));
    forEachBatch(m.data, 5, 64, 1, (epoch, batch) => {
      for (const r of runs) {
        if (r.wall.length <= epoch) {
          r.wall.push([]);
          r.cpu.push([]);
        }
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        r.trainer.step(batch, { classifier: r.clf, optimizer: r.optimizer, epoch, step: r.steps++, rng: r.rng });
        const dc = process.cpuUsage(c0);
        r.wall[epoch]!.push(performance.now() - t0);
        r.cpu[epoch]!.push((dc.user + dc.system) / 1000);
      }
    }, (epoch) => runs.forEach((r) => r.trainer.epochSummary?.(epoch)));
    // per variant: the median step of each epoch 1–4 (one kind of step per epoch), averaged
    const stat = (perEpoch: number[][]) => mean(perEpoch.slice(1).map(median));
    const regular = runs.find((r) => !r.v.scaat)!;
    const [regWall, regCpu] = [stat(regular.wall), stat(regular.cpu)];
    for (const r of runs) {
      const row: StepTimeRow = {
        model: m.name,
        variant: r.v.name,
        passesPerStep: r.passes,
        msPerStep: stat(r.wall),
        cpuMsPerStep: stat(r.cpu),
        ratioToRegular: stat(r.cpu) / regCpu,
        wallRatioToRegular: stat(r.wall) / regWall,
      };
      timing.push(row);
      log(`  time  ${m.name} | ${r.v.name}: ${row.cpuMsPerStep.toFixed(1)} CPU ms/step (${row.ratioToRegular.toFixed(2)}× regular; wall ${row.msPerStep.toFixed(1)} ms, ${row.wallRatioToRegular.toFixed(2)}×)`);
      r.optimizer.dispose();
      r.clf.model.dispose();
    }
  }

  // 2) effect on ground-truth data
  const train = objects(512, 1);
  const test = objects(256, 2);
  const effect: EffectRow[] = [];
  for (const v of parts.includes('effect') ? SCAAT_BENCH_VARIANTS : []) {
    const runs: Array<{ mass: number; zeroMaps: number; entropy: number; acc: number; q: number; ms: number }> = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const clf = mlp({ inputShape: [H, H, 1], numClasses: K, width: 0.25, seed });
      const optimizer = tf.train.adam(0.01);
      const { trainer, q } = makeTrainer(v, train.n, { epsilon: 0.3 });
      const perEpoch = trainEpochs(trainer, clf, optimizer, train, 10, 64, seed);
      const e = evaluate(clf, test);
      runs.push({ ...e, q: q ? mean(Array.from(q())) : NaN, ms: mean(perEpoch) });
      optimizer.dispose();
      clf.model.dispose();
    }
    const row: EffectRow = {
      variant: v.name,
      seeds,
      relevanceMass: mean(runs.map((r) => r.mass)),
      relevanceMassMin: Math.min(...runs.map((r) => r.mass)),
      relevanceMassMax: Math.max(...runs.map((r) => r.mass)),
      zeroMaps: mean(runs.map((r) => r.zeroMaps)),
      entropy: mean(runs.map((r) => r.entropy)),
      testAcc: mean(runs.map((r) => r.acc)),
      qMean: mean(runs.map((r) => r.q)),
      msPerStep: mean(runs.map((r) => r.ms)),
    };
    effect.push(row);
    log(`  effect ${v.name}: mass ${row.relevanceMass.toFixed(4)} [${row.relevanceMassMin.toFixed(4)}, ${row.relevanceMassMax.toFixed(4)}], zero maps ${row.zeroMaps.toFixed(3)}, entropy ${row.entropy.toFixed(3)}, acc ${row.testAcc.toFixed(3)}, q ${row.qMean.toFixed(3)}`);
  }

  // 3) against PyTorch
  const peer = parts.includes('peer')
    ? scaatPeerComparison({
        networks: NETWORKS.map((n) => n.name),
        passes: PEER_PASSES,
        reps: 5,
        warmup: 1,
        rounds: 1,
        noPeer: false,
        peerThreads: 2,
        ...options.peer,
        log,
      })
    : undefined;
  return { suite: 'scaat', date: new Date().toISOString(), backend: info, options: { quick, seeds, parts: [...parts] }, timing, effect, ...(peer ? { peer } : {}) };
}

const num = (v: number): string => (Number.isNaN(v) ? '–' : v.toFixed(3));

/** Markdown tables of a result (for README / docs). */
export function formatScaatSuite(r: ScaatSuiteResult): string {
  const timing = [
    `SCAAT step time (${r.backend.name}, ${r.backend.machine}, ${r.date.slice(0, 10)}; batch 64, ε = 8/255; per-epoch median step, mean of epochs 1–4; variants interleaved step by step)`,
    '',
    '| model | variant | passes/step | CPU ms/step | × regular (CPU) | wall ms/step | × regular (wall) |',
    '|---|---|---|---|---|---|---|',
    ...r.timing.map(
      (t) =>
        `| ${t.model} | ${t.variant} | ${t.passesPerStep} | ${t.cpuMsPerStep.toFixed(1)} | ${t.ratioToRegular.toFixed(2)} | ${t.msPerStep.toFixed(1)} | ${t.wallRatioToRegular.toFixed(2)} |`,
    ),
  ];
  const effect = [
    `SCAAT effect on ground-truth objects (MLP, 10 epochs, ε = 0.3, ${r.options.seeds} seed(s); mass: higher = more saliency on the object; entropy: lower = sparser)`,
    '',
    '| variant | relevance mass (min–max) | all-zero maps | entropy (bits) | test acc | mean q | wall ms/step (not interleaved) |',
    '|---|---|---|---|---|---|---|',
    ...r.effect.map(
      (e) =>
        `| ${e.variant} | ${Number.isNaN(e.relevanceMass) ? '–' : `${num(e.relevanceMass)} (${num(e.relevanceMassMin)}–${num(e.relevanceMassMax)})`} | ${e.zeroMaps.toFixed(3)} | ${e.entropy.toFixed(2)} | ${e.testAcc.toFixed(3)} | ${num(e.qMean)} | ${e.msPerStep.toFixed(1)} |`,
    ),
  ];
  const parts = [
    ...(r.options.parts.includes('timing') ? [timing.join('\n')] : []),
    ...(r.options.parts.includes('effect') ? [effect.join('\n')] : []),
    ...(r.peer ? [r.peer.table] : []),
  ];
  return parts.join('\n\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = scriptArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      quick: { type: 'boolean', default: false },
      seeds: { type: 'string' },
      parts: { type: 'string', default: SCAAT_SUITE_PARTS.join(',') },
      json: { type: 'string' },
      networks: { type: 'string', default: NETWORKS.map((n) => n.name).join(',') },
      passes: { type: 'string', default: PEER_PASSES.join(',') },
      reps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '1' },
      'no-peer': { type: 'boolean', default: false },
      'peer-threads': { type: 'string', default: '2' },
    },
  }, 'npx tsx bench/suites/scaat.ts [--backend wasm] [--quick] [--seeds 3] [--parts timing,effect,peer] [--json FILE] [--networks …] [--passes …] [--reps 5] [--warmup 1] [--rounds 1] [--no-peer] [--peer-threads 2]');
  const parts = values.parts.split(',').map((p) => p.trim());
  for (const p of parts) {
    if (!(SCAAT_SUITE_PARTS as readonly string[]).includes(p)) throw new ConfigError(`--parts: expected some of ${SCAAT_SUITE_PARTS.join(', ')}, got '${p}'`);
  }
  const networks = values.networks.split(',');
  for (const n of networks) {
    if (!NETWORKS.some((m) => m.name === n)) throw new ConfigError(`--networks: expected some of ${NETWORKS.map((m) => m.name).join(', ')}, got '${n}'`);
  }
  const passes = values.passes.split(',');
  for (const p of passes) {
    if (!(PEER_PASSES as readonly string[]).includes(p)) throw new ConfigError(`--passes: expected some of ${PEER_PASSES.join(', ')}, got '${p}'`);
  }
  const count = (flag: string, v: string, min: number): number => {
    const n = Number(v);
    if (!(Number.isInteger(n) && n >= min)) throw new ConfigError(`--${flag}: expected an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  const result = await scaatSuite({
    backend: values.backend,
    quick: values.quick,
    parts: parts as ScaatSuitePart[],
    peer: {
      networks,
      passes: PEER_PASSES.filter((p) => passes.includes(p)) as PeerPass[],
      reps: count('reps', values.reps, 1),
      warmup: count('warmup', values.warmup, 0),
      rounds: count('rounds', values.rounds, 1),
      noPeer: values['no-peer'],
      peerThreads: count('peer-threads', values['peer-threads'], 1),
    },
    ...(values.seeds ? { seeds: Number(values.seeds) } : {}),
  });
  console.log('\n' + formatScaatSuite(result));
  if (values.json) await writeJsonAtomic(values.json, result);
}
