/**
 * `attackGradient: 'train-backward'` (issue 14): FGSM-RS along the sign of ∂L/∂x_adv from the
 * sample's previous training backward, in SCAAT and in its whole-image control pgd-at.
 *
 * Oracles: the second visit's step is the one computed independently from the first visit's
 * ∂L/∂x_adv (autodiff) and the same seeded random start; SCAAT with the mask = every pixel takes
 * pgd-at's step bit for bit over revisits; forward counts (no attack pass along kept signs); the
 * signs are forgotten by a restored state; config errors name the key.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fgsmFromGradient } from '../attacks/fgsm.js';
import { lowSaliencyMaskData, maskTensor } from '../attacks/masks.js';
import { Rng } from '../engine/random.js';
import { ConfigError, DataError, ShapeError } from '../errors.js';
import { countingForwards, expectNoLeak, linearClassifier, useBackend } from '../../test/helpers/index.js';
import type { Classifier } from '../models/classifier.js';
import { GradientSignCache } from '../train/_gradient-signs.js';
import { applyAugmentation, drawAugmentation } from '../datasets/transforms.js';
import { resolvePgdAtOptions } from '../train/pgd-at.js';
import { BASELINE_TRAINERS } from '../train/registry.js';
import type { StepMetrics, Trainer } from '../train/types.js';
import { pgdAtControlOptions, resolveScaatConfig } from './config.js';
import { createScaatTrainer } from './trainer.js';
import { createScaatAttack, maskSaliency } from './step.js';

const SHAPE = [6, 6, 3] as const;
const K = 4;
const N = 8;
const B = 4;
let data: tf.Tensor4D;
let labels: tf.Tensor1D;

beforeAll(async () => {
  await useBackend('cpu');
  // pixels at exactly 0 and 1 too, so the valid box binds
  data = tf.tidy(() => tf.clipByValue(tf.randomUniform([N, ...SHAPE], -0.3, 1.3, 'float32', 7), 0, 1)) as tf.Tensor4D;
  labels = tf.tensor1d(Array.from({ length: N }, (_, i) => i % K), 'int32');
});
afterAll(() => tf.dispose([data, labels]));

/** Batches of `index` from the fixed data; the caller disposes. */
function batch(index: Int32Array): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const idx = tf.tensor1d(index, 'int32');
    return { x: tf.gather(data, idx) as tf.Tensor4D, y: tf.gather(labels, idx) as tf.Tensor1D };
  });
}

/** Two epochs over N samples in batches of B (the same order each epoch: every sample revisited). */
const VISITS = [0, 1, 0, 1].map((s) => Int32Array.from({ length: B }, (_, b) => s * B + b));

function pgdAt(options: Record<string, unknown>, run: { augment?: boolean; augmentation?: { padding: number; flip: boolean } } = {}): Trainer {
  const spec = BASELINE_TRAINERS.get('pgd-at')!;
  const resolved = spec.resolveOptions(options);
  return spec.create({
    options: resolved,
    trainSize: N,
    inputShape: SHAPE,
    numClasses: K,
    config: { augment: run.augment ?? false, seed: 0 },
    ...(run.augmentation ? { augmentation: run.augmentation } : {}),
  } as Parameters<typeof spec.create>[0]);
}

/** Runs `trainer` over VISITS with plain SGD; returns each step's metrics and the final weights. */
function run(trainer: Trainer, clf: Classifier = linearClassifier(SHAPE, K, { seed: 5, scale: 0.3 })) {
  const optimizer = tf.train.sgd(0.2);
  const rng = new Rng(5);
  const metrics: StepMetrics[] = VISITS.map((index, step) => {
    const { x, y } = batch(index);
    const m = trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: step < 2 ? 0 : 1, step, rng });
    tf.dispose([x, y]);
    return m;
  });
  const weights = clf.trainableVariables().map((v) => Float32Array.from(v.dataSync()));
  optimizer.dispose();
  clf.model.dispose();
  return { metrics, weights };
}

/** Mean cross-entropy of f(input) (the model's forward; training mode, a linear model has no other). */
function meanCe(clf: Classifier, input: tf.Tensor4D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, K), clf.logits(input, { training: true })) as tf.Scalar);
}

/**
 * A model, plain SGD and the trainer's generator for two visits of VISITS[0]'s batch, with the
 * seeds of the two steps' random starts (the trainer draws one per step).
 */
