/**
 * Sweep grids: one JSON file describing a study's training runs (cells), for `scaat sweep`.
 *
 *   {
 *     "$comment": "the question this grid answers, and what it costs",
 *     "title": "…",                                  (optional) the report's title
 *     "base": { <config keys, as configs/*.json> },  every cell's config, under the axes (trainerOptions allowed)
 *     "axes": { "<key>": [v1, v2, …] | {"<label>": v, …}, … }   or a list of such objects
 *     "evaluation": { "split": "test", "limit": 1000, "methods": […], "aopc": {…}, … }
 *   }
 *
 * `axes` is the cross product of its keys (the first key varies slowest); a list of axes objects
 * is the union of their products (e.g. three seeds for the headline cells, one for an ε axis).
 * Axis keys:
 *   <config key>        data, trainer, seed, epochs, lr, model, …: set in every cell
 *   <trainer>.<option>  e.g. scaat.steps: that trainer's option; only in that trainer's cells
 *   *.<option>          e.g. *.epsilon, *.attack: the option of every trainer that has it (scaat
 *                       and pgd-at take epsilon and attack; regular and sgt take neither)
 * A trainer option drops out of the cells of trainers without it, so cells that differ only
 * there are one cell: a trainer × ε grid trains `regular` once per seed, not once per ε.
 *
 * Cell folder names: `key=label` pairs joined by `__`, keys in the order they first appear in
 * the grid (`*.` dropped). A value's label is the value with every run of characters outside
 * [A-Za-z0-9.+-] replaced by `_` (`8/255` → `8_255`, `synthetic:imageSize=96` →
 * `synthetic_imageSize_96`), or its name in the object form (`"data": {"cifar10":
 * "cifar10-jpg:path=../shared/data/cifar10-jpg"}` → `data=cifar10`). Names are a function of the
 * cell's parameters only, so a grid can grow (more seeds, more ε) and keep its finished cells.
 *
 * Fine-tuning: a `model` axis value `{"cell": {<key>: <value>, …}}` starts the cell from the final
 * weights of the grid's cell whose axis values are this cell's with the given ones replaced
 * (`{"cell": {"trainer": "regular", "epochs": 10}}`: the regular model of the same data and seed);
 * every axis of that cell must be given there or be one of this cell's. That cell runs first.
 *
 * Training length: cells whose configs differ only in `epochs` (an `epochs` axis) are one run at
 * several lengths. Where resuming a shorter one's final checkpoint gives the longer run exactly (a
 * constant or step learning rate; no SCAAT ratioStep 'auto':
 * train/registry.ts extensionDiffers), each longer cell continues the next shorter one's finished
 * run instead of starting over: the same weights, bit for bit, so an axis of 2, 4, 8 and 16 epochs
 * costs 16 epochs of training, not 30. It runs after that cell (`Cell.continues`).
 *
 * Shards (`--shard i/n`, numbered from 0 as `scaat evaluate --shard`): the cells that start from
 * scratch, in grid order, go to shards 0, 1, …, n−1, 0, 1, … (every n-th cell); a fine-tuning or
 * continuing cell goes to the shard of the cell it starts from, so no shard waits for another.
 *
 * Every error is a ConfigError naming the grid file and the JSON path (`axes[1].trainer[2]`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { jsonTypeOf, valueAt } from '../io/json-values.js';
import { ConfigError } from '../errors.js';
import { canonicalJson } from '../io/canonical-json.js';
import { EVALUATION_SCHEMA } from '../metrics/evaluation-options.js';
import { defaultsOf, parseWritten, setting, text } from '../io/config-schema.js';
import type { Written } from '../io/config-schema.js';
import { resolveConfig, TRAIN_CONFIG_SCHEMA } from '../train/config.js';
import type { TrainConfig } from '../train/config.js';
import type { ConfigLayer } from '../io/config-schema.js';
import { extensionDiffers, optionsResolver } from '../train/registry.js';
import type { TrainerRegistry } from '../train/registry.js';

/** A value an axis (or a cell reference) may take. */
export type PlainValue = string | number | boolean | number[];
/** `{"cell": {...}}`: the final model of another cell of the grid (fine-tuning; `model` axes only). */
export interface CellRef {
  readonly cell: Readonly<Record<string, PlainValue>>;
}

