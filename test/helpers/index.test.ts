import { describe, expect, it } from 'vitest';
import { expectClose, relError } from './index.js';

// The helpers are the oracles' last step: a comparison that lets a NaN or a short array through
// would let every test built on it pass on a broken kernel.

describe('expectClose', () => {
  it('passes within atol + rtol·max|expected|, and fails just outside it, wherever the worst element is', () => {
    expectClose([], []);
    expectClose([1, 2], [1, 2], { rtol: 0, atol: 0 });
    // tol = 0 + 1e-3 · max|expected| = 1e-3 · 10 = 0.01, the scale taken from another element
    expectClose([0.009, 10], [0, 10], { rtol: 1e-3, atol: 0 });
    expect(() => expectClose([0.011, 10], [0, 10], { rtol: 1e-3, atol: 0 })).toThrow(/max abs diff .* at 0/);
    expect(() => expectClose([1, 5, 1], [1, 1, 1])).toThrow(/at 1 \(actual 5, expected 1\)/);
    expect(() => expectClose([5, 1], [1, 1])).toThrow(/at 0/);
  });

  it('fails on a NaN in actual at any position, not only the last', () => {
    expect(() => expectClose([NaN, 1], [1, 1])).toThrow(/non-finite value\(s\), the first at 0/);
    expect(() => expectClose([1, NaN], [1, 1])).toThrow(/the first at 1/);
    expect(() => expectClose([1, NaN, 2, 3], [1, 1, 2, 3], { rtol: 1, atol: 1 })).toThrow(/1 non-finite/);
    expect(() => expectClose(new Float32Array([0, NaN, 0]), new Float32Array(3))).toThrow(/the first at 1/);
  });

  it('fails on a NaN in expected', () => {
    expect(() => expectClose([1, 1], [NaN, 1])).toThrow(/the first at 0/);
    expect(() => expectClose([1, 1], [1, NaN])).toThrow(/the first at 1/);
  });

  it('fails on ±∞ on either side, and on the same NaN or ∞ on both sides', () => {
    expect(() => expectClose([Infinity, 1], [1, 1])).toThrow(/non-finite/);
    expect(() => expectClose([1, 1], [1, -Infinity])).toThrow(/non-finite/);
    expect(() => expectClose([NaN, 1], [NaN, 1])).toThrow(/1 non-finite/);
    expect(() => expectClose([1, Infinity], [1, Infinity])).toThrow(/the first at 1/);
    expect(() => expectClose([NaN, NaN], [1, 1])).toThrow(/2 non-finite/);
  });

  it('fails when the lengths differ, whichever side is longer', () => {
    expect(() => expectClose([1, 2, 3], [1, 2])).toThrow(/length/);
    expect(() => expectClose([1, 2], [1, 2, 3])).toThrow(/length/);
    expect(() => expectClose([], [0])).toThrow(/length/);
  });
});

describe('relError', () => {
  it('is ‖a − b‖∞ / ‖b‖∞', () => {
    expect(relError([1, 2.5], [1, 2])).toBe(0.25); // 0.5 / 2
    expect(relError([3, 2], [1, 2])).toBe(1); // 2 / 2
    expect(relError([0, 0], [0, 0])).toBe(0);
    expect(relError([], [])).toBe(0);
  });

  it('fails when the lengths differ, whichever side is longer', () => {
    expect(() => relError([1, 2, 3], [1, 2])).toThrow(/length/);
    expect(() => relError([1], [1, 2])).toThrow(/length/);
  });

  it('gives NaN or ∞ for a non-finite value at any position, so every bound on it fails', () => {
    const cases: Array<[number[], number[]]> = [
      [[NaN, 1], [1, 1]],
      [[1, NaN], [1, 1]],
      [[1, 1], [NaN, 1]],
      [[1, 1], [1, NaN]],
      [[Infinity, 1], [1, 1]],
      [[1, 1], [1, Infinity]],
      [[NaN, 1], [NaN, 1]],
    ];
    for (const [a, b] of cases) {
      const e = relError(a, b);
      expect(Number.isFinite(e), `relError(${a}, ${b}) = ${e}`).toBe(false);
      expect(e <= 1e6).toBe(false);
    }
  });
});
