/**
 * SALIENCY: every attribution method by its one name (CLI value = registry key = file name).
 * Adding a method: its file + one row here; the conformance suite (registry.test.ts), the CLI and
 * the evaluation pick it up. Options are plain JSON, validated here (unknown keys fail).
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { SaliencyFn, SaliencySpec } from './types.js';
import { vanillaGradient } from './vanilla-gradient.js';
import { gradientXInput } from './gradient-x-input.js';
import { integratedGradients, RIEMANN_RULES } from './integrated-gradients.js';
import { smoothGrad } from './smooth-grad.js';
import { defined, parseOptions } from './_options.js';

const positiveInt = z.number().int().positive();
const chunk = z.union([positiveInt, z.literal(Infinity)]);

const VG = z.strictObject({ internalBatchSize: chunk.optional() });
const IG = z.strictObject({
  steps: positiveInt.optional(),
  baseline: z.union([z.literal('black'), z.literal('white'), z.number().finite()]).optional(),
  rule: z.enum(RIEMANN_RULES as [string, ...string[]]).optional(),
  internalBatchSize: positiveInt.optional(),
});
const SG = z.strictObject({
  samples: positiveInt.optional(),
  noiseLevel: z.number().nonnegative().finite().optional(),
  squared: z.boolean().optional(),
  seed: z.number().int().optional(),
  internalBatchSize: positiveInt.optional(),
  base: z.string().optional(),
  baseOptions: z.record(z.string(), z.unknown()).optional(),
});

function spec(
  label: string,
  description: string,
  schema: z.ZodObject,
  defaults: Record<string, unknown>,
  build: (o: Record<string, unknown>) => SaliencyFn,
  name: string,
  refine: (d: Record<string, unknown>) => Record<string, unknown> = (d) => d,
): SaliencySpec {
  const parse = (options: unknown): Record<string, unknown> =>
    parseOptions(schema, options, `saliency '${name}'`) as Record<string, unknown>;
  return {
    label,
    description,
    optionKeys: Object.keys(schema.shape),
    create: (options = {}) => build(parse(options)),
    describe: (options = {}) => refine({ ...defaults, ...parse(options) }),
  };
}

/** Every saliency method, written out by hand. */
export const SALIENCY: ReadonlyMap<string, SaliencySpec> = new Map<string, SaliencySpec>([
  [
    'vanilla-gradient',
    spec('Vanilla Gradient', 'Gradient of the target logit w.r.t. the input (Simonyan et al. 2013).', VG,
      {}, (o) => vanillaGradient(defined(o as z.infer<typeof VG>)), 'vanilla-gradient'),
  ],
  [
    'smooth-grad',
    spec('SmoothGrad', 'Mean of a base method over Gaussian-noised copies (Smilkov et al. 2017).', SG,
      { samples: 50, noiseLevel: 0.15, squared: false, seed: 0, internalBatchSize: 64, base: 'vanilla-gradient', baseOptions: {} },
      (o) => {
        const { base = 'vanilla-gradient', baseOptions = {}, ...rest } = o as z.infer<typeof SG>;
        if (base === 'smooth-grad') throw new ConfigError(`saliency 'smooth-grad': base cannot be 'smooth-grad' itself`);
        return smoothGrad(getSaliency(base).create(baseOptions), defined(rest));
      }, 'smooth-grad',
      (d) => ({ ...d, baseOptions: getSaliency(String(d['base'])).describe(d['baseOptions'] as Record<string, unknown>) })),
  ],
  [
    'integrated-gradients',
    spec('Integrated Gradients', 'Path integral of gradients from a baseline (Sundararajan et al. 2017).', IG,
      { steps: 50, baseline: 'black', rule: 'midpoint', internalBatchSize: 64 },
      (o) => integratedGradients(defined(o as z.infer<typeof IG>) as Parameters<typeof integratedGradients>[0]), 'integrated-gradients'),
  ],
  [
    'gradient-x-input',
    spec('Gradient × Input', 'Input times the gradient of the target logit (Shrikumar et al. 2016).', VG,
      {}, (o) => gradientXInput(defined(o as z.infer<typeof VG>)), 'gradient-x-input'),
  ],
]);

/** The spec of a method, or a ConfigError listing the known names. */
export function getSaliency(name: string): SaliencySpec {
  const s = SALIENCY.get(name);
  if (!s) throw new ConfigError(`saliency: unknown method '${name}'; expected one of ${[...SALIENCY.keys()].join(', ')}`);
  return s;
}

/** A method ready for evaluation: registry name, label, resolved options and the function. */
export interface ResolvedSaliency {
  readonly name: string;
  readonly label: string;
  readonly params: Record<string, unknown>;
  readonly saliency: SaliencyFn;
}

/**
 * Builds methods from registry names, with optional options per name.
 * @example saliencyMethods(['vanilla-gradient', 'smooth-grad'], { 'smooth-grad': { samples: 10 } })
 */
export function saliencyMethods(
  names: readonly string[],
  options: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): ResolvedSaliency[] {
  for (const key of Object.keys(options)) {
    if (!names.includes(key)) throw new ConfigError(`saliency: options given for '${key}', which is not among the methods (${names.join(', ')})`);
  }
  return names.map((name) => {
    const spec = getSaliency(name);
    const o = options[name] ?? {};
    return { name, label: spec.label, params: spec.describe(o), saliency: spec.create(o) };
  });
}
