/**
 * The diagnosis contract: named causes, the evidence behind them, and the report that holds them.
 * Pure data (JSON-serialisable: no NaN/Infinity, no typed arrays). See docs/diagnose.md.
 */
import type { PreprocessSpec } from '../trace/types.ts';

export const DIAGNOSIS_FORMAT = 'exray-diagnosis' as const;
export const DIAGNOSIS_VERSION = 1 as const;

/** What went wrong, in the vocabulary of deployment bugs (ML-EXray's list, made precise). */
export type CauseCode =
  | 'channel-order'
  | 'layout'
  | 'normalization'
  | 'orientation'
  | 'resize'
  | 'alpha'
  | 'camera-range'
  | 'colour-profile'
  | 'decoder'
  | 'float16'
  | 'quantization'
  | 'kernel'
  | 'none';

export const INPUT_CAUSES: readonly CauseCode[] = ['channel-order', 'layout', 'normalization', 'orientation', 'resize', 'alpha', 'camera-range', 'colour-profile', 'decoder'];
export const NODE_CAUSES: readonly CauseCode[] = ['float16', 'quantization', 'kernel'];

export type EvidenceValue = number | string | boolean | null | number[] | string[];

export interface Cause {
  code: CauseCode;
  /** 0..1: how strongly the evidence supports this cause (not how much it costs). */
  confidence: number;
  /** One human sentence: what the edge did, what was expected. */
  detail: string;
  /** The node where the cause shows (node-level causes). */
  node?: string;
  /** The numbers the verdict rests on (residuals, fitted values, errors). */
  evidence?: Record<string, EvidenceValue>;
  /**
   * Other explanations that fit the edge input as well as this one (within decoder noise), ranked
   * below it by the competing-explanations rule (docs/diagnose.md): the runner-up first.
   */
  alternatives?: AlternativeExplanation[];
}

/** An explanation of the edge input that fits as well as the reported one but ranks below it. */
export interface AlternativeExplanation {
  /** The causes it would name instead (empty: the card's own pipeline). */
  codes: CauseCode[];
  /** What it says happened, in the causes' own words. */
  detail: string;
  /** Source channel of each model channel under this explanation. */
  channels: number[];
  /** Its per-channel affine fit and the residual it leaves, pixel levels rms. */
  affine: ChannelAffine;
  residualLevels: number;
}

/**
 * The edge's JPEG decoder against the reference's: what remains between the edge input and the best
 * explanation of it when the photo is a JPEG (decoders differ in chroma upsampling and IDCT). Not a
 * bug on its own: see the `decoder` rule in docs/diagnose.md.
 */
export interface DecoderEvidence {
  /** rms of that remainder in pixel levels (0..255). */
  levels: number;
  /** Largest |remainder| in pixel levels. */
  maxLevels: number;
  /** Share of the remainder's energy in luma (Y of YCbCr); null for a grayscale model. Evenly spread noise: ≈0.35. */
  lumaShare: number | null;
  /** Share of its energy on the 10% of pixels with the strongest chroma edges (evenly spread: ≈0.1). */
  chromaEdgeShare: number | null;
  /** Energy per pixel on 8×8 block boundaries / elsewhere (1: no block pattern); null when resizing averaged blocks away. */
  blockRatio: number | null;
  /** Where it concentrates. */
  where: 'chroma-edges' | 'block-boundaries' | 'spread';
}

/** A resize configuration: the spec's resize options plus its fit mode. */
export interface ResizeChoice {
  method: PreprocessSpec['resize']['method'];
  alignCorners: boolean;
  halfPixelCenters: boolean;
  antialias: boolean;
  fit: PreprocessSpec['fit'];
}

/** Memory order of the edge's input buffer: interleaved channels (NHWC) or planes (NCHW). */
export type MemoryOrder = 'hwc' | 'chw';

/** Per-channel affine map from pixel values (0..255, after resize) to the tensor values. */
export interface ChannelAffine {
  /** Per model channel: value = scale·pixel + offset. */
  scale: number[];
  offset: number[];
}

