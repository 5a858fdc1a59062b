/**
 * Options declared once (issue 15.2): every evaluation setting with a CLI flag is an option of
 * `scaat evaluate` whose help shows the schema's default, `scaat evaluate` has no setting option
 * the schema does not declare, and a bad value gives the same ConfigError through the CLI as
 * through the library's evaluate() options; `scaat train`'s config-key flags come from the train
 * config's schema the same way (defaults shown, not applied: a preset file's values stand).
 * `scaat compare` and `scaat explain` take the evaluation settings they share with evaluate from
 * the same schema (compare with its own default of 64 images), and every number flag of the CLI
 * is read by the one reader (io/numbers.ts): '0x10' is no number, '1e3' is.
 */
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { ConfigError } from '../../src/errors.js';
import { resolveLayers, settingsOf } from '../../src/io/config-schema.js';
import type { SettingEntry } from '../../src/io/config-schema.js';
import { resolveEvaluationConfig } from '../../src/metrics/evaluate.js';
import { EVALUATION_FLAGS, EVALUATION_SCHEMA } from '../../src/metrics/evaluation-options.js';
import { runCli } from '../fixtures/cli.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveRun } from '../../src/cli/commands/train.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { DEFAULT_TRAIN_CONFIG, TRAIN_CONFIG_SCHEMA } from '../../src/train/config.js';
import { planDemo } from '../../src/cli/commands/demo.js';
import { openData, parseShard } from '../../src/cli/commands/_inputs.js';
import { parseCellNumbers } from '../../src/cli/commands/sweep.js';

const evaluateCommand = (): Command => buildProgram().commands.find((c) => c.name() === 'evaluate')!;
/** The options every input-reading command has (cli/commands/_inputs.ts) and the output options. */
const NOT_SETTINGS = ['--model', '--data', '--data-path', '--labels', '--split', '--num-classes', '--backend', '--out', '--quiet'];

/** A value at a dotted key of a nested object. */
const at = (o: unknown, key: string): unknown => key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

