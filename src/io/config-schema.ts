/**
 * Config schemas: each config (SCAAT's, pgd-at's, sgt's, the training loop's, the evaluation's)
 * is one zod object whose keys are declared once, each with its check, its default and its
 * one-line doc (and, for options that are also CLI flags, the flag). From that one declaration
 * come the defaults, the validation and its errors, `--help-config` listings and CLI options.
 *
 *   const SGT_SCHEMA = z.strictObject({
 *     k: setting(amount({ min: 0, max: 1 }), 0.5, 'fraction of pixels masked per image'),
 *   });
 *   resolveLayers(SGT_SCHEMA, [{ source: 'trainerOptions.sgt', values: { k: '2' } }], { where: 'trainerOptions.sgt' });
 *   // ConfigError: trainerOptions.sgt: 'k' must be a number in [0, 1], got '2'
 *
 * Values may be written as text (CLI flags, `--set key=value`): numbers as io/numbers.ts reads
 * them ("0.3", "8/255"), booleans as "true"/"false", lists as "a,b" or a JSON array.
 * Every error is a ConfigError "<where>: '<key>' must be <expected>, got <found>" (or
 * "<where>: unknown <noun> '<key>'; did you mean …" / a sentence for a check across keys).
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { readNumber } from './numbers.js';

/** What a setting's declaration says besides its check. */
export interface SettingInfo {
  /** One line: what it is (help listings, CLI option descriptions). */
  readonly description: string;
  /** The default in words, for settings whose default is not a value (e.g. 'all', 'max(1, round(side / 28))'). */
  readonly defaultText?: string;
  /** The CLI flag of the setting, with its value placeholder: '--aopc-fraction <f>'. */
  readonly flag?: string;
  /** The default as the CLI writes it, when its value reads badly ('8/255'); it must read as the default. */
  readonly written?: string;
  /** The CLI option's description, when it says more than `description`. */
  readonly help?: string;
}

/** The registry of settings' docs and flags (filled by {@link setting} and {@link optionalSetting}). */
export const SETTINGS = z.registry<SettingInfo>();

/** A zod schema (any input and output). */
export type AnySchema = z.ZodType;

/**
 * A value check: `read` returns the value or undefined; `expected` is what the error says is
 * expected ("an integer ≥ 1").
 */
export function checked<T>(expected: string, read: (v: unknown) => T | undefined): z.ZodPipe<z.ZodUnknown, z.ZodTransform<Awaited<T>, unknown>> {
  return z.unknown().transform((v, ctx) => {
    const r = read(v);
    if (r === undefined) {
      ctx.addIssue({ code: 'custom', message: expected, input: v, params: { expected: true } });
      return z.NEVER;
    }
    return r as Awaited<T>;
  });
}

/** A numeric range; `above` is an exclusive lower bound. */
export interface Range {
  readonly integer?: boolean;
  readonly min?: number;
  readonly above?: number;
  readonly max?: number;
  /** Words appended to what is expected, e.g. '(pixel units)'. */
  readonly note?: string;
}

/** "an integer ≥ 1", "a number in (0, 1]" … */
export function describeRange(r: Range): string {
  const lo = r.above !== undefined ? { v: r.above, open: true } : r.min !== undefined ? { v: r.min, open: false } : undefined;
  let bounds = '';
  if (lo && r.max !== undefined) bounds = ` in ${lo.open ? '(' : '['}${lo.v}, ${r.max}]`;
  else if (lo) bounds = ` ${lo.open ? '>' : '≥'} ${lo.v}`;
  else if (r.max !== undefined) bounds = ` ≤ ${r.max}`;
  return `${r.integer ? 'an integer' : 'a number'}${bounds}${r.note ? ` ${r.note}` : ''}`;
}

function inRange(n: number, r: Range): boolean {
  return (
    (!r.integer || Number.isInteger(n)) &&
    (r.min === undefined || n >= r.min) &&
    (r.above === undefined || n > r.above) &&
    (r.max === undefined || n <= r.max)
  );
}

/** A finite number in `r` (text read by io/numbers.ts). */
export function amount(r: Range = {}): z.ZodPipe<z.ZodUnknown, z.ZodTransform<number, unknown>> {
  return checked(describeRange(r), (v) => {
    const n = readNumber(v);
    return n !== undefined && inRange(n, r) ? n : undefined;
  });
}

