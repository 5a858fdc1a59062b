import { describe, expect, it } from 'vitest';
import { IrrelevantRatios, nextBisection, nextIrrelevantRatio, quantile, summarizeRatios } from './sample-state.js';
import type { RatioBracket } from './sample-state.js';
import { effectiveRatioStep } from './config.js';
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

describe('nextBisection', () => {
  const RANGE: RatioBracket = { lo: 0.05, hi: 0.95 };
  /** Visits of one sample against a scripted boundary: the attack succeeds iff q > q*. */
  function visits(qStar: number, count: number, ratioStep: number) {
    let state = { q: 0.5, ...RANGE };
    const out: Array<{ q: number; lo: number; hi: number }> = [];
    for (let k = 0; k < count; k++) {
      state = nextBisection(state.q, state, { ...P, ratioStep, epoch: 2, advCorrect: !(state.q > qStar) });
      out.push(state);
    }
    return out;
  }

  it('halves the bracket, then moves by ±γ: hand-worked traces under constant failure and constant success', () => {
    // failure at 0.5: [0.5, 0.95] → 0.725; … once narrower than 2γ = 0.04 the bracket is kept
    // 0.04 wide (0.921875 → hi = 0.961875, q = 0.941875), and q is clipped to q_max
    const up = [0.725, 0.8375, 0.89375, 0.921875, 0.941875, 0.95, 0.95, 0.95];
    const down = [0.275, 0.1625, 0.10625, 0.078125, 0.058125, 0.05, 0.05, 0.05];
    expect(visits(1, up.length, 0.02).map((v) => v.q)).toEqual(up.map((q) => expect.closeTo(q, 12)));
    expect(visits(0, down.length, 0.02).map((v) => v.q)).toEqual(down.map((q) => expect.closeTo(q, 12)));
    // the poster's ramp needs (0.95 − 0.5)/γ ≈ 23 visits to reach q_max, bisection 6
    const after = visits(1, 6, 0.02).at(-1)!;
    expect(after).toEqual({ q: expect.closeTo(0.95, 12), lo: expect.closeTo(0.941875, 12), hi: expect.closeTo(0.95, 12) });
  });

  it.each([[0.2137], [0.5], [0.8123], [0.0501], [0.9499]])(
    'converges to a scripted boundary q* = %f from either side: |q − q*| ≤ max(0.9/2^(k+1), γ) after k visits, lo ≤ q* < hi',
    (qStar) => {
      for (const gamma of [0, 0.02]) {
        const trace = visits(qStar, 60, gamma);
        trace.forEach(({ q, lo, hi }, i) => {
          const k = i + 1;
          const grid = 1e-6 * Math.min(k, 20); // each visit rounds to the 1e-6 grid
          expect(lo, `visit ${k}, γ = ${gamma}`).toBeLessThanOrEqual(qStar);
          expect(hi, `visit ${k}, γ = ${gamma}`).toBeGreaterThan(qStar);
          expect(Math.abs(q - qStar), `visit ${k}, γ = ${gamma}`).toBeLessThanOrEqual(Math.max(0.9 / 2 ** (k + 1), gamma) + grid);
          for (const v of [q, lo, hi]) {
            expect(v).toBeGreaterThanOrEqual(0.05 - 1e-12); // the grid's 0.05 is 0.049999999999999996
            expect(v).toBeLessThanOrEqual(0.95 + 1e-12);
          }
        });
      }
    },
  );

  it('follows the boundary at ±γ once converged, like the ramp, where the ramp is still ramping', () => {
    const trace = visits(0.2137, 30, 0.02);
    // converged: every later visit moves q by exactly γ
    for (let k = 5; k < trace.length; k++) expect(Math.abs(trace[k]!.q - trace[k - 1]!.q)).toBeCloseTo(0.02, 9);
    // the ramp, after the same 5 visits, is 5γ = 0.1 from q_init, still 0.19 above q*
    let ramp = 0.5;
    for (let k = 0; k < 5; k++) ramp = nextIrrelevantRatio(ramp, { ...P, epoch: 2, advCorrect: !(ramp > 0.2137) });
    expect(ramp).toBeCloseTo(0.4, 12);
    expect(Math.abs(trace[4]!.q - 0.2137)).toBeLessThanOrEqual(0.02);
  });

  it('keeps q and the bracket during warm-up, and keeps q in [lo, hi] ⊆ [q_min, q_max] for any outcomes', () => {
    expect(nextBisection(0.3, { lo: 0.1, hi: 0.7 }, { ...P, epoch: 1, advCorrect: true })).toEqual({ q: 0.3, lo: 0.1, hi: 0.7 });
    const rng = new Rng(5);
    for (let run = 0; run < 20; run++) {
      const p = { ...P, ratioStep: rng.uniform(0, 0.2), ratioMin: rng.uniform(0, 0.4), ratioMax: rng.uniform(0.6, 1) };
      let s = { q: rng.uniform(0, 1), lo: p.ratioMin, hi: p.ratioMax }; // q_init may lie outside [q_min, q_max]
      for (let k = 0; k < 200; k++) {
        s = nextBisection(s.q, s, { ...p, epoch: 3, advCorrect: rng.next() < 0.5 });
        expect(p.ratioMin - 1e-6 <= s.lo && s.lo <= s.q && s.q <= s.hi && s.hi <= p.ratioMax + 1e-6, JSON.stringify({ p, s })).toBe(true);
      }
    }
  });
});

