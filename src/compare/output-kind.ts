/**
 * Output kinds (issue 14 item 4, issue 12 item 9): what a final output is (class scores, boxes,
 * keypoints, an embedding, a mask or image, a regression, audio), from the model card or guessed from
 * its shape and values, and the measure that fits it (top-k, IoU, keypoint distance, cosine, PSNR, SNR).
 *
 * Pure: no DOM, no Node (the page and the CLI share it). Documented in docs/compare.md ("Output kinds").
 */

import type { BlobData } from '../trace/types.ts';
import type { TensorMetrics } from './metrics.ts';
import type { TopKAgreement } from './topk.ts';

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

/** Up to this many rows per side, boxes are matched by IoU (O(n²)); beyond, slot by slot. */
export const MATCH_BY_IOU_MAX = 300;
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

// ---------------------------------------------------------------------------------------------
// The measures

/** Corners x1, y1, x2, y2 of row `i`; null when not finite or without area. */
function corners(data: BlobData, i: number, l: BoxLayout, stride: number): [number, number, number, number] | null {
  const o = i * stride + (l.offset ?? 0);
  const a = data[o] as number;
  const b = data[o + 1] as number;
  const c = data[o + 2] as number;
  const d = data[o + 3] as number;
  let box: [number, number, number, number];
  switch (l.format) {
    case 'xyxy':
      box = [a, b, c, d];
      break;
    case 'yxyx':
      box = [b, a, d, c];
      break;
    case 'xywh':
      box = [a, b, a + c, b + d];
      break;
    case 'cxcywh':
      box = [a - c / 2, b - d / 2, a + c / 2, b + d / 2];
      break;
  }
  if (!box.every(Number.isFinite) || !(box[2] > box[0]) || !(box[3] > box[1])) return null;
  return box;
}

/** Intersection over union of two corner boxes. */
export function iou(p: readonly number[], q: readonly number[]): number {
  const w = Math.min(p[2] as number, q[2] as number) - Math.max(p[0] as number, q[0] as number);
  const h = Math.min(p[3] as number, q[3] as number) - Math.max(p[1] as number, q[1] as number);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (b: readonly number[]): number => ((b[2] as number) - (b[0] as number)) * ((b[3] as number) - (b[1] as number));
  return inter / (area(p) + area(q) - inter);
}

/**
 * Boxes of the edge against the reference's: each reference box gets the edge box it overlaps most
 * (one-to-one, best pairs first), or, for many rows, the edge box in the same row. Unmatched reference
 * boxes count as IoU 0 in the mean.
 */
export function boxAgreement(edge: BlobData, ref: BlobData, layout: BoxLayout, lastDim: number): BoxesMeasure {
  const stride = layout.stride ?? lastDim;
  const rows = stride > 0 ? Math.floor(ref.length / stride) : 0;
  const eb: ([number, number, number, number] | null)[] = [];
  const rb: ([number, number, number, number] | null)[] = [];
  for (let i = 0; i < rows; i++) {
    eb.push(corners(edge, i, layout, stride));
    rb.push(corners(ref, i, layout, stride));
  }
  const refBoxes = rb.filter((b) => b !== null).length;
  const edgeBoxes = eb.filter((b) => b !== null).length;
  const matching: BoxesMeasure['matching'] = rows <= MATCH_BY_IOU_MAX ? 'iou' : 'slot';
  const best = new Array<number>(rows).fill(0);
  if (matching === 'slot') {
    for (let i = 0; i < rows; i++) {
      const r = rb[i];
      const e = eb[i];
      if (r && e) best[i] = iou(e, r);
    }
  } else {
    const pairs: { r: number; e: number; v: number }[] = [];
    for (let i = 0; i < rows; i++) {
      const r = rb[i];
      if (!r) continue;
      for (let j = 0; j < rows; j++) {
        const e = eb[j];
        if (!e) continue;
        const v = iou(e, r);
        if (v > 0) pairs.push({ r: i, e: j, v });
      }
    }
    // Best first; ties keep the same row (the model's own order) first.
    pairs.sort((p, q) => q.v - p.v || Math.abs(p.r - p.e) - Math.abs(q.r - q.e));
    const usedR = new Set<number>();
    const usedE = new Set<number>();
    for (const p of pairs) {
      if (usedR.has(p.r) || usedE.has(p.e)) continue;
      usedR.add(p.r);
      usedE.add(p.e);
      best[p.r] = p.v;
    }
  }
  let sum = 0;
  let min = Infinity;
  let matched = 0;
  for (let i = 0; i < rows; i++) {
    if (!rb[i]) continue;
    const v = best[i] as number;
    sum += v;
    if (v < min) min = v;
    if (v > 0) matched++;
  }
  return {
    kind: 'boxes',
    decoded: true,
    refBoxes,
    edgeBoxes,
    matched,
    meanIoU: refBoxes > 0 ? sum / refBoxes : null,
    minIoU: refBoxes > 0 ? min : null,
    matching,
  };
}

