/**
 * CLI end to end for the saliency room: a tiny saved model and NumPy inputs →
 * `scaat explain` (attributions .npy equal to the library's) → `scaat evaluate --shard i/n` ×3 →
 * `scaat merge` equals the unsharded `scaat evaluate`.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { summaryText } from '../../src/cli/commands/evaluate.js';
import { saveClassifier, loadClassifier } from '../../src/models/io.js';
import { fromLayersModel } from '../../src/models/classifier.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import { vanillaGradient } from '../../src/saliency/vanilla-gradient.js';
import { Rng } from '../../src/engine/random.js';
import type { EvaluationResult } from '../../src/metrics/evaluation-result.js';
import { stratifiedSubset } from '../../src/datasets/subset.js';
import { expectClose, useBackend } from '../helpers/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-explain-'));
const f = (name: string): string => path.join(dir, name);
const N = 7;
/** Labels stored class by class: 3, 2, 2 samples. */
const SORTED = Int32Array.from([0, 0, 0, 1, 1, 2, 2]);

beforeAll(async () => {
  await useBackend('cpu');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 3, kernelSize: 3, activation: 'tanh', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }),
    ],
  });
  await saveClassifier(fromLayersModel(model), f('model'));
  const rng = new Rng(3);
  await writeNpy(f('x.npy'), Float32Array.from({ length: N * 64 }, () => rng.next()), [N, 8, 8, 1]);
  await writeNpy(f('y.npy'), Int32Array.from({ length: N }, (_, i) => i % 3), [N]);
  await writeNpy(f('sorted.npy'), SORTED, [N]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const common = ['-m', f('model'), '-d', 'npy', '--data-path', f('x.npy'), '--labels', f('y.npy'), '--backend', 'cpu', '-q'];

describe('scaat explain / evaluate / merge', () => {
  it('explain writes the library’s attributions as .npy, the 8-bit maps and a sidecar', async () => {
    const code = await main(['explain', ...common, '--method', 'vanilla-gradient', '--batch-size', '3', '--out', f('vg.npy'), '--maps', f('maps.npy')]);
    expect(code).toBe(0);
    const a = await readNpy(f('vg.npy'));
    expect(a.shape).toEqual([N, 8, 8, 1]);
    const clf = await loadClassifier(f('model'));
    const x = await readNpy(f('x.npy'));
    const ref = tf.tidy(() => vanillaGradient()(clf, tf.tensor4d(x.data as Float32Array, [N, 8, 8, 1]), tf.tensor1d(Int32Array.from({ length: N }, (_, i) => i % 3), 'int32')).dataSync());
    expectClose(a.data, ref, { rtol: 1e-5 });
    const maps = await readNpy(f('maps.npy'));
    expect([maps.dtype, ...maps.shape]).toEqual(['uint8', N, 8, 8]);
    const meta = JSON.parse(readFileSync(f('vg.npy.json'), 'utf8')) as { index: number[]; label: number[] };
    expect(meta.index).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(meta.label).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('fails with a usage error (exit 2) and writes nothing for a bad option', async () => {
    const code = await main(['explain', ...common, '--method', 'nope', '--out', f('bad.npy')]);
    expect(code).toBe(2);
    expect(existsSync(f('bad.npy'))).toBe(false);
  });

  it('merging three shards gives exactly the unsharded evaluation', async () => {
    const evalArgs = [
      'evaluate', ...common, '--methods', 'vanilla-gradient,integrated-gradients', '--method-options', '{"integrated-gradients":{"steps":2}}',
      '--batch-size', '2', '--ratios', '0,0.5', '--attack-steps', '1', '--seed', '4',
    ];
    expect(await main([...evalArgs, '--out', f('whole.json')])).toBe(0);
    for (let i = 0; i < 3; i++) expect(await main([...evalArgs, '--shard', `${i}/3`, '--out', f(`part${i}.json`)])).toBe(0);
    expect(await main(['merge', f('part2.json'), f('part0.json'), f('part1.json'), '--out', f('merged.json'), '-q'])).toBe(0);
    const read = (n: string): EvaluationResult => JSON.parse(readFileSync(f(n), 'utf8')) as EvaluationResult;
    const strip = (r: EvaluationResult): unknown => ({ ...r, provenance: null });
    const whole = read('whole.json');
    expect(strip(read('merged.json'))).toEqual(strip(whole));
    expect(whole.images.index).toHaveLength(N);
    expect(whole.methods.map((m) => m.method)).toEqual(['vanilla-gradient', 'integrated-gradients']);
    // a missing shard is a data error (exit 3)
    expect(await main(['merge', f('part0.json'), f('part1.json'), '--out', f('bad.json'), '-q'])).toBe(3);
  });

  it('--aopc-fill uniform,black: each fill as evaluated alone, under its own names; its shards merge exactly', async () => {
    const evalArgs = ['evaluate', ...common, '--methods', 'vanilla-gradient', '--metrics', 'aopc-morf,aopc-lerf,aopc-rel', '--batch-size', '2', '--aopc-fraction', '0.25', '--seed', '4'];
    expect(await main([...evalArgs, '--aopc-fill', 'uniform,black', '--out', f('fills.json')])).toBe(0);
    for (const fill of ['uniform', 'black']) expect(await main([...evalArgs, '--aopc-fill', fill, '--out', f(`fill-${fill}.json`)])).toBe(0);
    for (let i = 0; i < 2; i++) expect(await main([...evalArgs, '--aopc-fill', 'uniform,black', '--shard', `${i}/2`, '--out', f(`fills-part${i}.json`)])).toBe(0);
    expect(await main(['merge', f('fills-part1.json'), f('fills-part0.json'), '--out', f('fills-merged.json'), '-q'])).toBe(0);
    const read = (n: string): EvaluationResult => JSON.parse(readFileSync(f(n), 'utf8')) as EvaluationResult;
    const [both, uniform, black] = [read('fills.json'), read('fill-uniform.json'), read('fill-black.json')];
    expect({ ...read('fills-merged.json'), provenance: null }).toEqual({ ...both, provenance: null });
    expect(both.config.aopc.fill).toEqual(['uniform', 'black']);
    const m = both.methods[0]!;
    expect(m.metrics).toEqual(['aopc-morf', 'aopc-lerf', 'aopc-rel'].flatMap((row) => [uniform, black].map((r) => r.methods[0]!.metrics.find((s) => s.name === row)!)));
    expect(m.perImage).toEqual({
      ...uniform.methods[0]!.perImage,
      'aopc-morf (black fill)': black.methods[0]!.perImage['aopc-morf'], 'aopc-lerf (black fill)': black.methods[0]!.perImage['aopc-lerf'],
    });
    expect([m.aopc, m.aopcMore]).toEqual([uniform.methods[0]!.aopc, [black.methods[0]!.aopc]]);
    // the terminal summary names the fill of a row given twice, and only then
    expect(summaryText(both, 'fills.json')).toMatch(/aopc-morf \(uniform fill\) ↑ \S+, aopc-morf \(black fill\) ↑/);
    expect(summaryText(uniform, 'fill-uniform.json')).toMatch(/: aopc-morf ↑ \S+, aopc-lerf ↓/);
  });

  it('--limit takes the same class-stratified sample in explain and evaluate; its shards merge exactly', async () => {
    const sorted = ['-m', f('model'), '-d', 'npy', '--data-path', f('x.npy'), '--labels', f('sorted.npy'), '--backend', 'cpu', '-q', '--limit', '3', '--seed', '4'];
    // quotas 3·(3, 2, 2)/7 = 1.29, 0.86, 0.86 → one image of each class (the first 3 were all class 0)
    const sample = Array.from(stratifiedSubset(SORTED, 3, 4));
    expect(sample.map((i) => SORTED[i])).toEqual([0, 1, 2]);
    expect(await main(['explain', ...sorted, '--out', f('limited.npy')])).toBe(0);
    const meta = JSON.parse(readFileSync(f('limited.npy.json'), 'utf8')) as { index: number[]; label: number[]; sample: unknown };
    expect(meta.index).toEqual(sample);
    expect(meta.label).toEqual([0, 1, 2]);
    expect(meta.sample).toEqual({ rule: 'class-stratified', seed: 4, limit: 3, size: 3, classHistogram: [1, 1, 1] });
    expect((await readNpy(f('limited.npy'))).shape).toEqual([3, 8, 8, 1]);

    const evalArgs = ['evaluate', ...sorted, '--methods', 'vanilla-gradient', '--batch-size', '1', '--ratios', '0,0.5', '--attack-steps', '1'];
    expect(await main([...evalArgs, '--out', f('limited-whole.json')])).toBe(0);
    for (let i = 0; i < 3; i++) expect(await main([...evalArgs, '--shard', `${i}/3`, '--out', f(`limited-part${i}.json`)])).toBe(0);
    expect(await main(['merge', f('limited-part1.json'), f('limited-part2.json'), f('limited-part0.json'), '--out', f('limited-merged.json'), '-q'])).toBe(0);
    const read = (n: string): EvaluationResult => JSON.parse(readFileSync(f(n), 'utf8')) as EvaluationResult;
    const whole = read('limited-whole.json');
    expect(whole.images.index).toEqual(sample);
    expect(whole.sample).toEqual({ rule: 'class-stratified', seed: 4, size: 3, classHistogram: [1, 1, 1] });
    expect(read('limited-part1.json').images.index).toEqual([sample[1]]);
    expect({ ...read('limited-merged.json'), provenance: null }).toEqual({ ...whole, provenance: null });
  });
});
