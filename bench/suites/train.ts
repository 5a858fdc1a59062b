/**
 * Train suite: memory stability and speed of the trainers over many steps (default 1000).
 * For each trainer it runs the training step on an in-memory blob dataset and records, every
 * `--every` steps, tf.memory().numTensors and numBytes and the JS heap. A trainer leaks when
 * numTensors after the last step differs from after the first (optimizer buffers exist from the
 * start, so the count must be flat). Prints a Markdown table; exits non-zero on a leak.
 *
 *   npm run bench -- --suite train -- [--steps 1000] [--trainers regular,pgd-at,sgt,scaat]
 *                                      [--model mlp] [--width 0.25] [--batch 32] [--size 8] [--backend wasm]
 *   npx tsx bench/suites/train.ts [same flags]        (standalone)
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/random.js';
import { toTensors } from '../../src/datasets/dataset.js';
import { MODELS } from '../../src/models/registry.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { resolveConfig } from '../../src/train/config.js';
import { createOptimizer } from '../../src/train/optimizers.js';
import { optionsResolver } from '../../src/train/registry.js';
import { blobsDataset } from '../../src/train/_testing.js';
import { markdownTable, median } from '../_common.js';
import type { Suite, SuiteOptions } from '../_common.js';
import { scriptArgs } from '../../scripts/_args.js';

interface Trace {
  step: number;
  numTensors: number;
  numBytes: number;
  heapMiB: number;
}

async function benchTrainer(name: string, o: { steps: number; every: number; model: string; width: number; batch: number; size: number }) {
  const shape = [o.size, o.size, 3] as const;
  const cfg = resolveConfig([{ source: 'bench', values: { trainer: name, optimizer: 'adam', lr: 1e-3, weightDecay: 0 } }], optionsResolver(ALL_TRAINERS));
  const data = blobsDataset({ size: 512, shape, numClasses: 4, noise: 0.2, seed: 1 });
  const clf = MODELS.get(o.model)!.create({ inputShape: shape, numClasses: 4, seed: 1, width: o.width });
  const opt = createOptimizer(clf.trainableVariables(), cfg);
  const trainer = ALL_TRAINERS.get(name)!.create({ config: cfg, options: cfg.trainerOptions[name]!, trainSize: data.size, inputShape: shape, numClasses: 4 });
  const rng = new Rng(2);
  const trace: Trace[] = [];
  const ms: number[] = [];
  let step = 0;
  for (let epoch = 0; step < o.steps; epoch++) {
    for await (const b of data.batches({ batchSize: o.batch, shuffle: true, seed: 1, epoch, dropLast: true })) {
      if (step >= o.steps) break;
      const t0 = performance.now();
      const { x, y } = toTensors(b);
      trainer.step({ x, y, index: b.index }, { classifier: clf, optimizer: opt, epoch, step, rng });
      tf.dispose([x, y]);
      ms.push(performance.now() - t0);
      step++;
      if (step === 1 || step % o.every === 0 || step === o.steps) {
        const m = tf.memory();
        trace.push({ step, numTensors: m.numTensors, numBytes: m.numBytes, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 });
      }
    }
    trainer.epochSummary?.(epoch);
  }
  opt.dispose();
  clf.model.dispose();
  return { trace, ms };
}

export const trainSuite: Suite = {
  description: 'numTensors / bytes / heap over 1000 training steps per trainer (leak check) and ms per step',
  async run(so: SuiteOptions) {
    const { values } = scriptArgs({
      args: [...so.args],
      options: {
        steps: { type: 'string', default: '1000' },
        every: { type: 'string', default: '100' },
        trainers: { type: 'string', default: [...ALL_TRAINERS.keys()].join(',') },
        model: { type: 'string', default: 'mlp' },
        width: { type: 'string', default: '0.25' },
        batch: { type: 'string', default: '32' },
        size: { type: 'string', default: '8' },
        backend: { type: 'string', default: 'wasm' },
      },
    }, 'npm run bench -- --suite train -- [--steps 1000] [--every 100] [--trainers regular,pgd-at,sgt,scaat] [--model mlp] [--width 0.25] [--batch 32] [--size 8] [--backend wasm]');
    const info = await setupBackend({ backend: values.backend });
    const o = { steps: Number(values.steps), every: Number(values.every), model: values.model, width: Number(values.width), batch: Number(values.batch), size: Number(values.size) };
    const names = values.trainers.split(',');
    console.error(`# train: ${info.name}, ${info.machine}, model ${o.model} ×${o.width} on ${o.size}×${o.size}×3, batch ${o.batch}, ${o.steps} steps, ${new Date().toISOString()}`);
    const rows: string[][] = [];
    const results: Record<string, unknown> = {};
    let leaked = false;
    for (const name of names) {
      if (!ALL_TRAINERS.has(name)) throw new Error(`train suite: unknown trainer '${name}' (${[...ALL_TRAINERS.keys()].join(', ')})`);
      const r = await benchTrainer(name, o);
      const first = r.trace[0]!;
      const last = r.trace[r.trace.length - 1]!;
      const leak = last.numTensors - first.numTensors;
      leaked ||= leak !== 0;
      rows.push([name, String(last.step), median(r.ms).toFixed(1), `${first.numTensors} → ${last.numTensors}`, `${(first.numBytes / 1024).toFixed(0)} → ${(last.numBytes / 1024).toFixed(0)}`, `${first.heapMiB.toFixed(0)} → ${last.heapMiB.toFixed(0)}`, leak === 0 ? 'no' : `${leak} tensors`]);
      results[name] = r;
    }
    console.log(`\ntrain suite, ${info.name}, ${info.machine}, ${o.model} ×${o.width}, ${o.size}×${o.size}×3, batch ${o.batch}, ${new Date().toISOString()}`);
    console.log(markdownTable(['trainer', 'steps', 'median ms/step', 'numTensors (step 1 → last)', 'tensor KiB', 'heap MiB', 'leak'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'l']));
    if (leaked) process.exitCode = 1;
    return { options: o, results };
  },
};

// Standalone: npx tsx bench/suites/train.ts [flags]
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await trainSuite.run({ reps: 1, warmup: 0, args: process.argv.slice(2) });
}