const plain = z.union([z.string(), z.number(), z.boolean(), z.array(z.number())]);
const cellRef = z.strictObject({ cell: z.record(z.string(), plain) });
const axisValue = z.union([plain, cellRef]);
const axisSchema = z.union([
  z.array(axisValue).min(1),
  z.record(z.string(), axisValue).refine((o) => Object.keys(o).length > 0, { message: 'expected at least one labelled value' }),
]);
const axesSchema = z.record(z.string(), axisSchema).refine((o) => Object.keys(o).length > 0, { message: 'expected at least one axis' });
/**
 * The evaluation section: evaluate()'s settings as metrics/evaluation-options.ts declares them
 * (methods by name; no shard: a cell is evaluated whole), plus the split evaluated.
 */
const GRID_EVALUATION_SCHEMA = EVALUATION_SCHEMA.omit({ shard: true }).extend({
  split: setting(text({ nonEmpty: true }), 'test', 'the split of each cell\'s data that is evaluated'),
});

const gridSchema = z.strictObject({
  $comment: z.string().optional(),
  title: z.string().optional(),
  base: z.record(z.string(), z.unknown()).optional(),
  axes: z.union([axesSchema, z.array(axesSchema).min(1)]),
  evaluation: z.record(z.string(), z.unknown()).optional(),
});

/** The evaluation section as written (values read: '8/255' → a number), with the split and methods filled in (split 'test'; VG, SG, IG). */
export type GridEvaluation = Written<typeof GRID_EVALUATION_SCHEMA> & { readonly split: string; readonly methods: readonly string[] };

/** One value of an axis. */
export interface AxisValue {
  /** The value as written (a cell reference for fine-tuning). */
  readonly value: PlainValue | CellRef;
  /** Its form in folder names ([A-Za-z0-9._+-]). */
  readonly label: string;
  /** Its form in reports: the object form's name, else the value as written. */
  readonly display: string;
  /** JSON path in the grid file, e.g. `axes[1].trainer[2]`. */
  readonly path: string;
}

/** One axis of a product. */
export interface Axis {
  /** The key as written: `trainer`, `scaat.steps`, `*.epsilon`. */
  readonly key: string;
  /** Its name in folder names and reports (`*.` dropped). */
  readonly name: string;
  /** A config key, one trainer's option, or every trainer's option of that name. */
  readonly kind: 'config' | 'trainer-option' | 'any-trainer-option';
  /** For trainer options: the trainer (`trainer-option`) and the option. */
  readonly trainer?: string;
  readonly option?: string;
  readonly values: readonly AxisValue[];
  readonly path: string;
}

/** A parsed, checked grid file. */
export interface Grid {
  /** The file it was read from (messages, sweep.json). */
  readonly file: string;
  /** The JSON as read (recorded in sweep.json). */
  readonly json: unknown;
  readonly comment?: string;
  readonly title?: string;
  readonly base: Readonly<Record<string, unknown>>;
  /** One entry per axes object, with its JSON path ('axes' or 'axes[i]'). */
  readonly products: ReadonlyArray<{ readonly path: string; readonly axes: readonly Axis[] }>;
  readonly evaluation: GridEvaluation;
}

/** One cell: a training run and its evaluation. */
export interface Cell {
  /** Folder name under the sweep folder (see the module header). */
  readonly name: string;
  /** The axis values that apply to this cell, in name order. */
  readonly params: ReadonlyArray<{ readonly axis: Axis; readonly value: AxisValue }>;
  /** The resolved training config (a fine-tuning cell's `model` is its source cell's folder). */
  readonly config: TrainConfig;
  /** The cell whose final model this one starts from. */
  readonly source?: string;
  /**
   * The cell with this one's axis values but fewer epochs (the largest such) whose finished run
   * this one continues from its final checkpoint: the same weights, bit for bit, as training from
   * scratch, at the cost of the extra epochs. Only where a longer run passes through a shorter
   * one's final state (train/registry.ts extensionDiffers: not under a cosine schedule or SCAAT's
   * ratioStep 'auto'); otherwise the cell trains from scratch.
   */
  readonly continues?: string;
  /** Shard position: the index of the from-scratch cell this one descends from, in run order. */
  readonly root: number;
}

