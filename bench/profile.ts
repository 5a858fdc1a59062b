/**
 * Per-kernel time inside one pass of a benchmark network (bench/networks.ts, batch 128) on the
 * wasm backend as scaat sets it up (with the native accelerator when built): every registered wasm
 * kernel is wrapped with a timer, so the table says where a step's time goes. Kernel times are
 * wall time of the synchronous kernel call; "other" is the pass's time outside kernels (TF.js's
 * engine, tape and tidy bookkeeping).
 *
 *   npx tsx bench/profile.ts [--network small-cnn|resnet20] [--passes train,gradient,gradient-input-only,inference,scaat,scaat-fgsm,scaat-shared,scaat-onepass-fgsm]
 *                            [--reps 5] [--top 16] [--by-shape Add,Relu]
 *
 * --by-shape lists the named kernels per input shapes (ms per call), e.g. to see which tensor
 * sizes a glue kernel runs on inside a network. The passes train … inference are those of
 * bench/suites/engine.ts.
 *
 * scaat and scaat-fgsm (issue #14.3): one SCAAT step (method.md §2 defaults, ε = 8/255, no q
 * warm-up; PGD-7 or FGSM-RS, fresh saliency) as the trainer runs it (createScaatTrainer().step, for
 * the kernel table), then the same step taken phase by phase with the pieces src/scaat/step.ts and
 * trainer.ts call, each phase timed on its own (the wasm backend runs every kernel synchronously,
 * so a phase's time is its own work):
 *
 *   saliency         maskSaliency: vanilla gradient in inference mode, Σ_c|g| (on the backend)
 *   read scores      the saliency map's read-back to the host (dataSync)          host round trip
 *   mask ranking     lowSaliencyMaskData: the floor(q·H·W) lowest pixels on the CPU
 *   mask upload      maskTensor: the mask back to the backend                    host round trip
 *   attack           the masked PGD-7 / FGSM-RS (createScaatAttack)
 *   forward/backward adversarialLoss under tf.engine().gradients (two training forwards, one backward)
 *   update           optimizer.applyGradients
 *   read feedback    the loss and both accuracies to the host                    host round trip
 *   ratio update     IrrelevantRatios.update (±γ per sample)
 *
 * Printed: ms per step and share of the phases' sum per phase, and the trainer's own step time
 * beside it (their difference: the trainer's bookkeeping and timing noise).
 */
import * as tf from '@tensorflow/tfjs';
import { machineSummary, setupBackend } from '../src/engine/backend.js';
import { Rng } from '../src/engine/random.js';
import { lowSaliencyMaskData, maskTensor } from '../src/attacks/masks.js';
import { fromLayersModel } from '../src/models/classifier.js';
import type { Classifier } from '../src/models/classifier.js';
import { effectiveRatioStep, resolveScaatConfig } from '../src/scaat/config.js';
import { IrrelevantRatios } from '../src/scaat/sample-state.js';
import { createScaatAttack, maskSaliency } from '../src/scaat/step.js';
import { createScaatTrainer } from '../src/scaat/trainer.js';
import { adversarialLoss } from '../src/train/_loss.js';
import { NETWORKS } from './networks.js';
import { passFunctions } from './suites/engine.js';
import { scriptArgs } from '../scripts/_args.js';

/** The phases of a SCAAT step, in order (see the header). */
const PHASES = ['saliency', 'read scores', 'mask ranking', 'mask upload', 'attack', 'forward/backward', 'update', 'read feedback', 'ratio update'] as const;
type Phase = (typeof PHASES)[number];

/**
 * A SCAAT step taken phase by phase (the steps of src/scaat/step.ts for saliencySource 'fresh',
 * loss 'clean+adv', ratioFeedback 'training-pass'), adding each phase's wall ms to `ms`.
 */
