// Image folders: tiny PNG/JPEG folders written here (PNG is lossless, so pixels are exact
// oracles), every malformed case, the decoded cache, and the real CIFAR-10 JPEG folder when present.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeUnless } from '../../test/helpers/index.js';
import { DataError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { readDecodedCacheHeader } from './decoded-cache.js';
import { openImageFolder } from './image-folder.js';
import { cifar10JpgPath } from './registry.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-folder-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** RGB pixel (y, x) of image `seed`. */
const rgb = (seed: number, y: number, x: number): [number, number, number] => [(seed * 40 + y * 9) % 256, (x * 17 + seed) % 256, (y * x * 3 + 50) % 256];

function png(seed: number, h: number, w: number): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = rgb(seed, y, x);
      p.data.set([r, g, b, 255], (y * w + x) * 4);
    }
  return PNG.sync.write(p);
}

function jpg(seed: number, h: number, w: number): Buffer {
  const data = Buffer.alloc(h * w * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([...rgb(seed, y, x), 255], (y * w + x) * 4);
  return jpeg.encode({ data, width: w, height: h }, 95).data;
}

/** root/<split>/<class>/<file> → bytes. */
function makeFolder(name: string, files: Record<string, Buffer | string>): string {
  const root = path.join(tmp, name);
  for (const [rel, bytes] of Object.entries(files)) {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, bytes);
  }
  return root;
}

const S = 6;
function standard(name: string, extra: Record<string, Buffer | string> = {}): string {
  return makeFolder(name, {
    'train/cat/b.png': png(1, S, S),
    'train/cat/a.png': png(0, S, S),
    'train/ant/x.png': png(2, S, S),
    'train/dog/1.jpg': jpg(3, S, S),
    'test/ant/t.png': png(4, S, S),
    'test/eel/t.png': png(5, S, S),
    ...extra,
  });
}

/** Expected floats of a PNG written by `png(seed, S, S)`. */
function pngFloats(seed: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out.push(...rgb(seed, y, x).map((v) => Math.fround(v / 255)));
  return out;
}

async function allX(ds: Dataset): Promise<Float32Array> {
  return (await ds.get(Array.from({ length: ds.size }, (_, i) => i))).x;
}

