import { describe, expect, it } from 'vitest';
import { Rng, deriveSeed } from './random.js';

describe('Rng', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    const sb = Array.from({ length: 100 }, () => b.next());
    const sc = Array.from({ length: 100 }, () => c.next());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng(7);
    for (let i = 0; i < 37; i++) a.next();
    const saved = a.getState();
    const tail = Array.from({ length: 20 }, () => a.nextUint32());
    const b = Rng.fromState(saved);
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(tail);
  });

  it('draws uniform values: mean 1/2 and variance 1/12 within 4 standard errors', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(1e-3);
  });

  it('draws standard normals: mean 0, variance 1', () => {
    const r = new Rng(2);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });

  it('permutes: every index exactly once', () => {
    const p = new Rng(3).permutation(1000);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('forks independent streams without advancing the parent', () => {
    const a = new Rng(5);
    const before = a.getState();
    const f1 = a.fork('noise');
    const f2 = a.fork('attack');
    expect(a.getState()).toEqual(before);
    expect(f1.next()).not.toEqual(f2.next());
    expect(new Rng(5).fork('noise').next()).toEqual(new Rng(5).fork('noise').next());
  });

  it('rejects a malformed state', () => {
    expect(() => new Rng(0).setState([1, 2, 3])).toThrow(/expected 4 integers/);
  });

  it('derives stable, distinct integer seeds', () => {
    expect(deriveSeed(1, 'epoch', 2)).toBe(deriveSeed(1, 'epoch', 2));
    expect(deriveSeed(1, 'epoch', 2)).not.toBe(deriveSeed(1, 'epoch', 3));
    expect(Number.isInteger(deriveSeed('x'))).toBe(true);
  });
});
