/**
 * checkpoint.ts: the trainer's typed state written and read back byte for byte with its types;
 * checkpoints written before typed state (a table without dtypes: float32) still read; a table
 * that does not fit trainer-state.bin, or names an unknown type, is a DataError.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearClassifier, useBackend } from '../../test/helpers/index.js';
import { DataError } from '../errors.js';
import { readLatestCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { LoopState } from './checkpoint.js';
import { createOptimizer } from './optimizers.js';
import type { TrainerState } from './types.js';

const LOOP: LoopState = { epoch: 1, batch: 2, step: 5, rng: [1, 2, 3, 4], epochSums: { loss: 1.5 }, epochSamples: 32, epochSeconds: 0.5, logBytes: 10 };
let tmp: string;
beforeAll(async () => {
  await useBackend('cpu');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-checkpoint-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function write(dir: string, trainerState: TrainerState): Promise<string> {
  const classifier = linearClassifier([2, 2, 1], 3, { seed: 4 });
  const optimizer = createOptimizer(classifier.trainableVariables(), { optimizer: 'adam', lr: 0.01, weightDecay: 0, momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, adamEpsilon: 1e-8 });
  try {
    return await writeCheckpoint(dir, { classifier, optimizer, trainerState, loop: LOOP, keep: 2 });
  } finally {
    optimizer.dispose();
    classifier.model.dispose();
  }
}

/** Rewrites a checkpoint's trainer-state.bin and its table (and the file's SHA-256 in state.json). */
function rewrite(dir: string, bytes: Uint8Array, table: unknown): void {
  const stateFile = path.join(dir, 'state.json');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown> & { sha256: Record<string, string> };
  writeFileSync(path.join(dir, 'trainer-state.bin'), bytes);
  state.sha256['trainer-state.bin'] = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(stateFile, JSON.stringify({ ...state, trainerState: table }));
}

describe('checkpoint trainer state', () => {
  it('every state type reads back with its type and bytes, whatever the alignment of the arrays before it', async () => {
    const dir = path.join(tmp, 'typed');
    // odd byte lengths first: a reader that assumed 4-byte alignment would misplace the rest
    const state: TrainerState = {
      signs: Int8Array.from([-1, 0, 1]),
      flags: Uint8Array.from([255]),
      ranks: Uint16Array.from([0, 65535, 7]),
      q: Float32Array.from([0.5, -0, Number.NaN, 1e-30]),
      epochs: Int32Array.from([-1, 2 ** 31 - 1]),
      wide: Uint32Array.from([2 ** 32 - 1]),
      empty: new Float32Array(0),
    };
    const name = await write(dir, state);
    const back = await readLatestCheckpoint(dir);
    expect(back!.name).toBe(name);
    expect(Object.keys(back!.trainerState)).toEqual(Object.keys(state));
    for (const [key, v] of Object.entries(state)) {
      const got = back!.trainerState[key]!;
      expect(got.constructor, key).toBe(v.constructor);
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength)), key).toBe(true);
    }
    expect(readFileSync(path.join(dir, name, 'trainer-state.bin')).byteLength).toBe(3 + 1 + 6 + 16 + 8 + 4);
    expect(back!.loop).toEqual(LOOP);
  });

  it('a table without types (written before typed state) reads as float32', async () => {
    const dir = path.join(tmp, 'old');
    const name = await write(dir, {});
    const q = Float32Array.from([0.25, 0.75]);
    const t = Float32Array.from([3, 1, 2]);
    const bytes = new Uint8Array(20);
    bytes.set(new Uint8Array(q.buffer), 0);
    bytes.set(new Uint8Array(t.buffer), 8);
    rewrite(path.join(dir, name), bytes, [
      { key: 'q', length: 2 },
      { key: 'epochTotals', length: 3 },
    ]);
    const back = await readLatestCheckpoint(dir);
    expect(back!.trainerState['q']).toEqual(q);
    expect(back!.trainerState['epochTotals']).toEqual(t);
  });

  it('an unknown type, or a table that does not fit the file, is a DataError naming the checkpoint', async () => {
    const dir = path.join(tmp, 'bad');
    const name = await write(dir, { q: Float32Array.from([1, 2]) });
    const ck = path.join(dir, name);
    rewrite(ck, new Uint8Array(8), [{ key: 'q', length: 2, dtype: 'float64' }]);
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(DataError);
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(/gives trainer state 'q' the type 'float64', expected one of float32, int8/);
    rewrite(ck, new Uint8Array(8), [{ key: 'q', length: 2, dtype: 'constructor' }]);
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(/the type 'constructor', expected one of/);
    rewrite(ck, new Uint8Array(8), [{ key: 'q', length: -2, dtype: 'float32' }]);
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(/gives trainer state 'q' the length -2/);
    rewrite(ck, new Uint8Array(8), [{ key: 'q', length: 3, dtype: 'float32' }]);
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(/trainer-state\.bin holds 8 bytes, the table needs more \(at 'q'\)/);
    rewrite(ck, new Uint8Array(8), [{ key: 'q', length: 3, dtype: 'uint16' }]);
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(/trainer-state\.bin holds 8 bytes, the table 6/);
    await expect(readLatestCheckpoint(dir)).rejects.toThrow(new RegExp(`checkpoint ${ck.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupted or incomplete`));
  });
});
