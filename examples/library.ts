/**
 * scaat as a library: train a regular and a SCAAT model on MNIST (embedded), then compare their
 * vanilla-gradient saliency maps. About a minute on 2 cores.
 *
 *   npx tsx examples/library.ts [outDir]
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { ALL_TRAINERS, evaluate, openDataset, optionsResolver, resolveConfig, saliencyMethods, train } from '../src/index.js';

const out = process.argv[2] ?? mkdtempSync(path.join(os.tmpdir(), 'scaat-example-'));
const data = {
  train: await openDataset({ source: 'mnist', split: 'train' }),
  test: await openDataset({ source: 'mnist', split: 'test' }),
};

for (const trainer of ['regular', 'scaat']) {
  // defaults ← these values (a preset file and --set overrides are just more layers)
  const config = resolveConfig(
    [{
      source: 'examples/library.ts',
      values: {
        trainer, data: 'mnist', model: 'small-cnn', width: 0.25, epochs: 2, trainLimit: 8192, evalLimit: 1000,
        batchSize: 64, optimizer: 'adam', lr: 0.002, seed: 7,
        // ε = 0.3 for MNIST-like data (method.md §2); FGSM with random start, the cheap variant
        trainerOptions: { scaat: { epsilon: 0.3, attack: 'fgsm-rs', warmupEpochs: 1 } },
      },
    }],
    optionsResolver(ALL_TRAINERS),
  );
  const run = await train({ config, data, runDir: path.join(out, trainer), trainers: ALL_TRAINERS });
  const result = await evaluate(run.classifier, data.test, {
    methods: saliencyMethods(['vanilla-gradient']),
    metrics: ['entropy', 'aopc-lerf', 'aopc-morf', 'aopc-rel'],
    limit: 128,
  });
  const summary = Object.fromEntries(result.methods[0]!.metrics.map((m) => [m.name, m.value === null ? null : Number(m.value.toFixed(3))]));
  console.log(trainer.padEnd(8), `test acc ${run.test?.acc.toFixed(3)}`, JSON.stringify(summary));
}
console.log(`runs in ${out}`);