/** Edge keypoints against the reference's: (x, y) distance per point. */
export function keypointAgreement(edge: BlobData, ref: BlobData, layout: KeypointLayout): KeypointsMeasure {
  const d = layout.components.length;
  const xi = layout.components.indexOf('x');
  const yi = layout.components.indexOf('y');
  const points = d > 0 ? Math.floor(ref.length / d) : 0;
  const px = layout.units === 'pixels' ? { w: 1, h: 1 } : layout.width !== undefined && layout.height !== undefined ? { w: layout.width, h: layout.height } : null;
  let sum = 0;
  let max = 0;
  let worst = -1;
  let firstBad = -1;
  let bad = 0;
  let sumPx = 0;
  let maxPx = 0;
  for (let p = 0; p < points; p++) {
    const dx = (edge[p * d + xi] as number) - (ref[p * d + xi] as number);
    const dy = (edge[p * d + yi] as number) - (ref[p * d + yi] as number);
    const dist = Math.hypot(dx, dy);
    if (!Number.isFinite(dist)) {
      // A NaN point must not hide: it is counted and named the worst.
      bad++;
      if (firstBad < 0) firstBad = p;
      continue;
    }
    sum += dist;
    if (dist > max || worst < 0) {
      max = dist;
      worst = p;
    }
    if (px) {
      const dp = Math.hypot(dx * px.w, dy * px.h);
      sumPx += dp;
      maxPx = Math.max(maxPx, dp);
    }
  }
  const good = points - bad;
  return {
    kind: 'keypoints',
    points,
    meanDistance: good > 0 ? sum / good : 0,
    maxDistance: max,
    worstPoint: firstBad >= 0 ? firstBad : Math.max(0, worst),
    nonFinite: bad,
    pixels: px && good > 0 ? { meanDistance: sumPx / good, maxDistance: maxPx } : null,
  };
}

/**
 * The PSNR peak: 1 for values in [0, 1], 255 for [0, 255], else the reference's range. Up to a quarter
 * of the peak over either end still counts as that range: an image network's raw output overshoots
 * before the caller clips it (ESRGAN slim ×2 on a photo: −23 … 288), and its peak is still 255.
 */
function peakOf(m: TensorMetrics): number {
  const lo = m.refMin ?? 0;
  const hi = m.refMax ?? 0;
  for (const peak of [1, 255]) if (lo >= -peak / 4 && hi <= peak * 1.25) return peak;
  return hi - lo > 0 ? hi - lo : 1;
}

/** IoU of the two masks binarised at `t` (value > t is foreground); null when neither has foreground. */
export function maskIoU(edge: BlobData, ref: BlobData, t: number): number | null {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = (edge[i] as number) > t;
    const b = (ref[i] as number) > t;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return union === 0 ? null : inter / union;
}

/**
 * The measure that fits the output's kind. `metrics` are the pair's tensorMetrics (the scalar measures
 * come from them); `topK` is the top-k agreement computed for scores. Null for `other`, or when the
 * measure needs what is missing (scores without top-k).
 */