/**
 * Reads and checks a grid file.
 * @throws ConfigError naming the file and JSON path (unreadable file, invalid JSON, schema, unknown
 *   axis key, duplicate labels, a cell reference outside a `model` axis).
 */
export function readGrid(file: string, trainers: TrainerRegistry): Grid {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the grid: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return parseGrid(json, file, trainers);
}

/** Checks grid JSON (see {@link readGrid}); `file` names it in messages. */
export function parseGrid(json: unknown, file: string, trainers: TrainerRegistry): Grid {
  const parsed = gridSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const { where, message } = describeIssue(issue, [], json);
    throw new ConfigError(`${file}: ${where}: ${message}`);
  }
  const g = parsed.data;
  const base = g.base ?? {};
  // The base alone must be a valid config (messages name the key and 'base').
  withFile(file, () => resolveConfig([{ source: 'base', values: base }], optionsResolver(trainers)));
  const list = Array.isArray(g.axes) ? g.axes : [g.axes];
  const products = list.map((axes, i) => {
    const at = Array.isArray(g.axes) ? `axes[${i}]` : 'axes';
    const parsedAxes = Object.entries(axes).map(([key, values]) => parseAxis(key, values, `${at}.${key}`, file, trainers));
    const names = new Set<string>();
    for (const a of parsedAxes) {
      if (names.has(a.name)) throw new ConfigError(`${file}: ${a.path}: another key of ${at} also names the axis '${a.name}'`);
      names.add(a.name);
    }
    return { path: at, axes: parsedAxes };
  });
  const written = parseWritten(GRID_EVALUATION_SCHEMA, g.evaluation ?? {}, `${file}: evaluation`) as Written<typeof GRID_EVALUATION_SCHEMA>;
  const defaults = defaultsOf(GRID_EVALUATION_SCHEMA);
  const evaluation: GridEvaluation = { ...written, split: written.split ?? defaults.split, methods: written.methods ?? defaults.methods };
  return {
    file,
    json,
    ...(g.$comment !== undefined ? { comment: g.$comment } : {}),
    ...(g.title !== undefined ? { title: g.title } : {}),
    base,
    products,
    evaluation,
  };
}

