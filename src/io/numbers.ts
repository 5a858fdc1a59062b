/**
 * The one reader of numbers written as text (CLI flags, `--set key=value`, config and grid files):
 * a decimal number ("0.3", "-2", ".5", "1e-3", "+4E2") or a fraction of two ("8/255", "1 / 4",
 * "-1/2e1"), surrounding whitespace ignored. Anything else (empty text, words, hex "0x10",
 * "Infinity", "1/2/3") and every non-finite result (a division by zero) is not a number.
 *
 * @example
 * readNumber('8/255');            // 0.03137…  (= 8 / 255 exactly as JavaScript divides)
 * readNumber('1/0');              // undefined
 * parseNumber('x', '--epsilon');  // ConfigError: --epsilon: expected a number (or a fraction such as 8/255), got 'x'
 */
import { ConfigError } from '../errors.js';

/** A decimal literal: optional sign, digits with an optional point (or a point and digits), optional exponent. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * `v` as a finite number: a finite JavaScript number as it is, a string as the module header
 * says; undefined for anything else.
 */
export function readNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const parts = v.split('/').map((s) => s.trim());
  if (parts.length > 2 || parts.some((p) => !DECIMAL.test(p))) return undefined;
  const n = parts.length === 2 ? Number(parts[0]) / Number(parts[1]) : Number(parts[0]);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * {@link readNumber} of an option's text.
 * @throws ConfigError naming `name`, what was expected and what was found.
 */
export function parseNumber(v: string, name: string): number {
  const n = readNumber(v);
  if (n === undefined) throw new ConfigError(`${name}: expected a number (or a fraction such as 8/255), got '${v}'`);
  return n;
}
