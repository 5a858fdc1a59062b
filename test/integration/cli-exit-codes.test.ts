/**
 * One mapping from cause to exit code, the same for every command (src/cli/main.ts EXIT, the
 * README's "Exit codes" table), tested per command: 2 = bad usage or configuration, 3 = a file
 * scaat cannot use (input or output), 4 = the run folder is being written by another process,
 * 128 + signal = interrupted (130 SIGINT, 143 SIGTERM) with no partial output left; every message
 * names the option or file, without a stack trace.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/main.js';
import { openDataSplit, resolveRun } from '../../src/cli/commands/train.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { MODELS } from '../../src/models/registry.js';
import { saveClassifier } from '../../src/models/io.js';
import { train } from '../../src/train/loop.js';
import { lockRunDir } from '../../src/train/run-dir.js';
import { REPO_ROOT, runCli, spawnCli, startCli } from '../fixtures/cli.js';
import type { RunningCli } from '../fixtures/cli.js';
import { THREE_RUNS_JSON, threeRunsJson } from '../fixtures/index.js';
import { useBackend } from '../helpers/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-exit-'));
const f = (...p: string[]): string => path.join(dir, ...p);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A trained run folder (regular mlp on the first 64 MNIST images; config data 'mnist'), and an MNIST-shaped model. */
beforeAll(async () => {
  await useBackend('cpu');
  const { config } = resolveRun({ trainer: 'regular', model: 'mlp', data: 'mnist', epochs: '1', backend: 'cpu', set: ['trainLimit=64', 'evalEvery=0', 'width=0.1'] });
  await train({ config, data: { train: await openDataSplit('mnist', 'train') }, runDir: f('run'), trainers: ALL_TRAINERS });
  await saveClassifier(MODELS.get('mlp')!.create({ inputShape: [28, 28, 1], numClasses: 10, width: 0.1 }), f('model'));
  writeFileSync(f('a-file'), '');
});

describe("README's exit-code table", () => {
  it('lists exactly the codes main() returns, each with its cause', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Exit codes'), readme.indexOf('\n## ', readme.indexOf('### Exit codes')));
    const rows = [...section.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)].map((m) => [Number(m[1]), m[2]!.trim()] as const);
    expect(rows.map(([code]) => code)).toEqual(Object.values(EXIT));
    expect(Object.fromEntries(rows)).toMatchObject({
      2: expect.stringMatching(/^bad usage or configuration/),
      3: expect.stringMatching(/^a file scaat cannot use/),
      4: expect.stringMatching(/^busy: the run folder is being written by another/),
      130: expect.stringMatching(/SIGINT/),
      143: expect.stringMatching(/SIGTERM/),
    });
  });
});

// [command, the cause, argv (built when run: the fixtures exist then), exit code, what stderr says]
type Case = readonly [string, string, () => string[], number, RegExp];
const noStack = /\n\s+at /;

/** Runs `argv` in-process: the exit code, the message, no stack trace, nothing written at f('never'). */
async function expectExit(argv: string[], code: number, message: RegExp): Promise<void> {
  const r = await runCli(argv);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(noStack);
  expect(existsSync(f('never'))).toBe(false);
}