function parseAxis(key: string, raw: z.output<typeof axisSchema>, at: string, file: string, trainers: TrainerRegistry): Axis {
  const fail = (msg: string): never => {
    throw new ConfigError(`${file}: ${at}: ${msg}`);
  };
  let kind: Axis['kind'] = 'config';
  let trainer: string | undefined;
  let option: string | undefined;
  const dot = key.indexOf('.');
  if (dot > 0) {
    const [t, o] = [key.slice(0, dot), key.slice(dot + 1)];
    option = o;
    if (t === '*') {
      kind = 'any-trainer-option';
      const having = [...trainers].filter(([, s]) => Object.hasOwn(s.options.shape, o)).map(([n]) => n);
      if (having.length === 0) {
        const known = [...new Set([...trainers.values()].flatMap((s) => Object.keys(s.options.shape)))];
        fail(`no trainer has an option '${o}' (trainer options: ${known.join(', ')})`);
      }
    } else {
      kind = 'trainer-option';
      trainer = t;
      const spec = trainers.get(t);
      if (!spec) fail(`'${t}' is not a trainer (expected <trainer>.<option> with a trainer of ${[...trainers.keys()].join(', ')}, or *.<option>)`);
      if (!Object.hasOwn(spec!.options.shape, o)) fail(`trainer '${t}' has no option '${o}' (its options: ${Object.keys(spec!.options.shape).join(', ') || 'none'})`);
    }
  } else if (key === 'trainerOptions') {
    fail("set trainer options as '<trainer>.<option>' (one trainer) or '*.<option>' (every trainer that has it)");
  } else if (!Object.hasOwn(TRAIN_CONFIG_SCHEMA.shape, key)) {
    // resolveConfig's message: unknown config key, with a suggestion.
    withFile(file, () => resolveConfig([{ source: at, values: { [key]: 0 } }]));
  }
  const name = kind === 'any-trainer-option' ? option! : key;
  const entries: Array<[string | undefined, PlainValue | CellRef, string]> = Array.isArray(raw)
    ? raw.map((v, i) => [undefined, v, `${at}[${i}]`])
    : Object.entries(raw).map(([label, v]) => [label, v, `${at}.${label}`]);
  const labels = new Map<string, string>();
  const values = entries.map(([given, value, p]): AxisValue => {
    if (isCellRef(value) && key !== 'model') throw new ConfigError(`${file}: ${p}: a {"cell": …} reference is a model to start from; it is allowed in 'model' axes only`);
    if (key === 'trainer' && (typeof value !== 'string' || !trainers.has(value))) {
      throw new ConfigError(`${file}: ${p}: expected a trainer (${[...trainers.keys()].join(', ')}), got ${JSON.stringify(value)}`);
    }
    let label: string;
    if (given !== undefined) {
      if (!/^[A-Za-z0-9+-][A-Za-z0-9.+-]*(?:_[A-Za-z0-9.+-]+)*$/.test(given)) {
        throw new ConfigError(`${file}: ${p}: a label must be letters, digits, '.', '+', '-' and single '_' (it names folders), got '${given}'`);
      }
      label = given;
    } else {
      label = isCellRef(value) ? `from-${Object.entries(value.cell).map(([k, v]) => `${nameOf(k)}-${display(v)}`).join('-')}` : display(value);
      label = label.replace(/[^A-Za-z0-9.+-]+/g, '_').replace(/^_+|_+$/g, '');
      if (label === '' || label === '.' || label === '..') throw new ConfigError(`${file}: ${p}: ${JSON.stringify(value)} gives no usable folder name; name it with the object form {"<label>": value}`);
    }
    const before = labels.get(label);
    if (before !== undefined) throw new ConfigError(`${file}: ${p}: its folder label '${label}' is also that of ${before}; name the values with the object form {"<label>": value}`);
    labels.set(label, p);
    return { value, label, display: given ?? (isCellRef(value) ? `cell(${Object.entries(value.cell).map(([k, v]) => `${nameOf(k)}=${display(v)}`).join(', ')})` : display(value)), path: p };
  });
  return { key, name, kind, ...(trainer !== undefined ? { trainer } : {}), ...(option !== undefined ? { option } : {}), values, path: at };
}

/** The name of an axis key in folder names and reports. */
function nameOf(key: string): string {
  return key.startsWith('*.') ? key.slice(2) : key;
}

function display(v: PlainValue): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

function isCellRef(v: PlainValue | CellRef): v is CellRef {
  return typeof v === 'object' && !Array.isArray(v);
}

/** Runs `f`, prefixing a ConfigError's message with the grid file. */
function withFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * The grid's cells in run order (a fine-tuning cell after the cell it starts from), each with its
 * resolved config; fine-tuning cells start from `<out>/<source cell>`.
 * @throws ConfigError naming the grid file and the value's JSON path (a bad value, a cell
 *   reference that matches no cell or several, a cycle, two cells with one config).
 */