/** A number in `r`, or the word 'auto'. */
export function amountOrAuto(r: Range = {}): z.ZodPipe<z.ZodUnknown, z.ZodTransform<number | 'auto', unknown>> {
  return amountOr('auto', r);
}

/** A number in range (decimal or a/b, also as text), or the word `word` (e.g. 'auto', 'training'). */
export function amountOr<const W extends string>(word: W, r: Range = {}): z.ZodPipe<z.ZodUnknown, z.ZodTransform<number | W, unknown>> {
  return checked<number | W>(`${describeRange(r)} or '${word}'`, (v) => {
    if (v === word) return word;
    const n = readNumber(v);
    return n !== undefined && inRange(n, r) ? n : undefined;
  });
}

/** true or false (also as text). */
export function flag(): z.ZodPipe<z.ZodUnknown, z.ZodTransform<boolean, unknown>> {
  return checked('true or false', (v) => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined));
}

/** One of `values`. */
export function choice<const T extends string>(values: readonly T[]): z.ZodPipe<z.ZodUnknown, z.ZodTransform<T, unknown>> {
  return checked(`one of ${values.map((c) => `'${c}'`).join(', ')}`, (v) => (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : undefined));
}

/** A string (non-empty, or matching `pattern`, when asked). */
export function text(o: { nonEmpty?: boolean; pattern?: RegExp; expected?: string } = {}): z.ZodPipe<z.ZodUnknown, z.ZodTransform<string, unknown>> {
  const expected = o.expected ?? (o.nonEmpty ? 'a non-empty string' : 'a string');
  return checked(expected, (v) => (typeof v === 'string' && !(o.nonEmpty && v === '') && (!o.pattern || o.pattern.test(v)) ? v : undefined));
}

