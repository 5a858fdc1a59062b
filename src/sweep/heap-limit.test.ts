/**
 * A sweep whose cell runs out of the wasm heap stops there: the cell's error.json names the step and
 * the batch (HeapLimitError, exit 2 from the CLI), and no further cell runs on a heap that may be
 * corrupted. The heap really fills: the stand-in trainer's step asks the wasm backend for two
 * 2.5 GiB outputs (address space only; nothing is written), as a too-large batch would.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillWasmHeap } from '../../test/helpers/index.js';
import { openDataSource } from '../cli/commands/_inputs.js';
import { setupBackend } from '../engine/backend.js';
import { HeapLimitError } from '../errors.js';
import { ALL_TRAINERS } from '../scaat/registry.js';
import type { TrainerRegistry, TrainerSpec } from '../train/registry.js';
import { parseGrid } from './grid.js';
import { runSweep } from './run.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-heap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// 'regular' whose step, after its first, allocates more than the heap can hold
const regular = ALL_TRAINERS.get('regular')!;
const hog: TrainerSpec = {
  ...regular,
  label: 'heap hog (test)',
  create: (init) => {
    const inner = regular.create(init);
    let steps = 0;
    return {
      name: 'heap-hog',
      step: (input, ctx) => {
        if (steps++ === 1) fillWasmHeap();
        return inner.step(input, ctx);
      },
    };
  },
};
const trainers: TrainerRegistry = new Map([...ALL_TRAINERS, ['heap-hog', hog]]);

describe('a sweep cell that runs out of the wasm heap', () => {
  beforeAll(async () => {
    await setupBackend({ backend: 'wasm' });
  });

  it('stops the sweep with a HeapLimitError recorded in its error.json; the next cell does not run', async () => {
    const grid = parseGrid(
      {
        base: { data: 'synthetic:count=64,imageSize=16', model: 'mlp', width: 0.25, epochs: 1, batchSize: 16, evalLimit: 16, logEvery: 1, checkpointEvery: 1, backend: 'wasm' },
        axes: { trainer: ['heap-hog', 'regular'], seed: [0] },
        evaluation: { limit: 8, batchSize: 8, methods: ['vanilla-gradient'], metrics: ['entropy'], examples: 0 },
      },
      path.join(tmp, 'grid.json'),
      trainers,
    );
    const out = path.join(tmp, 'out');
    const run = runSweep({ grid, out, trainers, openData: (spec, split, where) => openDataSource(spec, { option: where, split }), log: () => {} });
    const err = await run.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HeapLimitError);
    const message = (err as Error).message;
    expect(message).toMatch(/^epoch 1, step 2: the heap-hog training step at batchSize 16 on 16×16×3 inputs needs more memory than the wasm backend's 4 GiB heap/);
    expect(message).toMatch(/--set batchSize=8/);
    expect(message).toMatch(/The last checkpoint before it is .*step-0+1$/);
    const error = JSON.parse(readFileSync(path.join(out, 'trainer=heap-hog__seed=0', 'error.json'), 'utf8')) as Record<string, unknown>;
    expect(error).toMatchObject({ error: 'HeapLimitError', code: 'HEAP_LIMIT', message });
    // the regular cell after it never started
    expect(existsSync(path.join(out, 'trainer=regular__seed=0', 'config.json'))).toBe(false);
    const sweep = JSON.parse(readFileSync(path.join(out, 'sweep.json'), 'utf8')) as { cells: Array<{ name: string; status: string }> };
    expect(sweep.cells.map((c) => c.status)).toEqual(['failed', 'pending']);
  }, 60_000);

  it('out of heap while a cell is evaluated: the same stop, named for the cell and the evaluation batch', async () => {
    const grid = parseGrid(
      {
        base: { data: 'synthetic:count=64,imageSize=16', model: 'mlp', width: 0.25, epochs: 1, batchSize: 16, evalEvery: 0, logEvery: 1, checkpointEvery: 0, backend: 'wasm' },
        axes: { seed: [0, 1] },
        evaluation: { limit: 8, batchSize: 8, methods: ['vanilla-gradient'], metrics: ['entropy'], examples: 0 },
      },
      path.join(tmp, 'grid-eval.json'),
      trainers,
    );
    const out = path.join(tmp, 'out-eval');
    // with evalEvery 0 a cell's training reads only the train split: its test split is the evaluation's
    const openData = async (spec: string, split: string, where: string) => {
      if (split === 'test' && where.includes('cell seed=0:')) fillWasmHeap();
      return openDataSource(spec, { option: where, split });
    };
    const err = await runSweep({ grid, out, trainers, openData, log: () => {} }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HeapLimitError);
    const message = (err as Error).message;
    expect(message).toMatch(/^cell seed=0: the wasm backend's 4 GiB heap \(wasm32's limit\) is full outside a training step \(wasm said: an allocation of 2684354560 bytes failed .*\); lower the grid's evaluation\.batchSize \(8 now\)$/);
    expect(JSON.parse(readFileSync(path.join(out, 'seed=0', 'error.json'), 'utf8'))).toMatchObject({ error: 'HeapLimitError', code: 'HEAP_LIMIT', message });
    expect(existsSync(path.join(out, 'seed=0', 'model', 'model.json'))).toBe(true); // trained; evaluation failed
    expect(existsSync(path.join(out, 'seed=1', 'config.json'))).toBe(false);
  }, 60_000);
});
