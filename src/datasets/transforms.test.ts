import { describe, expect, it } from 'vitest';
import {
  applyAugmentation,
  augmentationSource,
  centerCrop,
  convertChannels,
  drawAugmentation,
  resizeBilinear,
  resizedShape,
  type AugmentDraw,
} from './transforms.js';

/** img(h, w, c) = 1 + (h·W + w)·C + c, so every value says where it came from. */
function coded(h: number, w: number, c: number): Float32Array {
  return Float32Array.from({ length: h * w * c }, (_, p) => 1 + p);
}

describe('applyAugmentation', () => {
  const [H, W, C] = [5, 6, 2];
  const run = (d: AugmentDraw) => {
    const x = coded(H, W, C);
    applyAugmentation(x, 0, H, W, C, d, new Float32Array(H * W * C));
    return x;
  };

  it('shifts by (dy, dx) with zeros shifted in: out(h, w) = in(h + dy, w + dx)', () => {
    const d = { dy: 1, dx: -2, flip: false };
    const out = run(d);
    const src = coded(H, W, C);
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) {
          const sh = h + d.dy;
          const sw = w + d.dx;
          const inside = sh >= 0 && sh < H && sw >= 0 && sw < W;
          expect(out[(h * W + w) * C + c]).toBe(inside ? src[(sh * W + sw) * C + c] : 0);
        }
  });

  it('flips horizontally, and twice is the identity', () => {
    const once = run({ dy: 0, dx: 0, flip: true });
    expect(once[0]).toBe(1 + (W - 1) * C); // (0, 0) ← (0, W−1)
    const twice = Float32Array.from(once);
    applyAugmentation(twice, 0, H, W, C, { dy: 0, dx: 0, flip: true }, new Float32Array(H * W * C));
    expect(twice).toEqual(coded(H, W, C));
  });

  it('moves a mask exactly as the image (one-channel view of the same transform)', () => {
    const d = { dy: -1, dx: 2, flip: true };
    const img = coded(H, W, 1);
    const mask = Uint8Array.from(img, (v) => v % 256);
    applyAugmentation(img, 0, H, W, 1, d, new Float32Array(H * W));
    applyAugmentation(mask, 0, H, W, 1, d, new Uint8Array(H * W));
    expect(Array.from(mask)).toEqual(Array.from(img, (v) => v % 256));
  });

  it('touches only its own sample in a batch buffer', () => {
    const x = Float32Array.from({ length: 3 * H * W * C }, (_, p) => p);
    applyAugmentation(x, H * W * C, H, W, C, { dy: 2, dx: 2, flip: true }, new Float32Array(H * W * C));
    for (let p = 0; p < H * W * C; p++) expect(x[p]).toBe(p);
    for (let p = 2 * H * W * C; p < 3 * H * W * C; p++) expect(x[p]).toBe(p);
  });
});

describe('augmentationSource', () => {
  it('is the pixel map applyAugmentation applies: source flat index, −1 for zero padding', () => {
    const [H, W] = [5, 7];
    for (const d of [
      { dy: 0, dx: 0, flip: false },
      { dy: 2, dx: -1, flip: false },
      { dy: -3, dx: 4, flip: true },
      { dy: 0, dx: 0, flip: true },
      { dy: 1, dx: 6, flip: true },
    ]) {
      const ids = coded(H, W, 1); // value = 1 + source index, 0 once shifted in from the padding
      applyAugmentation(ids, 0, H, W, 1, d, new Float32Array(H * W));
      expect(Array.from(augmentationSource(d, H, W)), JSON.stringify(d)).toEqual(Array.from(ids, (v) => v - 1));
    }
  });
});

describe('drawAugmentation', () => {
  it('draws shifts uniform over [−p, p] and fair flips, reproducibly', () => {
    const aug = { padding: 3, flip: true };
    const n = 4000;
    const counts = new Map<number, number>();
    let flips = 0;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const d = drawAugmentation(aug, 5, 0, i);
      if (i % 100 === 0) expect(drawAugmentation(aug, 5, 0, i)).toEqual(d);
      if (Math.abs(d.dy) > 3 || !Number.isInteger(d.dy)) bad++;
      counts.set(d.dx, (counts.get(d.dx) ?? 0) + 1);
      if (d.flip) flips++;
    }
    expect(bad).toBe(0);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    // binomial bounds at 5 standard deviations
    const sdFlip = Math.sqrt(n * 0.25);
    expect(Math.abs(flips - n / 2)).toBeLessThan(5 * sdFlip);
    for (const c of counts.values()) expect(Math.abs(c - n / 7)).toBeLessThan(5 * Math.sqrt((n * (1 / 7) * 6) / 7));
    const epochs = Array.from({ length: 50 }, (_, i) => [drawAugmentation(aug, 5, 0, i), drawAugmentation(aug, 5, 1, i)]);
    expect(epochs.some(([a, b]) => JSON.stringify(a) !== JSON.stringify(b))).toBe(true);
  });

  it('is the identity when disabled', () => {
    expect(drawAugmentation({ padding: 0, flip: false }, 1, 2, 3)).toEqual({ dy: 0, dx: 0, flip: false });
  });
});

