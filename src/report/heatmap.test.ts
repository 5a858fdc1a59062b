import { describe, expect, it } from 'vitest';
import { colorize, colormapRgb } from './colormap.js';
import { decodePng, encodePng, heatmapPng, pngDataUri } from './heatmap.js';
import { encodeImage8 } from './run-results.js';

describe('encodePng', () => {
  it('round-trips RGB pixels exactly (alpha 255)', () => {
    const rgb = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 41 + 7) % 256);
    const { width, height, rgba } = decodePng(encodePng(rgb, 3, 2, 3));
    expect([width, height]).toEqual([3, 2]);
    for (let p = 0; p < 6; p++) {
      expect([rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2], rgba[p * 4 + 3]]).toEqual([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], 255]);
    }
  });

  it('enlarges by nearest neighbour: output pixel (x, y) = input (⌊x/s⌋, ⌊y/s⌋)', () => {
    const gray = Uint8Array.from([0, 50, 100, 150, 200, 250]); // 3 wide, 2 high
    const s = 3;
    const { width, height, rgba } = decodePng(encodePng(gray, 3, 2, 1, { scale: s }));
    expect([width, height]).toEqual([9, 6]);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 9; x++) expect(rgba[(y * 9 + x) * 4]).toBe(gray[Math.floor(y / s) * 3 + Math.floor(x / s)]);
    }
  });

  it('refuses a buffer of the wrong size or a non-integer scale', () => {
    expect(() => encodePng(new Uint8Array(5), 3, 2, 1)).toThrow(/expected 3×2×1 = 6 bytes, got 5/);
    expect(() => encodePng(new Uint8Array(6), 3, 2, 1, { scale: 1.5 })).toThrow(/positive integer/);
  });
});

describe('colormaps', () => {
  it('inferno hits its stops at 0, 1/8 … 1 and is monotone in brightness', () => {
    expect(colormapRgb(0)).toEqual([0, 0, 4]);
    expect(colormapRgb(255)).toEqual([252, 255, 164]);
    expect(colormapRgb(127.5)).toEqual([186, 54, 85]);
    let prev = -1;
    for (let v = 0; v <= 255; v += 5) {
      const [r, g, b] = colormapRgb(v);
      const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      expect(luma).toBeGreaterThanOrEqual(prev - 1e-9);
      prev = luma;
    }
  });
  it('gray is the identity and out-of-range values clamp', () => {
    expect(colormapRgb(77, 'gray')).toEqual([77, 77, 77]);
    expect(colormapRgb(-5, 'gray')).toEqual([0, 0, 0]);
    expect(colormapRgb(300)).toEqual(colormapRgb(255));
    expect(Array.from(colorize(Uint8Array.from([0, 255]), 'gray'))).toEqual([0, 0, 0, 255, 255, 255]);
  });
});

describe('heatmapPng', () => {
  it('colours a map pixel by pixel and embeds as a data URI', () => {
    const map = encodeImage8(Uint8Array.from([0, 255, 255, 0]), 2, 2, 1);
    const png = heatmapPng(map, { scale: 2 });
    const { width, rgba } = decodePng(png);
    expect(width).toBe(4);
    expect(Array.from(rgba.slice(0, 3))).toEqual(colormapRgb(0));
    expect(Array.from(rgba.slice(2 * 4, 2 * 4 + 3))).toEqual(colormapRgb(255));
    expect(pngDataUri(png)).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    expect(() => heatmapPng(encodeImage8(new Uint8Array(12), 2, 2, 3))).toThrow(/1-channel/);
  });
});
