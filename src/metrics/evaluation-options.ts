/**
 * Every setting of an evaluation, declared once (io/config-schema.ts): its check, its default, its
 * description and its `scaat evaluate` flag. evaluate() validates its options with it
 * ({@link EVALUATION_SETTINGS}), `scaat evaluate` builds its options from it
 * (cli/commands/evaluate.ts), `scaat compare` and `scaat explain` the options they share with it
 * (their COMPARE_SETTING_FLAGS, EXPLAIN_SETTING_FLAGS), and a sweep grid's `evaluation` section is checked by it
 * (sweep/grid.ts), so a new setting is one entry here plus the code that uses it.
 *
 * The key order is `scaat evaluate --help`'s. The resolved settings a result records are
 * {@link EvaluationConfig} (evaluation-result.ts, the JSON contract).
 */
import { z } from 'zod';
import {
  amount, amounts, checked, choice, flag, jsonObject, listOf, names, optionalSetting, setting, settingsOf, shardPart, show,
} from '../io/config-schema.js';
import type { Written } from '../io/config-schema.js';
import { CHANNEL_REDUCTIONS } from '../saliency/postprocess.js';
import { SALIENCY } from '../saliency/registry.js';
import { TARGET_MODES } from '../saliency/types.js';
import { DEFAULT_AOPC_FRACTION } from './aopc.js';
import type { AopcFill } from './aopc.js';
import { METRICS } from './registry.js';
import { DEFAULT_RATIOS } from './robustness.js';
import { SIZE_FORMATS } from './saliency-size.js';

/** One AOPC fill: 'uniform', 'black' or a number (text read as a number); undefined for anything else. */
function readFill(v: unknown): AopcFill | undefined {
  if (v === 'uniform' || v === 'black') return v;
  const n = amount().safeParse(v);
  return n.success ? n.data : undefined;
}

/** A list of fills as written: an array, a JSON array, or text with a comma ('uniform,black'); undefined for one value. */
function fillItems(v: unknown): unknown[] | undefined {
  const t = typeof v === 'string' ? v.trim() : undefined;
  return t !== undefined && !t.startsWith('[') && !t.includes(',') ? undefined : listOf(v);
}

/**
 * The AOPC fill: one fill, 'uniform', 'black' or a number (text read as a number), as always; or
 * a non-empty list of distinct fills (array, JSON array or comma-separated text), each evaluated in
 * turn. A list of one is that fill (the same settings, so the same resolved config). 'black' and 0
 * are the same fill.
 */
const aopcFill = z.unknown().transform((v, ctx): AopcFill | AopcFill[] => {
  const refuse = (message: string): never => {
    ctx.addIssue({ code: 'custom', message, input: v, params: { expected: true } });
    return z.NEVER;
  };
  const one = readFill(v);
  if (one !== undefined) return one;
  const items = fillItems(v);
  if (items === undefined || items.length === 0) return refuse("'uniform', 'black', a number or a non-empty list of distinct ones (e.g. uniform,black)");
  const fills = items.map(readFill);
  const bad = fills.findIndex((f) => f === undefined);
  if (bad >= 0) return refuse(`a list of 'uniform', 'black' or numbers (item ${bad + 1}, ${show(items[bad])}, is none of them)`);
  const value = (f: AopcFill | undefined): number | string => (f === 'black' ? 0 : f!);
  const twin = fills.findIndex((f, i) => fills.findIndex((g) => value(g) === value(f)) < i);
  if (twin >= 0) {
    const first = fills.findIndex((g) => value(g) === value(fills[twin]));
    const same = fills[first] === fills[twin] ? `${show(fills[twin])} is listed twice` : `${show(fills[first])} and ${show(fills[twin])} are the same fill`;
    return refuse(`a list of distinct fills (${same})`);
  }
  return fills.length === 1 ? fills[0]! : (fills as AopcFill[]);
});

/** Options per saliency method: a JSON object (or its text) of one object per method name. */
const methodOptions = checked('a JSON object of options per method, e.g. {"smooth-grad": {"samples": 25}}', (v) => {
  const o = jsonObject().safeParse(v);
  if (!o.success || !Object.values(o.data).every((m) => typeof m === 'object' && m !== null && !Array.isArray(m))) return undefined;
  return o.data as Record<string, Record<string, unknown>>;
});