describe("ratioStep 'auto' (γ scaled to the run's length) with the ramp", () => {
  it.each([
    [3, 2],
    [4, 2],
    [5, 0],
    [9, 2],
    [52, 2],
  ])('%i epochs, %i of warm-up: from q_min, constant failure reaches q_max in exactly the epochs after warm-up', (epochs, warmupEpochs) => {
    const p = { ...P, warmupEpochs, ratioStep: effectiveRatioStep({ ...P, warmupEpochs, ratioStep: 'auto' }, epochs) };
    const up = new IrrelevantRatios(1, 0.05);
    const down = new IrrelevantRatios(1, 0.95);
    const [reachedMax, reachedMin]: number[][] = [[], []];
    for (let epoch = 0; epoch < epochs; epoch++) {
      up.update([0], [1], epoch, p);
      down.update([0], [0], epoch, p); // and constant success from q_max reaches q_min
      if (epoch < warmupEpochs) expect([up.gather([0])[0], down.gather([0])[0]]).toEqual([0.05, 0.95].map(Math.fround));
      if (up.gather([0])[0] === Math.fround(0.95)) reachedMax.push(epoch);
      if (down.gather([0])[0] === Math.fround(0.05)) reachedMin.push(epoch);
    }
    // at the last epoch, not earlier
    expect(reachedMax).toEqual([epochs - 1]);
    expect(reachedMin).toEqual([epochs - 1]);
  });

  it('from q_init = 0.5 reaches q_max in ⌈0.45/γ⌉ epochs', () => {
    const gamma = effectiveRatioStep({ ...P, ratioStep: 'auto' }, 9); // 0.9/7 rounded up: 0.128572
    expect(gamma).toBe(0.128572);
    const q = new IrrelevantRatios(1, 0.5);
    const path: number[] = [];
    for (let epoch = 0; epoch < 9; epoch++) {
      q.update([0], [1], epoch, { ...P, ratioStep: gamma });
      path.push(q.gather([0])[0]!);
    }
    expect(path).toEqual([0.5, 0.5, 0.628572, 0.757144, 0.885716, 0.95, 0.95, 0.95, 0.95].map(Math.fround));
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

describe('IrrelevantRatios with bisection brackets', () => {
  const BR = { lo: 0.05, hi: 0.95 };

  it('searches each sample by bisection and keeps the other samples', () => {
    const s = new IrrelevantRatios(4, 0.5, BR);
    s.update([2, 0], [1, 0], 2, P);
    expect(Array.from(s.gather([0, 1, 2, 3]))).toEqual([0.275, 0.5, 0.725, 0.5].map(Math.fround));
    expect(s.getBrackets()).toEqual({ lo: Float32Array.from([0.05, 0.05, 0.5, 0.05]), hi: Float32Array.from([0.5, 0.95, 0.95, 0.95]) });
    s.update([2], [0], 1, P); // warm-up: kept
    expect(s.gather([2])[0]).toBe(Math.fround(0.725));
    expect(new IrrelevantRatios(4, 0.5).getBrackets()).toBeUndefined();
  });

  it('round-trips q and the brackets bit for bit: a restored copy continues exactly like the original', () => {
    const n = 9;
    const a = new IrrelevantRatios(n, 0.5, BR);
    const rng = new Rng(3);
    const visit = (s: IrrelevantRatios, r: Rng) => {
      const index = Int32Array.from(r.permutation(n).slice(0, 5));
      s.update(index, Uint8Array.from(index, () => (r.next() < 0.4 ? 1 : 0)), 4, { ...P, ratioStep: 0.013 });
    };
    for (let t = 0; t < 7; t++) visit(a, rng);
    const b = new IrrelevantRatios(n, 0.5, BR);
    b.setState(a.getState());
    b.setBrackets(a.getBrackets()!);
    const [ra, rb] = [new Rng(8), new Rng(8)];
    for (let t = 0; t < 40; t++) {
      visit(a, ra);
      visit(b, rb);
    }
    const bytes = (f: Float32Array) => Array.from(new Uint8Array(f.buffer));
    expect(bytes(b.getState())).toEqual(bytes(a.getState()));
    expect(bytes(b.getBrackets()!.lo)).toEqual(bytes(a.getBrackets()!.lo));
    expect(bytes(b.getBrackets()!.hi)).toEqual(bytes(a.getBrackets()!.hi));
  });

  it('rejects brackets of the wrong length, out of order or out of range, and brackets for the ramp', () => {
    const s = new IrrelevantRatios(2, 0.5, BR);
    expect(() => s.setBrackets({ lo: new Float32Array(3), hi: new Float32Array(3) })).toThrow(/expected 2 brackets/);
    expect(() => s.setBrackets({ lo: Float32Array.from([0.2, 0.6]), hi: Float32Array.from([0.3, 0.5]) })).toThrow(/bracket 1 = \[0\.6/);
    expect(() => s.setBrackets({ lo: Float32Array.from([0.2, 0.2]), hi: Float32Array.from([0.3, 1.5]) })).toThrow(ShapeError);
    expect(() => new IrrelevantRatios(2, 0.5).setBrackets({ lo: new Float32Array(2), hi: new Float32Array(2) })).toThrow(/keeps no brackets/);
    expect(() => new IrrelevantRatios(2, 0.5, { lo: 0.7, hi: 0.3 })).toThrow(/0 ≤ lo ≤ hi ≤ 1/);
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
