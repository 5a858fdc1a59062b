// The CLI's data opener goes through the datasets registry; unknown names name the option and list the names;
// a missing path is bad input (DataError), not bad usage.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR_RECORD_BYTES } from '../../datasets/cifar-bin.js';
import { ConfigError, DataError } from '../../errors.js';
import { openData, openDataSource } from './_inputs.js';
import { openDataSplit } from './train.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-inputs-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(rel: string, bytes: Uint8Array): void {
  const p = path.join(tmp, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, bytes);
}

describe('CLI data sources', () => {
  it('opens registry names with name:key=value options, for evaluate and for train alike', async () => {
    const a = await openData({ data: 'synthetic:count=6,imageSize=16,channels=1,numClasses=3', split: 'test' });
    const b = await openDataSplit('synthetic:count=6,imageSize=16,channels=1,numClasses=3', 'test');
    try {
      expect([a.size, ...a.shape, a.numClasses, a.split]).toEqual([6, 16, 16, 1, 3, 'test']);
      expect([b.size, ...b.shape]).toEqual([a.size, ...a.shape]);
      const [xa, xb] = [await a.get([0, 5]), await b.get([0, 5])];
      expect(xb.x).toEqual(xa.x);
    } finally {
      await Promise.all([a.close?.(), b.close?.()]);
    }
  });

  it('rejects an unknown name with a ConfigError naming the option and listing the names', async () => {
    await expect(openData({ data: 'cifar', split: 'test' })).rejects.toThrow(ConfigError);
    await expect(openData({ data: 'cifar', split: 'test' })).rejects.toThrow(/--data: expected one of mnist, fashion-mnist, synthetic, .*npy.*got 'cifar'/);
    await expect(openDataSplit('nope', 'train')).rejects.toThrow(/--data \(config key 'data'\): expected a dataset name \(mnist, .*pcam\) or an existing dataset path, got 'nope'/);
    await expect(openDataSource('toString', { option: '--x', split: 'train' })).rejects.toThrow(/--x: expected/);
  });

  it('reports a missing dataset path as bad input (DataError naming it), not as an unknown name', async () => {
    for (const missing of ['nope/none', './none', 'none.npy']) {
      await expect(openDataSplit(missing, 'train')).rejects.toThrow(DataError);
      await expect(openDataSplit(missing, 'train')).rejects.toThrow(`--data (config key 'data'): ${missing}: no such file or folder`);
      await expect(openData({ data: missing, split: 'test' })).rejects.toThrow(DataError);
      await expect(openData({ data: missing, split: 'test' })).rejects.toThrow(`--data: ${missing}: no such file or folder`);
    }
  });

  it('refuses the old aliases cifar10-bin and image-folder, with or without --data-path', async () => {
    for (const alias of ['cifar10-bin', 'image-folder']) {
      for (const dataPath of [undefined, tmp]) {
        const o = { data: alias, split: 'test', ...(dataPath !== undefined ? { dataPath } : {}) };
        await expect(openData(o)).rejects.toThrow(ConfigError);
        await expect(openData(o)).rejects.toThrow(new RegExp(`^--data: expected one of mnist, fashion-mnist, synthetic, cifar10-jpg, cifar10, pcam, npy \\(options as name:key=value,…\\) or a dataset path, got '${alias}'$`));
      }
    }
  });

  it('opens a CIFAR-10 binary folder and an image folder by their paths (format detected)', async () => {
    // one CIFAR record: label 3, planes R = 255, G = 0, B = 51 → pixel (1, 0, 0.2)
    const record = new Uint8Array(CIFAR_RECORD_BYTES);
    record[0] = 3;
    record.fill(255, 1, 1 + 1024);
    record.fill(51, 1 + 2048);
    file('cifar/cifar-10-batches-bin/test_batch.bin', record);
    const png = new PNG({ width: 2, height: 2 });
    png.data.fill(255);
    file('folder/test/cat/x.png', PNG.sync.write(png));
    const cifar = await openData({ data: path.join(tmp, 'cifar'), split: 'test' });
    const folder = await openData({ data: path.join(tmp, 'folder'), split: 'test' });
    try {
      expect([cifar.format, cifar.size, ...cifar.shape]).toEqual(['cifar10-bin', 1, 32, 32, 3]);
      const b = await cifar.get([0]);
      expect([b.y[0], ...b.x.subarray(0, 3)]).toEqual([3, 1, 0, Math.fround(51 / 255)]);
      expect([folder.format, folder.size, [...folder.classNames]]).toEqual(['image-folder', 1, ['cat']]);
    } finally {
      await Promise.all([cifar.close?.(), folder.close?.()]);
    }
  });
});
