// Public API of the report room (re-exports only).
// The report renders plain results JSON (run-results.ts, the contract) into a self-contained HTML
// file with inline SVG figures and PNG copies. It imports no TF.js and no other room except
// errors and io: whatever produced the numbers (evaluate, demo) converts them to RunResults first.
export {
  RESULTS_SCHEMA_VERSION,
  METRIC_INFO,
  HEADLINE_METRICS,
  METHOD_LABELS,
  METHOD_SHORT,
  TRAINER_INFO,
  parseResults,
  mergeResults,
  decodeImage8,
  encodeImage8,
  metricDirection,
  metricLabel,
  methodLabel,
  runLabel,
} from './run-results.js';
export type {
  RunResults,
  RunResult,
  MethodResults,
  MetricValue,
  RobustnessCurve,
  AopcMeanCurves,
  EpochRecord,
  QEpoch,
  TrainingWarning,
  Example,
  Image8,
  Histogram,
} from './run-results.js';
// `Direction` (lower/higher-is-better) is the same union as the metrics room's, exported from there.
export { buildTable, bestIndices, formatTableText, formatTableMarkdown, formatValue, formatPercent, orderRuns, describeTrainingWarning } from './table.js';
export type { TableModel, TableRow, TableSection, TableColumn, TableOptions } from './table.js';
export { figureSpecs, renderFigures, renderSpecSvg, svgToPng, missingFigures } from './figures.js';
export type { Figure, FigureSpec } from './figures.js';
export { exampleGridSvg } from './example-grid.js';
export { renderReport, renderSweepReport, formatSeconds } from './render-html.js';
export type { RenderOptions, SweepRenderOptions, SweepFigures } from './render-html.js';
export { BEST_RULE, TRAIN_SECONDS, EVALUATION_WARNING_MARK, EVALUATION_WARNINGS_NOTE, TRAINING_WARNING_MARK, TRAINING_WARNINGS_NOTE, sweepEvaluationWarnings, sweepTrainingWarnings, buildSweepTable, seedStat, separatedBest, formatSeedStat, formatSweepTableText, formatSweepTableMarkdown } from './sweep-table.js';
export type { SweepTableModel, SweepTableCell, SweepPartition, SweepGroup, SweepColumn, SeedStat, SweepCellWarnings } from './sweep-table.js';
export { sweepFrontSpecs, renderSweepFigures } from './sweep-front.js';
export type { FrontRow } from './sweep-front.js';
export { sweepQSpecs, renderSweepQFigures } from './sweep-q.js';
export {
  POSTER_EXPECTED,
  POSTER_RULE,
  buildPosterComparison,
  trainerOptionParams,
  fineTuningParams,
  posterOneSidedParams,
  formatPosterComparisonText,
  formatPosterComparisonMarkdown,
} from './poster-comparison.js';
export type { PosterExpectation, PosterComparison, PosterRow, PosterVerdict } from './poster-comparison.js';
export { loadSweep, isSweepDir, SWEEP_FILE } from './from-sweep.js';
export type { SweepResults, SweepCell } from './from-sweep.js';
export { heatmapPng, imagePng, encodePng, pngDataUri, decodePng, colorbar } from './heatmap.js';
export { colorize, colormapRgb } from './colormap.js';
export type { Colormap } from './colormap.js';
export { loadResults, readJson, fromTrainRunDir, readTrainLog, RESULTS_FILE, RUN_CONFIG_FILE, RUN_LOG_FILE } from './load-results.js';
export { writeReport, writeSweepReport } from './write-report.js';
export type { WrittenReport, WriteReportOptions, WrittenSweepReport } from './write-report.js';
