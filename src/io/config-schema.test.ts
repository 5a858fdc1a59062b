import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import {
  amount, amountOrAuto, amounts, choice, defaultsOf, describeRange, describeSettings, flag, names, optionalSetting, parseWritten, resolveLayers,
  setting, settingsOf, shardPart, text,
} from './config-schema.js';

/** The message of the ConfigError `f` throws. */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const SCHEMA = z
  .strictObject({
    epsilon: setting(amount({ above: 0, max: 1 }), 8 / 255, { description: 'budget', written: '8/255', flag: '--epsilon <e>' }),
    steps: setting(amount({ integer: true, min: 1 }), 7, 'steps'),
    lo: setting(amount({ min: 0, max: 1 }), 0.1, 'low end'),
    hi: setting(amount({ min: 0, max: 1 }), 0.9, 'high end'),
    list: setting(amounts({ min: 0 }), [], 'a list'),
    group: z.strictObject({ mode: setting(choice(['a', 'b']), 'a', 'mode'), size: optionalSetting(amount({ integer: true, min: 1 }), { description: 'size', defaultText: 'auto' }) }).prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.lo > c.hi) ctx.addIssue({ code: 'custom', message: `'lo' (${c.lo}) must be ≤ 'hi' (${c.hi})` });
  });

describe('value checks', () => {
  it.each([
    [{}, 'a number'], [{ integer: true }, 'an integer'], [{ min: 0 }, 'a number ≥ 0'], [{ above: 0 }, 'a number > 0'], [{ max: 3 }, 'a number ≤ 3'],
    [{ above: 0, max: 1 }, 'a number in (0, 1]'], [{ integer: true, min: 1, max: 100 }, 'an integer in [1, 100]'], [{ min: 0, note: '(px)' }, 'a number ≥ 0 (px)'],
  ])('describeRange(%j) = %j', (range, words) => {
    expect(describeRange(range)).toBe(words);
  });

  it('reads numbers as text, in range only', () => {
    const a = amount({ above: 0, max: 1 });
    expect(a.parse('8/255')).toBe(8 / 255);
    expect(a.parse(1)).toBe(1);
    for (const bad of [0, '0', 1.5, '2/1', 'x', '', null, true, Number.NaN]) expect(a.safeParse(bad).success, String(bad)).toBe(false);
    expect(amount({ integer: true }).safeParse('2.5').success).toBe(false);
    expect(amount({ integer: true }).parse('-3')).toBe(-3);
  });

  it("takes 'auto', true/false, choices, text", () => {
    expect(amountOrAuto({ above: 0 }).parse('auto')).toBe('auto');
    expect(amountOrAuto({ above: 0 }).parse('0.5')).toBe(0.5);
    expect(amountOrAuto({ above: 0 }).safeParse('0').success).toBe(false);
    expect([flag().parse('true'), flag().parse(false)]).toEqual([true, false]);
    expect(flag().safeParse('yes').success).toBe(false);
    expect(choice(['a', 'b']).parse('b')).toBe('b');
    expect(choice(['a', 'b']).safeParse('c').success).toBe(false);
    expect(text({ nonEmpty: true }).safeParse('').success).toBe(false);
    expect(text({ pattern: /^x+$/ }).parse('xx')).toBe('xx');
  });

  it('reads lists as arrays, JSON arrays or comma-separated text', () => {
    const l = amounts({ min: 0 });
    expect(l.parse('1, 2,8/4')).toEqual([1, 2, 2]);
    expect(l.parse('[1, 0.5]')).toEqual([1, 0.5]);
    expect(l.parse('')).toEqual([]);
    expect(l.parse([3])).toEqual([3]);
    for (const bad of ['1,-1', '[1,', 'a,b', 5]) expect(l.safeParse(bad).success, String(bad)).toBe(false);
    expect(amounts({ minItems: 1 }).safeParse([]).success).toBe(false);
    expect(names().parse('a, b,')).toEqual(['a', 'b']);
    expect(names().safeParse('').success).toBe(false);
  });

  it('reads shards i/n with 0 ≤ i < n, as text or {index, count}', () => {
    expect(shardPart().parse(' 1/4 ')).toEqual({ index: 1, count: 4 });
    expect(shardPart().parse({ index: 0, count: 1 })).toEqual({ index: 0, count: 1 });
    for (const bad of ['4/4', '1/0', '-1/2', '1.5/2', '1', { index: 2, count: 2 }]) expect(shardPart().safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});

describe('resolveLayers', () => {
  it('fills the defaults, later layers winning, nested groups merged key by key', () => {
    expect(defaultsOf(SCHEMA)).toEqual({ epsilon: 8 / 255, steps: 7, lo: 0.1, hi: 0.9, list: [], group: { mode: 'a' } });
    const r = resolveLayers(SCHEMA, [
      { source: 'file.json', values: { steps: 3, group: { mode: 'b', size: 2 } } },
      { source: '--set', values: { steps: '5', group: { size: '4' } } },
    ], { where: 'test config' });
    expect(r).toEqual({ epsilon: 8 / 255, steps: 5, lo: 0.1, hi: 0.9, list: [], group: { mode: 'b', size: 4 } });
  });

  it('gives fresh defaults each time (a resolved list is not the default list)', () => {
    const a = resolveLayers(SCHEMA, [], { where: 'w' });
    a.list.push(1);
    expect(resolveLayers(SCHEMA, [], { where: 'w' }).list).toEqual([]);
  });

  it.each([
    [{ steps: 0 }, "file.json: 'steps' must be an integer ≥ 1, got 0"],
    [{ steps: '3x' }, "file.json: 'steps' must be an integer ≥ 1, got '3x'"],
    [{ epsilon: [1] }, "file.json: 'epsilon' must be a number in (0, 1], got [1]"],
    [{ stpes: 1 }, "file.json: unknown key 'stpes'; did you mean 'steps'?"],
    [{ zzzzzzzz: 1 }, "file.json: unknown key 'zzzzzzzz'; expected one of epsilon, steps, lo, hi, list, group"],
    [{ group: { mode: 'c' } }, "file.json: 'group.mode' must be one of 'a', 'b', got 'c'"],
    [{ group: { mod: 'a' } }, "file.json: unknown key 'group.mod'; did you mean 'mode'?"],
    [{ group: 3 }, "file.json: 'group' must be an object of keys, got 3"],
    [{ lo: 0.5, hi: 0.4 }, "test config: 'lo' (0.5) must be ≤ 'hi' (0.4)"],
  ])('%j → %j', (values, message) => {
    expect(errorOf(() => resolveLayers(SCHEMA, [{ source: 'file.json', values }], { where: 'test config' }))).toBe(message);
  });

  it('names the flag next to the key, and the noun asked for unknown keys', () => {
    const names = { where: 'w', noun: 'option', flagOf: (k: string) => (k === 'epsilon' ? '--epsilon' : undefined) };
    expect(errorOf(() => resolveLayers(SCHEMA, [{ source: 'cli', values: { epsilon: 'big' } }], names))).toBe("cli: 'epsilon' (--epsilon) must be a number in (0, 1], got 'big'");
    expect(errorOf(() => resolveLayers(SCHEMA, [{ source: 'cli', values: { step: 1 } }], names))).toBe("cli: unknown option 'step'; did you mean 'steps'?");
  });

  it('parseWritten keeps only what was written, read', () => {
    expect(parseWritten(SCHEMA, { epsilon: '1/2', group: { size: '3' } }, 'x')).toEqual({ epsilon: 0.5, group: { size: 3 } });
  });
});

describe('settings listing', () => {
  it('lists every documented leaf with its default, nested keys dotted', () => {
    expect(settingsOf(SCHEMA).map((e) => [e.key, e.defaultValue])).toEqual([
      ['epsilon', 8 / 255], ['steps', 7], ['lo', 0.1], ['hi', 0.9], ['list', []], ['group.mode', 'a'], ['group.size', undefined],
    ]);
    expect(describeSettings(SCHEMA, { width: 10 }).split('\n')).toEqual([
      `  epsilon    budget (default ${8 / 255})`, '  steps      steps (default 7)', '  lo         low end (default 0.1)', '  hi         high end (default 0.9)',
      '  list       a list (default [])', '  group.mode mode (default "a")', '  group.size size (default auto)',
    ]);
  });
});
