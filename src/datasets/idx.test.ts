// IDX loader on tiny files written here (known bytes in → known values out), every malformed
// case, and the embedded MNIST / installed Fashion-MNIST.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { openIdx, parseIdxHeader } from './idx.js';
import { openFashionMnist, openMnist } from './mnist.js';
import { itRequires, REQUIREMENTS } from '../../test/helpers/index.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-idx-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An IDX file: magic 0x0000_08_<ndims>, big-endian dims, then bytes. */
function idx(dims: number[], data: Uint8Array, magic = 0x0800 + dims.length): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

const N = 5;
const [H, W] = [2, 3];
const pixels = Uint8Array.from({ length: N * H * W }, (_, p) => (p * 37) % 256);
const labels = Uint8Array.from([3, 0, 9, 3, 1]);

function write(name: string, bytes: Uint8Array): string {
  const p = path.join(tmp, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

describe('openIdx', () => {
  it('reads raw files: x = byte / 255 in NHWC, y = the labels', async () => {
    const ds = await openIdx({ images: write('a/img', idx([N, H, W], pixels)), labels: write('a/lab', idx([N], labels)) });
    expect([ds.size, ...ds.shape, ds.numClasses]).toEqual([N, H, W, 1, 10]);
    const b = await ds.get([4, 0, 2]);
    expect(Array.from(b.y)).toEqual([1, 3, 9]);
    const expected = [4, 0, 2].flatMap((i) => Array.from(pixels.subarray(i * H * W, (i + 1) * H * W), (v) => Math.fround(v / 255)));
    expect(Array.from(b.x)).toEqual(expected);
    expect(await ds.labelHistogram()).toEqual([1, 1, 0, 2, 0, 0, 0, 0, 0, 1]);
    // repeated and consecutive indices (one coalesced read) land in their own slots
    const r = await ds.get([2, 2, 1, 3]);
    expect(Array.from(r.x)).toEqual([2, 2, 1, 3].flatMap((i) => Array.from(pixels.subarray(i * H * W, (i + 1) * H * W), (v) => Math.fround(v / 255))));
    await ds.close?.();
  });

  it('reads gzip files (detected by magic bytes) to the same values', async () => {
    const raw = await openIdx({ images: write('b/img', idx([N, H, W], pixels)), labels: write('b/lab', idx([N], labels)) });
    const gz = await openIdx({
      images: write('b/img.gz', gzipSync(idx([N, H, W], pixels))),
      labels: write('b/lab-no-suffix', gzipSync(idx([N], labels))),
    });
    const all = [0, 1, 2, 3, 4];
    expect(await gz.get(all)).toEqual(await raw.get(all));
  });

  it('reads [N, H, W, C] images (4 dimensions)', async () => {
    const px = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, p) => p);
    const ds = await openIdx({ images: write('c/img', idx([2, 2, 2, 3], px)), labels: write('c/lab', idx([2], Uint8Array.from([0, 1]))) });
    expect(ds.shape).toEqual([2, 2, 3]);
    expect((await ds.get([1])).x[5]).toBe(Math.fround(17 / 255));
  });

  const cases: Array<[string, () => { images: string; labels: string }, RegExp]> = [
    ['a wrong magic', () => ({ images: write('e1/img', idx([N, H, W], pixels, 0x0801)), labels: write('e1/lab', idx([N], labels)) }), /expected an IDX images file with magic 0x00000803 or 0x00000804.*found magic 0x00000801/],
    ['a non-IDX file', () => ({ images: write('e2/img', Buffer.from('GIF89a not idx')), labels: write('e2/lab', idx([N], labels)) }), /e2\/img: expected an IDX images file .* found magic 0x47494638/],
    ['a truncated images file', () => ({ images: write('e3/img', idx([N, H, W], pixels).subarray(0, 30)), labels: write('e3/lab', idx([N], labels)) }), /e3\/img: expected 46 bytes for IDX dims \[5, 2, 3\], found 30 \(truncated\)/],
    ['trailing bytes', () => ({ images: write('e4/img', Buffer.concat([idx([N, H, W], pixels), Buffer.from([1])])), labels: write('e4/lab', idx([N], labels)) }), /found 47 \(trailing bytes\)/],
    ['a label out of range', () => ({ images: write('e5/img', idx([N, H, W], pixels)), labels: write('e5/lab', idx([N], Uint8Array.from([3, 0, 10, 3, 1]))) }), /e5\/lab: expected labels in \[0, 10\), found 10 at sample 2/],
    ['mismatched counts', () => ({ images: write('e6/img', idx([N, H, W], pixels)), labels: write('e6/lab', idx([4], labels.subarray(0, 4))) }), /expected as many labels as images \(5 in .*e6\/img\), found 4 in .*e6\/lab/],
    ['a missing labels file', () => ({ images: write('e7/img', idx([N, H, W], pixels)), labels: path.join(tmp, 'e7/nope') }), /idx labels: expected .*e7\/nope to exist, found nothing there/],
    ['a corrupt gzip file', () => ({ images: write('e8/img.gz', gzipSync(idx([N, H, W], pixels)).subarray(0, 20)), labels: write('e8/lab', idx([N], labels)) }), /expected a readable gzip file at .*e8\/img.gz, found a corrupt gzip stream/],
  ];
  it.each(cases)('rejects %s with a DataError naming the file', async (_name, files, message) => {
    const err = await openIdx(files()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(message);
  });

  it('parses headers', () => {
    expect(parseIdxHeader(idx([7, 28, 28], new Uint8Array(0)), 'f', [3], 'images')).toEqual({ magic: 0x803, dims: [7, 28, 28], headerBytes: 16 });
  });
});

describe('MNIST (embedded) and Fashion-MNIST', () => {
  it('opens embedded MNIST test: 10000 digits with the published label counts', async () => {
    const ds = await openMnist({ split: 'test' });
    expect([ds.size, ...ds.shape, ds.numClasses]).toEqual([10000, 28, 28, 1, 10]);
    // class counts of the MNIST test set (LeCun et al.; e.g. torchvision's MNIST(train=False).targets.bincount())
    expect(await ds.labelHistogram()).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const b = await ds.get([0]);
    expect(b.y[0]).toBe(7); // the first test digit is a 7
    expect(Math.min(...b.x)).toBe(0);
    expect(Math.max(...b.x)).toBe(1);
    await ds.close?.();
  });

  itRequires(REQUIREMENTS.fashionMnist)('opens Fashion-MNIST from the Debian package: balanced, 1000 per class in test', async () => {
    const ds = await openFashionMnist({ split: 'test' });
    expect([ds.size, ...ds.shape]).toEqual([10000, 28, 28, 1]);
    expect(await ds.labelHistogram()).toEqual(new Array(10).fill(1000));
    expect(ds.classNames[9]).toBe('Ankle boot');
  });

  it('names the missing folder of Fashion-MNIST', async () => {
    await expect(openFashionMnist({ path: path.join(tmp, 'no-fashion') })).rejects.toThrow(/expected a folder at|to exist/);
  });
});