function twoVisitsOfOneBatch() {
  const seeds = new Rng(5);
  const [s1, s2] = [seeds.nextSeed(), seeds.nextSeed()];
  const index = VISITS[0]!;
  return { clf: linearClassifier(SHAPE, K, { seed: 5, scale: 0.3 }), optimizer: tf.train.sgd(0.2), rng: new Rng(5), s1, s2, index, ...batch(index) };
}

describe("attackGradient 'train-backward'", () => {
  it("pgd-at: the second visit attacks along sign(∂L/∂x_adv) of the first visit's training backward, from the same seeded random start (computed independently)", () => {
    const eps = 0.1;
    const trainer = pgdAt({ attack: 'fgsm-rs', epsilon: eps, attackGradient: 'train-backward' });
    const { clf, optimizer, rng, s1, s2, index, x, y } = twoVisitsOfOneBatch();
    const attack = { epsilon: eps, alpha: 1.25 * eps, randomStart: true, validBox: 'project' as const };
    // visit 1: the fresh FGSM-RS, its gradient taken at the random start x + δ_0 (fgsmFromGradient
    // then draws the same start), and ∂L/∂x_adv at θ_0
    const start = tf.tidy(() => {
      const u = tf.randomUniform(x.shape, -eps, eps, 'float32', s1);
      return tf.add(x, tf.minimum(tf.maximum(u, tf.neg(x)), tf.sub(1, x))) as tf.Tensor4D;
    });
    const gStart = tf.tidy(() => tf.grad((xi: tf.Tensor) => meanCe(clf, xi as tf.Tensor4D, y))(start) as tf.Tensor4D);
    const xAdv1 = fgsmFromGradient(x, gStart, { ...attack, seed: s1 });
    const lambdaTerm = tf.tidy(() => tf.grad((xa: tf.Tensor) => meanCe(clf, xa as tf.Tensor4D, y))(xAdv1) as tf.Tensor4D);
    const loss1 = tf.tidy(() => tf.add(meanCe(clf, x, y), meanCe(clf, xAdv1, y)).dataSync()[0]!);
    const m1 = trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: 0, step: 0, rng });
    expect(m1['freshAttack']).toBe(1);
    expect(Math.abs(m1['loss']! - loss1)).toBeLessThan(1e-5 * loss1);
    // visit 2 at θ_1: FGSM-RS along the kept signs, no attack pass
    const xAdv2 = fgsmFromGradient(x, lambdaTerm, { ...attack, seed: s2 });
    const loss2 = tf.tidy(() => tf.add(meanCe(clf, x, y), meanCe(clf, xAdv2, y)).dataSync()[0]!);
    const m2 = trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: 1, step: 1, rng });
    expect(m2['freshAttack']).toBe(0);
    expect(Math.abs(m2['loss']! - loss2)).toBeLessThan(1e-5 * loss2);
    // and it is not the fresh attack's step (the directions differ somewhere)
    const fresh = tf.tidy(() => {
      const st = tf.add(x, tf.minimum(tf.maximum(tf.randomUniform(x.shape, -eps, eps, 'float32', s2), tf.neg(x)), tf.sub(1, x))) as tf.Tensor4D;
      const g = tf.grad((xi: tf.Tensor) => meanCe(clf, xi as tf.Tensor4D, y))(st) as tf.Tensor4D;
      const xa = fgsmFromGradient(x, g, { ...attack, seed: s2 });
      return tf.add(meanCe(clf, x, y), meanCe(clf, xa, y)).dataSync()[0]!;
    });
    expect(fresh).not.toBeCloseTo(loss2, 6);
    tf.dispose([x, y, start, gStart, xAdv1, lambdaTerm, xAdv2]);
    optimizer.dispose();
    clf.model.dispose();
  });

  it("SCAAT: the second visit's x_adv is FGSM-RS along the kept signs inside this visit's mask (computed independently)", () => {
    const config = resolveScaatConfig({ epsilon: 0.2, attack: 'fgsm-rs', attackGradient: 'train-backward' });
    const trainer = createScaatTrainer({ trainSize: N, config });
    const { clf, optimizer, rng, s1, s2, index, x, y } = twoVisitsOfOneBatch();
    const ratios = new Array<number>(B).fill(0.5); // q_init, kept during warm-up
    const maskOf = (): Uint8Array => {
      const sal = maskSaliency(clf, x, y, config);
      const m = lowSaliencyMaskData(sal.dataSync(), B, SHAPE[0] * SHAPE[1], ratios);
      sal.dispose();
      return m;
    };
    // visit 1 (θ_0): the fresh masked FGSM-RS, and ∂CE(f(x_adv))/∂x_adv
    const mask1 = maskOf();
    const m1t = maskTensor(mask1, B, SHAPE[0], SHAPE[1]);
    const xAdv1 = createScaatAttack(config)(clf, x, y, { mask: m1t, seed: s1 });
    const g1 = tf.tidy(() => tf.grad((xa: tf.Tensor) => meanCe(clf, xa as tf.Tensor4D, y))(xAdv1) as tf.Tensor4D);
    const loss1 = tf.tidy(() => tf.add(meanCe(clf, x, y), meanCe(clf, xAdv1, y)).dataSync()[0]!);
    const r1 = trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: 0, step: 0, rng });
    expect(Math.abs(r1['loss']! - loss1)).toBeLessThan(1e-5 * loss1);
    // visit 2 (θ_1): this visit's mask, the kept signs, the step's own random start
    const mask2 = maskOf();
    const xAdv2 = fgsmFromGradient(x, g1, { epsilon: 0.2, alpha: 0.25, randomStart: true, validBox: 'project', seed: s2, mask: mask2 });
    const outside = tf.tidy(() => tf.sum(tf.mul(tf.abs(tf.sub(xAdv2, x)), tf.sub(1, maskTensor(mask2, B, SHAPE[0], SHAPE[1])))).dataSync()[0]!);
    expect(outside).toBe(0);
    const loss2 = tf.tidy(() => tf.add(meanCe(clf, x, y), meanCe(clf, xAdv2, y)).dataSync()[0]!);
    const r2 = trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: 1, step: 1, rng });
    expect(r2['freshAttack']).toBe(0);
    expect(Math.abs(r2['loss']! - loss2)).toBeLessThan(1e-5 * loss2);
    tf.dispose([x, y, m1t, xAdv1, g1, xAdv2]);
    optimizer.dispose();
    clf.model.dispose();
  });

  it.each([
    ["'clean+adv'", {}],
    ["'adv-only'", { loss: 'adv-only' }],
    ["validBox 'clip', λ = 0.5", { validBox: 'clip', lambda: 0.5 }],
  ])('%s: SCAAT with the mask = every pixel takes the step of pgd-at with the same switch, bit for bit over revisits', (_name, layer) => {
    const config = resolveScaatConfig({ epsilon: 0.1, attack: 'fgsm-rs', attackGradient: 'train-backward' }, layer);
    const everyPixel = { ...config, ratioInit: 1, ratioMin: 1, ratioMax: 1 };
    const scaat = run(createScaatTrainer({ trainSize: N, config: everyPixel }));
    const control = run(pgdAt({ ...pgdAtControlOptions(config) }));
    expect(scaat.metrics.map((m) => m['freshAttack'])).toEqual([1, 1, 0, 0]);
    expect(control.metrics.map((m) => m['freshAttack'])).toEqual([1, 1, 0, 0]);
    expect(control.metrics.map((m) => m['loss'])).toEqual(scaat.metrics.map((m) => m['loss']));
    expect(control.weights).toEqual(scaat.weights);
    // the kept direction changes the second epoch's steps: not the fresh attack's
    const freshRun = run(createScaatTrainer({ trainSize: N, config: { ...everyPixel, attackGradient: 'fresh' } }));
    expect(freshRun.metrics.slice(0, 2).map((m) => m['loss'])).toEqual(scaat.metrics.slice(0, 2).map((m) => m['loss']));
    expect(freshRun.metrics.slice(2).map((m) => m['loss'])).not.toEqual(scaat.metrics.slice(2).map((m) => m['loss']));
  });

  it.each([
    ["'adv-only' and the map from the training backward: one training forward and the accuracy's inference forward", { loss: 'adv-only', saliencySource: 'train-backward' }, 1, 1],
    ["'clean+adv' with fresh maps: the saliency pass and the two training forwards", { loss: 'clean+adv', saliencySource: 'fresh' }, 2, 1],
  ])('after the first visit, no attack pass: %s', (_name, layer, training, inference) => {
    const cachedMap = layer.saliencySource !== 'fresh';
    const t = createScaatTrainer({ trainSize: N, config: { epsilon: 0.1, attack: 'fgsm-rs', attackGradient: 'train-backward', ...layer } });
    expect(t.derived.passesPerStep).toBe(training + (cachedMap ? 0 : 1));
    const { clf, calls } = countingForwards(linearClassifier(SHAPE, K, { seed: 5, scale: 0.3 }));
    const optimizer = tf.train.sgd(0.1);
    const rng = new Rng(1);
    const perStep: Array<{ training: number; inference: number }> = [];
    VISITS.forEach((index, step) => {
      const before = { ...calls };
      const { x, y } = batch(index);
      t.step({ x, y, index }, { classifier: clf, optimizer, epoch: step < 2 ? 0 : 1, step, rng });
      tf.dispose([x, y]);
      perStep.push({ training: calls.training - before.training, inference: calls.inference - before.inference });
    });
    // first visits: + the fresh saliency pass (if the map is not fresh anyway) and the attack's forward
    const first = { training, inference: inference + 1 + (cachedMap ? 1 : 0) };
    expect(perStep).toEqual([first, first, { training, inference }, { training, inference }]);
    optimizer.dispose();
  });

  it('the kept signs are in the state: a trainer restored from it skips the attack pass; a state without them takes the fresh attack; no tensors leak', async () => {
    const options = { trainSize: N, config: { epsilon: 0.1, attack: 'fgsm-rs', attackGradient: 'train-backward' } };
    const t = createScaatTrainer(options);
    const clf = linearClassifier(SHAPE, K, { seed: 5, scale: 0.3 });
    const optimizer = tf.train.sgd(0.1);
    const rng = new Rng(1);
    const step = (trainer: Trainer, index: Int32Array, s: number) => {
      const { x, y } = batch(index);
      const m = trainer.step({ x, y, index }, { classifier: clf, optimizer, epoch: s, step: s, rng });
      tf.dispose([x, y]);
      return m['freshAttack'];
    };
    await expectNoLeak(() => {
      expect([step(t, VISITS[0]!, 0), step(t, VISITS[0]!, 1)]).toEqual([1, 0]);
      const state = t.getState();
      expect(state['attackSigns']).toBeInstanceOf(Int8Array);
      const u = createScaatTrainer(options);
      u.setState(state);
      expect(step(u, VISITS[0]!, 2)).toBe(0);
      const { attackSigns: _s, attackSignsEpoch: _e, ...without } = t.getState();
      t.setState(without);
      expect([step(t, VISITS[0]!, 2), step(t, VISITS[0]!, 3)]).toEqual([1, 0]);
    });
    optimizer.dispose();
    clf.model.dispose();
  });

  it('config errors name the key: not FGSM-RS, with sharedBackward, with re-masking, with undeclared augmentation, over the memory cap', () => {
    expect(() => resolveScaatConfig({ attackGradient: 'train-backward' })).toThrow(/'attackGradient' 'train-backward' gives FGSM-RS its direction; it needs 'attack' 'fgsm-rs', got 'pgd'/);
    expect(() => resolveScaatConfig({ attack: 'fgsm-rs', attackGradient: 'train-backward', sharedBackward: true })).toThrow(/'sharedBackward' each give the attack its direction/);
    expect(() => resolveScaatConfig({ attack: 'fgsm-rs', attackGradient: 'train-backward', remaskEveryAttackStep: true })).toThrow(/'remaskEveryAttackStep' false/);
    expect(() => resolveScaatConfig({ attack: 'fgsm-rs', attackGradient: 'later' })).toThrow(/'attackGradient' must be one of 'fresh', 'train-backward', got 'later'/);
    expect(() => resolvePgdAtOptions({ attackGradient: 'train-backward' })).toThrow(/it needs 'attack' 'fgsm-rs', got 'pgd'/);
    const config = { attack: 'fgsm-rs', attackGradient: 'train-backward' };
    // augmented batches whose augmentation is not declared: the directions could not follow the views
    expect(() => createScaatTrainer({ trainSize: N, config, augmentation: null })).toThrow(/does not declare its augmentation .* so the attack direction cannot follow the image's crop\/flip/);
    expect(() => pgdAt(config, { augment: true })).toThrow(/trainerOptions\.pgd-at: 'attackGradient' 'train-backward' keeps each sample's attack direction/);
    // declared augmentation: accepted (the directions follow each view), and kept signs are used from the second visit on
    const augmented = pgdAt(config, { augment: true, augmentation: { padding: 1, flip: true } });
    expect(run(augmented).metrics.map((m) => m['freshAttack'])).toEqual([1, 1, 0, 0]);
    expect(() => createScaatTrainer({ trainSize: N, config, augmentation: { augmentation: { padding: 1, flip: true }, seed: 0 } })).not.toThrow();
    expect(() => createScaatTrainer({ trainSize: 50_000, inputShape: [224, 224, 3], config })).toThrow(
      /'attackGradientCacheMiB' is 1024, but keeping the attack direction of 50000 samples × 150528 values needs 7178 MiB/,
    );
    expect(() => createScaatTrainer({ trainSize: 50_000, inputShape: [224, 224, 3], config })).toThrow(ConfigError);
  });

  it('the sign cache: a batch is served only when every sample has its signs; −1/0/1; a size change is a ShapeError', () => {
    const cache = new GradientSignCache(4, 1, 'test');
    cache.ensure(1, 2, 1);
    expect(cache.lookup(Int32Array.from([0, 1]), 0)).toBeUndefined();
    cache.store(Int32Array.from([1, 3]), [0.5, -2, 0, 1e-30], 0);
    expect(cache.lookup(Int32Array.from([3, 1]), 1)).toEqual(Float32Array.from([0, 1, 1, -1]));
    expect(cache.lookup(Int32Array.from([1, 2]), 1)).toBeUndefined();
    // the state round trip (another cache takes it), and a state without signs forgets them
    const other = new GradientSignCache(4, 1, 'test');
    other.setState(cache.getState());
    other.ensure(1, 2, 1);
    expect(other.lookup(Int32Array.from([3, 1]), 1)).toEqual(Float32Array.from([0, 1, 1, -1]));
    expect(() => other.setState({ attackSigns: new Int8Array(8), attackSignsEpoch: new Int32Array(3) })).toThrow(/should be int8 \[4·values\] \/ int32 \[4\], found Int8Array of 8 \/ Int32Array of 3/);
    expect(() => other.setState({ attackSigns: new Int8Array(12), attackSignsEpoch: new Int32Array(4) })).toThrow(/holds 3 values per sample, the images 2/);
    expect(() => other.setState({ attackSigns: new Uint8Array(8), attackSignsEpoch: new Int32Array(4) })).toThrow(DataError);
    cache.setState({});
    expect(cache.lookup(Int32Array.from([1]), 1)).toBeUndefined();
    expect(() => cache.ensure(2, 2, 1)).toThrow(ShapeError);
    expect(() => cache.store(Int32Array.from([0]), [1], 0)).toThrow(/expected an input gradient of 2 values, got 1/);
  });

  it('with crop/flip augmentation the signs move with the image content; 0 where the pixel was not in the old view or is padding; the same view keeps them all (oracle: applyAugmentation of an index image)', () => {
    const [h, w, c] = [5, 4, 2];
    const augmentation = { padding: 2, flip: true };
    const seed = 3;
    const cache = new GradientSignCache(3, 1, 'test', { augmentation, seed });
    cache.ensure(h, w, c);
    // the original image of each sample: pixel o holds o + 1 in both channels (0 = padding after augmentation)
    const view = (i: number, epoch: number): Float32Array => {
      const img = Float32Array.from({ length: h * w * c }, (_, k) => Math.floor(k / c) + 1);
      applyAugmentation(img, 0, h, w, c, drawAugmentation(augmentation, seed, epoch, i), new Float32Array(h * w * c));
      return img;
    };
    const index = Int32Array.from([0, 1, 2]);
    // a gradient on epoch 0's views: its sign differs by pixel and channel
    const grad = Float32Array.from({ length: 3 * h * w * c }, (_, k) => (((k * 7) % 5) - 2) * 0.1);
    cache.store(index, grad, 0);
    let moved = 0;
    for (const epoch of [0, 1, 2, 5]) {
      const got = cache.lookup(index, epoch)!;
      for (let b = 0; b < 3; b++) {
        const [then, now] = [view(b, 0), view(b, epoch)];
        // the same view: every sign as kept (padding pixels included: the gradient was taken there)
        const same = then.every((v, k) => v === now[k]);
        for (let p = 0; p < h * w; p++) {
          const o = now[p * c]!; // original pixel + 1 shown at p now (0: padding)
          let q = same ? p : -1;
          for (let r = 0; r < h * w && o > 0 && !same; r++) if (then[r * c] === o) q = r;
          for (let k = 0; k < c; k++) {
            const want = q < 0 ? 0 : Math.sign(grad[b * h * w * c + q * c + k]!);
            expect(got[b * h * w * c + p * c + k], `epoch ${epoch}, sample ${b}, pixel ${p}, channel ${k}`).toBe(want === 0 ? 0 : want);
            if (q >= 0 && q !== p) moved++;
          }
        }
      }
    }
    expect(moved).toBeGreaterThan(0); // some draws differ, so the signs moved
  });
});
