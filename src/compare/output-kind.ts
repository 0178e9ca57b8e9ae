/**
 * Output kinds (issue 14 item 4, issue 12 item 9): what a final output is (class scores, boxes,
 * keypoints, an embedding, a mask or image, a regression, audio), from the model card or guessed from
 * its shape and values, and the shapes of the measures that fit them. The measures are computed in
 * output-measure.ts and written out in output-text.ts.
 *
 * Pure: no DOM, no Node (the page and the CLI share it). Documented in docs/compare.md ("Output kinds").
 */

import type { BlobData } from '../trace/types.ts';

export const OUTPUT_KINDS = ['scores', 'boxes', 'keypoints', 'embedding', 'mask', 'image', 'regression', 'audio', 'other'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** What was applied to class scores or mask values: `none` = raw logits. */
export const ACTIVATIONS = ['softmax', 'sigmoid', 'none'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export const BOX_FORMATS = ['xyxy', 'yxyx', 'xywh', 'cxcywh'] as const;
export type BoxFormat = (typeof BOX_FORMATS)[number];

export const COORDINATE_UNITS = ['normalized', 'pixels'] as const;
export type CoordinateUnits = (typeof COORDINATE_UNITS)[number];

/** Where the boxes sit in the output: rows of `stride` values, the 4 box values from `offset`. */
export interface BoxLayout {
  format: BoxFormat;
  units?: CoordinateUnits;
  /** Values per row (default: the last dimension). */
  stride?: number;
  /** Index of the first box value in a row (default 0). */
  offset?: number;
}

export const KEYPOINT_COMPONENTS = ['x', 'y', 'z', 'score', 'other'] as const;
export type KeypointComponent = (typeof KEYPOINT_COMPONENTS)[number];

/** One keypoint is `components.length` consecutive values; distances use its `x` and `y`. */
export interface KeypointLayout {
  components: KeypointComponent[];
  units?: CoordinateUnits;
  /** Pixels per unit of x and y when `units` is `normalized` (the input's width and height). */
  width?: number;
  height?: number;
}

/** What an output is, as the card (or a caller) says it. */
export interface OutputKindSpec {
  kind: OutputKind;
  /** `scores` / `mask`: probabilities (`softmax`, `sigmoid`) or logits (`none`); absent = decided from the values. */
  activation?: Activation;
  /** `boxes`: how to read them; absent = the boxes are not decoded (anchor regressors, a heat-map...). */
  boxes?: BoxLayout;
  /** `keypoints`: how to read them; absent = guessed from the shape. */
  keypoints?: KeypointLayout;
}

/** The kind of one compared output and where it comes from. */
export interface OutputKindInfo extends OutputKindSpec {
  /** `given`: the card (CompareOptions.outputKinds / classifierOutputs); `guess`: from shape and values. */
  source: 'given' | 'guess';
  /** Why this kind: `card`, or the guess's evidence (`[1,1000] sums to 1`). */
  why: string;
}

export interface ScoresMeasure {
  kind: 'scores';
  classes: number;
  k: number;
  top1Equal: boolean;
  overlap: number;
  /** Largest |edge − reference| of a score (for a one-class output, the only thing to say). */
  maxAbs: number;
}
export interface KeypointsMeasure {
  kind: 'keypoints';
  points: number;
  /** Euclidean (x, y) distance between edge and reference points, in the output's own units. */
  meanDistance: number;
  maxDistance: number;
  /** Index of the point with the largest distance (the first with a NaN / Inf coordinate when there is one). */
  worstPoint: number;
  /** Points with a NaN / Inf coordinate on either side: left out of the distances (which stay finite, as all comparison data). */
  nonFinite: number;
  /** The same distances in input pixels when the scale is known (card: pixel units, or normalized with width/height); else null. */
  pixels: { meanDistance: number; maxDistance: number } | null;
}
export interface BoxesMeasure {
  kind: 'boxes';
  /** False when the box layout is unknown (nothing below is computed). */
  decoded: boolean;
  /** Boxes with a positive area on each side. */
  refBoxes: number;
  edgeBoxes: number;
  /** Reference boxes matched to an edge box (IoU > 0). */
  matched: number;
  /** Mean / smallest IoU of the matched pairs, unmatched reference boxes counting 0; null with no reference box. */
  meanIoU: number | null;
  minIoU: number | null;
  /** `iou`: greedy one-to-one by IoU (up to MATCH_BY_IOU_MAX rows); `slot`: row i with row i (fixed anchor order). */
  matching: 'iou' | 'slot';
}
export interface EmbeddingMeasure {
  kind: 'embedding';
  cosine: number;
}
export interface MaskMeasure {
  kind: 'mask' | 'image';
  /** 20·log10(peak / rmse); null when rmse is 0 (identical: +∞). */
  psnrDb: number | null;
  /** 1 for values in [0, 1], 255 for [0, 255], else the reference's range. */
  peak: number;
  /** `mask` only: IoU of the two masks binarised at `threshold` (0.5 for probabilities, 0 for logits); null when neither has a foreground pixel or for an image. */
  iou: number | null;
  threshold: number | null;
}
export interface RegressionMeasure {
  kind: 'regression';
  maxAbs: number;
  meanAbs: number;
}
export interface AudioMeasure {
  kind: 'audio';
  /** 10·log10(Σref² / Σ(edge − ref)²); null when not finite (see TensorMetrics.sqnrDb). */
  snrDb: number | null;
}

export type OutputMeasure = ScoresMeasure | KeypointsMeasure | BoxesMeasure | EmbeddingMeasure | MaskMeasure | RegressionMeasure | AudioMeasure;

// ---------------------------------------------------------------------------------------------
// The guess

/** A vector this long or longer that is not a distribution is an embedding (unless ImageNet-sized). */
const EMBEDDING_MIN = 64;
/** ImageNet classifiers' logits: long, but class scores. */
const CLASS_COUNTS = new Set([1000, 1001]);
const IMAGE_MIN_SIDE = 16;

interface Range {
  min: number;
  max: number;
  sum: number;
  finite: boolean;
}

function rangeOf(data: BlobData, start = 0, step = 1, end = data.length): Range {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = true;
  for (let i = start; i < end; i += step) {
    const v = data[i] as number;
    if (v - v !== 0) {
      finite = false;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, sum, finite };
}

function inUnit(r: Range): boolean {
  return r.min >= 0 && r.max <= 1;
}

/**
 * Coordinates of points (stride `d`, x/y in the first two components) look like keypoints: finite,
 * in 0..1 or in a pixel range (0..8192), not mostly exact zeros and clustered (coefficient of variation
 * below 1) — a ReLU embedding has many exact zeros and a spread about as large as its mean.
 */
function looksLikePoints(data: BlobData, d: number, strict: boolean): CoordinateUnits | null {
  const n = Math.floor(data.length / d);
  if (n < 2) return null;
  let min = Infinity;
  let max = -Infinity;
  let zeros = 0;
  let sum = 0;
  let sq = 0;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 2; c++) {
      const v = data[p * d + c] as number;
      if (v - v !== 0) return null;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v === 0) zeros++;
      sum += v;
      sq += v * v;
    }
  }
  const units: CoordinateUnits | null = min >= -0.05 && max <= 1.05 ? 'normalized' : min >= -8 && max <= 8192 && max > 2 ? 'pixels' : null;
  if (units === null) return null;
  if (strict) {
    const mean = sum / (2 * n);
    const sd = Math.sqrt(Math.max(0, sq / (2 * n) - mean * mean));
    if (zeros > 0.1 * 2 * n || mean <= 0 || sd / mean >= 1) return null;
  }
  return units;
}