/** The settings of an evaluation, with the saliency methods by name (the CLI's and a grid's form). */
export const EVALUATION_SCHEMA = z.strictObject({
  /** Saliency methods by registry name, in result order. */
  methods: setting(names(), ['vanilla-gradient', 'smooth-grad', 'integrated-gradients'], {
    description: `saliency methods, comma-separated (${[...SALIENCY.keys()].join(', ')})`, flag: '--methods <list>',
  }),
  /** Options per method, e.g. {"smooth-grad": {"samples": 25}}. @default each method's defaults */
  methodOptions: optionalSetting(methodOptions, {
    description: 'options per method as JSON, e.g. \'{"smooth-grad":{"samples":25},"integrated-gradients":{"steps":100}}\'',
    defaultText: "each method's defaults", flag: '--method-options <json>',
  }),
  /** Metric keys (METRICS). @default all, minus localisation when the dataset has no masks */
  metrics: optionalSetting(names(), {
    description: `metrics, comma-separated (default: all that apply): ${[...METRICS.keys()].join(', ')}`, defaultText: 'all that apply', flag: '--metrics <list>',
  }),
  /** Class explained. @default 'label' (method.md §3) */
  target: setting(choice(TARGET_MODES), 'label', { description: 'class to explain: label or predicted', flag: '--target <which>' }),
  /**
   * Evaluate a class-stratified sample of `limit` samples, drawn with `seed` (datasets/subset.ts),
   * recorded in the result's `sample`. @default all
   */
  limit: optionalSetting(amount({ integer: true, min: 1 }), {
    description: 'only a class-stratified sample of n samples of the split (drawn with --seed)', defaultText: 'all', flag: '--limit <n>',
  }),
  /** Evaluate the `index`-th of `count` parts (whole batches). @default the whole range */
  shard: optionalSetting(shardPart(), {
    description: 'evaluate only the i-th of n parts (0-based; whole batches); combine with scaat merge', defaultText: 'the whole range', flag: '--shard <i/n>',
  }),
  /** Images per batch. @default 32 */
  batchSize: setting(amount({ integer: true, min: 1 }), 32, { description: 'images per batch (shards align to it)', flag: '--batch-size <n>' }),
  /** Seed of all randomness. @default 0 */
  seed: setting(amount({ integer: true }), 0, { description: 'seed of all randomness', flag: '--seed <n>' }),
  /** Channel reduction to per-pixel scores. @default 'sum-abs' (method.md §4) */
  reduction: setting(choice(CHANNEL_REDUCTIONS), 'sum-abs', {
    description: `channel reduction to per-pixel scores: ${CHANNEL_REDUCTIONS.join(', ')}`, flag: '--reduction <how>',
  }),
  /** Upper clipping percentile of the 8-bit map. @default 99 (method.md §4) */
  clipPercentile: setting(amount({ above: 0, max: 100 }), 99, 'upper clipping percentile of the 8-bit map'),
  /** Size metric codec. @default {format: 'jpeg', quality: 75} (method.md §4) */
  size: z
    .strictObject({
      format: setting(choice(SIZE_FORMATS), 'jpeg', { description: 'codec of the size metric: jpeg or png', flag: '--size-format <fmt>' }),
      quality: setting(amount({ integer: true, min: 1, max: 100 }), 75, { description: 'JPEG quality of the size metric', flag: '--jpeg-quality <q>' }),
    })
    .prefault({}),
  /**
   * AOPC settings. @default the paper's regime (aopc.ts): P by image size (about 28 × 28 patches),
   * `fraction` 0.1 of them removed (L = round(0.1 · patches); `steps` overrides it, `fraction: 1` is
   * the whole-image curve), fill 'uniform', 256 rows per pass
   */
  aopc: z
    .strictObject({
      fraction: setting(amount({ above: 0, max: 1 }), DEFAULT_AOPC_FRACTION, {
        description: 'AOPC regime: perturb this fraction of the image, as Samek et al. (L = round(f · patches); 1 = whole-image curve)', flag: '--aopc-fraction <f>',
      }),
      patchSize: optionalSetting(amount({ integer: true, min: 1 }), {
        description: 'AOPC patch side in pixels (default max(1, round(side / 28)): 1 at 28–32 px, 3 at 96, 8 at 224)',
        defaultText: 'max(1, round(side / 28))', flag: '--aopc-patch-size <p>',
      }),
      steps: optionalSetting(amount({ integer: true, min: 0 }), {
        description: 'AOPC steps L, overrides --aopc-fraction', defaultText: 'round(fraction · patches)', flag: '--aopc-steps <l>',
      }),
      fill: setting(aopcFill, 'uniform', {
        description: 'AOPC fill: uniform, black or a number, or a comma-separated list of them, each evaluated in turn (e.g. uniform,black)', flag: '--aopc-fill <fill>',
      }),
      internalBatchSize: setting(amount({ integer: true, min: 1 }), 256, 'AOPC: perturbed images per forward pass'),
    })
    .prefault({}),
  /**
   * Robustness settings. @default ratios 0, 0.1, …, 0.9; PGD ε = 8/255, K = 7 steps, α = 2.5·ε/K
   * (Madry et al.: the attack can reach ε whatever K), random start (method.md §2.3); noise 'replace'
   */
  robustness: z
    .strictObject({
      ratios: setting(amounts({ min: 0, max: 1, minItems: 1 }), [...DEFAULT_RATIOS], {
        description: 'robustness ratios q, comma-separated (default 0,0.1,…,0.9)', defaultText: '0,0.1,…,0.9', flag: '--ratios <list>',
      }),
      attack: z
        .strictObject({
          epsilon: setting(amount({ above: 0, max: 1 }), 8 / 255, {
            description: 'robustness attack L∞ budget (pixel units; fractions allowed)', written: '8/255', flag: '--epsilon <e>',
          }),
          alpha: optionalSetting(amount({ above: 0 }), {
            description: 'robustness attack step size (default 2.5·epsilon/attack-steps, so the attack reaches epsilon)',
            defaultText: '2.5·epsilon/attack-steps', flag: '--alpha <a>',
          }),
          steps: setting(amount({ integer: true, min: 1 }), 7, { description: 'robustness attack steps', flag: '--attack-steps <k>' }),
          randomStart: setting(flag(), true, 'robustness attack: start from a random point of the ε-ball'),
        })
        .prefault({}),
      noise: setting(choice(['replace', 'additive']), 'replace', {
        description: 'robustness noise: replace (uniform [0,1]) or additive (±epsilon)', flag: '--noise <mode>',
      }),
    })
    .prefault({}),
  /** Pointing-game settings. */
  localization: z
    .strictObject({
      /** Pointing-game tolerance in pixels. @default 0 */
      tolerance: setting(amount({ min: 0 }), 0, { description: 'pointing-game tolerance in pixels', flag: '--tolerance <px>' }),
    })
    .prefault({}),
  /** Randomisation-test settings. */
  randomization: z
    .strictObject({
      /** Randomised layers from the top. @default all */
      layers: optionalSetting(amount({ integer: true, min: 1 }), {
        description: 'randomisation test: layers re-drawn from the top (default all)', defaultText: 'all', flag: '--randomize-layers <n>',
      }),
    })
    .prefault({}),
  /**
   * Keep `examples` evaluated images with each method's 8-bit map in the result, for the report's
   * example grid (0 = none): the first image of each class in the sample's order, then the next
   * images (evaluation-examples.ts exampleIndices). @default 4
   */
  examples: setting(amount({ integer: true, min: 0 }), 4, {
    description: 'keep n images (one per class first) with each method\'s 8-bit map for the report\'s example grid (0 = none)', flag: '--examples <n>',
  }),
});

/** The settings evaluate() takes (the methods are given as functions, not names). */
export const EVALUATION_SETTINGS = EVALUATION_SCHEMA.omit({ methods: true, methodOptions: true });

/** evaluate()'s settings, every one optional (see {@link EVALUATION_SCHEMA} for each one's doc and default). */
export type EvaluationSettings = Written<typeof EVALUATION_SETTINGS>;

/** The CLI flag of each setting that has one, by dotted key ('aopc.fraction' → '--aopc-fraction'). */
export const EVALUATION_FLAGS: ReadonlyMap<string, string> = new Map(
  settingsOf(EVALUATION_SCHEMA).flatMap((e) => (e.info.flag ? [[e.key, e.info.flag.split(' ')[0]!] as const] : [])),
);
