/**
 * exray diagnosis: name the deployment bug, point at the layer, explain the slow kernel.
 * Pure (no DOM, no Node): runs in the browser worker and in Node. See docs/diagnose.md.
 * The Node runner (reference capture, single-node replay) is src/reference/diagnose-node.ts (used by
 * `exray diagnose` and `exray serve`) + src/reference/replay-node.ts.
 */
export * from './types.ts';
export { diagnose, nodeCauses, type DiagnoseInput } from './diagnose.ts';
export { fitInput, inputCauses, MATCH_LEVELS, EXPLAINED_LEVELS } from './input.ts';
export {
  searchInput,
  edgeGeometry,
  coarseSignificant,
  fineSignificant,
  type AxisEvidence,
  type EdgeInput,
  type InputSearch,
  type InputSearchArgs,
  type InputSearchOptions,
} from './input-search.ts';
export { attributeErrors, selectReplayNodes, type NodeReplay, type ReplaySelectionOptions } from './attribution.ts';
export {
  halfFloatEvidence,
  halfRepresentableFraction,
  roundToHalf,
  FLOAT32_OWN_NOISE,
  KERNEL_OWN_NRMSE,
  KERNEL_OWN_NRMSE_HALF,
  HALF_MAX,
  type HalfFloatEvidence,
  type NodeEvidence,
  type WeightStorage,
} from './node-evidence.ts';
export {
  BUILTIN_ASSERTIONS,
  defineAssertion,
  failedAssertions,
  isAssertion,
  runAssertions,
  specValueRange,
  tensorValues,
  type Assertion,
  type AssertionContext,
  type AssertionOutcome,
  type OutputInfo,
} from './assertions.ts';
export { formatDiagnosis, type FormatDiagnosisOptions } from './format.ts';
export { affineFit, niceNumber, niceRange, type AffineFit } from './fit.ts';
export { relativeOrientation, ORIENTATION_EFFECT } from './causes/orientation.ts';
export {
  backendKey,
  formatLatencyReport,
  latencyReport,
  type BackendLatency,
  type KernelFlag,
  type LatencyOptions,
  type LatencyReport,
  type NodeLatency,
} from './latency.ts';
export {
  concludeDiagnosis,
  diagnosisComparison,
  fitEdgeInput,
  modelMismatchWarning,
  photoMismatchWarning,
  photoSpec,
  weightStorageOf,
  type CardInfo,
  type ConcludeInput,
  type EdgeInputFit,
  type EdgeInputRecord,
} from './photo.ts';
