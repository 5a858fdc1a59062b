/**
 * `scaat demo` end to end at toy size (the README's main command; the full and --quick sizes are
 * timed by hand, see the README): two trainers × one short epoch on embedded MNIST, evaluation of
 * the three saliency methods with all metrics on a few images, report, samples, terminal table.
 * Plus its flag validation (bad usage → exit 2 before anything is written).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PRESETS, demoTrainConfig, planDemo } from '../../src/cli/commands/demo.js';
import { pgdAtControlOptions, resolveScaatConfig } from '../../src/scaat/config.js';
import { parseResults } from '../../src/report/run-results.js';
import { runCli } from '../fixtures/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scaat demo (toy size)', () => {
  const out = path.join(dir, 'demo');
  const argv = ['demo', '--quick', '--train-size', '128', '--epochs', '1', '--eval-size', '4', '--backend', 'wasm', '--out', out];
  // The demo, run once by whichever test asks first, so each test also runs alone (vitest -t).
  let demo: ReturnType<typeof runCli> | undefined;
  const ran = (): ReturnType<typeof runCli> => (demo ??= runCli(argv));

  it('trains, evaluates, reports and prints the table', async () => {
    const run = await ran();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`report: ${path.resolve(out, 'report', 'report.html')}`);
    expect(run.stdout).toMatch(/method\s+metric\s+Regular\s+SCAAT/);
    expect(run.stdout).toMatch(/VG\s+Entropy \(bits\) ↓/);
    expect(run.stderr).toMatch(/\[1\/5\] training regular/);
  });

  it('writes run folders, evaluations, samples and a report that says how it was made', async () => {
    expect((await ran()).code).toBe(0);
    for (const t of ['regular', 'scaat']) {
      for (const f of ['config.json', 'log.jsonl', 'eval.json', 'model/model.json']) expect(existsSync(path.join(out, t, f)), `${t}/${f}`).toBe(true);
    }
    expect(existsSync(path.join(out, 'samples', '0.png'))).toBe(true);
    const results = parseResults(JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')));
    expect(results.runs.map((r) => r.trainer)).toEqual(['regular', 'scaat']);
    for (const r of results.runs) {
      expect(r.evaluation!.numImages).toBe(4);
      expect(r.evaluation!.methods.map((m) => m.method)).toEqual(['vanilla-gradient', 'smooth-grad', 'integrated-gradients']);
      expect(r.examples!.length).toBe(DEMO_PRESETS.quick.examples);
      expect(r.config['trainLimit']).toBe(128);
      expect(r.seed).toBe(0);
      expect(r.backend?.['name']).toBe('wasm');
    }
    expect(results.runs[1]!.training!.q!.length).toBe(1);
    const html = readFileSync(path.join(out, 'report', 'report.html'), 'utf8');
    for (const id of ['entropy-distribution', 'robustness', 'aopc-curves', 'q-distribution', 'training-curves', 'examples']) {
      expect(html).toContain(`data-figure="${id}"`);
      expect(existsSync(path.join(out, 'report', 'figures', `${id}.png`))).toBe(true);
    }
  });

  it('refuses to overwrite a previous demo without --force (exit 2)', async () => {
    expect((await ran()).code).toBe(0);
    const again = await runCli(argv);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/holds a previous demo .*--force/);
  });
});

describe('scaat demo flags', () => {
  it.each([
    [['--epochs', '0'], /--epochs: expected an integer ≥ 1, got '0'/],
    [['--trainers', 'regular,foo'], /--trainers: unknown trainer 'foo'/],
    [['--epsilon', '2'], /--epsilon: expected a number in \(0, 1\]/],
    [['--data', 'cifar'], /argument 'cifar' is invalid/],
  ])('%j is bad usage (exit 2), nothing written', async (extra, message) => {
    const out = path.join(dir, `bad-${String(extra[0]).slice(2)}`);
    const r = await runCli(['demo', '--quick', '--out', out, ...(extra as string[])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('applies the presets and the dataset ε', () => {
    const quick = planDemo({ quick: true, data: 'mnist', seed: '0', backend: 'auto' });
    expect([quick.out, quick.preset.trainSize, quick.epsilon]).toEqual([path.join('runs', 'demo-quick'), DEMO_PRESETS.quick.trainSize, 0.3]);
    const full = planDemo({ data: 'synthetic', seed: '3', backend: 'wasm', epsilon: '8/255', trainers: 'regular,scaat' });
    expect([full.out, full.preset.trainers, full.epsilon, full.seed]).toEqual([path.join('runs', 'demo'), ['regular', 'scaat'], 8 / 255, 3]);
  });

  it.each([['mnist'], ['synthetic']] as const)('%s: trains the PGD-AT control with the SCAAT run\'s attack and loss (differing only in the mask)', (data) => {
    const plan = planDemo({ data, seed: '0', backend: 'auto' });
    const scaat = demoTrainConfig(plan, 'scaat');
    const control = demoTrainConfig(plan, 'pgd-at');
    const scaatOptions = resolveScaatConfig(scaat.trainerOptions['scaat']);
    expect(control.trainerOptions['pgd-at']).toEqual(pgdAtControlOptions(scaatOptions));
    expect(control.trainerOptions['pgd-at']).toMatchObject({ epsilon: plan.epsilon, attack: 'fgsm-rs', loss: 'clean+adv', lambda: 1, validBox: 'project' });
    // everything else of the run is the same too
    const { trainer: _a, trainerOptions: _b, ...rest } = control;
    const { trainer: _c, trainerOptions: _d, ...scaatRest } = scaat;
    expect(rest).toEqual(scaatRest);
  });
});
