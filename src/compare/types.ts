/**
 * The comparison's result types: plain JSON-serialisable data, every field documented in
 * docs/compare.md. `compareTraces` (compare.ts) fills them.
 */
import type { CaptureMode, DType } from '../trace/types.ts';
import type { ShapeRelation } from './align.ts';
import type { TensorMetrics } from './metrics.ts';
import type { StatsDelta } from './stats.ts';
import type { PrecisionPreset, ResolvedTolerance, ToleranceSpec, Verdict } from './tolerance.ts';
import type { TopKAgreement } from './topk.ts';
import type { OutputKindInfo, OutputKindSpec, OutputMeasure } from './output-kind.ts';

export const COMPARISON_FORMAT = 'exray-comparison' as const;
export const COMPARISON_VERSION = 1 as const;

export interface CompareOptions {
  /** Thresholds; default preset `float32`. Validated (TypeError on a malformed spec). */
  tolerance?: ToleranceSpec;
  /** Class labels for top-k of classifier outputs (labels[i] names class i). */
  labels?: string[];
  /** k of the top-k agreement (default 5). */
  topK?: number;
  /**
   * Final outputs to treat as classifier scores (by edge output name). Default: every output whose
   * shape has a last dim ≥ 2 and all other dims 1 (e.g. [1, 1000] or [1000]).
   */
  classifierOutputs?: string[];
  /**
   * What each final output is (by output name; `name` also matches `name:0`), from the model card
   * (`cardOutputKinds`). Outputs not listed are guessed from their shape and values (labelled a guess),
   * except that an output left out of a given `classifierOutputs` is never guessed to be class scores.
   */
  outputKinds?: Record<string, OutputKindSpec>;
  /** Treat `squeezable` shapes ([1,1000] vs [1000]) as a shape mismatch (default false). */
  strictShapes?: boolean;
  /**
   * When `tolerance.preset` is not given, pick the preset matching the traces' precision (half-float
   * textures or fp16 tensors → float16, quantization ops → int8; see precision.ts). Default false: the
   * `compare` command and the viewer turn it on; the farm and the diagnosis judge against float32.
   */
  autoPreset?: boolean;
  /**
   * One-element and near-zero tensors (max |ref| < 0.1% of the tensors around them) get an absolute
   * tolerance of nrmse-limit × the largest |value| of the tensors around them (the reference outputs of
   * the node's input and consumer nodes; for a final output, those of the node that produced it, else,
   * for a one-element output, the other final outputs), so they cannot alone decide a verdict. Default true.
   */
  scaledAtol?: boolean;
}

/** What a comparison could judge, from what the two traces recorded. */
export interface ComparisonBasis {
  /**
   * How node outputs were judged: `values` (element by element), `stats` (summary statistics only),
   * `mixed`, or `none` (a trace recorded no node values: timing capture).
   */
  nodes: 'values' | 'stats' | 'mixed' | 'none';
  /** Final outputs were compared (they are recorded in every capture mode). */
  outputs: boolean;
  /** Whole-run timing of both traces is reported (Comparison.timing). Never part of the verdict. */
  timing: boolean;
  /** One sentence: `final outputs only (node values not recorded: edge timing capture)`. */
  text: string;
}

/** Whole-run and per-node timing side by side. Informational: never part of the verdict. */
export interface TimingComparison {
  edgeMedianMs: number;
  refMedianMs: number;
  /** edge / reference median. */
  ratio: number;
  /** Sum of kernel times per side (ms; null when no kernel was timed) and their clocks. */
  edgeKernelMs: number | null;
  refKernelMs: number | null;
  edgeClocks: string[];
  refClocks: string[];
}

/**
 * Overall verdict.
 * - `input-mismatch`: the reference did not see the same input (an input differs beyond tolerance, is
 *   missing or has another shape); node differences are then meaningless.
 * - `diverged`: some node output or final output diverged, has a shape mismatch, or a final output is missing.
 * - `ok`: something was compared and everything compared agreed.
 * - `no-data`: nothing could be compared.
 */
export type OverallVerdict = 'ok' | 'diverged' | 'input-mismatch' | 'no-data';

/** The result for one tensor pair (node output, trace input or final output). */
export interface TensorComparison {
  verdict: Verdict;
  /** Why: each failed threshold, NaN/Inf mismatches, shape problems, missing data. Empty for a plain ok. */
  reasons: string[];
  edgeShape: number[] | null;
  refShape: number[] | null;
  /** null when one side is missing. */
  shapeRelation: ShapeRelation | null;
  edgeDType: DType | null;
  refDType: DType | null;
  /** Full element-wise metrics; null when a blob is missing on either side or the element counts differ. */
  metrics: TensorMetrics | null;
  /** True when the verdict comes from summary statistics only (stats capture mode). */
  statsOnly: boolean;
  /** Stats deltas; set when statsOnly. */
  stats: StatsDelta | null;
  /** The thresholds applied; null when nothing was judged (missing, no-data, shape mismatch). */
  tolerance: ResolvedTolerance | null;
}

