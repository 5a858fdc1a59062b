/**
 * Saliency methods and saliency-quality metrics: throughput and memory (issue #6).
 *
 *   npx tsx bench/suites/saliency.ts [--backend wasm] [--sizes 32,96] [--batch 16] [--reps 3]
 *                                    [--warmup 1] [--ig-memory] [--quick] [--json FILE]
 *
 * 1. Images per second of each registered saliency method with its method.md defaults
 *    (SmoothGrad n = 50, integrated gradients m = 50) and of each metric, on the project's small
 *    CNN (models/small-cnn.ts, 10 classes, random weights: timing only) at 32×32×3 and 96×96×3,
 *    one batch of `--batch` random images. Metrics time their own work only, from fixed
 *    vanilla-gradient maps: the 8-bit map + entropy, JPEG q75 size, PNG size, AOPC (one order;
 *    P and L by image size: 64 steps at 32², 100 at 96²), the robustness curve (10 ratios; masked
 *    PGD K = 7, and uniform noise), localisation (relevance mass + pointing game) and the
 *    randomisation test (one saliency pass with swapped weights, vanilla gradient). Median of
 *    `--reps` timed runs after `--warmup`; wall time and process CPU time (single-threaded
 *    backends: CPU time is the figure a busy machine does not inflate).
 * 2. Peak tensor memory of integrated gradients with 200 steps on 224×224×3 inputs, from
 *    tf.profile's peakBytes, against the same call with 50 steps and with no chunking: with
 *    chunks of `internalBatchSize` rows the peak does not grow with the steps. Model: a light
 *    224² CNN (conv 3×3/2 ×16 → conv 3×3/2 ×32 → global average pool → dense 10), batch 2.
 *
 * `saliencySuite` is the bench harness entry (bench/run.ts); run as a script it prints Markdown
 * tables and optionally writes JSON.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, backendInfo } from '../../src/engine/backend.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import type { Classifier } from '../../src/models/classifier.js';
import { fromLayersModel } from '../../src/models/classifier.js';
import { smallCnn } from '../../src/models/small-cnn.js';
import { SALIENCY } from '../../src/saliency/registry.js';
import { integratedGradients } from '../../src/saliency/integrated-gradients.js';
import { vanillaGradient } from '../../src/saliency/vanilla-gradient.js';
import { toUint8Map } from '../../src/metrics/uint8-map.js';
import { saliencyEntropy } from '../../src/metrics/saliency-entropy.js';
import { saliencySize } from '../../src/metrics/saliency-size.js';
import { aopc } from '../../src/metrics/aopc.js';
import { lowSaliencyRobustness } from '../../src/metrics/robustness.js';
import { pointingGame, relevanceMassAccuracy } from '../../src/metrics/localization.js';
import { disposeRandomWeights, drawRandomWeights, randomizationSimilarity } from '../../src/metrics/randomization.js';
import { pgd } from '../../src/attacks/pgd.js';
import { markdownTable, median } from '../_common.js';
import type { Suite } from '../_common.js';
import { scriptArgs } from '../../scripts/_args.js';

/** One throughput measurement. */
export interface ThroughputRow {
  readonly size: number;
  readonly kind: 'method' | 'metric';
  readonly name: string;
  readonly settings: string;
  readonly batch: number;
  /** Images per second, wall clock (median run). */
  readonly imagesPerSecond: number;
  /** Images per second of process CPU time (median run). */
  readonly imagesPerCpuSecond: number;
}

/** One IG memory measurement. */
export interface MemoryRow {
  readonly steps: number;
  readonly internalBatchSize: number;
  readonly batch: number;
  /** tf.profile peakBytes above the bytes alive before the call, MiB. */
  readonly peakMiB: number;
  /** Input size of one image, MiB (for scale). */
  readonly inputMiB: number;
  readonly seconds: number;
}

export interface SaliencyBenchOptions {
  sizes?: readonly number[];
  batch?: number;
  reps?: number;
  warmup?: number;
  igMemory?: boolean;
  /** Fewer methods' samples (n = m = 10) for a fast look. */
  quick?: boolean;
  log?: (line: string) => void;
}