describe('resizeBilinear', () => {
  it('keeps a constant image constant and returns the input when the size is unchanged', () => {
    const src = new Uint8Array(7 * 9 * 3).fill(77);
    expect(Array.from(resizeBilinear(src, 7, 9, 3, 4, 5))).toEqual(new Array(4 * 5 * 3).fill(77));
    expect(resizeBilinear(src, 7, 9, 3, 7, 9)).toBe(src);
  });

  it('reproduces a linear ramp at output centres (interior pixels): out(i) = a·((i + ½)·n/m − ½) + b', () => {
    // in(j) = 6·j + 10 along the width; filters are symmetric so they preserve linear functions
    const n = 32;
    for (const m of [8, 13, 48]) {
      const src = Uint8Array.from({ length: n }, (_, j) => 6 * j + 10); // one row, one channel
      const out = resizeBilinear(src, 1, n, 1, 1, m);
      const scale = n / m;
      const support = Math.max(scale, 1);
      for (let i = 0; i < m; i++) {
        const centre = (i + 0.5) * scale;
        if (centre - support < 0 || centre + support > n) continue; // taps clipped at the border
        expect(Math.abs(out[i]! - (6 * (centre - 0.5) + 10))).toBeLessThanOrEqual(0.5);
      }
    }
  });

  it('averages 2×2 blocks with PIL weights (¼, ¾, ¾, ¼)/2 when halving', () => {
    const src = Uint8Array.from([0, 0, 100, 100, 0, 0, 100, 100, 200, 200, 40, 40, 200, 200, 40, 40]); // 4×4 ×1
    const out = resizeBilinear(src, 4, 4, 1, 2, 2);
    // row 0 out col 0: taps cols {0,1,2} weights (¾, ¾, ¼)/(7/4) (col −1 clipped) → (0·¾ + 0·¾ + 100·¼)/1.75
    const w = [0.75, 0.75, 0.25].map((v) => v / 1.75);
    const rowA = [w[0]! * 0 + w[1]! * 0 + w[2]! * 100, w[2]! * 0 + w[1]! * 100 + w[0]! * 100];
    const rowB = [w[0]! * 200 + w[1]! * 200 + w[2]! * 40, w[2]! * 200 + w[1]! * 40 + w[0]! * 40];
    const col = (a: number, b: number) => [w[0]! * a + w[1]! * a + w[2]! * b, w[2]! * a + w[1]! * b + w[0]! * b];
    const expected = [col(rowA[0]!, rowB[0]!)[0]!, col(rowA[1]!, rowB[1]!)[0]!, col(rowA[0]!, rowB[0]!)[1]!, col(rowA[1]!, rowB[1]!)[1]!];
    expect(Array.from(out)).toEqual(expected.map((v) => Math.round(v)));
  });
});

describe('resizedShape, centerCrop, convertChannels', () => {
  it('resizes the shorter side (torchvision Resize(int))', () => {
    expect(resizedShape(375, 500, 256)).toEqual([256, 341]);
    expect(resizedShape(500, 375, 256)).toEqual([341, 256]);
    expect(resizedShape(32, 32, 32)).toEqual([32, 32]);
  });

  it('takes the central window', () => {
    const src = Uint8Array.from({ length: 5 * 6 }, (_, p) => p); // 5×6×1
    // top = round(2/2) = 1, left = round(3/2) = 2 (half to even, as torchvision's Python round)
    expect(Array.from(centerCrop(src, 5, 6, 1, 3))).toEqual([8, 9, 10, 14, 15, 16, 20, 21, 22]);
    // 7 − 2 = 5 → offsets round(2.5) = 2, not 3
    const sq = Uint8Array.from({ length: 7 * 7 }, (_, p) => p);
    expect(Array.from(centerCrop(sq, 7, 7, 1, 2))).toEqual([16, 17, 23, 24]);

  });

  it('converts RGB to luma (ITU-R 601) and grey to RGB, dropping alpha', () => {
    const rgba = Uint8Array.from([200, 100, 50, 255, 0, 255, 0, 7]);
    expect(Array.from(convertChannels(rgba, 2, 4, 1))).toEqual([Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50), Math.round(0.587 * 255)]);
    expect(Array.from(convertChannels(rgba, 2, 4, 3))).toEqual([200, 100, 50, 0, 255, 0]);
    expect(Array.from(convertChannels(Uint8Array.from([9, 200]), 2, 1, 3))).toEqual([9, 9, 9, 200, 200, 200]);
  });
});
