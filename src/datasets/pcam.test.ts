// PCam loader on small PCam-shaped HDF5 files written here by scripts/make-pcam-h5.ts, whose
// pixels and labels are known functions of the sample index; and every malformed case.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePcamH5, pcamLabel, pcamPixel } from '../../scripts/make-pcam-h5.js';
import { ConfigError, DataError } from '../errors.js';
import { openPcam } from './pcam.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-pcam-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 40;

function expectSample(x: Float32Array, k: number, i: number): void {
  const rec = 96 * 96 * 3;
  for (const [h, w, c] of [[0, 0, 0], [95, 95, 2], [48, 13, 1], [7, 90, 0]] as const) {
    expect(x[k * rec + (h * 96 + w) * 3 + c]).toBe(Math.fround(pcamPixel(i, h, w, c) / 255));
  }
}

describe('openPcam', () => {
  it('reads known pixels and labels, in any order, from a chunked file', async () => {
    const dir = path.join(tmp, 'ok');
    await makePcamH5({ dir, split: 'valid', count: N, chunk: 4, block: 16 });
    const ds = await openPcam({ path: dir, split: 'val' });
    expect([ds.split, ds.size, ...ds.shape, ds.numClasses]).toEqual(['valid', N, 96, 96, 3, 2]);
    const idx = [39, 0, 5, 6, 7, 21, 5];
    const b = await ds.get(idx);
    expect(Array.from(b.y)).toEqual(idx.map(pcamLabel));
    idx.forEach((i, k) => expectSample(b.x, k, i));
    const hist = await ds.labelHistogram();
    expect(hist[1]).toBe(Array.from({ length: N }, (_, i) => pcamLabel(i)).reduce((a, v) => a + v, 0));
    // a shuffled epoch covers every sample with the right pixels
    const seen: number[] = [];
    for await (const batch of ds.batches({ batchSize: 16, shuffle: true, seed: 4 })) {
      batch.index.forEach((i, k) => expectSample(batch.x, k, i));
      seen.push(...batch.index);
    }
    expect(seen.sort((a, c) => a - c)).toEqual(Array.from({ length: N }, (_, i) => i));
    await ds.close?.();
    await expect(ds.get([0])).rejects.toThrow(/read after close/);
  });

  it('reads gzip-compressed chunks to the same values', async () => {
    const dir = path.join(tmp, 'gz');
    await makePcamH5({ dir, split: 'test', count: 8, chunk: 2, gzip: 4 });
    const ds = await openPcam({ path: dir, split: 'test' });
    const b = await ds.get([7, 2]);
    expectSample(b.x, 0, 7);
    expectSample(b.x, 1, 2);
  });

  const cases: Array<[string, (dir: string) => Promise<void>, RegExp]> = [
    ['a missing y file', async (dir) => { await makePcamH5({ dir, count: 4 }); rmSync(path.join(dir, 'camelyonpatch_level_2_split_train_y.h5')); }, /pcam labels: expected .*split_train_y.h5 to exist, found nothing there/],
    ['no dataset x', async (dir) => { await makePcamH5({ dir, count: 4, xName: 'images' }); }, /split_train_x.h5: expected an HDF5 dataset 'x', found only 'images'/],
    ['x of the wrong shape', async (dir) => { await makePcamH5({ dir, count: 4, sampleShape: [3, 96, 96] }); }, /expected dataset 'x' of shape \[N, 96, 96, 3\] \(NHWC\), found \[4, 3, 96, 96\]/],
    ['x of the wrong dtype', async (dir) => { await makePcamH5({ dir, count: 4, xDtype: 'float32' }); }, /expected dataset 'x' of dtype uint8, found float32/],
    ['mismatched x/y counts', async (dir) => { await makePcamH5({ dir, count: 4, yCount: 3 }); }, /expected as many labels as images \(4 in .*_x.h5\), found 3 in .*_y.h5/],
    ['a file that is not HDF5', async (dir) => { await makePcamH5({ dir, count: 4 }); writeFileSync(path.join(dir, 'camelyonpatch_level_2_split_train_y.h5'), 'not hdf5 at all'); }, /split_train_y.h5: expected an HDF5 file, found no HDF5 signature/],
    ['a label out of range', async (dir) => {
      await makePcamH5({ dir, count: 4 });
      await h5wasm.ready;
      const f = new h5wasm.File(path.join(dir, 'camelyonpatch_level_2_split_train_y.h5'), 'w');
      f.create_dataset({ name: 'y', data: Uint8Array.from([0, 1, 2, 0]), shape: [4, 1, 1, 1], dtype: '<B' });
      f.close();
    }, /split_train_y.h5: expected labels in \{0, 1\}, found 2 at sample 2/],
  ];
  it.each(cases)('rejects %s with a DataError naming the file', async (name, make, message) => {
    const dir = path.join(tmp, name.replace(/[^a-z]/gi, '-'));
    await make(dir);
    const err = await openPcam({ path: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects an unknown split with ConfigError', async () => {
    await expect(openPcam({ path: tmp, split: 'dev' })).rejects.toThrow(ConfigError);
  });
});
