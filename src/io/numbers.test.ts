import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { parseNumber, readNumber } from './numbers.js';

describe('readNumber', () => {
  it.each([
    ['0.3', 0.3], ['-2', -2], ['+4E2', 400], ['.5', 0.5], ['5.', 5], ['1e-3', 0.001], ['  7 ', 7], ['\t-0.25\n', -0.25],
  ])('reads the decimal %j as %d', (text, value) => {
    expect(readNumber(text)).toBe(value);
  });

  it.each([
    ['8/255', 8, 255], ['1 / 4', 1, 4], [' -1/2e1 ', -1, 20], ['3e2/1.5', 300, 1.5], ['0/7', 0, 7], ['.5/-.25', 0.5, -0.25],
  ])('reads the fraction %j as a / b, divided as JavaScript divides', (text, a, b) => {
    expect(readNumber(text)).toBe(a / b);
  });

  it('takes finite numbers as they are and nothing else that is not text', () => {
    expect(readNumber(8 / 255)).toBe(8 / 255);
    expect(readNumber(-0)).toBe(-0);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, true, null, undefined, [1], { n: 1 }]) expect(readNumber(v)).toBeUndefined();
  });

  it.each([
    [''], ['   '], ['abc'], ['1,5'], ['0x10'], ['0b1'], ['Infinity'], ['-Infinity'], ['NaN'], ['1e'], ['e3'], ['1.2.3'], ['--1'], ['1 2'],
    ['/'], ['8/'], ['/255'], ['1/2/3'], ['8 / 255x'], ['1_000'],
  ])('refuses %j', (text) => {
    expect(readNumber(text)).toBeUndefined();
  });

  it('refuses a division by zero (±∞ or NaN is not a number)', () => {
    expect(readNumber('1/0')).toBeUndefined();
    expect(readNumber('-1/0')).toBeUndefined();
    expect(readNumber('0/0')).toBeUndefined();
    expect(readNumber('1/0.0e5')).toBeUndefined();
  });

  it('refuses results beyond the float range', () => {
    expect(readNumber('1e309')).toBeUndefined();
    expect(readNumber('1e308/1e-308')).toBeUndefined();
  });
});

describe('parseNumber', () => {
  it('returns readNumber of the text', () => {
    expect(parseNumber('8/255', '--epsilon')).toBe(8 / 255);
  });

  it.each([['big'], ['1/0'], ['']])('refuses %j with a ConfigError naming the option, expected and found', (text) => {
    expect(() => parseNumber(text, '--epsilon')).toThrow(ConfigError);
    expect(() => parseNumber(text, '--epsilon')).toThrow(`--epsilon: expected a number (or a fraction such as 8/255), got '${text}'`);
  });
});
