import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, useBackend } from '../../test/helpers/index.js';
import { DataError } from '../errors.js';
import { fromLayersModel } from './classifier.js';
import { fileSystem, loadClassifier, loadModel, resolveModelDir, saveClassifier } from './io.js';
import { ChannelNormalization } from './layers.js';

let tmp: string;

function smallModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      new ChannelNormalization({ inputShape: [4, 4, 2], mean: [0.5, 0.25], std: [0.2, 0.4] }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.batchNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

beforeAll(async () => {
  await useBackend('cpu');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-models-io-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('saveClassifier / loadClassifier', () => {
  it('round-trips a model with custom normalisation, batch norm and a softmax head (same logits)', async () => {
    const clf = fromLayersModel(smallModel());
    const dir = path.join(tmp, 'a');
    await saveClassifier(clf, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    const back = await loadClassifier(dir);
    expect(back.inputShape).toEqual([4, 4, 2]);
    expect(back.numClasses).toBe(3);
    const x = tf.randomUniform([2, 4, 4, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    expectClose(back.logits(x).dataSync(), clf.logits(x).dataSync(), { label: 'logits after reload' });
    // Non-trainable batch-norm statistics are saved too.
    expect(back.model.getWeights().length).toBe(clf.model.getWeights().length);
    // Also loadable by plain tf.loadLayersModel with the handler.
    const m = await tf.loadLayersModel(fileSystem(dir));
    expectClose((m.predict(x) as tf.Tensor).dataSync(), (clf.model.predict(x) as tf.Tensor).dataSync());
    tf.dispose(x);
  });

  it('finds the model in a run folder: model/ first, else the latest checkpoint', async () => {
    const run = path.join(tmp, 'run');
    const clf = fromLayersModel(smallModel());
    await saveClassifier(clf, path.join(run, 'checkpoints', 'step-00000003'));
    writeFileSync(path.join(run, 'checkpoints', 'latest.json'), JSON.stringify({ name: 'step-00000003' }));
    expect(resolveModelDir(run)).toBe(path.join(run, 'checkpoints', 'step-00000003'));
    await saveClassifier(clf, path.join(run, 'model'));
    expect(resolveModelDir(run)).toBe(path.join(run, 'model'));
    expect(resolveModelDir(path.join(run, 'model', 'model.json'))).toBe(path.join(run, 'model'));
  });

  it('reports missing, truncated and malformed files as DataError naming the file', async () => {
    await expect(loadClassifier(path.join(tmp, 'nope'))).rejects.toThrow(DataError);
    mkdirSync(path.join(tmp, 'empty'));
    await expect(loadClassifier(path.join(tmp, 'empty'))).rejects.toThrow(/no model in/);

    const dir = path.join(tmp, 'bad');
    await saveClassifier(fromLayersModel(smallModel()), dir);
    const w = path.join(dir, 'weights.bin');
    truncateSync(w, 10);
    await expect(loadClassifier(dir)).rejects.toThrow(/weights are 10 bytes, the manifest describes \d+/);

    writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": ');
    await expect(loadClassifier(dir)).rejects.toThrow(DataError);
    await expect(loadClassifier(dir)).rejects.toThrow(/model\.json/);

    const run = path.join(tmp, 'run-bad');
    mkdirSync(path.join(run, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(run, 'checkpoints', 'latest.json'), '{"name": "../x"}');
    expect(() => resolveModelDir(run)).toThrow(DataError);
  });

  it('names the weights it loads: the SHA-256 of weights.bin, and a checkpoint (verified) with its step', async () => {
    const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
    const clf = fromLayersModel(smallModel());
    const run = path.join(tmp, 'named');
    const ckpt = path.join(run, 'checkpoints', 'step-00000012');
    const saved = await saveClassifier(clf, ckpt);
    expect(saved).toEqual({ sha256: sha(path.join(ckpt, 'weights.bin')), checkpoint: null });
    // a checkpoint folder: state.json holds its step and every file's SHA-256 (as train/checkpoint.ts writes it)
    const state = { step: 12, sha256: { 'model.json': sha(path.join(ckpt, 'model.json')), 'weights.bin': sha(path.join(ckpt, 'weights.bin')) } };
    writeFileSync(path.join(ckpt, 'state.json'), JSON.stringify(state));
    writeFileSync(path.join(run, 'checkpoints', 'latest.json'), JSON.stringify({ name: 'step-00000012' }));
    const fromRun = await loadModel(run);
    expect(fromRun.dir).toBe(ckpt);
    expect(fromRun.weights).toEqual({ sha256: state.sha256['weights.bin'], checkpoint: { name: 'step-00000012', step: 12 } });
    // the hash is of the weights the model holds: the same bytes as its weights in memory
    const inMemory = new Uint8Array(tf.io.CompositeArrayBuffer.join((await tf.io.encodeWeights(clf.model.weights.map((w) => ({ name: w.name, tensor: w.read() })))).data));
    expect(createHash('sha256').update(inMemory).digest('hex')).toBe(fromRun.weights.sha256);
    // 4 corrupted bytes: refused before use, naming the checkpoint and the file
    const w = path.join(ckpt, 'weights.bin');
    const bytes = readFileSync(w);
    for (let i = 8; i < 12; i++) bytes[i] = bytes[i]! ^ 0x5a;
    writeFileSync(w, bytes);
    await expect(loadModel(run)).rejects.toThrow(`checkpoint ${ckpt} is corrupted or incomplete: weights.bin does not match its SHA-256 in state.json`);
    await expect(loadClassifier(ckpt)).rejects.toThrow(DataError);
    // a final model is preferred, and is no checkpoint
    const final = await saveClassifier(clf, path.join(run, 'model'));
    expect((await loadModel(run)).weights).toEqual(final);
  });
});