function phasedScaatStep(
  clf: Classifier,
  opt: tf.Optimizer,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  state: { ratios: IrrelevantRatios; index: Int32Array; rng: Rng; attack: ReturnType<typeof createScaatAttack>; config: ReturnType<typeof resolveScaatConfig> },
  ms: Map<Phase, number>,
): void {
  const [batch, h, w] = x.shape;
  const { config } = state;
  const timed = <T>(phase: Phase, fn: () => T): T => {
    const t0 = performance.now();
    const out = fn();
    ms.set(phase, (ms.get(phase) ?? 0) + performance.now() - t0);
    return out;
  };
  const q = state.ratios.gather(state.index);
  const s = timed('saliency', () => maskSaliency(clf, x, labels, config));
  const scores = timed('read scores', () => s.dataSync());
  s.dispose();
  const maskData = timed('mask ranking', () => lowSaliencyMaskData(scores, batch, h * w, q));
  const mask = timed('mask upload', () => maskTensor(maskData, batch, h, w));
  const xAdv = timed('attack', () => state.attack(clf, x, labels, { mask, seed: state.rng.nextSeed() }));
  mask.dispose();
  const onehot = tf.tidy(() => tf.oneHot(labels, clf.numClasses).toFloat());
  const vars = clf.trainableVariables();
  const kept: { clean?: tf.Tensor2D; adv?: tf.Tensor2D } = {};
  const { value, grads } = timed('forward/backward', () =>
    tf.engine().gradients(() => adversarialLoss(clf, x, xAdv, onehot, config, (z, input) => {
      kept[input] = tf.keep(z);
    }), vars, undefined, true));
  timed('update', () => opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, grads[i]!]))));
  const advCorrect = timed('read feedback', () => {
    value.dataSync();
    const hit = (z: tf.Tensor2D) => {
      const t = tf.tidy(() => tf.equal(tf.argMax(z, 1), labels));
      const out = t.dataSync();
      t.dispose();
      return out;
    };
    hit(kept.clean!);
    return Uint8Array.from(hit(kept.adv!));
  });
  timed('ratio update', () => state.ratios.update(state.index, advCorrect, 0, { warmupEpochs: config.warmupEpochs, ratioStep: effectiveRatioStep(config), ratioMin: config.ratioMin, ratioMax: config.ratioMax }));
  tf.dispose([value, ...grads, onehot, xAdv, kept.clean!, kept.adv!]);
}

const { values } = scriptArgs({
  options: {
    network: { type: 'string', default: 'resnet20' },
    passes: { type: 'string', default: 'train,gradient-input-only,inference' },
    reps: { type: 'string', default: '5' },
    top: { type: 'string', default: '16' },
    'by-shape': { type: 'string', default: '' },
  },
}, 'npx tsx bench/profile.ts [--network small-cnn|resnet20] [--passes train,gradient,…] [--reps 5] [--top 16] [--by-shape Add,Relu]');
const net = NETWORKS.find((n) => n.name === values.network);
if (!net) throw new Error(`--network: expected one of ${NETWORKS.map((n) => n.name).join(', ')}, got '${values.network}'`);
const reps = Number.parseInt(values.reps, 10);
const byShape = new Set(values['by-shape'].split(',').filter(Boolean));

await setupBackend({ backend: 'wasm' });
const model = net.build(1);
const x = tf.randomUniform([128, ...net.inputShape], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([128], 0, net.numClasses, 'int32', 2) as tf.Tensor1D, net.numClasses);
const opt = tf.train.momentum(0.01, 0.9);

const totals = new Map<string, { ms: number; calls: number }>();
const perShape = new Map<string, number[]>();
for (const k of tf.getKernelsForBackend('wasm')) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      const t0 = performance.now();
      const out = f(args);
      const ms = performance.now() - t0;
      const e = totals.get(k.kernelName) ?? { ms: 0, calls: 0 };
      e.ms += ms;
      e.calls++;
      totals.set(k.kernelName, e);
      if (byShape.has(k.kernelName)) {
        const key = `${k.kernelName} ${Object.values(args.inputs).map((i) => JSON.stringify(i!.shape)).join(' ')}`;
        (perShape.get(key) ?? perShape.set(key, []).get(key)!).push(ms);
      }
      return out;
    },
  });
}