/** Rows of 4 values (all-zero rows skipped) whose third value ≥ the first and fourth ≥ the second: corner boxes. */
function looksLikeBoxes(data: BlobData): boolean {
  let rows = 0;
  let ordered = 0;
  for (let i = 0; i + 3 < data.length; i += 4) {
    const a = data[i] as number;
    const b = data[i + 1] as number;
    const c = data[i + 2] as number;
    const e = data[i + 3] as number;
    if (!(Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c) && Number.isFinite(e))) return false;
    if (a === 0 && b === 0 && c === 0 && e === 0) continue;
    rows++;
    if (c >= a && e >= b) ordered++;
  }
  return rows >= 1 && ordered >= 0.9 * rows;
}

const shapeText = (s: readonly number[]): string => `[${s.join(',')}]`;

/**
 * Guesses what an output is from its reference shape and values (the rules are in docs/compare.md):
 * a distribution → scores; [K,2|3] or flat 2/3·K coordinates → keypoints; [N,4] ordered corners →
 * boxes; [H,W,C] / [C,H,W] with image-like sides → mask (C ≤ 2) or image; a long vector that is not a
 * distribution → embedding; one value → regression; else other.
 */
export function guessOutputKind(shape: readonly number[], ref: BlobData | null, labels?: readonly string[]): OutputKindInfo {
  const s = shapeText(shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const guess = (kind: OutputKind, why: string, extra: Partial<OutputKindSpec> = {}): OutputKindInfo => ({ kind, source: 'guess', why, ...extra });
  if (n === 0) return guess('other', `${s}: no values`);
  if (n === 1) return guess('regression', `${s}: one value`);
  if (!ref || ref.length !== n) return guess('other', `${s}: no values to guess from`);
  const r = rangeOf(ref);
  const vector = shape.length > 0 && shape.slice(0, -1).every((d) => d === 1);
  if (vector) {
    if (r.finite && inUnit(r) && Math.abs(r.sum - 1) <= 0.01) return guess('scores', `${s} sums to 1`, { activation: 'softmax' });
    if (labels && labels.length === n) return guess('scores', `${s}: ${n} labels given`);
    for (const d of [3, 2]) {
      if (n % d === 0 && n / d >= 5) {
        const units = looksLikePoints(ref, d, true);
        if (units) return guess('keypoints', `${s} = ${n / d} points × ${d}, coordinates in ${units === 'normalized' ? '0..1' : 'a pixel range'}`, { keypoints: { components: d === 2 ? ['x', 'y'] : ['x', 'y', 'other'] } });
      }
    }
    if (n >= EMBEDDING_MIN && !CLASS_COUNTS.has(n)) return guess('embedding', `${s}: ${n} values that do not sum to 1`);
    return guess('scores', `${s}: ${CLASS_COUNTS.has(n) ? 'ImageNet-sized' : 'short'} vector, taken as class logits`, { activation: inUnit(r) ? 'sigmoid' : 'none' });
  }
  // Without the batch dimension.
  const dims = shape[0] === 1 ? shape.slice(1) : shape.slice();
  const last = dims[dims.length - 1] ?? 0;
  if (dims.length === 3) {
    const [a, b, c] = dims as [number, number, number];
    const hwc = c <= 4 && a >= IMAGE_MIN_SIDE && b >= IMAGE_MIN_SIDE;
    const chw = a <= 4 && a !== 2 && b >= IMAGE_MIN_SIDE && c >= IMAGE_MIN_SIDE;
    if (hwc || chw) {
      const ch = hwc ? c : a;
      const kind = ch <= 2 ? 'mask' : 'image';
      return guess(kind, `${s}: ${hwc ? 'H×W×C' : 'C×H×W'} with ${ch} channel${ch === 1 ? '' : 's'}`);
    }
  }
  if (dims.length >= 2 && (last === 2 || last === 3)) {
    const units = looksLikePoints(ref, last, false);
    if (units) return guess('keypoints', `${s}: ${n / last} points × ${last}, coordinates in ${units === 'normalized' ? '0..1' : 'a pixel range'}`, { keypoints: { components: last === 2 ? ['x', 'y'] : ['x', 'y', 'other'] } });
  }
  if (dims.length === 2 && last === 4 && looksLikeBoxes(ref)) {
    return guess('boxes', `${s}: rows of 4 ordered corners`, { boxes: { format: 'xyxy' } });
  }
  return guess('other', `${s}: no rule matched`);
}
