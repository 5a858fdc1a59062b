/**
 * _mask-source.ts: the contract of each mask source on scripted visits, without a model. Oracles:
 * the ranks a step returned are served back row by row to the same samples, in the batch's order;
 * 'train-backward' ranks are the argsort of its scores by (score, flat index), computed here by a
 * plain sort; ages, the constant-map rule, the budget and the refusal from the module's rules.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError } from '../errors.js';
import { DEFAULT_SCAAT_CONFIG } from './config.js';
import type { SaliencySource } from './config.js';
import type { ScaatStepResult } from './step.js';
import { createMaskSource } from './_mask-source.js';

const [H, W] = [2, 3];
const P = H * W;

function source(
  saliencySource: SaliencySource,
  extra: { saliencyRefreshEpochs?: number; saliencyCacheMiB?: number; trainSize?: number; inputShape?: readonly [number, number, number] } = {},
) {
  const config = { ...DEFAULT_SCAAT_CONFIG, saliencySource, saliencyRefreshEpochs: extra.saliencyRefreshEpochs ?? 2, saliencyCacheMiB: extra.saliencyCacheMiB ?? 1024 };
  return createMaskSource(config, { trainSize: extra.trainSize ?? 5, ...(extra.inputShape ? { inputShape: extra.inputShape } : {}) });
}

/** A step's result: what the mask sources read (ranks, inputGradient) over neutral numbers. */
function result(extra: Partial<Pick<ScaatStepResult, 'ranks' | 'inputGradient'>>, batch: number): ScaatStepResult {
  return { loss: 1, acc: 0, advAcc: 0, q: 0.5, maskFraction: 0.5, freshSaliency: extra.ranks ? 1 : 0, freshAttack: 1, advCorrect: new Uint8Array(batch), ...extra };
}

/** Row b of a batch of ranks: a permutation of 0..P−1 made from (sample, epoch). */
function rowFor(sample: number, epoch: number): number[] {
  return Array.from({ length: P }, (_, p) => (p * 5 + sample + 2 * epoch) % P);
}
function batchRanks(index: number[], epoch: number): Uint16Array {
  return Uint16Array.from(index.flatMap((i) => rowFor(i, epoch)));
}