function timeRuns(fn: () => void, reps: number, warmup: number): { wall: number; cpu: number } {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Throughput of every method and metric at each size. */
export function throughput(o: SaliencyBenchOptions = {}): ThroughputRow[] {
  const { sizes = [32, 96], batch = 16, reps = 3, warmup = 1, quick = false, log = () => {} } = o;
  const rows: ThroughputRow[] = [];
  for (const size of sizes) {
    const clf = smallCnn({ inputShape: [size, size, 3], numClasses: 10, seed: 1 });
    const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
    const add = (kind: ThroughputRow['kind'], name: string, settings: string, fn: () => void, r = reps, w = warmup): void => {
      const t = timeRuns(fn, r, w);
      const row = { size, kind, name, settings, batch, imagesPerSecond: batch / t.wall, imagesPerCpuSecond: batch / t.cpu };
      rows.push(row);
      log(`${size}² ${kind} ${name} (${settings}): ${row.imagesPerSecond.toFixed(2)} img/s wall, ${row.imagesPerCpuSecond.toFixed(2)} img/s CPU`);
    };
    // 1) methods, registry defaults (quick: 10 samples/steps)
    for (const [name, spec] of SALIENCY) {
      const opts = quick && name === 'smooth-grad' ? { samples: 10 } : quick && name === 'integrated-gradients' ? { steps: 10 } : {};
      const fn = spec.create(opts);
      const d = spec.describe(opts);
      const settings = name === 'smooth-grad' ? `n=${d['samples']}, σ=${d['noiseLevel']}` : name === 'integrated-gradients' ? `m=${d['steps']}, ${d['rule']}` : '';
      const heavy = name === 'smooth-grad' || name === 'integrated-gradients';
      add('method', name, settings, () => tf.tidy(() => void fn(clf, x, y, { seed: 1 }).dataSync()), heavy ? 1 : reps, heavy ? 0 : warmup);
    }
    // 2) metrics from fixed vanilla-gradient maps
    const scores = tf.tidy(() => tf.sum(tf.abs(vanillaGradient()(clf, x, y)), 3).dataSync() as Float32Array);
    const n = size * size;
    const maps = Array.from({ length: batch }, (_, i) => scores.subarray(i * n, (i + 1) * n));
    const u8s = maps.map((s) => toUint8Map(s));
    const gt = Uint8Array.from({ length: n }, (_, p) => (Math.floor(p / size) < size / 2 ? 1 : 0));
    add('metric', 'entropy', '8-bit map + 256-bin entropy', () => maps.forEach((s) => saliencyEntropy(toUint8Map(s))));
    add('metric', 'size', 'grayscale JPEG q75', () => u8s.forEach((u) => saliencySize(u, size, size)));
    add('metric', 'size (png)', 'grayscale PNG', () => u8s.forEach((u) => saliencySize(u, size, size, { format: 'png' })));
    add('metric', 'aopc (one order)', `P=${size <= 64 ? 4 : 8}, L=${size <= 64 ? 64 : 100}, uniform fill`, () => void aopc(clf, x, y, scores, { order: 'morf', seed: 1 }), 1, 0);
    add('metric', 'robustness (attack)', '10 ratios, masked PGD K=7', () => void lowSaliencyRobustness(clf, x, y, scores, { kind: 'attack', attack: pgd(), seed: 1 }), 1, 0);
    add('metric', 'robustness (noise)', '10 ratios, uniform replace', () => void lowSaliencyRobustness(clf, x, y, scores, { kind: 'noise', seed: 1 }), 1, 0);
    add('metric', 'localisation', 'relevance mass + pointing game', () => maps.forEach((s) => (relevanceMassAccuracy(s, gt), pointingGame(s, gt, size, size))));
    const rnd = drawRandomWeights(clf, { seed: 1 });
    add('metric', 'randomisation', 'vanilla gradient, all layers', () => void randomizationSimilarity(clf, x, y, vanillaGradient(), rnd, { original: scores }));
    disposeRandomWeights(rnd);
    tf.dispose([x, y]);
    clf.model.dispose();
  }
  return rows;
}

/** A light 224×224×3 CNN for the IG memory measurement. */
function light224(): Classifier {
  const init = (seed: number) => tf.initializers.heNormal({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [224, 224, 3], filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 10, kernelInitializer: init(3) }),
    ],
  });
  return fromLayersModel(model);
}

