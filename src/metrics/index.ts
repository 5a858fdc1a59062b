// Public API of the metrics room (re-exports only).
// Metrics score saliency maps and models (method.md §4 and beyond): each is a function of explicit
// inputs (scores, 8-bit maps, masks, or a classifier with images); saliency methods come in by
// injection. evaluate() runs them over a dataset into a plain-JSON EvaluationResult that
// mergeEvaluations() combines across shards. No rendering here (report/).
export type {
  Accumulator, Direction, EvaluationBatch, MethodBatch, MethodParts, MetricCategory, MetricCompute, MetricSpec, RunSetup, SummaryContext,
} from './types.js';
export { METRICS, getMetric } from './registry.js';
export { isConstantMap, percentile, toUint8Map } from './uint8-map.js';
export type { Uint8MapOptions } from './uint8-map.js';
export { saliencyEntropy, histogram256 } from './saliency-entropy.js';
export { saliencySize, encodeSaliencyMap, SIZE_FORMATS } from './saliency-size.js';
export type { SaliencySizeOptions, SizeFormat } from './saliency-size.js';
export { encodeGrayJpeg } from './_jpeg-gray.js';
export { aopc, patchOrder, patchCount, defaultPatchSize } from './aopc.js';
export type { AopcOptions, AopcOrder, AopcFill, AopcFills, AopcOutput } from './aopc.js';
export { lowSaliencyRobustness, DEFAULT_RATIOS } from './robustness.js';
export type { RobustnessOptions, NoiseMode } from './robustness.js';
export { relevanceMassAccuracy, pointingGame } from './localization.js';
export { randomizationSimilarity, drawRandomWeights, disposeRandomWeights, withWeights, spearman, pearson } from './randomization.js';
export type { RandomWeights, RandomizationOptions } from './randomization.js';
export { correctPredictions } from './accuracy.js';
export { evaluate, resolveEvaluationConfig, shardRange } from './evaluate.js';
export type { EvaluateOptions, EvaluateMethod } from './evaluate.js';
export { EVALUATION_SCHEMA, EVALUATION_SETTINGS, EVALUATION_FLAGS } from './evaluation-options.js';
export type { EvaluationSettings } from './evaluation-options.js';
export { mergeEvaluations } from './merge.js';
export { exampleImage, exampleMap, encodeExampleImage, lowestExamples, toBytes, toDisplayChannels } from './evaluation-examples.js';
export { EVALUATION_SCHEMA_VERSION } from './evaluation-result.js';
export type {
  EvaluationResult, EvaluationConfig, MethodEvaluation, MetricSummary, MetricInfo, RobustnessCurveResult, AopcResult as AopcCurves,
  AopcCurveResult, Provenance, EvaluationExample, ExampleImage,
} from './evaluation-result.js';