export function expandGrid(grid: Grid, { out, trainers }: { out: string; trainers: TrainerRegistry }): Cell[] {
  const resolver = optionsResolver(trainers);
  const file = grid.file;
  const order = new Map<string, number>(); // axis name → position in folder names
  for (const { axes } of grid.products) for (const a of axes) if (!order.has(a.name)) order.set(a.name, order.size);
  const baseTrainer = typeof grid.base['trainer'] === 'string' ? grid.base['trainer'] : 'regular';

  // 1) the products, with the axes that do not apply dropped, deduplicated by name
  interface Raw { name: string; params: Array<{ axis: Axis; value: AxisValue }>; trainer: string }
  const raws = new Map<string, Raw>();
  let empty: string | undefined;
  for (const { path: at, axes } of grid.products) {
    for (const combo of product(axes.map((a) => a.values))) {
      const trainerAxis = axes.findIndex((a) => a.kind === 'config' && a.key === 'trainer');
      const trainer = trainerAxis >= 0 ? String(combo[trainerAxis]!.value) : baseTrainer;
      const params = axes
        .map((axis, i) => ({ axis, value: combo[i]! }))
        .filter(({ axis }) => applies(axis, trainer, trainers))
        .sort((a, b) => order.get(a.axis.name)! - order.get(b.axis.name)!);
      if (params.length === 0) {
        empty ??= `${file}: ${at}: no axis applies to trainer '${trainer}' (its trainer options are for other trainers)`;
        continue;
      }
      const name = params.map((p) => `${p.axis.name}=${p.value.label}`).join('__');
      const twin = raws.get(name);
      if (twin === undefined) raws.set(name, { name, params, trainer });
      else if (canonicalJson(twin.params.map((p) => [p.axis.key, p.value.value])) !== canonicalJson(params.map((p) => [p.axis.key, p.value.value]))) {
        throw new ConfigError(`${file}: ${at}: cell ${name} is also made by another axes object with other values under the same labels; label the values apart`);
      }
    }
  }
  for (const { axes } of grid.products) {
    for (const a of axes) {
      if (a.kind !== 'config' && ![...raws.values()].some((r) => r.params.some((p) => p.axis === a))) {
        throw new ConfigError(`${file}: ${a.path}: applies to no cell (no cell of ${a.kind === 'trainer-option' ? `trainer '${a.trainer}'` : `a trainer with option '${a.option}'`})`);
      }
    }
  }

  if (empty !== undefined) throw new ConfigError(empty);

  // 2) cell references → sources
  const list = [...raws.values()];
  const source = new Map<string, string>();
  for (const r of list) {
    const ref = r.params.find((p) => isCellRef(p.value.value));
    if (ref) source.set(r.name, findSource(r, ref.value, list, file));
  }

  // 3) configs
  const configs = new Map<string, TrainConfig>();
  for (const r of list) {
    const layers: ConfigLayer[] = [{ source: 'base', values: grid.base }];
    // an axis value that is invalid on its own, named by its JSON path if the cell is invalid
    let alone: ConfigError | undefined;
    for (const { axis, value } of r.params) {
      const v = value.value;
      if (isCellRef(v)) {
        layers.push({ source: value.path, values: { model: path.join(out, source.get(r.name)!) } });
      } else if (axis.kind === 'config') {
        layers.push({ source: value.path, values: { [axis.key]: v } });
      } else {
        const t = axis.kind === 'trainer-option' ? axis.trainer! : r.trainer;
        // The option alone (over the base's options of that trainer), so that a bad value is named
        // by its JSON path; an error that only says the option needs another cell's setting (e.g.
        // sharedBackward needs attack 'fgsm-rs', which another axis sets) counts only when the
        // whole cell is invalid too.
        try {
          trainers.get(t)?.resolveOptions({ ...baseOptions(grid.base, t), [axis.option!]: v });
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          alone ??= new ConfigError(`${file}: ${value.path}: ${err.message}`, { cause: err });
        }
        layers.push({ source: value.path, values: { trainerOptions: { [t]: { [axis.option!]: v } } } });
      }
    }
    try {
      configs.set(r.name, resolveConfig(layers, resolver));
    } catch (err) {
      if (alone) throw alone;
      if (err instanceof ConfigError) throw new ConfigError(`${file}: ${/^(base|axes)/.test(err.message) ? '' : `cell ${r.name}: `}${err.message}`, { cause: err });
      throw err;
    }
  }

  // 4) training length: cells whose configs differ only in `epochs` continue the next shorter one where that is exact
  const continues = new Map<string, string>();
  const lengths = new Map<string, Raw[]>(); // the config without its epochs → the cells
  for (const r of list) {
    const rest = canonicalJson({ ...configs.get(r.name)!, epochs: 0 });
    lengths.set(rest, [...(lengths.get(rest) ?? []), r]);
  }
  for (const group of lengths.values()) {
    const byLength = group.filter((r) => extensionDiffers(configs.get(r.name)!, trainers) === undefined).sort((a, b) => configs.get(a.name)!.epochs - configs.get(b.name)!.epochs);
    for (let i = 1; i < byLength.length; i++) continues.set(byLength[i]!.name, byLength[i - 1]!.name);
  }

  // 5) run order (sources and shorter runs first, otherwise grid order), cycles, roots
  const before = (name: string): string[] => [source.get(name), continues.get(name)].filter((n): n is string => n !== undefined);
  const ordered: Raw[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (r: Raw, chain: string[]): void => {
    if (state.get(r.name) === 'done') return;
    if (state.get(r.name) === 'visiting') throw new ConfigError(`${file}: cells start from each other in a cycle: ${[...chain, r.name].join(' → ')}`);
    state.set(r.name, 'visiting');
    for (const b of before(r.name)) visit(raws.get(b)!, [...chain, r.name]);
    state.set(r.name, 'done');
    ordered.push(r);
  };
  for (const r of list) visit(r, []);
  const roots = new Map<string, number>();
  let nextRoot = 0;
  for (const r of ordered) {
    const from = continues.get(r.name) ?? source.get(r.name);
    roots.set(r.name, from === undefined ? nextRoot++ : roots.get(from)!);
  }

  // 6) no two cells alike
  const seen = new Map<string, string>();
  return ordered.map((r) => {
    const config = configs.get(r.name)!;
    const key = canonicalJson(config);
    const twin = seen.get(key);
    if (twin !== undefined) throw new ConfigError(`${file}: cells ${twin} and ${r.name} have the same config; drop one of the axis values that make them`);
    seen.set(key, r.name);
    const s = source.get(r.name);
    const c = continues.get(r.name);
    return { name: r.name, params: r.params, config, ...(s !== undefined ? { source: s } : {}), ...(c !== undefined ? { continues: c } : {}), root: roots.get(r.name)! };
  });
}

/** Whether an axis applies to a cell of `trainer` (trainer options only to trainers that have them). */
function applies(axis: Axis, trainer: string, trainers: TrainerRegistry): boolean {
  if (axis.kind === 'config') return true;
  if (axis.kind === 'trainer-option') return axis.trainer === trainer;
  return Object.hasOwn(trainers.get(trainer)?.options.shape ?? {}, axis.option!);
}

/** The one cell a `{"cell": {...}}` reference of `cell` names (module header). */
function findSource(
  cell: { name: string; params: ReadonlyArray<{ axis: Axis; value: AxisValue }> },
  ref: AxisValue,
  cells: ReadonlyArray<{ name: string; params: ReadonlyArray<{ axis: Axis; value: AxisValue }> }>,
  file: string,
): string {
  const overrides = Object.entries((ref.value as CellRef).cell);
  const axisKeys = new Set(cells.flatMap((c) => c.params.map((p) => p.axis.key)));
  for (const [k] of overrides) {
    if (!axisKeys.has(k)) throw new ConfigError(`${file}: ${ref.path}.cell.${k}: not an axis key of this grid (axis keys: ${[...axisKeys].join(', ')})`);
  }
  const equal = (v: AxisValue, want: PlainValue) => v.label === want || v.display === want || JSON.stringify(v.value) === JSON.stringify(want);
  const matches = cells.filter((c) => {
    if (c.name === cell.name) return false;
    for (const [k, want] of overrides) {
      const p = c.params.find((q) => q.axis.key === k);
      if (!p || !equal(p.value, want)) return false;
    }
    return c.params.every((p) => overrides.some(([k]) => k === p.axis.key) || cell.params.some((q) => q.axis.name === p.axis.name && q.value.label === p.value.label));
  });
  if (matches.length === 1) return matches[0]!.name;
  const what = `{"cell": ${JSON.stringify((ref.value as CellRef).cell)}} of cell ${cell.name}`;
  if (matches.length === 0) {
    throw new ConfigError(`${file}: ${ref.path}: ${what} matches no cell (a cell matches when each of its axes is given in the reference or equals this cell's)`);
  }
  throw new ConfigError(`${file}: ${ref.path}: ${what} matches ${matches.length} cells (${matches.map((m) => m.name).join(', ')}); give the axes that tell them apart`);
}

/** The cross product of the lists, the first varying slowest. */
function product<T>(lists: ReadonlyArray<readonly T[]>): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

/**
 * The cells of shard `index` of `count` (module header): cells starting from scratch by turns in
 * run order, each fine-tuning cell with the cell it starts from.
 */
export function shardCells(cells: readonly Cell[], shard?: { index: number; count: number }): Cell[] {
  if (!shard) return [...cells];
  if (!(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new ConfigError(`--shard: expected i/n with integers 0 ≤ i < n, got ${shard.index}/${shard.count}`);
  }
  return cells.filter((c) => c.root % shard.count === shard.index);
}

/**
 * Cells by their 1-based numbers in run order (as `scaat sweep --dry-run` lists them), each with the
 * cells it fine-tunes or continues from (a finished one is skipped when the sweep runs), in run order.
 * @throws ConfigError for a number outside 1..cells.length
 */
export function selectCells(cells: readonly Cell[], numbers?: ReadonlySet<number>): Cell[] {
  if (!numbers) return [...cells];
  for (const n of numbers) {
    if (!(Number.isInteger(n) && n >= 1 && n <= cells.length)) {
      throw new ConfigError(`--cells: cell ${n} does not exist; the grid has cells 1 to ${cells.length} (scaat sweep --dry-run lists them)`);
    }
  }
  const byName = new Map(cells.map((c) => [c.name, c]));
  const wanted = new Set<string>();
  // a cell may both fine-tune one cell and continue another (a longer fine-tuning run): follow both
  const todo = [...numbers].map((n) => cells[n - 1]!);
  for (let c = todo.pop(); c; c = todo.pop()) {
    if (wanted.has(c.name)) continue;
    wanted.add(c.name);
    for (const from of [c.source, c.continues]) if (from !== undefined) todo.push(byName.get(from)!);
  }
  return cells.filter((c) => wanted.has(c.name));
}

/** The known keys of the grid's objects, by JSON path without indices (for "unknown key" messages). */
const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(gridSchema.shape),
};

/** A zod issue as "where: what was expected, what was found"; unions report their closest branch. */
function describeIssue(issue: z.core.$ZodIssue, base: readonly PropertyKey[], root: unknown): { where: string; message: string } {
  const at = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && 'errors' in issue) {
    const branches = issue.errors.filter((b) => b.length > 0);
    const deep = branches.filter((b) => !isShallow(b[0]!));
    if (deep.length > 0) return describeIssue(deep[0]![0]!, at, root);
    const expected = [...new Set(branches.flatMap((b) => expectedOf(b[0]!)))];
    return { where: formatPath(at), message: `expected ${expected.join(' or ')}, got ${jsonTypeOf(valueAt(root, at))}` };
  }
  if (issue.code === 'invalid_type') {
    const found = valueAt(root, at);
    return { where: formatPath(at), message: `expected ${issue.expected}, got ${found === undefined ? 'nothing (missing)' : jsonTypeOf(found)}` };
  }
  if (issue.code === 'unrecognized_keys') {
    const known = KNOWN_KEYS[at.filter((p) => typeof p === 'string').join('.')];
    return { where: formatPath(at), message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}${known ? ` (expected ${known.join(', ')})` : ''}` };
  }
  const found = valueAt(root, at);
  return { where: formatPath(at), message: `${issue.message}${found !== undefined && typeof found !== 'object' ? `, got ${JSON.stringify(found)}` : ''}` };
}

/** A union branch that failed on the value's type itself (the value was meant for another branch). */
function isShallow(issue: z.core.$ZodIssue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === 'invalid_type') return true;
  return issue.code === 'invalid_union' && 'errors' in issue && issue.errors.every((b) => b.length > 0 && isShallow(b[0]!));
}

function expectedOf(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'invalid_type') return [issue.expected === 'record' ? 'object' : issue.expected];
  if (issue.code === 'invalid_union' && 'errors' in issue) return issue.errors.flatMap((b) => (b[0] ? expectedOf(b[0]) : []));
  return [];
}

function formatPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s === '' ? String(k) : `.${String(k)}`;
  return s === '' ? '(top level)' : s;
}

/** The base's `trainerOptions[trainer]` (an object), or none. */
function baseOptions(base: Readonly<Record<string, unknown>>, trainer: string): Readonly<Record<string, unknown>> {
  const all = base['trainerOptions'];
  const own = all && typeof all === 'object' ? (all as Record<string, unknown>)[trainer] : undefined;
  return own && typeof own === 'object' && !Array.isArray(own) ? (own as Record<string, unknown>) : {};
}
