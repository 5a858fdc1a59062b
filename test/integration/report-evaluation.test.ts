/**
 * The report reads what the other rooms write: a real `evaluate()` result (metrics room) saved
 * in a run folder with a training config and log (train room's layout) becomes one report run
 * with the right trainer, config, curves and metric values, and renders every data figure.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSynthetic } from '../../src/datasets/synthetic.js';
import { evaluate } from '../../src/metrics/evaluate.js';
import type { EvaluationResult } from '../../src/metrics/evaluation-result.js';
import { exampleGridSvg } from '../../src/report/example-grid.js';
import { figureSpecs } from '../../src/report/figures.js';
import { loadResults } from '../../src/report/load-results.js';
import { parseResults } from '../../src/report/run-results.js';
import { buildTable } from '../../src/report/table.js';
import { saliencyMethods } from '../../src/saliency/registry.js';
import { linearClassifier, useBackend } from '../helpers/index.js';

describe('report ← evaluate + run folder', () => {
  let dir: string;
  let run: string;
  let evaluation: EvaluationResult;

  beforeAll(async () => {
    await useBackend('cpu');
    dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-report-eval-'));
    run = path.join(dir, 'scaat-run');
    mkdirSync(run);
    const dataset = await openSynthetic({ count: 6, imageSize: 16, channels: 1, numClasses: 2, split: 'test', seed: 1 });
    const clf = linearClassifier([16, 16, 1], 2, { seed: 3, scale: 0.1 });
    try {
      evaluation = await evaluate(clf, dataset, {
        methods: saliencyMethods(['vanilla-gradient', 'smooth-grad', 'integrated-gradients'], { 'smooth-grad': { samples: 2 }, 'integrated-gradients': { steps: 4 } }),
        metrics: ['entropy', 'size', 'aopc-morf', 'aopc-lerf', 'aopc-rel', 'robustness-attack', 'robustness-noise'],
        batchSize: 6,
        robustness: { ratios: [0, 0.5], attack: { steps: 1 } },
        modelSource: run,
        examples: 3,
      });
    } finally {
      clf.model.dispose();
      tf.dispose([clf.W, clf.b]);
    }
    writeFileSync(path.join(run, 'eval.json'), JSON.stringify(evaluation));
    writeFileSync(path.join(run, 'config.json'), JSON.stringify({ trainer: 'scaat', model: 'linear', seed: 3, epochs: 2 }));
    const hist = (c: number[]) => ({ edges: [0, 0.25, 0.5, 0.75, 1], counts: c });
    writeFileSync(
      path.join(run, 'log.jsonl'),
      [
        { type: 'start', time: '2025-01-01T00:00:00Z' },
        { type: 'step', epoch: 0, step: 0, loss: 2 },
        { type: 'epoch', epoch: 0, loss: 0.9, acc: 0.6, lr: 0.001, seconds: 10, q: { mean: 0.5, quantiles: { median: 0.5 }, histogram: hist([0, 6, 0, 0]) } },
        { type: 'epoch', epoch: 1, loss: 0.5, acc: 0.8, lr: 0.001, seconds: 12, q: { mean: 0.55, quantiles: { median: 0.55 }, histogram: hist([0, 2, 4, 0]) } },
        { type: 'end' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes trainer, config, seed and curves from the run folder', async () => {
    const results = await loadResults([run]);
    expect(results.runs).toHaveLength(1);
    const r = results.runs[0]!;
    expect([r.id, r.trainer, r.model, r.seed]).toEqual(['scaat-run', 'scaat', 'linear', 3]);
    expect(r.training!.epochs.map((e) => [e.epoch, e['loss']])).toEqual([[0, 0.9], [1, 0.5]]);
    expect(r.training!.q!.map((q) => q.histogram.counts)).toEqual([[0, 6, 0, 0], [0, 2, 4, 0]]);
    expect(r.timings).toEqual({ train: 22, evaluate: evaluation.provenance.seconds.total });
  });

  it('carries every metric value of the evaluation into the table', async () => {
    const results = await loadResults([path.join(run, 'eval.json')]);
    const t = buildTable(results, { metrics: 'all' });
    expect(t.accuracy.values).toEqual([evaluation.cleanAccuracy.value]);
    expect(t.sections.map((s) => s.method)).toEqual(['vanilla-gradient', 'smooth-grad', 'integrated-gradients']);
    for (const [i, m] of evaluation.methods.entries()) {
      for (const metric of m.metrics) {
        const key = metric.variant ? `${metric.name} (${metric.variant})` : metric.name;
        const row = t.sections[i]!.rows.find((x) => x.key === key);
        expect(row?.values, `${m.method} ${key}`).toEqual([metric.value]);
        expect(row?.direction).toBe(metric.direction);
      }
    }
    expect(results.runs[0]!.evaluation!.methods[0]!.perImage!['entropy']).toHaveLength(6);
  });

  it('has the data for every data figure', async () => {
    const results = await loadResults([run]);
    expect(figureSpecs(results).map((f) => f.id)).toEqual(['entropy-distribution', 'robustness', 'aopc-curves', 'q-distribution', 'training-curves']);
  });

  it('shows the evaluation\'s example images and maps in the example grid', async () => {
    const results = parseResults(JSON.parse(JSON.stringify(await loadResults([run]))), 'loaded'); // valid per the report's schema
    const r = results.runs[0]!;
    expect(r.examples!.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(r.examples).toEqual(evaluation.examples);
    expect(Object.keys(r.examples![0]!.maps)).toEqual(['vanilla-gradient', 'smooth-grad', 'integrated-gradients']);
    const grid = exampleGridSvg(results);
    expect(grid?.id).toBe('examples');
    // one embedded PNG per image and per map: 3 rows × (1 image + 3 methods)
    expect(grid!.svg.match(/data:image\/png;base64,/g)?.length).toBeGreaterThanOrEqual(3 * 4);
  });
});

describe('report ← an evaluation of two AOPC fills', () => {
  it('shows each fill as its own row (all metrics), the first fill in the headline table, and both fills\' curves', async () => {
    await useBackend('cpu');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-report-fills-'));
    try {
      const dataset = await openSynthetic({ count: 4, imageSize: 16, channels: 1, numClasses: 2, split: 'test', seed: 1 });
      const clf = linearClassifier([16, 16, 1], 2, { seed: 3, scale: 0.1 });
      let evaluation: EvaluationResult;
      try {
        evaluation = await evaluate(clf, dataset, {
          methods: saliencyMethods(['vanilla-gradient']), metrics: ['entropy', 'aopc-morf', 'aopc-lerf', 'aopc-rel'], batchSize: 4, examples: 0,
          aopc: { fill: ['uniform', 'black'] },
        });
      } finally {
        clf.model.dispose();
        tf.dispose([clf.W, clf.b]);
      }
      writeFileSync(path.join(dir, 'eval.json'), JSON.stringify(evaluation));
      const results = parseResults(JSON.parse(JSON.stringify(await loadResults([path.join(dir, 'eval.json')]))), 'loaded'); // valid per the report's schema
      const m = results.runs[0]!.evaluation!.methods[0]!;
      expect(m.aopcMore!.map((c) => c.fill)).toEqual(['black']);
      expect(Object.keys(m.perImage!)).toContain('aopc-lerf (black fill)');
      const all = buildTable(results, { metrics: 'all' });
      const keys = all.sections[0]!.rows.map((r) => r.key);
      expect(keys).toEqual(['entropy', 'aopc-lerf (uniform fill)', 'aopc-lerf (black fill)', 'aopc-rel (uniform fill)', 'aopc-rel (black fill)', 'aopc-morf (uniform fill)', 'aopc-morf (black fill)']);
      for (const s of evaluation.methods[0]!.metrics) expect(all.sections[0]!.rows.find((r) => r.key === (s.variant ? `${s.name} (${s.variant})` : s.name))!.values).toEqual([s.value]);
      expect(buildTable(results, { metrics: 'headline' }).sections[0]!.rows.map((r) => r.key)).toEqual(['entropy', 'aopc-lerf (uniform fill)', 'aopc-rel (uniform fill)']);
      const curves = figureSpecs(results).find((f) => f.id === 'aopc-curves')!.spec as unknown as { facet: { row: { sort: string[] } } };
      expect(curves.facet.row.sort).toEqual(['MoRF, uniform fill', 'LeRF, uniform fill', 'MoRF, black fill', 'LeRF, black fill']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