/** The explanation of the edge input found by the search: each pipeline step as the edge did it. */
export interface InputExplanation {
  /** EXIF orientation the edge applied to the stored pixels (1 = stored pixels as is). */
  appliedOrientation: number;
  memoryOrder: MemoryOrder;
  /**
   * Source channel (0 = R, 1 = G, 2 = B) of each model channel. For a grayscale input: the weights'
   * order, `[0, 1, 2]` (spec weights on R, G, B) or `[2, 1, 0]` (weights applied to B, G, R).
   */
  channels: number[];
  resize: ResizeChoice;
  alpha: PreprocessSpec['alpha'];
  affine: ChannelAffine;
  /** Residual after the per-channel affine fit, in pixel levels (0..255 scale), rms over the tensor. */
  residualLevels: number;
}

export interface InputFit {
  /** Edge input ≈ canonical input within decoder/resizer noise, and no input cause found. */
  matches: boolean;
  /** True when some candidate explains the edge input (residual within noise) — false: a different photo? */
  explained: boolean;
  /** rms |edge − canonical| in pixel levels (0..255), mapped back through the canonical normalisation. */
  canonicalResidualLevels: number | null;
  /** What the canonical pipeline does, in the same terms as `best`. */
  canonical: InputExplanation;
  best: InputExplanation;
  /** Input-level causes, most likely first. */
  causes: Cause[];
  /** A JPEG photo decoded differently on the edge (null: not a JPEG, or no difference beyond rounding). */
  decoder?: DecoderEvidence | null;
  /** Edge and card input size (they differ only for models with dynamic input sizes). */
  edgeSize: { width: number; height: number };
  notes: string[];
  /** Wall time of the search, ms. */
  ms: number;
}

/** One node's error split: what it got wrong itself vs what it inherited from its inputs. */
export interface NodeAttribution {
  /** Node output key `name:k`. */
  key: string;
  node: string;
  op: string;
  outputIndex: number;
  /** nrmse of edge vs reference at this node (what the comparison shows). */
  total: number;
  /** nrmse of edge vs the reference kernel replayed on the edge's own inputs: this node's own error. */
  own: number | null;
  /** nrmse of that replay vs the reference: the error this node's inputs carried in. */
  inherited: number | null;
  /** own / (own + inherited); null without a replay. */
  ownShare: number | null;
  /** rmse / (reference range / 255): the error in 8-bit output steps (TFLite debugger's rmse/scale). */
  rmseOverScale: number | null;
  /** NaN/Inf mismatches of edge vs reference at this node. */
  nonFinite: number;
  /** NaN/Inf mismatches of edge vs the replay on its own inputs (created here, not inherited); null without a replay. */
  ownNonFinite: number | null;
  /** Largest |value| the reference produces at this node. */
  refMaxAbs: number | null;
  /** Why there is no replay, when there is none. */
  replayNote?: string;
}

export interface AssertionResult {
  id: string;
  description: string;
  /** null: not applicable to this trace (skipped). */
  ok: boolean | null;
  detail: string;
  builtin: boolean;
}

export interface OutputImpact {
  /** Top-1 of the first classifier output agrees (null: no classifier output). */
  top1Equal: boolean | null;
  edgeTop1: string | null;
  refTop1: string | null;
  /** Largest nrmse over the final outputs. */
  outputNrmse: number | null;
}

export interface Diagnosis {
  format: typeof DIAGNOSIS_FORMAT;
  version: typeof DIAGNOSIS_VERSION;
  /** Most likely first; `[{ code: 'none' }]` for a clean run. */
  causes: Cause[];
  /**
   * Findings that are not a deployment bug on their own (a different JPEG decoder within the model's
   * tolerance): named with their size, never counted as a cause.
   */
  info?: Cause[];
  /** Where the error enters the graph (own-error first), or the comparison's first divergent node. */
  firstDivergentNode: string | null;
  /** The edge input matches the canonical pipeline within noise (null: no photo to check against). */
  inputMatches: boolean | null;
  input: InputFit | null;
  /** Replayed / attributed nodes, in execution order. */
  nodes: NodeAttribution[];
  assertions: AssertionResult[];
  impact: OutputImpact;
  /** The comparison's overall verdict and sentence. */
  comparison: { verdict: string; summary: string } | null;
  summary: string;
  warnings: string[];
}
