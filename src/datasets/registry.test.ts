// Format detection, named datasets and data-source strings.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePcamH5 } from '../../scripts/make-pcam-h5.js';
import { ConfigError, DataError } from '../errors.js';
import { CIFAR_RECORD_BYTES } from './cifar-bin.js';
import { embeddedMnistDir } from './mnist.js';
import { availableSplits, DATASETS, detectFormat, openDataset, parseDataSource } from './registry.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-registry-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(rel: string, bytes: Uint8Array | string): string {
  const p = path.join(tmp, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

describe('detectFormat and openDataset by path', () => {
  it('recognises each layout', async () => {
    expect(detectFormat(embeddedMnistDir())).toBe('idx');
    expect(detectFormat(path.join(embeddedMnistDir(), 't10k-images-idx3-ubyte'))).toBe('idx');
    file('cifar/cifar-10-batches-bin/test_batch.bin', new Uint8Array(2 * CIFAR_RECORD_BYTES));
    expect(detectFormat(path.join(tmp, 'cifar'))).toBe('cifar10-bin');
    await makePcamH5({ dir: path.join(tmp, 'pcam'), split: 'test', count: 3 });
    expect(detectFormat(path.join(tmp, 'pcam'))).toBe('pcam');
    const png = new PNG({ width: 2, height: 2 });
    file('folder/train/a/x.png', PNG.sync.write(png));
    expect(detectFormat(path.join(tmp, 'folder'))).toBe('image-folder');
    file('nothing/readme.txt', 'hi');
    expect(() => detectFormat(path.join(tmp, 'nothing'))).toThrow(/expected a dataset folder .* found none of these/);
    expect(() => detectFormat(path.join(tmp, 'absent'))).toThrow(DataError);

    const byPath = await Promise.all([
      openDataset({ source: embeddedMnistDir(), split: 'test' }),
      openDataset({ source: path.join(embeddedMnistDir(), 't10k-images-idx3-ubyte') }),
      openDataset({ source: path.join(tmp, 'cifar'), split: 'test' }),
      openDataset({ source: path.join(tmp, 'pcam'), split: 'test' }),
      openDataset({ source: path.join(tmp, 'folder') }),
    ]);
    expect(byPath.map((d) => [d.format, d.size])).toEqual([['idx', 10000], ['idx', 10000], ['cifar10-bin', 2], ['pcam', 3], ['image-folder', 1]]);
    for (const d of byPath) await d.close?.();
    expect(availableSplits(path.join(tmp, 'pcam'))).toEqual(['test']);
    expect(availableSplits(path.join(tmp, 'cifar'))).toEqual(['test']);
  });
});

describe('named datasets', () => {
  it('opens mnist and synthetic with their options', async () => {
    expect([...DATASETS.keys()]).toEqual(['mnist', 'fashion-mnist', 'synthetic', 'cifar10-jpg', 'cifar10', 'pcam']);
    const m = await openDataset({ source: 'mnist', split: 'test' });
    expect([m.format, m.size]).toEqual(['mnist', 10000]);
    const s = await openDataset({ source: 'synthetic', split: 'test', count: 12, imageSize: 28, channels: 1, numClasses: 3, seed: 4 });
    expect([s.format, s.split, s.size, ...s.shape, s.numClasses, s.hasMask]).toEqual(['synthetic', 'test', 12, 28, 28, 1, 3, true]);
  });

  it('asks for a path where a named dataset has none', async () => {
    const saved = process.env.SCAAT_CIFAR10_BIN;
    delete process.env.SCAAT_CIFAR10_BIN;
    await expect(openDataset({ source: 'cifar10' })).rejects.toThrow(ConfigError);
    if (saved !== undefined) process.env.SCAAT_CIFAR10_BIN = saved;
  });

  it('parses data-source strings', () => {
    expect(parseDataSource('synthetic:count=2000,imageSize=28,cache')).toEqual({ source: 'synthetic', options: { count: 2000, imageSize: 28, cache: true } });
    expect(parseDataSource('cifar10-jpg:cache=/tmp/c')).toEqual({ source: 'cifar10-jpg', options: { cache: '/tmp/c' } });
    expect(parseDataSource('/data/a:b')).toEqual({ source: '/data/a:b', options: {} });
    expect(() => parseDataSource('synthetic:count=many')).toThrow(/expected count an integer, got 'many'/);
    expect(() => parseDataSource('synthetic:colour=red')).toThrow(ConfigError);
  });
});
