/**
 * The metric contract: every saliency-quality metric is a pure function of explicit inputs
 * (per-pixel scores, 8-bit maps, masks, or a classifier and images) in its own file, and is
 * described by a {@link MetricSpec} in registry.ts (name, display label, direction, category).
 * Metrics receive saliency maps or saliency functions by injection; they never import a method.
 */

/** Which way a metric improves; the report renders ↓ / ↑ from it (Quantus, SCAAT's table). */
export type Direction = 'lower-is-better' | 'higher-is-better';

/** What a metric measures (Quantus-style grouping). */
export type MetricCategory = 'accuracy' | 'sparsity' | 'faithfulness' | 'robustness' | 'localisation' | 'randomisation';

/** A registry entry. */
export interface MetricSpec {
  /** Display name, e.g. 'AOPC_lerf'. */
  readonly label: string;
  readonly direction: Direction;
  readonly category: MetricCategory;
  /** Unit of the value, e.g. 'bits', 'KB', 'fraction', 'Δ probability', 'ρ'. */
  readonly unit: string;
  /** One line: what it is and where it comes from. */
  readonly description: string;
  /** Needs ground-truth relevance masks in the dataset. */
  readonly needsMasks?: boolean;
  /** Needs a saliency method (false: a property of the model alone, e.g. clean accuracy). */
  readonly perMethod: boolean;
}
