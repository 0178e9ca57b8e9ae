/**
 * exray comparison engine: edge trace vs reference trace, node by node. Pure (no DOM, no Node).
 * See docs/compare.md.
 */

export { compareTraces } from './compare.ts';
export * from './types.ts';
export { formatComparisonTable, type FormatTableOptions } from './format.ts';
export { blobStats, nrmseNormalizer, type TensorMetrics, tensorMetrics } from './metrics.ts';
export {
  alignNodes,
  alignTensors,
  type AlignedOutput,
  type Alignment,
  elementCount,
  shapeRelation,
  type ShapeRelation,
  type TensorAlignment,
  type TensorPair,
} from './align.ts';
export {
  globalTolerance,
  judgeMetrics,
  PRECISION_PRESETS,
  type PrecisionPreset,
  PRESETS,
  type ResolvedTolerance,
  resolveTolerance,
  type Thresholds,
  type ToleranceSpec,
  validateToleranceSpec,
  type Verdict,
} from './tolerance.ts';
export { matchingPreset, tracePrecision, type TracePrecision } from './precision.ts';
export { compareStats, judgeStats, type StatsDelta, type StatsSource } from './stats.ts';
export { type TopKAgreement, topKAgreement, type TopKEntry, topKIndices } from './topk.ts';
export {
  ACTIVATIONS,
  type Activation,
  BOX_FORMATS,
  type BoxFormat,
  type BoxLayout,
  COORDINATE_UNITS,
  type CoordinateUnits,
  guessOutputKind,
  KEYPOINT_COMPONENTS,
  type KeypointComponent,
  type KeypointLayout,
  OUTPUT_KINDS,
  type OutputKind,
  type OutputKindInfo,
  type OutputKindSpec,
  type OutputMeasure,
} from './output-kind.ts';
export { boxAgreement, iou, keypointAgreement, maskIoU, outputMeasure } from './output-measure.ts';
export { cosineText, kindLabel, measureRank, outputMeasureText } from './output-text.ts';
export { describeOutputs, outputKindOf } from './outputs.ts';
