/**
 * `scaat explain`: attributions of a model on data, written as NumPy .npy files.
 *
 *   scaat explain -m runs/scaat -d data/cifar-10-batches-bin \
 *     --method integrated-gradients --method-options '{"steps":100}' --limit 256 \
 *     --out out/ig.npy --maps out/ig-maps.npy
 *
 * Writes `<out>` (float32 [N, H, W, C], the attributions), optionally `--maps` (uint8 [N, H, W],
 * the 8-bit maps of method.md §4) and `<out>.json` (indices, labels, explained classes, method and
 * options, model and its weights' SHA-256 (and checkpoint), data, backend; `label` and `target` are
 * per-image arrays). Files appear atomically, only when complete: a failure or a signal removes the
 * partial files. Non-finite attributions are an error naming the image and method.
 * `--limit n` takes a class-stratified sample of n (datasets/subset.ts, drawn with `--seed`; sorted indices, recorded as `sample`).
 * The flags it shares with `scaat evaluate` (--target, --limit, --shard, --batch-size, --seed,
 * --reduction) are the evaluation schema's settings (metrics/evaluation-options.ts): declared,
 * defaulted and checked there.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { toTensors } from '../../datasets/dataset.js';
import { getSaliency } from '../../saliency/registry.js';
import { toSaliencyMap } from '../../saliency/postprocess.js';
import { toUint8Map } from '../../metrics/uint8-map.js';
import { shardRange } from '../../metrics/evaluate.js';
import { drawSubset } from '../../datasets/subset.js';
import { deriveSeed } from '../../engine/random.js';
import { NpyWriter } from '../../io/npy.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { ConfigError, DataError } from '../../errors.js';
import { assertFiniteRows } from '../../metrics/finite.js';
import type { InputOptions } from './_inputs.js';
import { addInputOptions, loadInputs, parseJsonObject, progressPrinter } from './_inputs.js';
import { scaatVersion } from '../../io/package-version.js';
import { resolveLayers } from '../../io/config-schema.js';
import { EVALUATION_SCHEMA } from '../../metrics/evaluation-options.js';
import type { SettingFlags } from './_settings.js';
import { addSettingOptions, settingFlags, settingsFrom } from './_settings.js';

/** The evaluation settings `scaat explain` takes as flags (metrics/evaluation-options.ts declares each one). */
export const EXPLAIN_SETTING_FLAGS: SettingFlags = {
  keys: ['target', 'limit', 'shard', 'batchSize', 'seed', 'reduction'],
  help: { shard: 'only the i-th of n parts (whole batches)' },
};

/**
 * Options of `scaat explain`: the inputs, the method, the outputs and the settings of
 * {@link EXPLAIN_SETTING_FLAGS} (as commander gives them).
 */
export type ExplainCommandOptions = InputOptions & {
  method: string;
  methodOptions?: string;
  out: string;
  maps?: string;
  quiet?: boolean;
} & Readonly<Record<string, unknown>>;

/** Adds `scaat explain`. */
export function registerExplain(program: Command): void {
  const cmd = addInputOptions(
    program.command('explain').description('compute saliency attributions and write them as NumPy .npy files (plus a JSON sidecar)'),
  )
    .option('--method <name>', 'saliency method (vanilla-gradient, smooth-grad, integrated-gradients, gradient-x-input)', 'vanilla-gradient')
    .option('--method-options <json>', 'options of the method as JSON, e.g. \'{"samples":50,"noiseLevel":0.15}\'');
  addSettingOptions(cmd, EVALUATION_SCHEMA, 'value', EXPLAIN_SETTING_FLAGS)
    .requiredOption('-o, --out <file.npy>', 'attributions .npy [N, H, W, C] float32')
    .option('--maps <file.npy>', 'also write the 8-bit maps .npy [N, H, W] uint8 (docs/method.md §4.1)')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts: ExplainCommandOptions) => {
      await runExplain(opts);
    });
}