describe('openImageFolder', () => {
  it('labels by sorted class folders (union over splits), indexes by (class, file) order, decodes PNG exactly', async () => {
    const root = standard('std');
    const ds = await openImageFolder({ root });
    expect(ds.classNames).toEqual(['ant', 'cat', 'dog', 'eel']);
    expect([ds.size, ...ds.shape]).toEqual([4, S, S, 3]);
    const b = await ds.get([0, 1, 2, 3]);
    expect(Array.from(b.y)).toEqual([0, 1, 1, 2]); // ant/x, cat/a, cat/b, dog/1
    expect(Array.from(b.x.subarray(0, S * S * 3))).toEqual(pngFloats(2));
    expect(Array.from(b.x.subarray(S * S * 3, 2 * S * S * 3))).toEqual(pngFloats(0));
    // the JPEG decodes to what jpeg-js gives for the same bytes (our oracle for lossy files)
    const ref = jpeg.decode(readFileSync(path.join(root, 'train/dog/1.jpg')), { useTArray: true, formatAsRGBA: false });
    expect(Array.from(b.x.subarray(3 * S * S * 3))).toEqual(Array.from(ref.data, (v) => Math.fround(v / 255)));
    expect(await ds.labelHistogram()).toEqual([1, 2, 1, 0]);
    const test = await openImageFolder({ root, split: 'test' });
    expect(Array.from((await test.get([0, 1])).y)).toEqual([0, 3]); // same label map as train
  });

  it('resizes the shorter side and centre-crops; converts to one channel', async () => {
    const root = makeFolder('resize', { 'train/a/wide.png': png(7, 4, 8) });
    const ds = await openImageFolder({ root, imageSize: 2, channels: 1 });
    expect(ds.shape).toEqual([2, 2, 1]);
    // 4×8 → shorter side 2 → 2×4 (factor 2), then the central 2×2: columns 1..2 of the resized image
    const x = await allX(ds);
    expect(x.length).toBe(4);
    const same = await openImageFolder({ root, imageSize: 4, resize: 4 }); // 4×8 → 4×8 → central 4×4 (cols 2..5), no resampling
    const y = await allX(same);
    expect(Array.from(y.subarray(0, 3))).toEqual(rgb(7, 0, 2).map((v) => Math.fround(v / 255)));
    expect(Array.from(y.subarray((3 * 4 + 3) * 3, (3 * 4 + 3) * 3 + 3))).toEqual(rgb(7, 3, 5).map((v) => Math.fround(v / 255)));
  });

  it('fails on a non-image file by default, naming it; skips it with one warning on request', async () => {
    const root = standard('bad', { 'train/cat/notes.txt': 'hello', 'train/cat/fake.jpg': 'not a jpeg', 'train/cat/.DS_Store': 'x' });
    const err = await openImageFolder({ root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/train\/cat\/fake.jpg: expected a readable JPEG or PNG file .* found no JPEG\/PNG signature/);
    const warnings: string[] = [];
    const ds = await openImageFolder({ root, onBadFile: 'skip', onWarning: (m) => warnings.push(m) });
    expect(ds.size).toBe(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 2 file\(s\).*fake.jpg.*notes.txt \(a '.txt' file\)/);
  });

  it('rejects an empty class folder, a missing split and an empty file', async () => {
    const empty = standard('empty');
    mkdirSync(path.join(empty, 'train', 'fox'));
    await expect(openImageFolder({ root: empty })).rejects.toThrow(/train\/fox: expected at least one JPEG or PNG image in class folder 'fox', found none/);
    await expect(openImageFolder({ root: standard('nosplit'), split: 'val' })).rejects.toThrow(/expected .*nosplit\/val \(layout root\/<split>\/<class>\/\*.jpg\), found splits test, train/);
    await expect(openImageFolder({ root: standard('zero', { 'train/cat/z.png': '' }) })).rejects.toThrow(/z.png: expected a readable JPEG or PNG file .* found an empty file/);
    await expect(openImageFolder({ root: path.join(tmp, 'missing') })).rejects.toThrow(DataError);
  });

  it('names a corrupt image (valid signature, bad data) when it is decoded', async () => {
    const good = png(1, S, S);
    const ds = await openImageFolder({ root: standard('corrupt', { 'train/cat/c.png': good.subarray(0, 40) }), imageSize: S });
    await expect(ds.get([3])).rejects.toThrow(/train\/cat\/c.png: expected a decodable PNG image, found a corrupt one/);
  });

  it('decoded cache: same values, built once, rebuilt when a file changes', async () => {
    const root = standard('cache');
    const cacheDir = path.join(tmp, 'cache-dir');
    let builds = 0;
    const open = () => openImageFolder({ root, cache: cacheDir, onProgress: (d, t) => { if (d === t) builds++; } });
    const plain = await allX(await openImageFolder({ root }));
    const first = await open();
    expect(builds).toBe(1);
    expect(await allX(first)).toEqual(plain);
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    const header = readDecodedCacheHeader(path.join(cacheDir, files[0]!));
    expect(header).toMatchObject({ count: 4, shape: [S, S, 3], classNames: ['ant', 'cat', 'dog', 'eel'] });
    // compact: header + pixels + int32 labels, nothing else
    expect(statSync(path.join(cacheDir, files[0]!)).size).toBe(header.dataOffset + 4 * S * S * 3 + 4 * 4);
    await first.close?.();
    const second = await open();
    expect(builds).toBe(1);
    expect(await allX(second)).toEqual(plain);
    // a changed file (new size and mtime) makes a new cache
    writeFileSync(path.join(root, 'train/cat/a.png'), png(9, S, S));
    utimesSync(path.join(root, 'train/cat/a.png'), new Date(), new Date(Date.now() + 5000));
    const third = await open();
    expect(builds).toBe(2);
    expect(Array.from((await third.get([1])).x)).toEqual(pngFloats(9));
    expect(readdirSync(cacheDir)).toHaveLength(1); // the stale cache was removed
  });
});

const CIFAR_JPG = cifar10JpgPath();
const cifarSkip = existsSync(path.join(CIFAR_JPG, 'test')) ? undefined : `no CIFAR-10 JPEG folder at ${CIFAR_JPG} (set SCAAT_CIFAR10_JPG)`;
describeUnless(cifarSkip)('real CIFAR-10 JPEG folder', () => {
  it('opens the test split: 10000 images 32×32×3, 1000 per class, pixels as decoded by jpeg-js', async () => {
    const ds = await openImageFolder({ root: CIFAR_JPG, split: 'test', imageSize: 32 });
    expect([ds.size, ...ds.shape, ds.numClasses]).toEqual([10000, 32, 32, 3, 10]);
    expect(ds.classNames).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    expect(await ds.labelHistogram()).toEqual(new Array(10).fill(1000));
    const b = await ds.get([0, 4321, 9999]);
    expect(Array.from(b.y)).toEqual([0, 4, 9]);
    const files = ['airplane', 'deer', 'truck'].map((c) => readdirSync(path.join(CIFAR_JPG, 'test', c)).sort());
    const refs = [files[0]![0]!, files[1]![321]!, files[2]![999]!];
    refs.forEach((f, k) => {
      const cls = ['airplane', 'deer', 'truck'][k]!;
      const ref = jpeg.decode(readFileSync(path.join(CIFAR_JPG, 'test', cls, f)), { useTArray: true, formatAsRGBA: false });
      expect(Array.from(b.x.subarray(k * 3072, (k + 1) * 3072))).toEqual(Array.from(ref.data, (v) => Math.fround(v / 255)));
    });
  });
});