const labels = tf.randomUniform([128], 0, net.numClasses, 'int32', 2) as tf.Tensor1D;
const scaatOptions: Record<string, Record<string, unknown>> = {
  scaat: {},
  'scaat-fgsm': { attack: 'fgsm-rs' },
  'scaat-shared': { attack: 'fgsm-rs', sharedBackward: true },
  'scaat-onepass-fgsm': { attack: 'fgsm-rs', attackGradient: 'train-backward', loss: 'adv-only', saliencySource: 'train-backward' },
};
const clf = fromLayersModel(model);
const index = Int32Array.from({ length: 128 }, (_, i) => i);
const passes: Record<string, () => void> = { ...passFunctions(model, x, y, opt) };
for (const [name, extra] of Object.entries(scaatOptions)) {
  const trainer = createScaatTrainer({ trainSize: 128, config: [{ epsilon: 8 / 255, warmupEpochs: 0 }, extra] });
  const rng = new Rng(`profile/${name}`);
  let step = 0;
  passes[name] = () => void trainer.step({ x: x as tf.Tensor4D, y: labels, index }, { classifier: clf, optimizer: opt, epoch: 0, step: step++, rng });
}

console.log(`# ${net.name}, batch 128, ${machineSummary()}, ${new Date().toISOString()}, mean of ${reps} after 2 warm-ups`);
for (const name of values.passes.split(',')) {
  const pass = passes[name];
  if (!pass) throw new Error(`--passes: unknown pass '${name}' (${Object.keys(passes).join(', ')})`);
  pass();
  pass();
  totals.clear();
  perShape.clear();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) pass();
  const total = (performance.now() - t0) / reps;
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, v]) => s + v.ms, 0) / reps;
  console.log(`\n${name}: ${total.toFixed(1)} ms per pass = kernels ${inKernels.toFixed(1)} + other ${(total - inKernels).toFixed(1)}`);
  console.log('| kernel | ms per pass | calls per pass |\n|---|---:|---:|');
  for (const [k, v] of rows.slice(0, Number.parseInt(values.top, 10))) {
    console.log(`| ${k} | ${(v.ms / reps).toFixed(1)} | ${(v.calls / reps).toFixed(0)} |`);
  }
  for (const [key, ms] of [...perShape].sort()) {
    const sorted = [...ms].sort((a, b) => a - b);
    console.log(`  ${key}: ${(ms.length / reps).toFixed(0)} calls, median ${sorted[sorted.length >> 1]!.toFixed(3)} ms`);
  }
  const extra = scaatOptions[name];
  // the phase table follows the default step's pieces; 'scaat-shared' (train/_shared-pass.ts) and the
  // one-pass step (its host work is the pass's time outside kernels) have the kernel table only
  if (extra && !extra['sharedBackward'] && !extra['attackGradient']) {
    const config = resolveScaatConfig({ epsilon: 8 / 255, warmupEpochs: 0 }, extra);
    const state = { ratios: new IrrelevantRatios(128, config.ratioInit), index, rng: new Rng(`profile/${name}/phases`), attack: createScaatAttack(config), config };
    const ms = new Map<Phase, number>();
    phasedScaatStep(clf, opt, x as tf.Tensor4D, labels, state, ms);
    ms.clear();
    for (let i = 0; i < reps; i++) phasedScaatStep(clf, opt, x as tf.Tensor4D, labels, state, ms);
    const sum = [...ms.values()].reduce((a, b) => a + b, 0) / reps;
    const host = (['read scores', 'mask upload', 'read feedback'] as const).reduce((a, p) => a + ms.get(p)! / reps, 0);
    console.log(`\n${name} by phase: ${sum.toFixed(1)} ms per step (the trainer's step above: ${total.toFixed(1)} ms); host round trips ${host.toFixed(1)} ms (${((100 * host) / sum).toFixed(1)} %)`);
    console.log('| phase | ms per step | share |\n|---|---:|---:|');
    for (const p of PHASES) console.log(`| ${p} | ${(ms.get(p)! / reps).toFixed(2)} | ${((100 * ms.get(p)!) / reps / sum).toFixed(1)} % |`);
  }
}
