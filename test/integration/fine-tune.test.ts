/**
 * Fine-tuning (`scaat train --model <run folder>`): a run starts exactly from a finished run's final
 * weights (its first logged loss is the source model's loss on the first batch, computed here
 * independently; with lr = 0 it ends with the source's weights bit for bit), takes the source's
 * architecture keys, records the weights' SHA-256 in config.json, and refuses a mismatched data
 * shape, an unfinished source run, other pinned weights and a conflicting width.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataSplit } from '../../src/cli/commands/train.js';
import { MODELS } from '../../src/models/registry.js';
import { loadClassifier } from '../../src/models/io.js';
import type { Classifier } from '../../src/models/classifier.js';
import type { Batch } from '../../src/datasets/dataset.js';
import { deriveSeed } from '../../src/engine/random.js';
import { useBackend } from '../helpers/index.js';
import { runCli } from '../fixtures/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-finetune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DATA = 'synthetic:count=128,imageSize=16';
const COMMON = ['--data', DATA, '--epochs', '1', '--backend', 'wasm', ...['trainLimit=128', 'batchSize=32', 'evalLimit=32', 'logEvery=1', 'optimizer=adam', 'lr=0.01'].flatMap((s) => ['--set', s])];
const source = path.join(tmp, 'source');
const records = (dir: string) => readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const config = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
const weights = async (dir: string) => (await loadClassifier(dir)).model.getWeights().map((t) => Array.from(t.dataSync()));

/** Mean cross-entropy of `model` on the first training batch the loop draws (seed, epoch 0), computed from the softmax definition. */
async function firstBatchLoss(model: Classifier, seed: number): Promise<number> {
  const ds = await openDataSplit(DATA, 'train');
  let batch: Batch | undefined;
  for await (const b of ds.batches({ batchSize: 32, shuffle: true, seed, epoch: 0, indices: Int32Array.from({ length: 128 }, (_, i) => i) })) {
    batch = b;
    break;
  }
  const [B, H, W, C] = batch!.shape;
  const logits = tf.tidy(() => model.logits(tf.tensor4d(batch!.x, [B, H, W, C]), { training: true }));
  const z = (await logits.array()) as number[][];
  logits.dispose();
  let sum = 0;
  z.forEach((row, b) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    sum += lse - row[batch!.y[b]!]!;
  });
  return sum / B;
}

beforeAll(async () => {
  await useBackend('wasm');
  const r = await runCli(['train', '--trainer', 'regular', '--model', 'mlp', '--seed', '1', '--out', source, '--set', 'width=0.25', ...COMMON]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('scaat train --model <run folder> (fine-tuning)', () => {
  it('starts from the source run\'s final weights: first logged loss, SHA-256 and architecture recorded', async () => {
    const out = path.join(tmp, 'ft-regular');
    const r = await runCli(['train', '--trainer', 'regular', '--model', source, '--seed', '5', '--out', out, ...COMMON]);
    expect(r.code, r.stderr).toBe(0);

    const cfg = config(out);
    const sha = createHash('sha256').update(readFileSync(path.join(source, 'model', 'weights.bin'))).digest('hex');
    expect(cfg['modelSha256']).toBe(sha);
    expect(cfg['model']).toBe(source);
    expect(cfg['width']).toBe(0.25); // taken from the source run (left at its default here)

    const first = records(out).find((x) => x['type'] === 'step')!;
    expect(first['step']).toBe(1);
    const src = await loadClassifier(source);
    const expected = await firstBatchLoss(src, 5);
    expect(Math.abs((first['loss'] as number) - expected)).toBeLessThan(1e-5 * Math.max(1, expected));
    // The oracle tells models apart: a freshly initialised network has another loss on that batch.
    const fresh = MODELS.get('mlp')!.create({ inputShape: [16, 16, 3], numClasses: 4, seed: deriveSeed(5, 'init'), width: 0.25 });
    expect(Math.abs((await firstBatchLoss(fresh, 5)) - expected)).toBeGreaterThan(1e-3);
    src.model.dispose();
    fresh.model.dispose();
  }, 120_000);

  it('SCAAT with lr = 0 ends with exactly the source weights', async () => {
    const out = path.join(tmp, 'ft-scaat-lr0');
    const r = await runCli(['train', '--trainer', 'scaat', '--model', source, '--seed', '2', '--out', out, ...COMMON, '--set', 'lr=0', '--set', 'scaat.epsilon=0.1']);
    expect(r.code, r.stderr).toBe(0);
    expect(await weights(out)).toEqual(await weights(path.join(source, 'model')));
  }, 120_000);

  it('refuses mismatched data, an unfinished run, other pinned weights and a conflicting width; writes nothing', async () => {
    const never = path.join(tmp, 'never');
    const shape = await runCli(['train', '--trainer', 'scaat', '--model', source, '--out', never, '--data', 'mnist', '--epochs', '1', '--backend', 'wasm']);
    expect(shape.code).toBe(3);
    expect(shape.stderr).toContain(`ShapeError: model ${source} takes [16, 16, 3] images and predicts 4 classes, but the data has [28, 28, 1] and 10`);

    const unfinished = path.join(tmp, 'unfinished');
    cpSync(source, unfinished, { recursive: true });
    rmSync(path.join(unfinished, 'model'), { recursive: true });
    expect(existsSync(path.join(unfinished, 'checkpoints', 'latest.json'))).toBe(true);
    const u = await runCli(['train', '--model', unfinished, '--out', never, ...COMMON]);
    expect(u.code).toBe(3);
    expect(u.stderr).toContain(`DataError: model: run folder ${unfinished} has no final model (model/model.json): it has not finished training`);

    const pinned = await runCli(['train', '--model', source, '--out', never, ...COMMON, '--set', `modelSha256=${'0'.repeat(64)}`]);
    expect(pinned.code).toBe(3);
    expect(pinned.stderr).toMatch(/DataError: model .*: its weights .* have SHA-256 [0-9a-f]{64}, but the config pins modelSha256 0{64}/);

    const width = await runCli(['train', '--model', source, '--out', never, ...COMMON, '--set', 'width=0.5']);
    expect(width.code).toBe(2);
    expect(width.stderr).toContain(`ConfigError: width: 0.5, but the source run ${source} was trained with 0.25`);

    const zooPin = await runCli(['train', '--model', 'mlp', '--out', never, ...COMMON, '--set', `modelSha256=${'0'.repeat(64)}`]);
    expect(zooPin.code).toBe(2);
    expect(zooPin.stderr).toContain("ConfigError: modelSha256: pins the weights of a saved model, but model 'mlp' is a zoo architecture");
    expect(existsSync(never)).toBe(false);
  }, 120_000);
});
