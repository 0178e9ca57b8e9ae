/**
 * The measure that fits an output's kind (output-kind.ts): top-k for scores, IoU for boxes and masks,
 * distances for keypoints, cosine for embeddings, PSNR for images, SNR for audio.
 *
 * Pure: no DOM, no Node (the page and the CLI share it). Documented in docs/compare.md ("Output kinds").
 */

import type { BlobData } from '../trace/types.ts';
import type { TensorMetrics } from './metrics.ts';
import type { TopKAgreement } from './topk.ts';
import type { BoxesMeasure, BoxLayout, KeypointLayout, KeypointsMeasure, OutputKindSpec, OutputMeasure } from './output-kind.ts';

/** Up to this many rows per side, boxes are matched by IoU (O(n²)); beyond, slot by slot. */
export const MATCH_BY_IOU_MAX = 300;

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