/** Peak memory of IG at 224²: 200 steps chunked vs 50 steps chunked vs 50 steps in one pass. */
export async function igMemory(log: (line: string) => void = () => {}): Promise<MemoryRow[]> {
  const clf = light224();
  const batch = 2;
  const x = tf.randomUniform([batch, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const y = tf.tensor1d([1, 2], 'int32');
  const rows: MemoryRow[] = [];
  for (const [steps, rows_] of [[200, 16], [50, 16], [50, 100]] as const) {
    const ig = integratedGradients({ steps, internalBatchSize: rows_ });
    const t0 = performance.now();
    const info = await tf.profile(() => {
      const a = ig(clf, x, y);
      a.dataSync();
      a.dispose();
    });
    const row = {
      steps, internalBatchSize: rows_, batch, peakMiB: info.peakBytes / 2 ** 20, inputMiB: (224 * 224 * 3 * 4) / 2 ** 20, seconds: (performance.now() - t0) / 1000,
    };
    rows.push(row);
    log(`IG 224² steps=${steps} internalBatchSize=${rows_}: peak ${row.peakMiB.toFixed(1)} MiB (${row.seconds.toFixed(1)} s)`);
  }
  tf.dispose([x, y]);
  clf.model.dispose();
  return rows;
}

function tables(t: readonly ThroughputRow[], m: readonly MemoryRow[]): string {
  const out: string[] = [];
  if (t.length > 0) {
    out.push(
      markdownTable(
        ['size', 'kind', 'name', 'settings', 'img/s (wall)', 'img/s (CPU)'],
        t.map((r) => [`${r.size}²`, r.kind, r.name, r.settings, r.imagesPerSecond.toFixed(2), r.imagesPerCpuSecond.toFixed(2)]),
        ['l', 'l', 'l', 'l', 'r', 'r'],
      ),
    );
  }
  if (m.length > 0) {
    out.push(
      markdownTable(
        ['IG steps', 'internalBatchSize', 'batch', 'peak MiB', 'one input MiB', 's'],
        m.map((r) => [String(r.steps), String(r.internalBatchSize), String(r.batch), r.peakMiB.toFixed(1), r.inputMiB.toFixed(2), r.seconds.toFixed(1)]),
        ['r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  return out.join('\n\n');
}

/** The bench harness entry: `npm run bench -- --suite saliency [-- --sizes 32,96 --ig-memory]`. */
export const saliencySuite: Suite = {
  description: 'saliency methods and metrics: images/s at 32² and 96²; IG 200-step peak memory at 224²',
  async run({ reps, warmup, args }) {
    const { values } = scriptArgs({ args: [...args], options: { sizes: { type: 'string' }, batch: { type: 'string' }, 'ig-memory': { type: 'boolean' }, quick: { type: 'boolean' } } }, 'npm run bench -- --suite saliency [--reps N] [--warmup N] -- [--sizes 32,96] [--batch 16] [--ig-memory] [--quick]');
    const sizes = values.sizes ? values.sizes.split(',').map(Number) : [32, 96];
    const t = throughput({ sizes, batch: Number(values.batch ?? 16), reps, warmup, quick: values.quick === true, log: (l) => console.error(l) });
    const m = values['ig-memory'] ? await igMemory((l) => console.error(l)) : [];
    console.log(tables(t, m));
    return { throughput: t, igMemory: m };
  },
};

async function main(): Promise<void> {
  const { values } = scriptArgs({
    options: {
      backend: { type: 'string', default: 'wasm' }, sizes: { type: 'string', default: '32,96' }, batch: { type: 'string', default: '16' },
      reps: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' }, 'ig-memory': { type: 'boolean', default: false },
      'no-throughput': { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, json: { type: 'string' },
    },
  }, 'npx tsx bench/suites/saliency.ts [--backend wasm] [--sizes 32,96] [--batch 16] [--reps 3] [--warmup 1] [--ig-memory] [--no-throughput] [--quick] [--json FILE]');
  await setupBackend({ backend: values.backend });
  const log = (l: string): void => console.error(l);
  const t = values['no-throughput'] ? [] : throughput({ sizes: values.sizes.split(',').map(Number), batch: Number(values.batch), reps: Number(values.reps), warmup: Number(values.warmup), quick: values.quick, log });
  const m = values['ig-memory'] ? await igMemory(log) : [];
  console.log(`\nbackend: ${JSON.stringify(backendInfo())}\ndate: ${new Date().toISOString()}\n`);
  console.log(tables(t, m));
  if (values.json) await writeJsonAtomic(values.json, { suite: 'saliency', date: new Date().toISOString(), backend: backendInfo(), throughput: t, igMemory: m });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
