import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../engine/random.js';
import { ConfigError, ShapeError } from '../errors.js';
import { countingForwards, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import type { StepContext, TrainerState } from '../train/types.js';
import { applyAugmentation, drawAugmentation } from '../datasets/transforms.js';
import type { Classifier } from '../models/classifier.js';
import { createScaatTrainer, SCAAT_TRAINER_SPEC } from './trainer.js';
import type { ScaatTrainer } from './trainer.js';

const SHAPE = [6, 6, 3] as const;
const N = 12;
const BATCH = 4;
let data: tf.Tensor4D;
let labels: tf.Tensor1D;

beforeAll(async () => {
  await useBackend('cpu');
  data = tf.randomUniform([N, ...SHAPE], 0, 1, 'float32', 3) as tf.Tensor4D;
  labels = tf.tensor1d(Array.from({ length: N }, (_, i) => i % 4), 'int32');
});
afterAll(() => tf.dispose([data, labels]));

/** A minimal loop: fixed batch order per epoch, one SGD optimizer; returns each step's metrics. */
function runEpochs(trainer: ScaatTrainer, epochs: number, { lr = 0.1, from = 0 } = {}) {
  const clf = linearClassifier(SHAPE, 4, { seed: 5, scale: 0.3 });
  const optimizer = tf.train.sgd(lr);
  const rng = new Rng(1);
  const steps: Array<Readonly<Record<string, number>>> = [];
  const summaries: Array<ReturnType<ScaatTrainer['epochSummary']>> = [];
  let step = 0;
  for (let epoch = from; epoch < from + epochs; epoch++) {
    const order = new Rng(`order/${epoch}`).permutation(N);
    for (let s = 0; s < N; s += BATCH) {
      const index = order.slice(s, s + BATCH);
      const idx = tf.tensor1d(index, 'int32');
      const x = tf.gather(data, idx) as tf.Tensor4D;
      const y = tf.gather(labels, idx) as tf.Tensor1D;
      const ctx: StepContext = { classifier: clf, optimizer, epoch, step: step++, rng };
      steps.push(trainer.step({ x, y, index }, ctx));
      tf.dispose([idx, x, y]);
    }
    summaries.push(trainer.epochSummary(epoch));
  }
  optimizer.dispose();
  clf.model.dispose();
  return { steps, summaries };
}

describe('SCAAT trainer', () => {
  it("is named 'scaat', reports loss, acc, advAcc and q, and keeps q during warm-up", () => {
    const t = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 2 } });
    expect(t.name).toBe('scaat');
    expect(t.derived).toEqual({ alpha: 0.025, attackSteps: 2, passesPerStep: 5, ratioStep: 0.02 });
    const { steps, summaries } = runEpochs(t, 2);
    for (const m of steps) {
      for (const key of ['loss', 'acc', 'advAcc', 'q', 'maskFraction']) expect(Number.isFinite(m[key])).toBe(true);
    }
    expect(summaries.map((s) => s.warmup)).toEqual([true, true]);
    expect(Array.from(t.irrelevantRatios())).toEqual(new Array(N).fill(0.5));
    expect(summaries[1]!.q.histogram.counts[10]).toBe(N);
  });

  it('after warm-up, every sample moves by ±γ: mean q = q_init + γ(2·advAcc − 1)', () => {
    const t = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 2, warmupEpochs: 0 } });
    const { summaries } = runEpochs(t, 1);
    const s = summaries[0]!;
    expect(s.warmup).toBe(false);
    expect(s.samples).toBe(N);
    expect(s.q.mean).toBeCloseTo(0.5 + 0.02 * (2 * s.advAcc - 1), 6);
    for (const q of t.irrelevantRatios()) expect([Math.fround(0.48), Math.fround(0.52)]).toContain(q);
    expect(s.q.histogram.counts.reduce((a, c) => a + c, 0)).toBe(N);
  });

  it("ratioStep 'auto': γ = (q_max − q_min)/(epochs − warm-up), every sample moves by ±γ", () => {
    const t = createScaatTrainer({ trainSize: N, epochs: 2, config: { epsilon: 0.1, steps: 2, warmupEpochs: 0, ratioStep: 'auto' } });
    expect(t.derived.ratioStep).toBe(0.45);
    const s = runEpochs(t, 1).summaries[0]!;
    expect(s.q.mean).toBeCloseTo(0.5 + 0.45 * (2 * s.advAcc - 1), 6);
    for (const q of t.irrelevantRatios()) expect([Math.fround(0.05), Math.fround(0.95)]).toContain(q);
    expect(() => createScaatTrainer({ trainSize: N, config: { ratioStep: 'auto' } })).toThrow(/needs the run's number of epochs/);
  });

  it("'bisect': a failure at q_init moves q to (q_init + q_max)/2, a success to (q_min + q_init)/2, with the bracket", () => {
    const t = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 2, warmupEpochs: 0, ratioSearch: 'bisect' } });
    const s = runEpochs(t, 1).summaries[0]!;
    expect(s.q.mean).toBeCloseTo(0.275 + 0.45 * s.advAcc, 6);
    expect(s.advAcc > 0 && s.advAcc < 1, `both outcomes occur (advAcc ${s.advAcc})`).toBe(true);
    const { q, qLow, qHigh } = t.getState();
    for (let i = 0; i < N; i++) {
      const failed = q[i] === Math.fround(0.725);
      expect(failed || q[i] === Math.fround(0.275)).toBe(true);
      expect([qLow![i], qHigh![i]]).toEqual(failed ? [0.5, Math.fround(0.95)] : [Math.fround(0.05), 0.5]);
    }
  });

  it("'bisect': q and the brackets restored from the state continue bit for bit; a state of the other search is refused", () => {
    const cfg = { epsilon: 0.1, steps: 1, warmupEpochs: 1, ratioSearch: 'bisect' };
    const t = createScaatTrainer({ trainSize: N, config: cfg });
    runEpochs(t, 2);
    const saved = t.getState();
    expect(Object.keys(saved).sort()).toEqual(['epochTotals', 'q', 'qHigh', 'qLow']);
    const u = createScaatTrainer({ trainSize: N, config: cfg });
    u.setState(saved);
    // both continue from the same model, batches and seeds (runEpochs starts them afresh)
    runEpochs(t, 2, { from: 2 });
    runEpochs(u, 2, { from: 2 });
    const bytes = (state: TrainerState) => Object.fromEntries(Object.entries(state).map(([k, v]) => [k, Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))]));
    expect(bytes(u.getState())).toEqual(bytes(t.getState()));
    expect(Array.from(t.getState()['qLow']!)).not.toEqual(Array.from(saved['qLow']!)); // it did move
    const ramp = createScaatTrainer({ trainSize: N, config: { ...cfg, ratioSearch: 'ramp' } });
    expect(() => ramp.setState(saved)).toThrow(/ratioSearch 'ramp' keeps no brackets, but the checkpoint state has 'qLow'\/'qHigh'/);
    expect(() => u.setState({ q: saved['q']! })).toThrow(/ratioSearch 'bisect' needs its brackets 'qLow' and 'qHigh' in the checkpoint state; keys: q$/);
    expect(() => u.setState({ q: saved['q']!, qLow: saved['qLow']! })).toThrow(ConfigError);
    expect(() => u.setState({ ...saved, qLow: new Float32Array(N + 1) })).toThrow(ShapeError);
  });

  it('saves q in its state and restores it; rejects a state of another training set', () => {
    const t = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 1, warmupEpochs: 0 } });
    runEpochs(t, 2);
    const state = t.getState();
    const u = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 1, warmupEpochs: 0 } });
    u.setState(state);
    expect(Array.from(u.irrelevantRatios())).toEqual(Array.from(state['q']!));
    expect(Object.keys(state).sort()).toEqual(['epochTotals', 'q']);
    // the epoch's running totals come back too: after a full epoch's summary they were reset
    expect(Array.from(state['epochTotals']!)).toEqual([0, 0, 0, 0, 0]);
    u.setState({ q: state['q']!, epochTotals: Float32Array.from([4, 3, 4, 1, 1]) });
    expect(u.epochSummary(5)).toMatchObject({ samples: 4, advAcc: 0.75, acc: 1, freshSaliency: 1 });
    expect(() => u.setState({ q: new Float32Array(N + 1) })).toThrow(ShapeError);
    expect(() => u.setState({})).toThrow(/has no 'q'/);
  });

  it("'previous-visit' reuses the map for saliencyRefreshEpochs − 1 epochs and equals 'fresh' when the model is fixed", () => {
    const cached = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 2, saliencySource: 'previous-visit', saliencyRefreshEpochs: 2 } });
    const fresh = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 2 } });
    const a = runEpochs(cached, 3, { lr: 0 });
    const b = runEpochs(fresh, 3, { lr: 0 });
    expect(a.summaries.map((s) => s.freshSaliency)).toEqual([1, 0, 1]);
    expect(b.summaries.map((s) => s.freshSaliency)).toEqual([1, 1, 1]);
    // lr = 0: the map does not change, so the cached masks are the fresh ones, step for step
    expect(a.steps.map((m) => m['loss'])).toEqual(b.steps.map((m) => m['loss']));
    expect(a.steps.map((m) => m['advAcc'])).toEqual(b.steps.map((m) => m['advAcc']));
  });

  it("'train-backward' takes the map from the previous visit's training backward pass", () => {
    const t = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 2, saliencySource: 'train-backward' } });
    const fresh = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 2 } });
    const a = runEpochs(t, 2, { lr: 0 });
    const b = runEpochs(fresh, 2, { lr: 0 });
    expect(a.summaries.map((s) => s.freshSaliency)).toEqual([1, 0]);
    // first epoch identical (fresh maps), second differs (a different map: the loss gradient)
    expect(a.steps.slice(0, 3).map((m) => m['loss'])).toEqual(b.steps.slice(0, 3).map((m) => m['loss']));
    expect(a.steps.slice(3).map((m) => m['loss'])).not.toEqual(b.steps.slice(3).map((m) => m['loss']));
  });

  it("the one-pass step (attack 'noise', loss 'adv-only', 'train-backward'): after a sample's first visit, one training forward and the accuracy's inference forward, no saliency or attack pass", () => {
    const config = { epsilon: 0.1, attack: 'noise', loss: 'adv-only', saliencySource: 'train-backward' };
    const t = createScaatTrainer({ trainSize: N, config });
    expect(t.derived).toEqual({ alpha: 0, attackSteps: 0, passesPerStep: 1, ratioStep: 0.02 });
    const { clf, calls } = countingForwards(linearClassifier(SHAPE, 4, { seed: 5, scale: 0.3 }));
    const optimizer = tf.train.sgd(0.1);
    const rng = new Rng(1);
    const perEpoch: Array<{ training: number; inference: number }> = [];
    let step = 0;
    for (let epoch = 0; epoch < 2; epoch++) {
      const before = { ...calls };
      for (let s = 0; s < N; s += BATCH) {
        const index = Int32Array.from({ length: BATCH }, (_, i) => s + i);
        const idx = tf.tensor1d(index, 'int32');
        const x = tf.gather(data, idx) as tf.Tensor4D;
        const y = tf.gather(labels, idx) as tf.Tensor1D;
        const m = t.step({ x, y, index }, { classifier: clf, optimizer, epoch, step: step++, rng });
        expect(m['freshSaliency']).toBe(epoch === 0 ? 1 : 0);
        tf.dispose([idx, x, y]);
      }
      t.epochSummary(epoch);
      perEpoch.push({ training: calls.training - before.training, inference: calls.inference - before.inference });
    }
    const steps = N / BATCH;
    // first visit: a saliency pass (its forward, inference mode) for the mask; then one per step
    expect(perEpoch).toEqual([{ training: steps, inference: 2 * steps }, { training: steps, inference: steps }]);
    optimizer.dispose();
  });

  it('bounds the map cache: ConfigError naming saliencyCacheMiB', () => {
    expect(() =>
      createScaatTrainer({ trainSize: 50_000, inputShape: [224, 224, 3], config: { saliencySource: 'previous-visit' } }),
    ).toThrow(/'saliencyCacheMiB' is 1024, but caching maps of 50000 samples × 50176 pixels needs 4785 MiB/);
    expect(() => createScaatTrainer({ trainSize: 10, config: { lambda: -1 } })).toThrow(ConfigError);
  });

  it.each([['fresh'], ['previous-visit'], ['train-backward']])('%s: a training run leaks no tensors', async (source) => {
    const t = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, steps: 1, saliencySource: source } });
    const clf = linearClassifier(SHAPE, 4, { seed: 5, scale: 0.3 });
    const optimizer = tf.train.sgd(0.1);
    const rng = new Rng(2);
    await expectNoLeak(() => {
      for (let epoch = 0; epoch < 2; epoch++) {
        for (let s = 0; s < N; s += BATCH) {
          const index = Int32Array.from({ length: BATCH }, (_, b) => s + b);
          const x = tf.slice(data, [s, 0, 0, 0], [BATCH, -1, -1, -1]) as tf.Tensor4D;
          const y = tf.slice(labels, [s], [BATCH]) as tf.Tensor1D;
          t.step({ x, y, index }, { classifier: clf, optimizer, epoch, step: s, rng });
          tf.dispose([x, y]);
        }
        t.epochSummary(epoch);
      }
    }, `scaat trainer (${source})`);
    optimizer.dispose();
    clf.model.dispose();
  });
});

