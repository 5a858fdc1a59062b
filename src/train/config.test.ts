import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { DEFAULT_TRAIN_CONFIG, parseSetOverrides, resolveConfig, TRAIN_CONFIG_SCHEMA } from './config.js';
import { describeSettings } from '../io/config-schema.js';
import { optionsResolver, BASELINE_TRAINERS } from './registry.js';

const trainers = optionsResolver(BASELINE_TRAINERS);

describe('resolveConfig', () => {
  it('documents every key but trainerOptions with its default, and the defaults pass validation', () => {
    const keys = Object.keys(DEFAULT_TRAIN_CONFIG).filter((k) => k !== 'trainerOptions');
    expect(Object.keys(TRAIN_CONFIG_SCHEMA.shape).filter((k) => k !== 'trainerOptions')).toEqual(keys);
    const help = describeSettings(TRAIN_CONFIG_SCHEMA).split('\n');
    expect(help.map((l) => l.trim().split(' ')[0])).toEqual(keys);
    for (const [i, k] of keys.entries()) expect(help[i]).toMatch(new RegExp(`\\(default ${JSON.stringify(DEFAULT_TRAIN_CONFIG[k as keyof typeof DEFAULT_TRAIN_CONFIG]).replace(/[[\]()]/g, '\\$&')}\\)$`));
    // The defaults themselves pass validation.
    expect(resolveConfig([{ source: 'defaults', values: { ...DEFAULT_TRAIN_CONFIG } }], trainers).lr).toBe(0.1);
  });

  it('layers defaults ← preset ← flags, later layers winning, and fills the trainer options', () => {
    const cfg = resolveConfig(
      [
        { source: 'preset.json', values: { lr: 0.05, epochs: 3, trainer: 'pgd-at', trainerOptions: { 'pgd-at': { epsilon: 0.3 } } } },
        { source: '--set', values: parseSetOverrides(['lr=1e-3', 'lrMilestones=2,4', 'nesterov=true', 'pgd-at.steps=3'], BASELINE_TRAINERS.keys()) },
      ],
      trainers,
    );
    expect(cfg.lr).toBe(1e-3);
    expect(cfg.epochs).toBe(3);
    expect(cfg.lrMilestones).toEqual([2, 4]);
    expect(cfg.nesterov).toBe(true);
    expect(cfg.batchSize).toBe(DEFAULT_TRAIN_CONFIG.batchSize);
    // alpha 'auto' (0) resolves to ε/4 of the final ε; K from the flag; other options default.
    expect(cfg.trainerOptions['pgd-at']).toEqual({ attack: 'pgd', epsilon: 0.3, alpha: 0.075, steps: 3, randomStart: true, validBox: 'project', loss: 'clean+adv', lambda: 1, sharedBackward: false, attackGradient: 'fresh', attackGradientCacheMiB: 1024 });
  });

  it('accepts CLI strings: fractions, booleans, JSON lists', () => {
    const cfg = resolveConfig([{ source: '--set', values: { weightDecay: '5/10000', augment: 'false', lrMilestones: '[1, 2]' } }], trainers);
    expect(cfg.weightDecay).toBeCloseTo(5e-4, 12);
    expect(cfg.augment).toBe(false);
    expect(cfg.lrMilestones).toEqual([1, 2]);
  });

  it.each([
    [{ lrr: 0.1 }, /preset\.json: unknown config key 'lrr'; did you mean 'lr'\?/],
    [{ epochs: 1.5 }, /preset\.json: 'epochs' must be an integer ≥ 1, got 1\.5/],
    [{ epochs: '3x' }, /preset\.json: 'epochs' must be an integer ≥ 1, got '3x'/],
    [{ lr: '1/0' }, /preset\.json: 'lr' must be a number ≥ 0, got '1\/0'/],
    [{ optimizer: 'rmsprop' }, /'optimizer' must be one of 'sgd', 'adam', got 'rmsprop'/],
    [{ augment: 'yes' }, /'augment' must be true or false/],
    [{ lrMilestones: 'a,b' }, /'lrMilestones' must be a list of numbers/],
    [{ trainer: 'magic' }, /unknown trainer 'magic'; expected one of regular, pgd-at, sgt/],
    [{ trainerOptions: { magic: {} } }, /'trainerOptions\.magic': unknown trainer/],
    [{ trainerOptions: { sgt: { kk: 0.5 } } }, /trainerOptions\.sgt: unknown option 'kk'; did you mean 'k'\?/],
    [{ trainerOptions: { sgt: { k: 2 } } }, /trainerOptions\.sgt: 'k' must be a number in \[0, 1\], got 2/],
    [{ normalizeMean: [0.5], normalizeStd: [] }, /'normalizeMean' \(1 values\) and 'normalizeStd' \(0\)/],
    [{ modelSha256: 'abc' }, /'modelSha256' must be '' or 64 lowercase hex digits, got 'abc'/],
    [{ modelSha256: 'A'.repeat(64) }, /'modelSha256' must be '' or 64 lowercase hex digits/],
  ])('rejects %j with a ConfigError naming the key', (values, message) => {
    const run = () => resolveConfig([{ source: 'preset.json', values }], trainers);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

describe('parseSetOverrides', () => {
  it('nests trainer options and keeps plain keys flat', () => {
    expect(parseSetOverrides(['lr=0.1', 'sgt.k=0.3', 'trainerOptions.pgd-at.epsilon=8/255'], ['sgt', 'pgd-at'])).toEqual({
      lr: '0.1',
      trainerOptions: { sgt: { k: '0.3' }, 'pgd-at': { epsilon: '8/255' } },
    });
  });

  it.each([['lr'], ['=3'], ['a.b=1'], ['trainerOptions.sgt=1']])('rejects %s', (pair) => {
    expect(() => parseSetOverrides([pair], ['sgt'])).toThrow(ConfigError);
  });
});
