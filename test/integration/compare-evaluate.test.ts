/**
 * `scaat compare RUN` on a run folder without an evaluation: it evaluates the run on its own
 * dataset (config.json 'data'), writes <run>/eval.json atomically, prints the table, and the next
 * compare reuses the file instead of evaluating again.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationResult } from '../../src/metrics/evaluation-result.js';
import { runEpsilon, trainingEpsilon } from '../../src/cli/commands/compare.js';
import { stratifiedSubset } from '../../src/datasets/subset.js';
import { syntheticLabel } from '../../src/datasets/synthetic.js';
import { runCli } from '../fixtures/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scaat-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DATA = 'synthetic:count=24,imageSize=16,channels=1,numClasses=3';

describe('scaat compare on a run folder without an evaluation', () => {
  it('evaluates it into <run>/eval.json, prints the table, and reuses the file next time', async () => {
    const run = path.join(tmp, 'regular');
    const trained = await runCli([
      'train', '--model', 'mlp', '--data', DATA, '--epochs', '1', '--seed', '1', '--backend', 'wasm', '--out', run,
      '--set', 'width=0.25', '--set', 'batchSize=8', '--set', 'evalEvery=0',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(existsSync(path.join(run, 'eval.json'))).toBe(false);

    const args = ['compare', run, '--limit', '5', '--batch-size', '2', '--methods', 'vanilla-gradient', '--eval-metrics', 'clean-accuracy,entropy,size,aopc-morf,aopc-lerf,aopc-rel', '--backend', 'wasm', '-q'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const evalFile = path.join(run, 'eval.json');
    const result = JSON.parse(readFileSync(evalFile, 'utf8')) as EvaluationResult;
    // its own dataset (16×16×1, 3 classes), the test split, a class-stratified sample of --limit images (seed 0)
    const labels = Array.from({ length: 24 }, (_, i) => syntheticLabel(i, 3));
    expect(result.images.index).toEqual(Array.from(stratifiedSubset(labels, 5, 0)));
    expect(result.sample).toMatchObject({ rule: 'class-stratified', seed: 0, size: 5 });
    expect([...result.sample!.classHistogram].sort()).toEqual([1, 2, 2]);
    expect(result.methods.map((m) => m.method)).toEqual(['vanilla-gradient']);
    expect(readdirSync(run).filter((f) => f.includes('.tmp'))).toEqual([]); // atomic: no temp file left
    expect(first.stdout).toMatch(/Entropy/);
    expect(first.stdout).toMatch(/AOPC_lerf/);

    // the second compare reads the file (unchanged) and prints the same table
    const mtime = statSync(evalFile).mtimeMs;
    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(statSync(evalFile).mtimeMs).toBe(mtime);
    expect(second.stdout).toBe(first.stdout);
  });

  it('names --data and lists the dataset names for an unknown dataset, writing nothing', async () => {
    const run = path.join(tmp, 'regular');
    const other = path.join(tmp, 'other');
    const r0 = await runCli(['train', '--model', 'mlp', '--data', DATA, '--epochs', '1', '--backend', 'wasm', '--out', other, '--set', 'width=0.25', '--set', 'batchSize=8', '--set', 'evalEvery=0']);
    expect(r0.code, r0.stderr).toBe(0);
    const r = await runCli(['compare', run, other, '--data', 'cifar', '--backend', 'wasm', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--data: expected a dataset name \(mnist, .*synthetic.*\) or an existing dataset path, got 'cifar'/);
    expect(existsSync(path.join(other, 'eval.json'))).toBe(false);
  });
});

describe('scaat compare on a run whose weights changed since its evaluation', () => {
  it('evaluates it again (and says why); with --no-evaluate it warns that the numbers are not the model\'s', async () => {
    const train = (out: string, seed: string) =>
      runCli(['train', '--model', 'mlp', '--data', DATA, '--epochs', '1', '--seed', seed, '--backend', 'wasm', '--out', out, '--set', 'width=0.25', '--set', 'batchSize=8', '--set', 'evalEvery=0']);
    const run = path.join(tmp, 'stale');
    const donor = path.join(tmp, 'stale-donor');
    for (const [dir, seed] of [[run, '3'], [donor, '4']] as const) {
      const t = await train(dir, seed);
      expect(t.code, t.stderr).toBe(0);
    }
    const args = ['compare', run, '--limit', '4', '--batch-size', '2', '--methods', 'vanilla-gradient', '--eval-metrics', 'clean-accuracy,entropy', '--backend', 'wasm'];
    const evalFile = path.join(run, 'eval.json');
    const recorded = () => (JSON.parse(readFileSync(evalFile, 'utf8')) as EvaluationResult).model.weights!.sha256;
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    const weights = path.join(run, 'model', 'weights.bin');
    expect((await runCli(args)).code).toBe(0);
    expect(recorded()).toBe(sha(weights));

    // the run's weights change (same architecture, another seed's values)
    copyFileSync(path.join(donor, 'model', 'weights.bin'), weights);
    expect(sha(weights)).not.toBe(recorded());
    const before = readFileSync(evalFile, 'utf8');
    const warned = await runCli([...args, '--no-evaluate']);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain(`compare: warning: ${evalFile} was made from weights ${recorded().slice(0, 12)}…, but ${run} now holds ${sha(weights).slice(0, 12)}…: its numbers are not this model's (run without --no-evaluate to evaluate it again)`);
    expect(readFileSync(evalFile, 'utf8')).toBe(before); // --no-evaluate writes nothing

    const again = await runCli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('; evaluating it again');
    expect(recorded()).toBe(sha(weights));
    // now current: the next compare reuses it silently
    const mtime = statSync(evalFile).mtimeMs;
    const quiet = await runCli(args);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('evaluating it again');
    expect(statSync(evalFile).mtimeMs).toBe(mtime);
  });
});

describe("scaat compare's robustness ε (issue 12.5)", () => {
  const fakeRun = (name: string, trainer: string, epsilon?: number): string => {
    const dir = path.join(tmp, 'eps', name);
    mkdirSync(dir, { recursive: true });
    const trainerOptions = epsilon === undefined ? {} : { [trainer]: { epsilon } };
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ trainer, trainerOptions }));
    return dir;
  };

  it("uses the runs' one training ε, --epsilon when given, 8/255 when no run has one; refuses different ε", () => {
    const regular = fakeRun('regular', 'regular');
    const scaat = fakeRun('scaat', 'scaat', 0.3);
    const pgd = fakeRun('pgd', 'pgd-at', 0.3);
    const other = fakeRun('other', 'pgd-at', 8 / 255);
    expect(runEpsilon(scaat)).toBe(0.3);
    expect(runEpsilon(regular)).toBeNull();
    expect(trainingEpsilon([regular, scaat, pgd])).toBe(0.3);
    expect(trainingEpsilon([regular])).toBeCloseTo(8 / 255, 15);
    expect(trainingEpsilon([regular, scaat], 16 / 255)).toBeCloseTo(16 / 255, 15);
    expect(() => trainingEpsilon([scaat, other])).toThrow(/trained at different ε.*pass --epsilon/);
    expect(trainingEpsilon([scaat, other], 0.1)).toBe(0.1);
  });
});