/** Runs `scaat explain`; returns the number of images written. */
export async function runExplain(o: ExplainCommandOptions): Promise<number> {
  const flags = settingFlags(EVALUATION_SCHEMA, EXPLAIN_SETTING_FLAGS);
  const { target: targetMode, limit, shard, batchSize, seed, reduction } = resolveLayers(
    EVALUATION_SCHEMA,
    [{ source: 'explain', values: settingsFrom(o, EVALUATION_SCHEMA, EXPLAIN_SETTING_FLAGS) }],
    { where: 'explain', flagOf: (key) => flags.get(key) },
  );
  if (!o.out.endsWith('.npy') || (o.maps !== undefined && !o.maps.endsWith('.npy'))) throw new ConfigError('--out and --maps: expected file names ending in .npy');
  const spec = getSaliency(o.method);
  const methodOptions = o.methodOptions ? parseJsonObject(o.methodOptions, '--method-options') : {};
  const saliency = spec.create(methodOptions);
  const { backend, classifier, weights, dataset } = await loadInputs(o);
  try {
    const sample = await drawSubset(dataset, limit, seed);
    const { start, end } = shardRange(sample.indices.length, batchSize, shard);
    const n = end - start;
    const [h, w, c] = dataset.shape;
    const attributions = await NpyWriter.create(o.out, 'float32', [n, h, w, c]);
    let maps: NpyWriter | undefined;
    const meta = { index: [] as number[], label: [] as number[], target: [] as number[] };
    const progress = o.quiet ? undefined : progressPrinter('explain');
    try {
      maps = o.maps ? await NpyWriter.create(o.maps, 'uint8', [n, h, w]) : undefined;
      let done = 0;
      const indices = sample.indices.slice(start, end);
      for await (const batch of n > 0 ? dataset.batches({ batchSize, indices }) : []) {
        const { x, y } = toTensors(batch);
        try {
          if (targetMode === 'label' && batch.y.some((v) => v < 0)) throw new ConfigError('--target label needs labels (--labels for --data npy); or use --target predicted');
          const target = targetMode === 'predicted' ? tf.tidy(() => tf.argMax(classifier.logits(x), 1).toInt() as tf.Tensor1D) : y;
          try {
            const a = saliency(classifier, x, target, { seed: deriveSeed(seed, 'saliency', o.method, Math.floor((start + done) / batchSize)) });
            try {
              const values = a.dataSync() as Float32Array;
              assertFiniteRows(values, h * w * c, batch.index, `${o.method} attributions`);
              await attributions.append(values);
              if (maps) {
                const scores = tf.tidy(() => toSaliencyMap(a, reduction).dataSync() as Float32Array);
                const u8 = new Uint8Array(scores.length);
                for (let i = 0; i < batch.shape[0]; i++) u8.set(toUint8Map(scores.subarray(i * h * w, (i + 1) * h * w)), i * h * w);
                await maps.append(u8);
              }
            } finally {
              a.dispose();
            }
            meta.index.push(...batch.index);
            meta.label.push(...batch.y);
            meta.target.push(...(target.dataSync() as Int32Array));
          } finally {
            if (target !== y) target.dispose();
          }
        } finally {
          x.dispose();
          y.dispose();
        }
        done += batch.shape[0];
        progress?.({ done, total: n });
      }
      if (done !== n) throw new DataError(`explain: the dataset yielded ${done} of ${n} samples`);
      await attributions.close();
      await maps?.close();
    } catch (err) {
      await attributions.abort();
      await maps?.abort();
      throw err;
    }
    await writeJsonAtomic(`${o.out}.json`, {
      kind: 'scaat-attributions',
      method: o.method,
      methodLabel: spec.label,
      params: spec.describe(methodOptions),
      targetMode,
      seed,
      shape: [n, h, w, c],
      files: { attributions: o.out, ...(o.maps ? { maps: o.maps, mapReduction: reduction } : {}) },
      model: o.model,
      weights,
      dataset: { format: dataset.format, source: dataset.source, split: dataset.split, size: dataset.size, range: { start, end } },
      sample: sample.info,
      ...meta,
      backend,
      scaatVersion: scaatVersion() ?? 'unknown',
      createdAt: new Date().toISOString(),
    });
    if (!o.quiet) process.stdout.write(`explain: ${n} attributions (${o.method}) → ${o.out}${o.maps ? `, maps → ${o.maps}` : ''}, metadata → ${o.out}.json\n`);
    return n;
  } finally {
    await dataset.close?.();
  }
}