describe('bad usage or configuration → 2, per command', () => {
  it.each<Case>([
    ['train', 'an unknown option', () => ['train', '--bogus'], 2, /unknown option '--bogus'/],
    ['train', 'an unknown dataset name', () => ['train', '--data', 'mnsit', '--out', f('never')], 2, /ConfigError: --data \(config key 'data'\): expected a dataset name \(mnist, .*got 'mnsit'/],
    ['explain', 'an unknown option', () => ['explain', '-m', f('model'), '-d', 'mnist', '--out', f('x.npy'), '--bogus'], 2, /unknown option '--bogus'/],
    ['explain', 'an unknown method', () => ['explain', '-m', f('model'), '-d', 'mnist', '--method', 'nope', '--out', f('x.npy')], 2, /ConfigError: .*nope/],
    ['evaluate', 'an unknown option', () => ['evaluate', '-m', f('model'), '-d', 'mnist', '--out', f('e.json'), '--bogus'], 2, /unknown option '--bogus'/],
    ['evaluate', 'a bad --shard', () => ['evaluate', '-m', f('model'), '-d', 'mnist', '--shard', '3/2', '--out', f('e.json')], 2, /ConfigError: evaluate: 'shard' \(--shard\) must be i\/n with 0 ≤ i < n/],
    ['merge', 'an unknown option', () => ['merge', f('e.json'), '--out', f('m.json'), '--bogus'], 2, /unknown option '--bogus'/],
    ['compare', 'an invalid choice', () => ['compare', THREE_RUNS_JSON, '--format', 'xml'], 2, /argument 'xml' is invalid.*text, markdown, json/],
    ['report', 'a missing argument', () => ['report'], 2, /missing required argument 'runs'/],
    ['data', 'a bad dataset option', () => ['data', 'inspect', 'synthetic:numClasses=40'], 2, /ConfigError: synthetic: expected numClasses an integer in \[2, 8\], got 40/],
    ['data', 'an unknown option', () => ['data', 'cache', 'mnist', '--bogus'], 2, /unknown option '--bogus'/],
    ['demo', 'a bad number', () => ['demo', '--train-size', 'many', '--out', f('never')], 2, /ConfigError: --train-size/],
    ['(none)', 'an unknown command', () => ['frobnicate'], 2, /unknown command 'frobnicate'/],
  ])('scaat %s: %s', async (_cmd, _cause, argv, code, message) => expectExit(argv(), code, message));
});

describe('a file scaat cannot use (input or output) → 3, per command', () => {
  it.each<Case>([
    ['train', 'a missing --data path', () => ['train', '--data', f('no-data'), '--out', f('never')], 3, /DataError: --data \(config key 'data'\): .*no-data: no such file or folder/],
    ['train', 'an --out that cannot be created', () => ['train', '--model', 'mlp', '--data', 'synthetic:count=8', '--set', 'evalEvery=0', '--backend', 'cpu', '--out', f('a-file', 'run')], 3, /DataError: cannot create the run folder .*a-file\/run or its lock file: E[A-Z]+/],
    ['train', 'a missing run folder', () => ['train', '--resume', f('no-run')], 3, /DataError: --resume .*no-run: no config\.json there/],
    ['explain', 'a missing model', () => ['explain', '-m', f('no-model'), '-d', 'mnist', '--out', f('x.npy')], 3, /DataError: model path .*no-model does not exist/],
    ['explain', 'a missing --data path', () => ['explain', '-m', f('model'), '-d', f('no-data.npy'), '--out', f('x.npy')], 3, /DataError: --data: .*no-data\.npy: no such file or folder/],
    ['evaluate', 'a missing --data path', () => ['evaluate', '-m', f('model'), '-d', './no-such-folder', '--out', f('e.json')], 3, /DataError: --data: \.\/no-such-folder: no such file or folder/],
    ['evaluate', 'an --out that cannot be written', () => ['evaluate', '-m', f('model'), '-d', 'mnist', '--limit', '2', '--methods', 'vanilla-gradient', '--metrics', 'entropy', '--backend', 'cpu', '-q', '--out', f('a-file', 'e.json')], 3, /DataError: cannot write .*a-file\/e\.json/],
    ['merge', 'a missing shard', () => ['merge', f('no-shard.json'), '--out', f('m.json')], 3, /DataError: merge: cannot read .*no-shard\.json/],
    ['compare', 'a missing run', () => ['compare', f('no-results.json')], 3, /DataError: .*no-results\.json: no such file or folder/],
    ['report', 'a missing run', () => ['report', f('no-results.json'), '--out', f('never')], 3, /DataError: .*no-results\.json: no such file or folder/],
    ['data', 'a missing dataset', () => ['data', 'inspect', f('no-dataset')], 3, /DataError: dataset: expected .*no-dataset to exist/],
    ['demo', 'an --out that cannot be created', () => ['demo', '--quick', '--backend', 'cpu', '--out', f('a-file', 'demo')], 3, /DataError: cannot create the run folder .*a-file\/demo\/regular or its lock file/],
  ])('scaat %s: %s', async (_cmd, _cause, argv, code, message) => expectExit(argv(), code, message));

  it('a results file with a wrong type: the key path, expected and found', async () => {
    const j = threeRunsJson() as { runs: Record<string, unknown>[] };
    j.runs[2]!['seed'] = 'one';
    writeFileSync(f('wrong-type.json'), JSON.stringify(j));
    const r = await runCli(['report', f('wrong-type.json'), '--out', f('out2')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('runs[2].seed: expected number, got string');
    expect(existsSync(f('out2', 'report.html'))).toBe(false);
  });

  it('is the status a real process exits with', () => {
    const r = spawnCli(['report', f('nope.json')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^scaat: DataError: .*nope\.json: no such file or folder/m);
    expect(r.stderr).not.toMatch(noStack);
  });
});

describe('a run folder another process writes → 4, per command that writes run folders', () => {
  it.each<Case>([
    ['train', '--resume of a run in use', () => ['train', '--resume', f('run')], 4, /LockedError: .*run is being written by another scaat process \(pid \d+ \(this process\)/],
    ['compare', 'evaluating a run in use', () => ['compare', f('run'), '--backend', 'cpu', '-q'], 4, /LockedError: .*run is being written by another scaat process/],
    ['demo', '--force over a run in use', () => ['demo', '--quick', '--force', '--backend', 'cpu', '--out', f('demo')], 4, /LockedError: .*demo\/regular is being written by another scaat process/],
  ])('scaat %s: %s', async (_cmd, _cause, argv, code, message) => {
    mkdirSync(f('demo', 'regular'), { recursive: true });
    const locks = [await lockRunDir(f('run')), await lockRunDir(f('demo', 'regular'))];
    try {
      const before = readdirSync(f('run')).sort();
      const r = await runCli(argv());
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(readdirSync(f('run')).sort()).toEqual(before); // no eval.json, nothing resumed
      expect(existsSync(f('demo', 'regular'))).toBe(true); // --force did not remove a run in use
    } finally {
      for (const l of locks) l.release();
    }
  });
});

describe('interrupted → 128 + the signal, per long-running command, with no partial output', () => {
  const lines = (s: string, re: RegExp) => re.test(s);
  /** Sends `signal` to `proc` as soon as `ready(stderr)` holds; resolves with how it ended. */
  const stopWhen = async (proc: RunningCli, ready: (stderr: string) => boolean, signal: NodeJS.Signals) => {
    await proc.waitFor(ready);
    proc.kill(signal);
    return proc.done;
  };

  it('train (SIGTERM → 143 after a checkpoint), explain (SIGINT → 130, temporary file removed), evaluate (SIGTERM → 143)', async () => {
    mkdirSync(f('sig-explain'));
    mkdirSync(f('sig-evaluate'));
    const trainRun = f('sig-train');
    const [t, x, e] = await Promise.all([
      stopWhen(
        startCli(['train', '--model', 'mlp', '--data', 'mnist', '--epochs', '1', '--backend', 'wasm', '--out', trainRun, '--set', 'batchSize=16', '--set', 'logEvery=1', '--set', 'evalEvery=0']),
        () => existsSync(path.join(trainRun, 'log.jsonl')) && readFileSync(path.join(trainRun, 'log.jsonl'), 'utf8').includes('"type":"step"'),
        'SIGTERM',
      ),
      stopWhen(
        startCli(['explain', '-m', f('model'), '-d', 'mnist', '--method', 'integrated-gradients', '--method-options', '{"steps":100}', '--limit', '5000', '--backend', 'wasm', '--out', f('sig-explain', 'ig.npy')]),
        (s) => lines(s, /^explain: \d+\/5000 images/m) && readdirSync(f('sig-explain')).some((n) => n.endsWith('.tmp')),
        'SIGINT',
      ),
      stopWhen(
        startCli(['evaluate', '-m', f('model'), '-d', 'mnist', '--methods', 'integrated-gradients', '--metrics', 'entropy', '--limit', '5000', '--backend', 'wasm', '--out', f('sig-evaluate', 'e.json')]),
        (s) => lines(s, /^evaluate: \d+\/5000 images/m),
        'SIGTERM',
      ),
    ]);
    expect([t.code, t.signal], t.stderr).toEqual([143, null]);
    expect(t.stderr).toMatch(/SIGTERM: finishing the current step and writing a checkpoint/);
    expect(t.stderr).toMatch(/interrupted at epoch 1, batch \d+, step \d+; checkpoint step-\d{8} written/);
    expect(readdirSync(trainRun).filter((n) => n.startsWith('.'))).toEqual([]); // lock released
    expect([x.code, x.signal], x.stderr).toEqual([130, null]);
    expect(readdirSync(f('sig-explain'))).toEqual([]);
    expect([e.code, e.signal], e.stderr).toEqual([143, null]);
    expect(readdirSync(f('sig-evaluate'))).toEqual([]);
  });

  it('compare (SIGTERM → 143, run folder released), data inspect --verify (SIGINT → 130), demo (SIGTERM → 143 after a checkpoint)', async () => {
    const [c, d, m] = await Promise.all([
      stopWhen(startCli(['compare', f('run'), '--methods', 'integrated-gradients', '--limit', '5000', '--backend', 'wasm']), (s) => lines(s, /^evaluate run: \d+\/5000 images/m), 'SIGTERM'),
      stopWhen(startCli(['data', 'inspect', 'synthetic:count=100000', '--split', 'train', '--verify']), (s) => lines(s, /^verify train: \d+\/100000 samples read/m), 'SIGINT'),
      stopWhen(startCli(['demo', '--quick', '--backend', 'wasm', '--out', f('sig-demo')]), (s) => lines(s, /\] training regular/), 'SIGTERM'),
    ]);
    expect([c.code, c.signal], c.stderr).toEqual([143, null]);
    expect(readdirSync(f('run')).filter((n) => n.startsWith('.') || n === 'eval.json')).toEqual([]);
    expect([d.code, d.signal], d.stderr).toEqual([130, null]);
    expect([m.code, m.signal], m.stderr).toEqual([143, null]);
    expect(m.stderr).toMatch(/SIGTERM: finishing the current step and writing a checkpoint/);
    expect(existsSync(f('sig-demo', 'regular', 'checkpoints', 'latest.json'))).toBe(true);
  });
});
