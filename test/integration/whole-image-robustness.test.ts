// scripts/whole-image-robustness.ts, run as a user runs it on a folder of real (tiny) runs: one row
// per run of a trainer with an ε, at that run's own ε, with the values `scaat evaluate` gives for
// the same attack at q = 0 and q = 1 (or the --ratio given, or a list of them); runs without an ε
// left out unless --epsilon gives one for every run; bad input named, no stack.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../fixtures/cli.js';

const DATA = 'synthetic:count=24,imageSize=16,channels=1,numClasses=3';
const COMMON = ['--model', 'mlp', '--data', DATA, '--epochs', '1', '--seed', '1', '--backend', 'wasm', '--set', 'width=0.25', '--set', 'batchSize=8', '--set', 'evalEvery=0'];

let dir: string;
let runs: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-whole-image-'));
  runs = path.join(dir, 'runs');
  mkdirSync(runs);
  for (const [name, extra] of [['control', ['--trainer', 'pgd-at', '--set', 'pgd-at.epsilon=0.3']], ['plain', ['--trainer', 'regular']]] as const) {
    const r = await runCli(['train', ...COMMON, ...extra, '--out', path.join(runs, name)]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/whole-image-robustness.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The reference: `scaat evaluate`'s own attack curve of a run (by default the control at ε = 0.3, the ε the script reads from its config.json), as the table prints it. */
async function evaluatedCurve(ratios: string, run = 'control', epsilon = '0.3'): Promise<string[]> {
  const out = path.join(dir, `reference-${run}-${epsilon}-${ratios}.json`);
  const ref = await runCli(['evaluate', '-m', path.join(runs, run), '-d', DATA, '--limit', '12', '--methods', 'vanilla-gradient',
    '--metrics', 'robustness-attack', '--ratios', ratios, '--epsilon', epsilon, '-q', '-o', out]);
  expect(ref.code, ref.stderr).toBe(0);
  const curve = (JSON.parse(readFileSync(out, 'utf8')) as { methods: Array<{ robustness: Array<{ kind: string; accuracy: number[] }> }> })
    .methods[0]!.robustness.find((c) => c.kind === 'attack')!;
  return curve.accuracy.map((v) => `${(100 * v).toFixed(1)} %`);
}

describe('scripts/whole-image-robustness.ts', () => {
  it("one row per run with an ε, attacked at the run's own ε: the values scaat evaluate gives at q = 0 and 1", async () => {
    const r = script(runs, '--limit', '12');
    expect(r.stderr).toBe('');
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('| control'));
    expect(r.stdout).not.toContain('| plain');
    expect(rows).toHaveLength(1);
    const cells = rows[0]!.split('|').map((c) => c.trim());
    expect(cells.slice(1, 5)).toEqual(['control', 'pgd-at', 'pgd', '0.3']);
    expect(cells.slice(5, 7)).toEqual(await evaluatedCurve('0,1'));
  });

  it('--ratio 0.5 attacks the least salient half of the pixels: the value scaat evaluate gives at q = 0.5', async () => {
    const r = script(path.join(runs, 'control'), '--limit', '12', '--ratio', '0.5');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('| accuracy under PGD-7 on the 0.5 least salient pixels at ε |');
    const row = r.stdout.split('\n').find((l) => l.startsWith('| control'))!;
    // the script evaluates q = 0 and 0.5 in one call (the attack's seeds follow a ratio's place in the list)
    expect(row.split('|').map((c) => c.trim()).slice(5, 7)).toEqual(await evaluatedCurve('0,0.5'));
  });

  it('--ratio 0.5,1 --epsilon 0.2: a column per ratio, every listed trainer (the regular run too) attacked at 0.2, as scaat evaluate gives them', async () => {
    const r = script(runs, '--limit', '12', '--ratio', '0.5,1', '--epsilon', '1/5', '--trainers', 'regular,pgd-at');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('| clean accuracy | accuracy under PGD-7 on the 0.5 least salient pixels at ε | accuracy under whole-image PGD-7 at ε |');
    expect(r.stdout).toContain('PGD-7 at ε = 0.2 for every run');
    const cellsOf = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(`| ${name} `))!.split('|').map((c) => c.trim());
    const control = cellsOf('control');
    expect(control.slice(1, 5)).toEqual(['control', 'pgd-at', 'pgd', '0.2']);
    expect(control.slice(5, 8)).toEqual(await evaluatedCurve('0,0.5,1', 'control', '0.2'));
    const plain = cellsOf('plain');
    expect(plain.slice(1, 5)).toEqual(['plain', 'regular', '—', '0.2']);
    expect(plain.slice(5, 8)).toEqual(await evaluatedCurve('0,0.5,1', 'plain', '0.2'));
  });

  it('names a folder without runs, no run with an ε, a bad --limit, --ratio and --epsilon (exit 3 / 3 / 2 / 2 / 2), without a stack', () => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const none = script(empty);
    expect(none.status).toBe(3);
    expect(none.stderr).toBe(`whole-image-robustness.ts: ${empty}: neither a run folder (config.json and model/model.json) nor a folder of runs\n`);
    const noEps = script(path.join(runs, 'plain'));
    expect(noEps.status).toBe(3);
    expect(noEps.stderr).toBe('whole-image-robustness.ts: no run of a trainer in --trainers (pgd-at, scaat) with an ε (--epsilon E attacks runs without one)\n');
    const bad = script(runs, '--limit', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("whole-image-robustness.ts: --limit: expected an integer ≥ 1, got '0'\n");
    for (const given of ['0', '1.5', 'half', '0.5,', '0.5,2']) {
      const badRatio = script(runs, '--ratio', given);
      expect(badRatio.status).toBe(2);
      expect(badRatio.stderr).toBe(`whole-image-robustness.ts: --ratio: expected a number in (0, 1] or a list of them, got '${given}'\n`);
    }
    const twice = script(runs, '--ratio', '0.5,0.5');
    expect(twice.status).toBe(2);
    expect(twice.stderr).toBe("whole-image-robustness.ts: --ratio: a ratio is listed twice in '0.5,0.5'\n");
    for (const given of ['0', '-1', 'x', '1/0']) {
      const badEps = script(runs, `--epsilon=${given}`);
      expect(badEps.status).toBe(2);
      expect(badEps.stderr).toBe(`whole-image-robustness.ts: --epsilon: expected a number > 0 (or a fraction such as 16/255), got '${given}'\n`);
    }
  });
});