/** One node output. */
export interface NodeComparison extends TensorComparison {
  /** Position in Comparison.nodes. */
  position: number;
  /** `name:outputIndex` (`name#2:0` for the second node with the same name). */
  key: string;
  name: string;
  /** The edge node's op (the reference's when only in the reference). */
  op: string;
  /** The reference node's op; null when only in the edge. Differs from `op` only on an op mismatch. */
  refOp: string | null;
  outputIndex: number;
  /** NodeRecord.index in the edge trace (execution order); null when only in the reference. */
  edgeIndex: number | null;
  /** NodeRecord.index in the reference trace; null when only in the edge. */
  refIndex: number | null;
  /** Input node names (from the edge trace, else the reference). */
  inputs: string[];
}

/** A trace input or final output pair. */
export interface NamedTensorComparison extends TensorComparison {
  name: string;
  /** The reference tensor's name (differs when matched by position); null when missing there. */
  refName: string | null;
}

export interface OutputComparison extends NamedTensorComparison {
  /** Top-k agreement when this output is classifier scores; else null. */
  topK: TopKAgreement | null;
  /** What the output is: from the card (`given`) or guessed from its shape and values (`guess`). */
  kind: OutputKindInfo;
  /** The measure that fits the kind (top-k, IoU, keypoint distance, cosine, PSNR, SNR); null for `other` or without values. */
  measure: OutputMeasure | null;
  /** One line: `embedding (guess): cosine 0.9998`. */
  measureText: string;
}

export interface InputAgreement {
  /**
   * `identical`: every input tensor equal element for element. `close`: equal within tolerance (a
   * warning is issued). `different`: some input differs beyond tolerance, has another shape or no data.
   * `missing`: some input exists in one trace only. `none`: inputs not recorded or without data (cannot
   * be checked; a warning is issued). Precedence: missing > different > none > close > identical.
   */
  verdict: 'identical' | 'close' | 'different' | 'missing' | 'none';
  /** Largest |edge − ref| over all input elements compared; null when nothing was compared. */
  maxAbs: number | null;
  matchedBy: 'name' | 'position';
  tensors: NamedTensorComparison[];
}

export interface OutputAgreement {
  /** `ok` when every final output is ok; else the worst verdict (diverged > shape-mismatch > missing > no-data). */
  verdict: Verdict;
  matchedBy: 'name' | 'position';
  tensors: OutputComparison[];
  /** top1Equal of the first classifier output; null when there is none. */
  top1Equal: boolean | null;
  /** Top-k overlap (0…k) of the first classifier output; null when there is none. */
  topKOverlap: number | null;
}

export interface FirstDivergence {
  position: number;
  key: string;
  name: string;
  op: string;
  outputIndex: number;
  edgeIndex: number | null;
  verdict: 'diverged' | 'shape-mismatch';
  reasons: string[];
  statsOnly: boolean;
  /** Divergent node outputs after this one (downstream, in execution order). */
  divergentAfter: number;
}

export interface VerdictCounts {
  total: number;
  ok: number;
  diverged: number;
  missing: number;
  'shape-mismatch': number;
  'no-data': number;
  /** Outputs judged from stats only (any verdict). */
  statsOnly: number;
}

export interface TraceSide {
  id: string;
  label: string | null;
  capture: CaptureMode;
  model: string;
  modelSha256: string;
  runtime: string;
  runtimeVersion: string;
  backend: string;
  nodeCount: number;
}

export interface Comparison {
  format: typeof COMPARISON_FORMAT;
  version: typeof COMPARISON_VERSION;
  edge: TraceSide;
  ref: TraceSide;
  /** Both traces report the same model sha256. */
  sameModel: boolean;
  verdict: OverallVerdict;
  /** One human sentence. */
  summary: string;
  /** The first divergent node output in the edge's execution order; null when none diverged. */
  firstDivergent: FirstDivergence | null;
  /**
   * Keys of divergent node outputs none of whose input nodes diverged: where errors enter the graph
   * (the first divergent node is always first). Needs NodeRecord.inputs; nodes without known inputs
   * other than the first divergent are not listed.
   */
  divergenceOrigins: string[];
  counts: VerdictCounts;
  nodes: NodeComparison[];
  inputs: InputAgreement;
  outputs: OutputAgreement;
  tolerance: {
    preset: PrecisionPreset;
    /** `given` (tolerance.preset), `auto` (CompareOptions.autoPreset matched the traces' precision) or `default` (float32). */
    presetSource: 'given' | 'auto' | 'default';
    /** Why the automatic preset was chosen (`edge: half-float arithmetic (floatPrecision 16)`); null otherwise. */
    presetReason: string | null;
    global: ResolvedTolerance;
    spec: ToleranceSpec | null;
  };
  /** What the verdict is based on (node values, stats, final outputs only). */
  basis: ComparisonBasis;
  /** Whole-run timing side by side when both traces have it; null otherwise. */
  timing: TimingComparison | null;
  warnings: string[];
}