/** Ranks by (score, flat index), by a plain sort: rank[p] = position of p in the sorted order. */
function ranksBySort(scores: number[]): number[] {
  const order = scores.map((s, p) => [s, p] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const ranks = new Array<number>(scores.length);
  order.forEach(([, p], r) => (ranks[p] = r));
  return ranks;
}

describe('mask sources', () => {
  it("'fresh' serves no ranks, asks the step for nothing to cache, and has an empty state", () => {
    const s = source('fresh');
    expect(s.saliencyPasses).toBe(1);
    for (let epoch = 0; epoch < 3; epoch++) {
      expect(s.request(Int32Array.from([0, 1]), epoch, H, W)).toEqual({ returnRanks: false, returnInputGradient: false });
      s.remember(Int32Array.from([0, 1]), result({ ranks: batchRanks([0, 1], epoch) }, 2), epoch);
    }
    expect(s.getState()).toEqual({});
  });

  it("'previous-visit' serves a fresh map's ranks to the same samples in batch order while younger than saliencyRefreshEpochs", () => {
    const s = source('previous-visit', { saliencyRefreshEpochs: 2 });
    expect(s.saliencyPasses).toBe(0);
    // epoch 0: nothing cached → fresh, and the step is asked to return its ranks
    expect(s.request(Int32Array.from([3, 1]), 0, H, W)).toEqual({ returnRanks: true, returnInputGradient: false });
    s.remember(Int32Array.from([3, 1]), result({ ranks: batchRanks([3, 1], 0) }, 2), 0);
    // epoch 1 (age 1 < 2): the rows come back for the samples, in this batch's order
    const hit = s.request(Int32Array.from([1, 3]), 1, H, W);
    expect(Array.from(hit.ranks!)).toEqual([...rowFor(1, 0), ...rowFor(3, 0)]);
    expect(hit.ranks).toBeInstanceOf(Uint16Array);
    // a batch with a sample never seen → fresh
    expect(s.request(Int32Array.from([1, 0]), 1, H, W).ranks).toBeUndefined();
    // a step that used the cache returns no ranks: the map keeps its age
    s.remember(Int32Array.from([1, 3]), result({}, 2), 1);
    // epoch 2 (age 2): too old → fresh; the new map is then served at epoch 3
    expect(s.request(Int32Array.from([1, 3]), 2, H, W).ranks).toBeUndefined();
    s.remember(Int32Array.from([1, 3]), result({ ranks: batchRanks([1, 3], 2) }, 2), 2);
    expect(Array.from(s.request(Int32Array.from([3]), 3, H, W).ranks!)).toEqual(rowFor(3, 2));
    // the state is the cache: another source restored from it serves the same rows at the same ages
    const state = s.getState();
    expect(Object.keys(state).sort()).toEqual(['saliencyRanks', 'saliencyRanksEpoch']);
    expect(Array.from(state['saliencyRanksEpoch']!)).toEqual([-1, 2, -1, 2, -1]);
    const u = source('previous-visit', { saliencyRefreshEpochs: 2 });
    u.setState(state);
    expect(Array.from(u.request(Int32Array.from([3, 1]), 3, H, W).ranks!)).toEqual([...rowFor(3, 2), ...rowFor(1, 2)]);
    expect(u.request(Int32Array.from([3]), 4, H, W).ranks).toBeUndefined(); // age 2
    // a state without the maps (a checkpoint written before they were kept) forgets them
    s.setState({ q: new Float32Array(5) });
    expect(s.request(Int32Array.from([3]), 3, H, W).ranks).toBeUndefined();
    // arrays that do not fit this run: named, nothing restored
    const epochs = new Int32Array(5);
    expect(() => u.setState({ saliencyRanks: new Uint32Array(5 * P), saliencyRanksEpoch: epochs })).toThrow(DataError);
    expect(() => u.setState({ saliencyRanks: new Uint16Array(5 * P), saliencyRanksEpoch: new Int32Array(4) })).toThrow(
      /'saliencyRanks' \/ 'saliencyRanksEpoch' should be uint16 .* found Uint16Array of 30 \/ Int32Array of 4/,
    );
    expect(() => u.setState({ saliencyRanks: new Uint16Array(5 * (P + 1)), saliencyRanksEpoch: epochs })).toThrow(/holds maps of 7 pixels, the images 6/);
    expect(Array.from(u.request(Int32Array.from([3]), 3, H, W).ranks!)).toEqual(rowFor(3, 2));
  });

  it("'train-backward' ranks its |∂L/∂x| scores by (score, index), keeps them at any age, and drops constant maps", () => {
    const s = source('train-backward');
    expect(s.saliencyPasses).toBe(0);
    expect(s.request(Int32Array.from([2, 4]), 0, H, W)).toEqual({ returnRanks: false, returnInputGradient: true });
    const informative = [0.3, 0.1, 0.3, 0.0, 0.7, 0.1]; // ties → flat index order
    const constant = [0, 0, 0, 0, 0, 0]; // a saturated softmax
    s.remember(Int32Array.from([2, 4]), result({ inputGradient: Float32Array.from([...informative, ...constant]) }, 2), 0);
    expect(s.request(Int32Array.from([2, 4]), 1, H, W).ranks).toBeUndefined(); // sample 4 has no map
    expect(Array.from(s.request(Int32Array.from([2]), 9, H, W).ranks!)).toEqual(ranksBySort(informative));
    // a later constant map of sample 2 removes its old one
    s.remember(Int32Array.from([2]), result({ inputGradient: Float32Array.from(constant) }, 1), 9);
    expect(s.request(Int32Array.from([2]), 10, H, W).ranks).toBeUndefined();
    s.remember(Int32Array.from([2]), result({ inputGradient: Float32Array.from(informative) }, 1), 10);
    const u = source('train-backward');
    u.setState(s.getState());
    expect(Array.from(u.request(Int32Array.from([2]), 11, H, W).ranks!)).toEqual(ranksBySort(informative));
    s.setState({});
    expect(s.request(Int32Array.from([2]), 11, H, W).ranks).toBeUndefined();
  });

  it('a cached source checks its budget (at construction with inputShape) and the image size; refuses undeclared augmentation', () => {
    for (const name of ['previous-visit', 'train-backward'] as const) {
      // 2 bytes per pixel up to 256×256: 2048 samples × 16² pixels = 1 MiB fits, 2049 do not
      expect(() => source(name, { saliencyCacheMiB: 1, trainSize: 2048, inputShape: [16, 16, 3] })).not.toThrow();
      expect(() => source(name, { saliencyCacheMiB: 1, trainSize: 2049, inputShape: [16, 16, 3] })).toThrow(/'saliencyCacheMiB' is 1, but caching maps of 2049 samples × 256 pixels/);
      // 4 bytes above: 4 samples × 257·256 pixels × 4 bytes = 1.004 MiB (2 bytes would be 0.5 MiB)
      expect(() => source(name, { saliencyCacheMiB: 1, trainSize: 3, inputShape: [257, 256, 3] })).not.toThrow();
      expect(() => source(name, { saliencyCacheMiB: 1, trainSize: 4, inputShape: [257, 256, 3] })).toThrow(/'saliencyCacheMiB' is 1, but caching maps of 4 samples × 65792 pixels/);
      const s = source(name);
      s.request(Int32Array.from([0]), 0, H, W);
      expect(() => s.request(Int32Array.from([0]), 0, H + 1, W)).toThrow(ShapeError);
      const config = { ...DEFAULT_SCAAT_CONFIG, saliencySource: name };
      expect(() => createMaskSource(config, { trainSize: 5, augmentation: null })).toThrow(ConfigError);
    }
    expect(createMaskSource(DEFAULT_SCAAT_CONFIG, { trainSize: 5, augmentation: null }).name).toBe('fresh');
  });
});