describe('cached maps with augmented batches', () => {
  // 8×8 images: a zero border as wide as the padding (2) around 16 distinct positive values, so
  // every view (shift ≤ 2, flip) holds the same 16 positives and 48 zeros
  const [AH, AW, AN, ABATCH] = [8, 8, 8, 4];
  const AUG = { padding: 2, flip: true };
  const SEED = 7;
  const images = new Float32Array(AN * AH * AW);
  for (let i = 0; i < AN; i++) {
    const order = new Rng(`values/${i}`).permutation(16);
    for (let k = 0; k < 16; k++) images[i * AH * AW + (2 + Math.floor(k / 4)) * AW + 2 + (k % 4)] = 0.1 + 0.05 * order[k]!;
  }
  const labels = Int32Array.from({ length: AN }, (_, i) => i % 3);

  /** z_c = v_c·Σ_p x_p² + b_c: |∂z_y/∂x_p| = 2|v_y|·x_p, so saliency follows the image content. */
  function contentModel(): Classifier & { dispose(): void } {
    const v = tf.variable(tf.tensor1d([0.8, -1.1, 1.4]));
    const b = tf.variable(tf.tensor1d([0.2, 0.1, -0.3]));
    return {
      inputShape: [AH, AW, 1],
      numClasses: 3,
      model: undefined as unknown as tf.LayersModel,
      logits: (x) => tf.tidy(() => tf.add(tf.mul(tf.sum(tf.square(x), [1, 2, 3]).reshape([-1, 1]), v), b) as tf.Tensor2D),
      trainableVariables: () => [v, b],
      dispose: () => tf.dispose([v, b]),
    };
  }

  /** Epochs of augmented batches (crop/flip drawn per (SEED, epoch, index), as the loop's) at lr = 0. */
  function runAugmented(trainer: ScaatTrainer, epochs: number) {
    const clf = contentModel();
    const optimizer = tf.train.sgd(0);
    const rng = new Rng(1);
    const losses: number[] = [];
    const fresh: number[] = [];
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = new Rng(`order/${epoch}`).permutation(AN);
      for (let s = 0; s < AN; s += ABATCH) {
        const index = order.slice(s, s + ABATCH);
        const xs = new Float32Array(ABATCH * AH * AW);
        index.forEach((i, b) => {
          xs.set(images.subarray(i * AH * AW, (i + 1) * AH * AW), b * AH * AW);
          applyAugmentation(xs, b * AH * AW, AH, AW, 1, drawAugmentation(AUG, SEED, epoch, i), new Float32Array(AH * AW));
        });
        const x = tf.tensor4d(xs, [ABATCH, AH, AW, 1]);
        const y = tf.tensor1d(Array.from(index, (i) => labels[i]!), 'int32');
        const m = trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch, step: step++, rng });
        losses.push(m['loss']!);
        fresh.push(m['freshSaliency']!);
        tf.dispose([x, y]);
      }
      trainer.epochSummary(epoch);
    }
    optimizer.dispose();
    clf.dispose();
    return { losses, fresh };
  }

  it.each([
    ['previous-visit', 3, [1, 1, 0, 0, 1, 1]],
    ['train-backward', 2, [1, 1, 0, 0]],
  ] as const)("'%s': the cached map follows each image's crop/flip, so the masks are the fresh ones when the model is fixed", (source, epochs, usedFresh) => {
    // q = 0.85: k = 54 pixels = the 48 zeros and the 6 least salient of the 16 positives
    const config = { epsilon: 0.1, steps: 2, ratioInit: 0.85, warmupEpochs: 10 };
    const moves = Array.from({ length: AN }, (_, i) => JSON.stringify(drawAugmentation(AUG, SEED, 0, i)) !== JSON.stringify(drawAugmentation(AUG, SEED, 1, i)));
    expect(moves.filter(Boolean).length).toBeGreaterThan(AN / 2); // the views do change between visits
    const augmentation = { augmentation: AUG, seed: SEED };
    const reference = runAugmented(createScaatTrainer({ trainSize: AN, config }), epochs);
    const carried = runAugmented(createScaatTrainer({ trainSize: AN, config: { ...config, saliencySource: source }, augmentation }), epochs);
    expect(carried.fresh).toEqual(usedFresh);
    expect(carried.losses).toEqual(reference.losses);
    // without the augmentation, the cached ranks stay where the image was at the last visit
    const stale = runAugmented(createScaatTrainer({ trainSize: AN, config: { ...config, saliencySource: source } }), epochs);
    expect(stale.losses).not.toEqual(reference.losses);
  });

  it("refuses 'previous-visit' and 'train-backward' on augmented batches it is not told about (ConfigError naming both keys)", () => {
    for (const source of ['previous-visit', 'train-backward']) {
      expect(() => createScaatTrainer({ trainSize: AN, config: { saliencySource: source }, augmentation: null })).toThrow(
        new RegExp(`'saliencySource' '${source}' keeps each sample's map for its next visit, but 'augment' is on and the training data does not declare its augmentation`),
      );
    }
    expect(createScaatTrainer({ trainSize: AN, config: {}, augmentation: null }).name).toBe('scaat');
    // through the registry entry: the loop's config.augment and the dataset's declared augmentation
    const options = SCAAT_TRAINER_SPEC.resolveOptions({ saliencySource: 'previous-visit' });
    const init = { options, trainSize: AN, inputShape: [AH, AW, 1] as const, numClasses: 3 };
    expect(() => SCAAT_TRAINER_SPEC.create({ ...init, config: { augment: true, seed: 0 } as never })).toThrow(ConfigError);
    expect(SCAAT_TRAINER_SPEC.create({ ...init, config: { augment: true, seed: 0 } as never, augmentation: AUG }).name).toBe('scaat');
    expect(SCAAT_TRAINER_SPEC.create({ ...init, config: { augment: false, seed: 0 } as never }).name).toBe('scaat');
  });
});


describe('SCAAT_TRAINER_SPEC', () => {
  it('resolves trainerOptions.scaat and builds the trainer', () => {
    const o = SCAAT_TRAINER_SPEC.resolveOptions({ epsilon: '0.3', attack: 'fgsm-rs' });
    expect(o['epsilon']).toBe(0.3);
    expect(o['steps']).toBe(7);
    expect(() => SCAAT_TRAINER_SPEC.resolveOptions({ gamma: 0.1 })).toThrow(/^trainerOptions.scaat: unknown key 'gamma'/);
    const t = SCAAT_TRAINER_SPEC.create({ config: {} as never, options: o, trainSize: 3, inputShape: [4, 4, 1], numClasses: 2 });
    expect(t.name).toBe('scaat');
    expect(t.getState!()['q']).toHaveLength(3);
  });
});