describe('scaat evaluate: options from the evaluation schema', () => {
  const settings = settingsOf(EVALUATION_SCHEMA).filter((e) => e.info.flag);
  const cmd = evaluateCommand();
  const help = cmd.createHelp();
  const optionOf = (flag: string): Option | undefined => cmd.options.find((o) => o.long === flag.split(' ')[0]);

  it('has one option per flagged setting, and no other setting option', () => {
    expect(settings.length).toBeGreaterThan(15);
    for (const e of settings) expect(optionOf(e.info.flag!), e.key).toBeDefined();
    const declared = new Set(settings.map((e) => e.info.flag!.split(' ')[0]));
    expect(cmd.options.map((o) => o.long!).filter((f) => !NOT_SETTINGS.includes(f) && !declared.has(f))).toEqual([]);
  });

  it("shows each flagged setting's default in --help: the text it shows reads back as the schema's default", () => {
    const defaults = EVALUATION_SCHEMA.parse({});
    for (const e of settings) {
      const text = help.optionDescription(optionOf(e.info.flag!)!);
      if (e.info.defaultText !== undefined) {
        expect(text, e.key).toContain(e.info.defaultText);
        continue;
      }
      const shown = /\(default: "(.*)"\)$/.exec(text)?.[1];
      expect(shown, `${e.key}: ${text}`).toBeDefined();
      // the CLI's text of the default, read by the schema, is the library's default
      const read = settingsOf(EVALUATION_SCHEMA).find((s) => s.key === e.key)!.schema.parse(shown);
      expect(read, e.key).toEqual(at(defaults, e.key));
    }
  });

  it('shows the defaults as before: 8/255, 0.1, sum-abs, the three methods', () => {
    const shown = (flag: string): string => help.optionDescription(optionOf(flag)!);
    expect(shown('--epsilon')).toMatch(/\(default: "8\/255"\)$/);
    expect(shown('--aopc-fraction')).toMatch(/\(default: "0\.1"\)$/);
    expect(shown('--reduction')).toMatch(/\(default: "sum-abs"\)$/);
    expect(shown('--methods')).toMatch(/\(default: "vanilla-gradient,smooth-grad,integrated-gradients"\)$/);
    expect(shown('--batch-size')).toMatch(/\(default: "32"\)$/);
  });

  it.each([
    [['--aopc-fraction', '0'], { aopc: { fraction: '0' } }, "evaluate: 'aopc.fraction' (--aopc-fraction) must be a number in (0, 1], got '0'"],
    [['--batch-size', '2.5'], { batchSize: '2.5' }, "evaluate: 'batchSize' (--batch-size) must be an integer ≥ 1, got '2.5'"],
    [['--epsilon', '8/0'], { robustness: { attack: { epsilon: '8/0' } } }, "evaluate: 'robustness.attack.epsilon' (--epsilon) must be a number in (0, 1], got '8/0'"],
    [['--ratios', '0,2'], { robustness: { ratios: '0,2' } }, "evaluate: 'robustness.ratios' (--ratios) must be a non-empty list of numbers in [0, 1], got '0,2'"],
    [['--noise', 'loud'], { robustness: { noise: 'loud' } }, "evaluate: 'robustness.noise' (--noise) must be one of 'replace', 'additive', got 'loud'"],
    [['--shard', '3/2'], { shard: '3/2' }, "evaluate: 'shard' (--shard) must be i/n with 0 ≤ i < n (e.g. 0/4, or $SLURM_ARRAY_TASK_ID/4), got '3/2'"],
    [['--aopc-fill', 'grey'], { aopc: { fill: 'grey' } }, "evaluate: 'aopc.fill' (--aopc-fill) must be 'uniform', 'black', a number or a non-empty list of distinct ones (e.g. uniform,black), got 'grey'"],
    [['--aopc-fill', 'uniform,grey'], { aopc: { fill: 'uniform,grey' } }, "evaluate: 'aopc.fill' (--aopc-fill) must be a list of 'uniform', 'black' or numbers (item 2, 'grey', is none of them), got 'uniform,grey'"],
    [['--aopc-fill', 'black,uniform,black'], { aopc: { fill: 'black,uniform,black' } }, "evaluate: 'aopc.fill' (--aopc-fill) must be a list of distinct fills ('black' is listed twice), got 'black,uniform,black'"],
    [['--aopc-fill', ''], { aopc: { fill: '' } }, "evaluate: 'aopc.fill' (--aopc-fill) must be 'uniform', 'black', a number or a non-empty list of distinct ones (e.g. uniform,black), got ''"],
    [['--examples', '-1'], { examples: '-1' }, "evaluate: 'examples' (--examples) must be an integer ≥ 0, got '-1'"],
  ])('%j: exit 2 with the ConfigError the library gives', async (flags, settings, message) => {
    // the library, given the same text
    const library = (): unknown => resolveEvaluationConfig({ methods: [], ...settings } as never, { size: 10, hasMask: false });
    expect(library).toThrow(ConfigError);
    expect(library).toThrow(message);
    // the CLI: refused before the model or the data is read
    const { code, stdout, stderr } = await runCli(['evaluate', '-m', 'no/such/model', '-d', 'synthetic', '-o', 'never-written.json', ...flags]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe(`scaat: ConfigError: ${message}`);
  });

  it('takes a number where the library takes one: the same message, the value shown as given', () => {
    expect(() => resolveEvaluationConfig({ methods: [], aopc: { fraction: 0 } }, { size: 10, hasMask: false })).toThrow(
      "evaluate: 'aopc.fraction' (--aopc-fraction) must be a number in (0, 1], got 0",
    );
  });
});

describe('scaat train: the config keys\' flags from the train config schema', () => {
  const train = buildProgram().commands.find((c) => c.name() === 'train')!;
  const help = train.createHelp();
  const settings = settingsOf(TRAIN_CONFIG_SCHEMA).filter((e) => e.info.flag);

  it('has one option per flagged config key, its default in the text only (a preset file must win over it)', () => {
    expect(settings.map((e) => e.key)).toEqual(['trainer', 'model', 'data', 'epochs', 'seed', 'backend']);
    for (const e of settings) {
      const option = train.options.find((o) => o.long === e.info.flag!.split(' ')[0])!;
      expect(option.defaultValue, e.key).toBeUndefined();
      const shown = / \(default (\S+)\)$/.exec(help.optionDescription(option))?.[1];
      expect(settingsOf(TRAIN_CONFIG_SCHEMA).find((s) => s.key === e.key)!.schema.parse(shown), e.key).toEqual(DEFAULT_TRAIN_CONFIG[e.key as keyof typeof DEFAULT_TRAIN_CONFIG]);
    }
    expect(help.optionDescription(train.options.find((o) => o.long === '--trainer')!)).toContain([...ALL_TRAINERS.keys()].join(', '));
  });

  it('a preset\'s value stands when the flag is not given; a flag given wins', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scaat-flags-'));
    try {
      writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ epochs: 3, seed: 5 }));
      const { config } = resolveRun({ config: path.join(dir, 'p.json'), set: [], out: 'unused', seed: '7' });
      expect([config.epochs, config.seed, config.trainer]).toEqual([3, 7, 'regular']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad flag value → exit 2 naming the key and the layer, nothing written', async () => {
    const { code, stderr } = await runCli(['train', '--epochs', '1.5', '--out', path.join(os.tmpdir(), 'scaat-never-written')]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe("scaat: ConfigError: command line: 'epochs' must be an integer ≥ 1, got '1.5'");
    expect(existsSync(path.join(os.tmpdir(), 'scaat-never-written'))).toBe(false);
  });
});