/** A list as an array, a JSON array or comma-separated text ('' and '[]': empty); undefined for anything else. */
export function listOf(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (t === '' || t === '[]') return [];
  if (t.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(t);
      return Array.isArray(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return t.split(',').map((s) => s.trim());
}

/** A list of numbers in `r` (at least `minItems`). */
export function amounts(r: Range & { minItems?: number } = {}): z.ZodPipe<z.ZodUnknown, z.ZodTransform<number[], unknown>> {
  const items = describeRange(r).replace(/^an? (integer|number)/, 'a list of $1s');
  return checked(r.minItems ? items.replace(/^a list/, 'a non-empty list') : items, (v) => {
    const list = listOf(v);
    if (!list || list.length < (r.minItems ?? 0)) return undefined;
    const nums = list.map(readNumber);
    return nums.every((n) => n !== undefined && inRange(n, r)) ? (nums as number[]) : undefined;
  });
}

/** A non-empty list of non-empty names (array, or comma-separated text). */
export function names(): z.ZodPipe<z.ZodUnknown, z.ZodTransform<string[], unknown>> {
  return checked('a non-empty list of names (comma-separated)', (v) => {
    const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
    return list && list.length > 0 && list.every((s) => typeof s === 'string' && s !== '') ? (list as string[]) : undefined;
  });
}

/** A JSON object (or its text). */
export function jsonObject(): z.ZodPipe<z.ZodUnknown, z.ZodTransform<Record<string, unknown>, unknown>> {
  return checked('a JSON object', (v) => {
    let o = v;
    if (typeof v === 'string') {
      try {
        o = JSON.parse(v);
      } catch {
        return undefined;
      }
    }
    return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  });
}

/** Part i of n: {index, count} or its text 'i/n', integers 0 ≤ i < n (shards of `scaat evaluate` and `scaat sweep`). */
export function shardPart(): z.ZodPipe<z.ZodUnknown, z.ZodTransform<{ index: number; count: number }, unknown>> {
  return checked('i/n with 0 ≤ i < n (e.g. 0/4, or $SLURM_ARRAY_TASK_ID/4)', (v) => {
    let index: unknown;
    let count: unknown;
    if (typeof v === 'string') {
      const m = /^(\d+)\/(\d+)$/.exec(v.trim());
      if (!m) return undefined;
      [index, count] = [Number(m[1]), Number(m[2])];
    } else if (isPlainObject(v)) {
      ({ index, count } = v);
    }
    return Number.isInteger(count) && Number.isInteger(index) && (count as number) >= 1 && (index as number) >= 0 && (index as number) < (count as number)
      ? { index: index as number, count: count as number }
      : undefined;
  });
}

/**
 * One option's value checked by a value check of this module (e.g. `amount({ integer: true, min: 1 })`),
 * for a flag that is no config's setting (`--num-classes`, `scaat demo`'s sizes).
 * @throws ConfigError "<name>: expected <expected>, got <found>".
 */
export function parseOption<S extends AnySchema>(check: S, v: unknown, name: string): z.output<S> {
  const r = check.safeParse(v, { reportInput: true });
  if (!r.success) throw new ConfigError(`${name}: expected ${r.error.issues[0]!.message}, got ${show(v)}`);
  return r.data;
}

/**
 * What a caller may write of a config schema: every key optional, groups of keys (nested objects
 * with a `.prefault({})`) too; lists may be read-only.
 */
export type Written<S extends z.ZodObject> = {
  [K in keyof S['shape']]?: S['shape'][K] extends z.ZodPrefault<infer O extends z.ZodObject> ? Written<O> : Loose<z.output<S["shape"][K]>>;
};
type Loose<T> = T extends Array<infer E> ? readonly E[] : T;

/** A key with a default and its doc. */
export function setting<S extends AnySchema>(schema: S, defaultValue: z.output<S>, info: string | SettingInfo): z.ZodDefault<S> {
  const s = schema.default(defaultValue as never) as z.ZodDefault<S>;
  SETTINGS.add(s as AnySchema, typeof info === 'string' ? { description: info } : info);
  return s;
}

/** A key without a default value (absent means what `info.defaultText` says). */
export function optionalSetting<S extends AnySchema>(schema: S, info: SettingInfo): z.ZodOptional<S> {
  const s = schema.optional();
  SETTINGS.add(s as AnySchema, info);
  return s;
}

/** One leaf of a schema: its dotted key, its doc and its default (a value, or words). */
export interface SettingEntry {
  readonly key: string;
  readonly info: SettingInfo;
  /** The default value; undefined when `info.defaultText` describes it. */
  readonly defaultValue: unknown;
  readonly schema: AnySchema;
}

/** The object schema inside optional/default wrappers, if any. */
function objectOf(s: AnySchema): z.ZodObject | undefined {
  let cur: AnySchema = s;
  for (;;) {
    if (cur instanceof z.ZodObject) return cur;
    if (cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault || cur instanceof z.ZodOptional) cur = cur.unwrap() as AnySchema;
    else return undefined;
  }
}

/** Every documented leaf of `schema`, in declaration order, nested keys dotted ('aopc.fraction'). */
export function settingsOf(schema: z.ZodObject, prefix = ''): SettingEntry[] {
  const out: SettingEntry[] = [];
  for (const [key, s] of Object.entries(schema.shape) as Array<[string, AnySchema]>) {
    const info = SETTINGS.get(s);
    const inner = objectOf(s);
    if (info) {
      out.push({ key: prefix + key, info, defaultValue: s instanceof z.ZodDefault ? (s.def.defaultValue as unknown) : undefined, schema: s });
    } else if (inner) {
      out.push(...settingsOf(inner, `${prefix}${key}.`));
    }
  }
  return out;
}

/** The defaults of every key of `schema`. */
export function defaultsOf<S extends z.ZodObject>(schema: S): z.output<S> {
  return schema.parse({});
}

/** A default as help shows it: JSON of the value, or its words. */
export function defaultText(e: SettingEntry): string {
  return e.info.defaultText ?? JSON.stringify(e.defaultValue);
}

/** `--help-config` lines: "  <key padded> <doc> (default <value>)", one per key. */
export function describeSettings(schema: z.ZodObject, o: { indent?: string; width?: number } = {}): string {
  const indent = o.indent ?? '  ';
  const width = o.width ?? 16;
  return settingsOf(schema)
    .map((e) => `${indent}${e.key.padEnd(width)} ${e.info.description} (default ${defaultText(e)})`)
    .join('\n');
}

/** One layer of configuration and where it came from (for error messages). */
export interface ConfigLayer {
  /** e.g. 'configs/cifar10-small.json', '--set', 'command line'. */
  readonly source: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** How {@link resolveLayers} names things in its messages. */
export interface ResolveNames {
  /** Prefix of messages about the whole (checks across keys), e.g. 'scaat config'. */
  readonly where: string;
  /** What an unknown key is called: 'key' (default), 'config key', 'option'. */
  readonly noun?: string;
  /** The CLI flag of a key, named next to it in messages: "'aopc.fraction' (--aopc-fraction)". */
  readonly flagOf?: (key: string) => string | undefined;
}

/**
 * Merges `layers` (later ones win) over the defaults of `schema` and checks the result.
 * @throws ConfigError naming the layer's source and the key for a bad value or an unknown key,
 *   and `names.where` for a check across keys.
 */
export function resolveLayers<S extends z.ZodObject>(schema: S, layers: readonly ConfigLayer[], names: ResolveNames): z.output<S> {
  const merged: Record<string, unknown> = {};
  for (const { source, values } of layers) mergeWritten(merged, parseWritten(schema, values, source, names));
  const r = schema.safeParse(merged, { reportInput: true });
  if (!r.success) throw issueError(r.error.issues[0]!, names.where, names);
  return r.data;
}

/** `b` over `a`, nested objects merged key by key. */
function mergeWritten(a: Record<string, unknown>, b: Readonly<Record<string, unknown>>): void {
  for (const [k, v] of Object.entries(b)) {
    const old = a[k];
    if (isPlainObject(v) && isPlainObject(old)) {
      const into = { ...old };
      mergeWritten(into, v);
      a[k] = into;
    } else a[k] = v;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The keys written in `values`, each checked and converted by its schema (nested objects key by
 * key), without defaults: what a file or a command line says, in the config's types.
 * @throws ConfigError naming `source` and the key.
 */
export function parseWritten(schema: z.ZodObject, values: unknown, source: string, names: Omit<ResolveNames, 'where'> = {}, prefix = ''): Record<string, unknown> {
  if (!isPlainObject(values)) {
    throw new ConfigError(`${source}: ${prefix ? `'${prefix.slice(0, -1)}' must be an object of keys` : 'expected an object of config keys'}, got ${show(values)}`);
  }
  const out: Record<string, unknown> = {};
  const shape = schema.shape as Record<string, AnySchema>;
  for (const [key, raw] of Object.entries(values)) {
    if (raw === undefined) continue;
    if (!Object.hasOwn(shape, key)) {
      throw new ConfigError(`${source}: unknown ${names.noun ?? 'key'} '${prefix}${key}'${suggest(key, Object.keys(shape))}`);
    }
    const s = shape[key]!;
    const inner = SETTINGS.get(s) ? undefined : objectOf(s);
    if (inner) {
      out[key] = parseWritten(inner, raw, source, names, `${prefix}${key}.`);
      continue;
    }
    const r = s.safeParse(raw, { reportInput: true });
    if (!r.success) throw issueError(r.error.issues[0]!, source, names, `${prefix}${key}`);
    out[key] = r.data;
  }
  return out;
}

/** A zod issue as a ConfigError (see the module header for the forms). */
function issueError(issue: z.core.$ZodIssue, where: string, names: Omit<ResolveNames, 'where'>, key?: string): ConfigError {
  const path = [key, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '').join('.');
  const flagName = names.flagOf?.(path);
  const named = `'${path}'${flagName ? ` (${flagName})` : ''}`;
  if (issue.code === 'custom' && !(issue.params as { expected?: boolean } | undefined)?.expected) {
    return new ConfigError(`${where}: ${issue.message}`);
  }
  if (issue.code === 'unrecognized_keys') {
    return new ConfigError(`${where}: unknown ${names.noun ?? 'key'} ${issue.keys.map((k) => `'${path ? `${path}.` : ''}${k}'`).join(', ')}`);
  }
  const expected = issue.code === 'custom' ? issue.message : issue.code === 'invalid_type' && issue.expected === 'object' ? 'an object of keys' : issue.message;
  return new ConfigError(`${where}: ${named} must be ${expected}, got ${show(issue.input)}`);
}

/** A value as messages show it: text quoted, anything else as JSON. */
export function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

/** "; did you mean 'x'?" for a close key (edit distance ≤ 2), else the list of keys. */
export function suggest(key: string, known: readonly string[]): string {
  let best = '';
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? `; did you mean '${best}'?` : `; expected one of ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}
