// CIFAR-10 binary loader on a tiny cifar-10-batches-bin written here: each record's bytes are a
// known function of (file, record, channel, pixel), so the planar → NHWC transpose is checked
// value by value.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { CIFAR_RECORD_BYTES, openCifarBin } from './cifar-bin.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-cifar-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Byte of channel c at pixel p of global sample g. */
const px = (g: number, c: number, p: number) => (g * 13 + c * 85 + p) % 256;
const label = (g: number) => (g * 7) % 10;

/** Writes a cifar-10-batches-bin with `perFile` records in each train file and `test` in test_batch. */
function makeCifar(dir: string, perFile = 2, test = 3, mutate?: (name: string, bytes: Uint8Array) => Uint8Array | undefined): string {
  const bin = path.join(dir, 'cifar-10-batches-bin');
  mkdirSync(bin, { recursive: true });
  const files: Array<[string, number, number]> = [1, 2, 3, 4, 5].map((k) => [`data_batch_${k}.bin`, perFile, (k - 1) * perFile]);
  files.push(['test_batch.bin', test, 1000]);
  for (const [name, n, first] of files) {
    let bytes: Uint8Array = new Uint8Array(n * CIFAR_RECORD_BYTES);
    for (let r = 0; r < n; r++) {
      const g = first + r;
      bytes[r * CIFAR_RECORD_BYTES] = label(g);
      for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) bytes[r * CIFAR_RECORD_BYTES + 1 + c * 1024 + p] = px(g, c, p);
    }
    if (mutate) {
      const m = mutate(name, bytes);
      if (m === undefined) continue;
      bytes = m;
    }
    writeFileSync(path.join(bin, name), bytes);
  }
  return dir;
}

describe('openCifarBin', () => {
  it('reads records across the five train files, transposing planar RGB to NHWC', async () => {
    const ds = await openCifarBin({ path: makeCifar(path.join(tmp, 'ok')) });
    expect([ds.size, ...ds.shape, ds.numClasses]).toEqual([10, 32, 32, 3, 10]);
    expect(ds.classNames[0]).toBe('airplane');
    const idx = [9, 0, 5]; // last of batch 5, first of batch 1, second of batch 3
    const b = await ds.get(idx);
    expect(Array.from(b.y)).toEqual(idx.map(label));
    idx.forEach((g, k) => {
      for (const [h, w, c] of [[0, 0, 0], [0, 1, 2], [31, 31, 1], [17, 4, 2]] as const) {
        expect(b.x[k * 3072 + (h * 32 + w) * 3 + c]).toBe(Math.fround(px(g, c, h * 32 + w) / 255));
      }
    });
    const hist = await ds.labelHistogram();
    expect(hist.reduce((a, v) => a + v, 0)).toBe(10);
    expect(hist[label(3)]).toBeGreaterThan(0);
    await ds.close?.();
  });

  it('reads the test split from test_batch.bin, given the bin folder itself', async () => {
    const ds = await openCifarBin({ path: path.join(makeCifar(path.join(tmp, 'ok2')), 'cifar-10-batches-bin'), split: 'test' });
    expect(ds.size).toBe(3);
    const b = await ds.get([2]);
    expect(b.y[0]).toBe(label(1002));
    expect(b.x[3 * 5 + 1]).toBe(Math.fround(px(1002, 1, 5) / 255));
  });

  const cases: Array<[string, (n: string, b: Uint8Array) => Uint8Array | undefined, RegExp]> = [
    ['a truncated record', (n, b) => (n === 'data_batch_2.bin' ? b.subarray(0, CIFAR_RECORD_BYTES + 100) : b), /data_batch_2.bin: expected a whole number of 3073-byte records, found 3173 bytes \(1 records and a truncated one of 100 bytes\)/],
    ['a label out of range', (n, b) => { if (n === 'data_batch_4.bin') b[CIFAR_RECORD_BYTES] = 10; return b; }, /data_batch_4.bin: expected labels in \[0, 10\), found 10 in record 1/],
    ['a missing batch file', (n, b) => (n === 'data_batch_3.bin' ? undefined : b), /expected .*data_batch_3.bin to exist, found nothing there/],
  ];
  it.each(cases)('rejects %s with a DataError naming the file', async (_name, mutate, message) => {
    const dir = makeCifar(path.join(tmp, _name.replace(/ /g, '-')), 2, 3, mutate);
    const err = await openCifarBin({ path: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects a missing folder', async () => {
    await expect(openCifarBin({ path: path.join(tmp, 'nowhere') })).rejects.toThrow(DataError);
  });
});
