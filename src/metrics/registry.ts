/**
 * METRICS: every metric by its one name (CLI `--metrics` value = results key = report key), one
 * row each: metadata and `compute`, the accumulator and summary exported by the metric's file.
 * evaluate() runs the requested rows' accumulators and summarises with the rows; the report reads
 * label and direction from the results file. Adding a metric: its file (an Accumulator, or
 * perImageAccumulator for one value per image, and a summary) and one row here.
 */
import { ConfigError } from '../errors.js';
import { CLEAN_ACCURACY } from './accuracy.js';
import { AOPC_LERF, AOPC_MORF, AOPC_REL } from './aopc.js';
import { POINTING_GAME, RELEVANCE_MASS_ACCURACY } from './localization.js';
import { RANDOMIZATION_SIMILARITY } from './randomization.js';
import { ROBUSTNESS_ATTACK, ROBUSTNESS_NOISE } from './robustness.js';
import { ENTROPY } from './saliency-entropy.js';
import { SIZE } from './saliency-size.js';
import type { MetricSpec } from './types.js';

export const METRICS: ReadonlyMap<string, MetricSpec> = new Map<string, MetricSpec>([
  ['clean-accuracy', { label: 'Clean accuracy', direction: 'higher-is-better', category: 'accuracy', unit: 'fraction', perMethod: false,
    description: 'Share of test images whose arg-max prediction is the label (method.md §4).', compute: CLEAN_ACCURACY }],
  ['entropy', { label: 'Entropy (bits)', direction: 'lower-is-better', category: 'sparsity', unit: 'bits', perMethod: true,
    description: 'Base-2 entropy of the 256-bin histogram of the 8-bit map (method.md §4).', compute: ENTROPY }],
  ['size', { label: 'Size (KB)', direction: 'lower-is-better', category: 'sparsity', unit: 'KB', perMethod: true,
    description: 'Bytes of the 8-bit map as grayscale JPEG (quality 75) / 1024 (method.md §4; PNG optional).', compute: SIZE }],
  ['aopc-morf', { label: 'AOPC_morf', direction: 'higher-is-better', category: 'faithfulness', unit: 'Δ probability', perMethod: true,
    description: 'Mean drop of the class probability removing patches most relevant first (Samek et al. 2017).', compute: AOPC_MORF }],
  ['aopc-lerf', { label: 'AOPC_lerf', direction: 'lower-is-better', category: 'faithfulness', unit: 'Δ probability', perMethod: true,
    description: 'Mean drop of the class probability removing patches least relevant first (Samek et al. 2017).', compute: AOPC_LERF }],
  ['aopc-rel', { label: 'AOPC_rel', direction: 'higher-is-better', category: 'faithfulness', unit: 'ratio', perMethod: true,
    description: 'Mean AOPC_morf / mean AOPC_lerf; undefined when AOPC_lerf is 0 (method.md §4).', compute: AOPC_REL }],
  ['robustness-attack', { label: 'Low-saliency robustness (attack)', direction: 'higher-is-better', category: 'robustness', unit: 'fraction', perMethod: true,
    description: 'Mean accuracy over q when the masked attack perturbs the q lowest-saliency pixels (method.md §4).', compute: ROBUSTNESS_ATTACK }],
  ['robustness-noise', { label: 'Low-saliency robustness (noise)', direction: 'higher-is-better', category: 'robustness', unit: 'fraction', perMethod: true,
    description: 'Mean accuracy over q when uniform noise replaces the q lowest-saliency pixels (method.md §4).', compute: ROBUSTNESS_NOISE }],
  ['relevance-mass-accuracy', { label: 'Relevance mass accuracy', direction: 'higher-is-better', category: 'localisation', unit: 'fraction', perMethod: true, needsMasks: true,
    description: 'Share of saliency inside the ground-truth mask (Arras et al. 2022).', compute: RELEVANCE_MASS_ACCURACY }],
  ['pointing-game', { label: 'Pointing game', direction: 'higher-is-better', category: 'localisation', unit: 'fraction', perMethod: true, needsMasks: true,
    description: 'Share of images whose most salient pixel lies in the ground-truth mask (Zhang et al. 2018).', compute: POINTING_GAME }],
  ['randomization-similarity', { label: 'Randomisation similarity (ρ)', direction: 'lower-is-better', category: 'randomisation', unit: 'ρ', perMethod: true,
    description: 'Spearman ρ between maps of the model and of the model with randomised weights (Adebayo et al. 2018).', compute: RANDOMIZATION_SIMILARITY }],
]);

/** The spec of a metric, or a ConfigError listing the known names. */
export function getMetric(name: string): MetricSpec {
  const m = METRICS.get(name);
  if (!m) throw new ConfigError(`metrics: unknown metric '${name}'; expected one of ${[...METRICS.keys()].join(', ')}`);
  return m;
}
