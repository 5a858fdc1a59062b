/**
 * Options declared once (issue 15.2): every evaluation setting with a CLI flag is an option of
 * `scaat evaluate` whose help shows the schema's default, `scaat evaluate` has no setting option
 * the schema does not declare, and a bad value gives the same ConfigError through the CLI as
 * through the library's evaluate() options; `scaat train`'s config-key flags come from the train
 * config's schema the same way (defaults shown, not applied: a preset file's values stand).
 */
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { ConfigError } from '../../src/errors.js';
import { settingsOf } from '../../src/io/config-schema.js';
import { resolveEvaluationConfig } from '../../src/metrics/evaluate.js';
import { EVALUATION_SCHEMA } from '../../src/metrics/evaluation-options.js';
import { runCli } from '../fixtures/cli.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveRun } from '../../src/cli/commands/train.js';
import { ALL_TRAINERS } from '../../src/scaat/registry.js';
import { DEFAULT_TRAIN_CONFIG, TRAIN_CONFIG_SCHEMA } from '../../src/train/config.js';

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
    [['--aopc-fill', 'grey'], { aopc: { fill: 'grey' } }, "evaluate: 'aopc.fill' (--aopc-fill) must be 'uniform', 'black' or a number, got 'grey'"],
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
