import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodeSaliencyMap, saliencySize } from './saliency-size.js';
import { luminanceTable } from './_jpeg-gray.js';
import { ConfigError, ShapeError } from '../errors.js';
import { itRequires, REQUIREMENTS, SYSTEM_PYTHON } from '../../test/helpers/index.js';

function blob(w: number, h: number): Uint8Array {
  const u = new Uint8Array(w * h);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) u[i * w + j] = Math.round(255 * Math.exp(-((i - h / 3) ** 2 + (j - w / 2) ** 2) / (w * 2)));
  return u;
}
function noise(w: number, h: number, seed = 1): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: w * h }, () => ((s = (s * 1103515245 + 12345) >>> 0), s >>> 24));
}

describe('saliencySize', () => {
  it('writes a baseline grayscale JPEG that jpeg-js decodes back to the map (within q75 error)', () => {
    const u8 = blob(37, 29); // neither side a multiple of 8: edge blocks
    const file = encodeSaliencyMap(u8, 37, 29);
    expect([file[0], file[1], file.at(-2), file.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    const sof = file.findIndex((v, i) => v === 0xff && file[i + 1] === 0xc0);
    expect(file[sof + 9]).toBe(1); // one component
    const dec = jpeg.decode(file, { useTArray: true });
    expect([dec.width, dec.height]).toEqual([37, 29]);
    let worst = 0;
    for (let k = 0; k < u8.length; k++) worst = Math.max(worst, Math.abs(dec.data[4 * k]! - u8[k]!));
    expect(worst).toBeLessThan(12);
    expect(saliencySize(u8, 37, 29)).toBe(file.length / 1024);
  });

  it('orders maps by compressibility: constant < smooth blob < noise; lower quality is smaller', () => {
    const c = saliencySize(new Uint8Array(64 * 64), 64, 64);
    const b = saliencySize(blob(64, 64), 64, 64);
    const n = saliencySize(noise(64, 64), 64, 64);
    expect(c).toBeLessThan(b);
    expect(b).toBeLessThan(n);
    expect(saliencySize(noise(64, 64), 64, 64, { quality: 30 })).toBeLessThan(n);
  });

  it('uses the IJG quality scaling: quality 50 is the standard table, 75 halves it (rounded)', () => {
    expect(luminanceTable(50)[0]).toBe(16);
    expect(luminanceTable(75)[0]).toBe(8); // (16·50 + 50)/100
    expect(luminanceTable(75)[63]).toBe(50); // (99·50 + 50)/100 = 50
    expect(luminanceTable(100).every((v) => v === 1)).toBe(true);
  });

  it('writes a lossless 8-bit grayscale PNG as the option', () => {
    const u8 = noise(20, 11, 3);
    const file = encodeSaliencyMap(u8, 20, 11, { format: 'png' });
    const png = PNG.sync.read(Buffer.from(file));
    expect(Array.from({ length: u8.length }, (_, k) => png.data[4 * k])).toEqual(Array.from(u8));
  });

  it('rejects a wrong pixel count and bad options', () => {
    expect(() => saliencySize(new Uint8Array(5), 2, 2)).toThrow(ShapeError);
    expect(() => saliencySize(new Uint8Array(4), 2, 2, { quality: 0 })).toThrow(ConfigError);
    expect(() => saliencySize(new Uint8Array(4), 2, 2, { format: 'gif' as 'png' })).toThrow(ConfigError);
  });

  // Oracle: byte-identical to libjpeg-turbo through PIL (skipped where PIL or NumPy is missing; under CI, fails).
  const python = SYSTEM_PYTHON;
  itRequires(REQUIREMENTS.pil, REQUIREMENTS.numpy)('produces the same bytes as PIL (libjpeg-turbo) at quality 75', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-jpeg-'));
    try {
      const cases: Array<[number, number, Uint8Array]> = [[32, 32, blob(32, 32)], [50, 37, noise(50, 37)], [96, 96, blob(96, 96)]];
      cases.forEach(([w, h, u], i) => writeFileSync(path.join(dir, `${i}_${w}_${h}.raw`), u));
      const script = `
import glob, io, os, numpy as np
from PIL import Image
for f in sorted(glob.glob(os.path.join(${JSON.stringify(dir)}, '*.raw'))):
    i, w, h = map(int, os.path.basename(f)[:-4].split('_'))
    b = io.BytesIO(); Image.fromarray(np.fromfile(f, np.uint8).reshape(h, w), 'L').save(b, 'JPEG', quality=75)
    open(f[:-4] + '.jpg', 'wb').write(b.getvalue())
`;
      execFileSync(python, ['-c', script]);
      cases.forEach(([w, h, u], i) => {
        const pil = readFileSync(path.join(dir, `${i}_${w}_${h}.jpg`));
        expect(Buffer.from(encodeSaliencyMap(u, w, h)).equals(pil), `case ${i} (${w}×${h})`).toBe(true);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