export function outputMeasure(kind: OutputKindSpec, shape: readonly number[], edge: BlobData, ref: BlobData, metrics: TensorMetrics, topK: TopKAgreement | null): OutputMeasure | null {
  const last = shape[shape.length - 1] ?? ref.length;
  switch (kind.kind) {
    case 'scores':
      return topK ? { kind: 'scores', classes: topK.classes, k: topK.k, top1Equal: topK.top1Equal, overlap: topK.overlap, maxAbs: metrics.maxAbs } : null;
    case 'keypoints': {
      const layout: KeypointLayout = kind.keypoints ?? { components: last === 2 ? ['x', 'y'] : ['x', 'y', 'other'] };
      if (!layout.components.includes('x') || !layout.components.includes('y')) return null;
      return keypointAgreement(edge, ref, layout);
    }
    case 'boxes':
      if (!kind.boxes) return { kind: 'boxes', decoded: false, refBoxes: 0, edgeBoxes: 0, matched: 0, meanIoU: null, minIoU: null, matching: 'slot' };
      return boxAgreement(edge, ref, kind.boxes, last);
    case 'embedding':
      return { kind: 'embedding', cosine: metrics.cosine };
    case 'mask':
    case 'image': {
      const peak = peakOf(metrics);
      const psnrDb = metrics.rmse > 0 ? 20 * Math.log10(peak / metrics.rmse) : null;
      if (kind.kind === 'image') return { kind: 'image', psnrDb, peak, iou: null, threshold: null };
      const probabilities = kind.activation ? kind.activation !== 'none' : (metrics.refMin ?? 0) >= 0 && (metrics.refMax ?? 0) <= 1;
      const threshold = probabilities ? 0.5 : 0;
      return { kind: 'mask', psnrDb, peak, iou: maskIoU(edge, ref, threshold), threshold };
    }
    case 'regression':
      return { kind: 'regression', maxAbs: metrics.maxAbs, meanAbs: metrics.meanAbs };
    case 'audio':
      return { kind: 'audio', snrDb: metrics.sqnrDb };
    case 'other':
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Text

/** 4 significant digits, `1e-5` style below 1e-3. */
function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return x.toExponential(1);
  return String(Number(x.toPrecision(4)));
}

/** Cosine with its distance from 1 visible: `0.9998`, `1-3e-7`. */
export function cosineText(c: number): string {
  if (c === 1) return '1';
  if (c > 0.9999) return `1-${(1 - c).toExponential(0)}`;
  return c.toFixed(4);
}

/** `embedding (guess)`, `scores`, `mask (guess, sigmoid)`. */
export function kindLabel(k: OutputKindInfo): string {
  const name = k.kind === 'boxes' && !k.boxes ? 'detection' : k.kind;
  return k.source === 'guess' ? `${name} (guess)` : name;
}

/**
 * One line: `embedding (guess): cosine 0.9998`, `keypoints: mean 0.0012, max 0.0031 (0.23 / 0.6 px)`,
 * `detection, no box layout in the card: compared as a tensor: cosine 1-2e-7, …`. `metrics` fills in for kinds
 * without their own measure (other, undecoded boxes).
 */
export function outputMeasureText(k: OutputKindInfo, m: OutputMeasure | null, metrics: TensorMetrics | null): string {
  const asTensor = metrics ? `compared as a tensor: cosine ${cosineText(metrics.cosine)}, max |diff| ${num(metrics.maxAbs)}` : 'not compared';
  const head = kindLabel(k);
  if (!m) return `${head}: ${asTensor}`;
  switch (m.kind) {
    case 'scores':
      if (m.classes === 1) return `${head}: one score, |diff| ${num(m.maxAbs)}`;
      return `${head}: top-1 ${m.top1Equal ? 'agrees' : 'DIFFERS'}, top-${m.k} overlap ${m.overlap}/${m.k}`;
    case 'keypoints': {
      const px = m.pixels ? ` (${num(m.pixels.meanDistance)} / ${num(m.pixels.maxDistance)} px)` : '';
      const nan = m.nonFinite > 0 ? `, ${m.nonFinite} with NaN/Inf (#${m.worstPoint})` : '';
      return `${head}: ${m.points} points, mean distance ${num(m.meanDistance)}, max ${num(m.maxDistance)}${m.nonFinite > 0 ? '' : ` (#${m.worstPoint})`}${px}${nan}`;
    }
    case 'boxes':
      if (!m.decoded) return `${head}, no box layout in the card: ${asTensor}`;
      if (m.meanIoU === null) return `${head}: no reference box with an area (${m.edgeBoxes} on the edge)`;
      return `${head}: mean IoU ${num(m.meanIoU)} (min ${num(m.minIoU ?? 0)}) over ${m.refBoxes} boxes, ${m.matched} matched`;
    case 'embedding':
      return `${head}: cosine ${cosineText(m.cosine)}`;
    case 'mask':
    case 'image': {
      const psnr = `PSNR ${m.psnrDb === null ? 'inf' : num(m.psnrDb)} dB`;
      if (m.kind === 'image') return `${head}: ${psnr}`;
      return `${head}: ${psnr}, IoU@${m.threshold ?? 0.5} ${m.iou === null ? '– (no foreground)' : num(m.iou)}`;
    }
    case 'regression':
      return `${head}: max |diff| ${num(m.maxAbs)}, mean ${num(m.meanAbs)}`;
    case 'audio':
      return `${head}: SNR ${m.snrDb === null ? (metrics?.identical ? 'inf' : '-inf') : num(m.snrDb)} dB`;
  }
}

/**
 * How much an output's measure says about the model's answer, for picking the one to summarise: decoded
 * keypoints, boxes, embeddings, masks, images and audio first, then regressions, then outputs compared
 * only as tensors (undecoded detections, other). Lower is more telling; scores are summarised by top-1.
 */
export function measureRank(k: OutputKindInfo, m: OutputMeasure | null): number {
  if (!m) return 3;
  if (m.kind === 'boxes' && !m.decoded) return 3;
  if (m.kind === 'regression') return 2;
  if (m.kind === 'scores') return 0;
  return k.source === 'given' ? 0 : 1;
}
