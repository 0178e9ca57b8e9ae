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
  boxAgreement,
  COORDINATE_UNITS,
  type CoordinateUnits,
  cosineText,
  guessOutputKind,
  iou,
  KEYPOINT_COMPONENTS,
  type KeypointComponent,
  type KeypointLayout,
  keypointAgreement,
  kindLabel,
  maskIoU,
  measureRank,
  OUTPUT_KINDS,
  type OutputKind,
  type OutputKindInfo,
  type OutputKindSpec,
  type OutputMeasure,
  outputMeasure,
  outputMeasureText,
} from './output-kind.ts';
export { describeOutputs, outputKindOf } from './outputs.ts';
