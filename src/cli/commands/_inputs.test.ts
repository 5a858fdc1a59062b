// The CLI's data opener goes through the datasets registry; unknown names name the option and list the names;
// a missing path is bad input (DataError), not bad usage.
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../errors.js';
import { openData, openDataSource } from './_inputs.js';
import { openDataSplit } from './train.js';

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

  it('keeps the aliases that need --data-path', async () => {
    await expect(openData({ data: 'image-folder', split: 'test' })).rejects.toThrow(/--data image-folder needs --data-path/);
    await expect(openData({ data: 'cifar10-bin', split: 'test' })).rejects.toThrow(/--data cifar10-bin needs --data-path/);
  });
});