/**
 * The evaluation settings compare and explain share with evaluate, written out here (the test's
 * own list): key → the command's flag. Their other options are their own: compare's --metrics is
 * its table's set (the evaluation's is --eval-metrics), explain's --method-options are the options
 * of its one --method (evaluate's: per method).
 */
const SHARED: Record<'compare' | 'explain', { flags: Record<string, string>; own: string[] }> = {
  compare: {
    flags: { limit: '--limit', methods: '--methods', metrics: '--eval-metrics', batchSize: '--batch-size', seed: '--seed', 'robustness.attack.epsilon': '--epsilon' },
    own: ['--metrics', '--format', '--save', '--no-evaluate', '--data', '--split', '--backend', '--quiet'],
  },
  explain: {
    flags: { target: '--target', limit: '--limit', shard: '--shard', batchSize: '--batch-size', seed: '--seed', reduction: '--reduction' },
    own: [...NOT_SETTINGS, '--method', '--method-options', '--maps'],
  },
};

describe.each(['compare', 'explain'] as const)('scaat %s: the flags it shares with evaluate, from the evaluation schema', (name) => {
  const cmd = buildProgram().commands.find((c) => c.name() === name)!;
  const help = cmd.createHelp();
  const { flags, own } = SHARED[name];
  const entries = settingsOf(EVALUATION_SCHEMA);
  const entry = (key: string): SettingEntry => entries.find((e) => e.key === key)!;
  const optionOf = (flag: string): Option | undefined => cmd.options.find((o) => o.long === flag);

  it('has an option for each shared setting, taking the values the schema takes, and no other option', () => {
    for (const [key, flag] of Object.entries(flags)) {
      const option = optionOf(flag);
      expect(option, `${key} ${flag}`).toBeDefined();
      // the same value placeholder as evaluate's flag
      expect(option!.flags.split(' ').slice(1), key).toEqual(entry(key).info.flag!.split(' ').slice(1));
    }
    expect(cmd.options.map((o) => o.long!).filter((f) => !own.includes(f) && !Object.values(flags).includes(f))).toEqual([]);
  });

  it("shows each shared setting's default in --help: the schema reads it back as the default (compare: 64 images, the runs' ε)", () => {
    const defaults = EVALUATION_SCHEMA.parse({});
    for (const [key, flag] of Object.entries(flags)) {
      const text = help.optionDescription(optionOf(flag)!);
      if (name === 'compare' && key === 'robustness.attack.epsilon') {
        expect(text).toMatch(/\(default: the ε the compared runs were trained with; 8\/255 when none has one\)$/);
        continue;
      }
      if (entry(key).info.defaultText !== undefined && !(name === 'compare' && key === 'limit')) {
        expect(text, key).toContain(`(default: ${entry(key).info.defaultText!})`);
        continue;
      }
      const shown = /\(default: "(.*)"\)$/.exec(text)?.[1];
      expect(shown, `${key}: ${text}`).toBeDefined();
      const expected = name === 'compare' && key === 'limit' ? 64 : at(defaults, key);
      expect(entry(key).schema.parse(shown), key).toEqual(expected);
    }
  });

  const bad: Record<typeof name, Array<[string, string, Record<string, unknown>]>> = {
    compare: [
      ['--limit', '0', { limit: '0' }],
      ['--batch-size', '2.5', { batchSize: '2.5' }],
      ['--seed', '0x10', { seed: '0x10' }],
      ['--epsilon', '8/0', { robustness: { attack: { epsilon: '8/0' } } }],
      ['--methods', ',', { methods: ',' }],
      ['--eval-metrics', ',', { metrics: ',' }],
    ],
    explain: [
      ['--target', 'best', { target: 'best' }],
      ['--limit', '0', { limit: '0' }],
      ['--shard', '3/2', { shard: '3/2' }],
      ['--batch-size', '0x10', { batchSize: '0x10' }],
      ['--seed', '1.5', { seed: '1.5' }],
      ['--reduction', 'median', { reduction: 'median' }],
    ],
  };

  it.each(bad[name])('%s %j: exit 2 before any model is read, with the ConfigError the library gives', async (flag, value, settings) => {
    // the library given the same text: evaluate()'s options, or for the methods (evaluate() takes
    // them as functions) the evaluation schema as `scaat evaluate` resolves it
    const library = (): unknown =>
      settings['methods'] === undefined
        ? resolveEvaluationConfig({ methods: [], ...settings } as never, { size: 10, hasMask: false })
        : resolveLayers(EVALUATION_SCHEMA, [{ source: 'evaluate', values: settings }], { where: 'evaluate', flagOf: (k) => EVALUATION_FLAGS.get(k) });
    expect(library).toThrow(ConfigError);
    const thrown = (() => {
      try {
        library();
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(thrown).toMatch(/^evaluate: '[\w.]+' \(--[\w-]+\) must be .*, got /);
    // the same message, named by the command and its flag
    const message = thrown.replace(/^evaluate:/, `${name}:`).replace(/ \(--[\w-]+\) /, ` (${flag}) `);
    const dir = mkdtempSync(path.join(os.tmpdir(), `scaat-${name}-flags-`));
    try {
      // compare checks its evaluation flags for a run folder it must evaluate (no model in it: reading it would be a DataError)
      writeFileSync(path.join(dir, 'config.json'), '{}');
      const argv =
        name === 'compare'
          ? ['compare', dir, '--backend', 'cpu', '-q', flag, value]
          : ['explain', '-m', path.join(dir, 'no-model'), '-d', 'synthetic', '-o', path.join(dir, 'x.npy'), '-q', flag, value];
      const { code, stdout, stderr } = await runCli(argv);
      expect(stderr.split('\n')[0]).toBe(`scaat: ConfigError: ${message}`);
      expect(code).toBe(2);
      expect(stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('one number reader: the CLI\'s other number flags read as io/numbers.ts reads numbers', () => {
  const demo = (flags: Record<string, string>): unknown => planDemo({ data: 'mnist', seed: '0', backend: 'auto', ...flags });

  it.each([
    [{ epochs: '0x10' }, "--epochs: expected an integer ≥ 1, got '0x10'"],
    [{ trainSize: '' }, "--train-size: expected an integer ≥ 1, got ''"],
    [{ seed: '' }, "--seed: expected an integer ≥ 0, got ''"],
    [{ seed: '0b1' }, "--seed: expected an integer ≥ 0, got '0b1'"],
    [{ evalSize: '2.5' }, "--eval-size: expected an integer ≥ 1, got '2.5'"],
    [{ epsilon: '8/0' }, "--epsilon: expected a number in (0, 1] such as 0.3 or 8/255, got '8/0'"],
  ])('scaat demo %j → %s', (flags, message) => {
    expect(() => demo(flags)).toThrow(ConfigError);
    expect(() => demo(flags)).toThrow(message);
  });

  it('scaat demo takes what the reader takes: 1e1, 8/255, whitespace', () => {
    const plan = demo({ epochs: '1e1', epsilon: ' 8 / 255 ', seed: '+3' }) as { preset: { epochs: number }; epsilon: number; seed: number };
    expect([plan.preset.epochs, plan.epsilon, plan.seed]).toEqual([10, 8 / 255, 3]);
  });

  it("--num-classes (--data npy) and sweep's --shard: a ConfigError naming the flag, before any file is read", async () => {
    const o = { data: 'npy', dataPath: 'no/such/x.npy', split: 'test' };
    await expect(openData({ ...o, numClasses: '0x10' })).rejects.toThrow("--num-classes: expected an integer ≥ 1, got '0x10'");
    await expect(openData({ ...o, numClasses: '0' })).rejects.toThrow(ConfigError);
    expect(() => parseShard('1/1')).toThrow("--shard: expected i/n with 0 ≤ i < n (e.g. 0/4, or $SLURM_ARRAY_TASK_ID/4), got '1/1'");
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
  });

  it("sweep's --cells: numbers and ranges, or a ConfigError naming the flag and the part", () => {
    expect([...parseCellNumbers('7-9, 15,8')].sort((a, b) => a - b)).toEqual([7, 8, 9, 15]);
    expect([...parseCellNumbers('3')]).toEqual([3]);
    for (const bad of ['0', '9-7', 'a', '1-', '', '2,,3']) expect(() => parseCellNumbers(bad)).toThrow(ConfigError);
    expect(() => parseCellNumbers('7-x')).toThrow("--cells: expected cell numbers and ranges as --dry-run lists them, e.g. 7-12,15; got '7-x' in '7-x'");
  });

  it.each([
    ['--image-size', '0x10'],
    ['--resize', '1.5'],
  ])('scaat data inspect %s %s: exit 2 naming the flag', async (flag, value) => {
    const { code, stderr } = await runCli(['data', 'inspect', 'synthetic', flag, value]);
    expect(stderr.split('\n')[0]).toBe(`scaat: ConfigError: ${flag}: expected an integer ≥ 1, got '${value}'`);
    expect(code).toBe(2);
  });
});
