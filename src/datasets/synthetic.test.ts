// The synthetic ground-truth set: determinism, the mask oracle (the object changes exactly the
// masked pixels), and the no-shortcut properties (outside the mask and in object area the images
// do not depend on the class), checked statistically against standard errors.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { applyAugmentation, drawAugmentation } from './transforms.js';
import { openSynthetic, renderSyntheticSample, resolveSyntheticOptions, SYNTHETIC_CLASSES } from './synthetic.js';

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('openSynthetic', () => {
  it('is a pure function of (seed, split, index)', async () => {
    const a = await (await openSynthetic({ count: 20, seed: 5 })).get([3, 17]);
    const b = await (await openSynthetic({ count: 50, seed: 5 })).get([3, 17]);
    expect(b.x).toEqual(a.x);
    expect(b.mask).toEqual(a.mask);
    const c = await (await openSynthetic({ count: 20, seed: 6 })).get([3, 17]);
    expect(c.x).not.toEqual(a.x);
    const t = await (await openSynthetic({ count: 20, seed: 5, split: 'test' })).get([3, 17]);
    expect(t.x).not.toEqual(a.x);
  });

  it('has shape, balanced labels, class names, values in [0, 1] and masks', async () => {
    const ds = await openSynthetic({ count: 30, imageSize: 28, channels: 1, numClasses: 3 });
    expect([ds.size, ...ds.shape, ds.numClasses, ds.hasMask]).toEqual([30, 28, 28, 1, 3, true]);
    expect(ds.classNames).toEqual(SYNTHETIC_CLASSES.slice(0, 3));
    expect(await ds.labelHistogram()).toEqual([10, 10, 10]);
    const b = await ds.get(all(30));
    expect(b.mask!.length).toBe(30 * 28 * 28);
    expect(Math.min(...b.x)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...b.x)).toBeLessThanOrEqual(1);
  });

  it('mask oracle: drawing the object changes exactly the masked pixels, and visibly', () => {
    for (const channels of [1, 3] as const) {
      const o = resolveSyntheticOptions({ count: 160, imageSize: 32, channels, numClasses: 8, seed: 2 });
      const n = 32 * 32 * channels;
      const [x1, x0] = [new Float32Array(n), new Float32Array(n)];
      const [m1, m0] = [new Uint8Array(1024), new Uint8Array(1024)];
      for (let i = 0; i < 160; i++) {
        renderSyntheticSample(o, i, x1, 0, m1, 0, true);
        renderSyntheticSample(o, i, x0, 0, m0, 0, false);
        let maskDiff = 0;
        for (let p = 0; p < 1024; p++) if (m0[p] !== m1[p]) maskDiff++;
        expect(maskDiff).toBe(0);
        let inMask = 0;
        let diff = 0;
        let changedOutside = 0;
        for (let p = 0; p < 1024; p++) {
          let d = 0;
          for (let k = 0; k < channels; k++) d += Math.abs(x1[p * channels + k]! - x0[p * channels + k]!);
          if (m1[p]) {
            inMask++;
            diff += d / channels;
          } else if (d !== 0) changedOutside++;
        }
        expect(changedOutside).toBe(0);
        // box side ≥ 0.3·32 ≈ 10 px, shapes cover ≈ half of it
        expect(inMask).toBeGreaterThanOrEqual(30);
        // contrast: colour 0.25–0.45 from the base, minus gradient/texture/noise swings
        expect(diff / inMask).toBeGreaterThan(0.08);
      }
    }
  });

  it('no shortcut: object area and outside-mask intensity do not depend on the class', async () => {
    const K = 4;
    const n = 1200;
    const ds = await openSynthetic({ count: n, numClasses: K, seed: 11 });
    const b = await ds.get(all(n));
    const S = 32;
    const stats = Array.from({ length: K }, () => ({ area: [] as number[], outside: [] as number[] }));
    for (let k = 0; k < n; k++) {
      let area = 0;
      let out = 0;
      for (let p = 0; p < S * S; p++) {
        if (b.mask![k * S * S + p]) area++;
        else for (let c = 0; c < 3; c++) out += b.x[(k * S * S + p) * 3 + c]!;
      }
      stats[b.y[k]!]!.area.push(area);
      stats[b.y[k]!]!.outside.push(out / ((S * S - area) * 3));
    }
    // every pair of classes: |mean difference| < 4.5 standard errors (a test at ≈ 1e-5 false alarms
    // per pair) and area means within 10 % of each other
    const meanSe = (v: number[]) => {
      const m = v.reduce((a, x) => a + x, 0) / v.length;
      const s2 = v.reduce((a, x) => a + (x - m) ** 2, 0) / (v.length - 1);
      return [m, Math.sqrt(s2 / v.length)] as const;
    };
    for (const key of ['area', 'outside'] as const) {
      for (let i = 0; i < K; i++)
        for (let j = i + 1; j < K; j++) {
          const [mi, si] = meanSe(stats[i]![key]);
          const [mj, sj] = meanSe(stats[j]![key]);
          if (key === 'outside') expect(Math.abs(mi - mj), `${key} ${i} vs ${j}`).toBeLessThan(4.5 * Math.hypot(si, sj));
          else expect(Math.abs(mi - mj) / Math.max(mi, mj), `${key} ${i} vs ${j}`).toBeLessThan(0.1);
        }
    }
  });

  it('augments image and mask together', async () => {
    const ds = await openSynthetic({ count: 16, seed: 3, augmentation: { padding: 3, flip: true } });
    const plain = await ds.get(all(16));
    const seen: number[] = [];
    let moved = 0; // images the augmentation changed: it was applied, not skipped
    for await (const b of ds.batches({ batchSize: 16, augment: true, seed: 9, epoch: 2 })) {
      b.index.forEach((i, k) => {
        const d = drawAugmentation({ padding: 3, flip: true }, 9, 2, i);
        const x = plain.x.slice(i * 3072, (i + 1) * 3072);
        const m = plain.mask!.slice(i * 1024, (i + 1) * 1024);
        applyAugmentation(x, 0, 32, 32, 3, d, new Float32Array(3072));
        applyAugmentation(m, 0, 32, 32, 1, d, new Uint8Array(1024));
        expect(b.x.subarray(k * 3072, (k + 1) * 3072)).toEqual(x);
        expect(b.mask!.subarray(k * 1024, (k + 1) * 1024)).toEqual(m);
        if (b.x.subarray(k * 3072, (k + 1) * 3072).some((v, j) => v !== plain.x[i * 3072 + j])) moved++;
      });
      seen.push(...b.index);
    }
    // the epoch covers every sample once, so the checks above ran for each of them
    expect(seen.sort((a, c) => a - c)).toEqual(all(16));
    expect(moved).toBeGreaterThan(0);
  });

  it('rejects bad options with ConfigError', async () => {
    for (const o of [{ numClasses: 1 }, { numClasses: 9 }, { imageSize: 8 }, { count: 0 }, { channels: 2 as 1 }, { distractors: -1 }]) {
      await expect(openSynthetic(o)).rejects.toThrow(ConfigError);
    }
  });
});
