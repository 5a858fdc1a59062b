import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSweep } from './from-sweep.js';
import { loadResults, readTrainLog } from './load-results.js';
import { buildSweepTable, formatSweepTableMarkdown, formatSweepTableText } from './sweep-table.js';
import { buildTable, describeTrainingWarning, tableCaveats } from './table.js';

/** An evaluation file of `scaat evaluate` (model.source 'in-memory': its folder is the run folder); the golden file predates `provenance`. */
const EVALUATION = JSON.stringify({ ...(JSON.parse(readFileSync(new URL('../../test/fixtures/evaluation-golden/black-fill.json', import.meta.url), 'utf8')) as object), provenance: {} });
const msg = (epoch: number) => `epoch ${epoch + 1}: the model predicts class 0 for all 8 test samples (a constant predictor, test accuracy 0.2500)`;
const lines = (records: readonly object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** A training log: epochs 0–5, the constant predictor from epoch 2 on (epoch 3 logged twice, as a resumed run does), another code at epoch 1. */
const WARNED_LOG = lines([
  { type: 'start', backend: { name: 'cpu' } },
  ...[0, 1, 2, 3].map((epoch) => ({ type: 'epoch', epoch, train: { loss: 1 }, seconds: 1 })),
  { type: 'warning', epoch: 1, code: 'slow-epoch', message: 'epoch 2: slow' },
  { type: 'warning', epoch: 2, code: 'constant-predictor', message: msg(2) },
  { type: 'warning', epoch: 3, code: 'constant-predictor', message: msg(3) },
  { type: 'warning', epoch: 3, code: 'constant-predictor', message: msg(3) },
  { type: 'warning', epoch: 5, code: 'constant-predictor', message: msg(5) },
  { type: 'warning', epoch: 4, code: 'constant-predictor', message: msg(4) },
]);
const HEALTHY_LOG = lines([{ type: 'start' }, ...[0, 1].map((epoch) => ({ type: 'epoch', epoch, train: { loss: 1 }, seconds: 1 }))]);

describe('training warnings from a run folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-warnings-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A sweep folder of two seeds of one trainer, each cell evaluated with the same settings. */
  function makeSweep(name: string, logs: readonly string[]): string {
    const sweepDir = path.join(dir, name);
    const evaluation = { methods: ['vanilla-gradient'] };
    const cells = logs.map((log, seed) => {
      const cellName = `seed=${seed}__trainer=sgt`;
      const cellDir = path.join(sweepDir, cellName);
      mkdirSync(cellDir, { recursive: true });
      writeFileSync(path.join(cellDir, 'eval.json'), EVALUATION);
      writeFileSync(path.join(cellDir, 'cell.json'), JSON.stringify({ evaluation }));
      writeFileSync(path.join(cellDir, 'config.json'), JSON.stringify({ trainer: 'sgt', seed }));
      writeFileSync(path.join(cellDir, 'log.jsonl'), log);
      return { name: cellName, params: { seed: String(seed), trainer: 'sgt' }, status: 'done' };
    });
    writeFileSync(
      path.join(sweepDir, 'sweep.json'),
      JSON.stringify({ kind: 'scaat-sweep', schemaVersion: 1, gridFile: 'grid.json', grid: {}, evaluation, seedAxis: 'seed', partitionAxis: 'data', cells }),
    );
    return sweepDir;
  }

  it('merges the log\'s warning records per code: distinct 0-based epochs in order, the last message', async () => {
    const file = path.join(dir, 'log.jsonl');
    writeFileSync(file, WARNED_LOG);
    const { warnings, epochs } = await readTrainLog(file);
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]); // warnings are not epoch records
    expect(warnings).toEqual([
      { code: 'slow-epoch', epochs: [1], message: 'epoch 2: slow' },
      { code: 'constant-predictor', epochs: [2, 3, 4, 5], message: 'epoch 5: the model predicts class 0 for all 8 test samples (a constant predictor, test accuracy 0.2500)' },
    ]);
  });

  it('gives a run folder\'s run its warnings, and lists them in the single-run report\'s caveats', async () => {
    const run = path.join(dir, 'run');
    mkdirSync(run);
    writeFileSync(path.join(run, 'config.json'), JSON.stringify({ trainer: 'sgt', seed: 0 }));
    writeFileSync(path.join(run, 'log.jsonl'), WARNED_LOG);
    const results = await loadResults([run]);
    expect(results.runs[0]!.trainingWarnings?.map((w) => [w.code, w.epochs])).toEqual([['slow-epoch', [1]], ['constant-predictor', [2, 3, 4, 5]]]);
    const caveats = tableCaveats(buildTable(results), results);
    expect(caveats).toContain('training warning (Saliency guided): constant predictor at epochs 3–6 (last: epoch 5: the model predicts class 0 for all 8 test samples (a constant predictor, test accuracy 0.2500))');
    expect(caveats).toContain('training warning (Saliency guided): slow epoch at epoch 2 (last: epoch 2: slow)');
    // the known codes in words: train/loop.ts's overfitted-attack warning
    expect(describeTrainingWarning({ code: 'attack-overfit', epochs: [1, 2, 3], message: 'epoch 4: …' })).toBe(
      'training attack overfitted (advAcc above clean accuracy) at epochs 2–4 (last: epoch 4: …)',
    );
  });

  it('carries them into a sweep cell evaluated from its run folder, its group marked and the cell named under the table', async () => {
    const sweep = await loadSweep(makeSweep('warned', [WARNED_LOG, HEALTHY_LOG]));
    expect(sweep.cells.map((c) => c.run?.trainingWarnings?.map((w) => w.code))).toEqual([['slow-epoch', 'constant-predictor'], undefined]);
    const table = buildSweepTable(sweep, { metrics: 'headline' });
    const text = formatSweepTableText(table);
    expect(text).toMatch(/\n {2}trainer=sgt ⚠ ‡\s+2\s/); // ‡: the black fill equals this data's background (an evaluation warning)
    expect(text).toContain('- seed=0__trainer=sgt (group trainer=sgt): constant predictor at epochs 3–6 (last: epoch 5:');
    expect(text).toContain('- seed=0__trainer=sgt (group trainer=sgt): slow epoch at epoch 2 (last: epoch 2: slow); its group\'s mean includes it');
    expect(formatSweepTableMarkdown(table)).toContain('\n| trainer=sgt ⚠ ‡ | 2 |');
  });

  it('leaves a sweep without warnings as it was', async () => {
    const sweep = await loadSweep(makeSweep('healthy', [HEALTHY_LOG, HEALTHY_LOG]));
    expect(sweep.cells.every((c) => c.run !== undefined && !('trainingWarnings' in c.run))).toBe(true);
    const text = formatSweepTableText(buildSweepTable(sweep, { metrics: 'headline' }));
    expect(text).not.toMatch(/⚠|Training warnings/);
  });
});
