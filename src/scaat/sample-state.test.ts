import { describe, expect, it } from 'vitest';
import { IrrelevantRatios, nextIrrelevantRatio, quantile, summarizeRatios } from './sample-state.js';
import { ShapeError } from '../errors.js';
import { Rng } from '../engine/random.js';

const P = { warmupEpochs: 2, ratioStep: 0.02, ratioMin: 0.05, ratioMax: 0.95 };

describe('nextIrrelevantRatio (poster algorithm)', () => {
  it('follows a scripted sequence of right/wrong predictions: warm-up, ±γ, clip', () => {
    // (epoch, f(x_adv) predicts y) → expected q after the update, worked out by hand.
    const script: Array<[number, boolean, number]> = [
      [0, true, 0.5], // warm-up epoch 0: keep
      [1, false, 0.5], // warm-up epoch 1: keep
      [2, true, 0.52],
      [2, true, 0.54],
      [2, false, 0.52],
      [3, false, 0.5],
    ];
    let q = 0.5;
    for (const [epoch, advCorrect, expected] of script) {
      q = nextIrrelevantRatio(q, { ...P, epoch, advCorrect });
      expect(q).toBeCloseTo(expected, 12);
    }
  });

  it('clips at q_min and q_max', () => {
    const down = [0.08, 0.06, 0.05, 0.05, 0.05];
    let q = 0.1;
    for (const e of down) {
      q = nextIrrelevantRatio(q, { ...P, epoch: 5, advCorrect: false });
      expect(q).toBeCloseTo(e, 12);
    }
    expect(nextIrrelevantRatio(q, { ...P, epoch: 5, advCorrect: true })).toBeCloseTo(0.07, 12);
    let r = 0.92;
    for (const e of [0.94, 0.95, 0.95]) {
      r = nextIrrelevantRatio(r, { ...P, epoch: 5, advCorrect: true });
      expect(r).toBeCloseTo(e, 12);
    }
    expect(nextIrrelevantRatio(r, { ...P, epoch: 5, advCorrect: false })).toBeCloseTo(0.93, 12);
  });

  it('never adapts with warmupEpochs larger than the run, adapts from epoch 0 with warmupEpochs = 0', () => {
    expect(nextIrrelevantRatio(0.3, { ...P, warmupEpochs: 100, epoch: 99, advCorrect: true })).toBe(0.3);
    expect(nextIrrelevantRatio(0.3, { ...P, warmupEpochs: 0, epoch: 0, advCorrect: true })).toBeCloseTo(0.32, 12);
  });
});

describe('IrrelevantRatios', () => {
  it('matches an exact integer random walk after 2000 float32 updates (no drift)', () => {
    // Reference in integer micro-units: q = 500000, γ = 20000, clip [50000, 950000].
    const n = 7;
    const state = new IrrelevantRatios(n, 0.5);
    const ref = new Array<number>(n).fill(500_000);
    const rng = new Rng(11);
    for (let t = 0; t < 2000; t++) {
      const index = Int32Array.from(rng.permutation(n).slice(0, 4));
      const outcome = Uint8Array.from({ length: 4 }, () => (rng.next() < 0.55 ? 1 : 0));
      state.update(index, outcome, 2, P);
      index.forEach((i, b) => {
        ref[i] = Math.min(950_000, Math.max(50_000, ref[i]! + (outcome[b] ? 20_000 : -20_000)));
      });
    }
    const q = state.getState();
    for (let i = 0; i < n; i++) expect(q[i]).toBe(Math.fround(ref[i]! / 1e6));
  });

  it('gathers by dataset index and keeps the other samples', () => {
    const s = new IrrelevantRatios(5, 0.5);
    s.update(Int32Array.from([3, 1]), [1, 0], 2, P);
    expect(Array.from(s.gather([0, 1, 2, 3, 4]))).toEqual([0.5, 0.48, 0.5, 0.52, 0.5].map(Math.fround));
  });

  it('round-trips its state and rejects a state of the wrong length or range', () => {
    const s = new IrrelevantRatios(4, 0.5);
    s.update([0, 2], [1, 1], 3, P);
    const saved = s.getState();
    const t = new IrrelevantRatios(4, 0.5);
    t.setState(saved);
    expect(Array.from(t.getState())).toEqual(Array.from(saved));
    saved[0] = 0; // a copy: mutating it does not change t
    expect(t.gather([0])[0]).toBe(Math.fround(0.52));
    expect(() => t.setState(new Float32Array(3))).toThrow(ShapeError);
    expect(() => t.setState(Float32Array.from([0.5, 0.5, 2, 0.5]))).toThrow(/outside \[0, 1\]/);
    expect(() => t.gather([4])).toThrow(/outside the training split/);
  });
});

describe('summarizeRatios', () => {
  it('gives mean, NumPy-style quantiles and a histogram on [0, 1]', () => {
    const q = Float32Array.from([0.05, 0.5, 0.5, 0.95]);
    const s = summarizeRatios(q, 20);
    expect(s.count).toBe(4);
    expect(s.mean).toBeCloseTo(0.5, 6);
    expect(s.quantiles.min).toBeCloseTo(0.05, 6);
    expect(s.quantiles.max).toBeCloseTo(0.95, 6);
    expect(s.quantiles.median).toBeCloseTo(0.5, 6);
    // h = 3·0.25 = 0.75 → 0.05 + 0.75·(0.5 − 0.05)
    expect(s.quantiles.p25).toBeCloseTo(0.3875, 6);
    const expected = new Array<number>(20).fill(0);
    expected[1] = 1; // 0.05 ∈ [0.05, 0.10)
    expected[10] = 2; // 0.5 ∈ [0.5, 0.55)
    expected[19] = 1; // 0.95 ∈ [0.95, 1]
    expect(s.histogram.counts).toEqual(expected);
    expect(s.histogram.edges).toHaveLength(21);
    expect(s.histogram.edges[20]).toBe(1);
  });

  it('puts 1.0 in the last bin and float32 grid values in their own bin', () => {
    const s = summarizeRatios(Float32Array.from([1, 0, 0.6, 0.35]), 20);
    expect(s.histogram.counts[19]).toBe(1);
    expect(s.histogram.counts[0]).toBe(1);
    expect(s.histogram.counts[12]).toBe(1); // 0.6 (stored 0.60000002) → [0.60, 0.65)
    expect(s.histogram.counts[7]).toBe(1); // 0.35 (stored 0.34999999) → [0.35, 0.40)
  });

  it('quantile interpolates linearly between order statistics', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 1 / 3)).toBeCloseTo(2, 12);
    expect(quantile([7], 0.9)).toBe(7);
  });
});
