/**
 * Fitting helpers: least-squares affine fits between channels, channel permutations, planar images.
 * Pure TypeScript on typed arrays (float64 accumulation), no DOM, no Node.
 */
import type { BlobData } from '../trace/types.ts';
import type { MemoryOrder } from './types.ts';

/** y ≈ a·x + b in the least-squares sense. */
export interface AffineFit {
  a: number;
  b: number;
  n: number;
  /** Σ(y − a·x − b)². */
  ssRes: number;
  /** Σ(y − ȳ)². */
  ssTot: number;
  /** Σ(x − x̄)². */
  ssX: number;
  /**
   * Normalised residual ssRes / ssTot (= 1 − r²) in [0, 1]; 1 when the fitted slope is not positive
   * (an inverted channel is not an explanation); 0 when y is constant and fitted exactly.
   */
  rel: number;
}

/** Sums of a pair of equally long arrays (float64). */
export interface PairSums {
  n: number;
  sx: number;
  sy: number;
  sxx: number;
  syy: number;
  sxy: number;
}

export function pairSums(x: ArrayLike<number>, y: ArrayLike<number>, xOffset = 0, yOffset = 0, n = Math.min(x.length - xOffset, y.length - yOffset)): PairSums {
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[xOffset + i] as number;
    const b = y[yOffset + i] as number;
    sx += a;
    sy += b;
    sxx += a * a;
    syy += b * b;
    sxy += a * b;
  }
  return { n, sx, sy, sxx, syy, sxy };
}

/** The least-squares affine fit from the sums. */
export function affineFromSums(s: PairSums): AffineFit {
  const { n } = s;
  if (n === 0) return { a: 0, b: 0, n, ssRes: 0, ssTot: 0, ssX: 0, rel: 1 };
  const cxx = Math.max(0, s.sxx - (s.sx * s.sx) / n);
  const cyy = Math.max(0, s.syy - (s.sy * s.sy) / n);
  const cxy = s.sxy - (s.sx * s.sy) / n;
  const scaleY = Math.max(1e-30, s.syy / n);
  if (cxx <= 1e-12 * Math.max(1, s.sxx)) {
    // x constant: only an offset can be fitted.
    const b = s.sy / n;
    return { a: 0, b, n, ssRes: cyy, ssTot: cyy, ssX: cxx, rel: cyy <= 1e-12 * n * scaleY ? 0 : 1 };
  }
  const a = cxy / cxx;
  const b = (s.sy - a * s.sx) / n;
  const ssRes = Math.max(0, cyy - (cxy * cxy) / cxx);
  let rel: number;
  if (cyy <= 1e-12 * n * scaleY) rel = ssRes <= 1e-12 * n * scaleY ? 0 : 1;
  else rel = Math.min(1, ssRes / cyy);
  if (a <= 0) rel = 1;
  return { a, b, n, ssRes, ssTot: cyy, ssX: cxx, rel };
}

export function affineFit(x: ArrayLike<number>, y: ArrayLike<number>): AffineFit {
  return affineFromSums(pairSums(x, y));
}

/**
 * The residual of a fit in x units (pixel levels when x is in pixels): sqrt(1 − r²)·std(x), which is
 * rms(y − ŷ) / a for a good fit and stays bounded by std(x) for a hopeless one.
 */
export function residualInX(f: AffineFit): number {
  if (f.n === 0) return 0;
  return Math.sqrt((f.rel * f.ssX) / f.n);
}

/** All 6 permutations of [0, 1, 2], identity first. */
export const PERMUTATIONS_3: readonly (readonly [number, number, number])[] = [
  [0, 1, 2],
  [2, 1, 0],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
];

export function samePermutation(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A planar (CHW) float image without batch dimension. */
export interface Planar {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

export function plane(img: Planar, c: number): Float32Array {
  const n = img.width * img.height;
  return img.data.subarray(c * n, (c + 1) * n);
}

/** Read a flat [1,H,W,C] (hwc) or [1,C,H,W] (chw) buffer as a planar image. */
export function toPlanar(data: BlobData | Float32Array, width: number, height: number, channels: number, order: MemoryOrder): Planar {
  const n = width * height;
  const out = new Float32Array(n * channels);
  if (order === 'chw' || channels === 1) {
    for (let i = 0; i < out.length; i++) out[i] = data[i] as number;
  } else {
    for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[c * n + i] = data[i * channels + c] as number;
  }
  return { width, height, channels, data: out };
}

/** Interleaved (HWC) float image → planar. */
export function interleavedToPlanar(data: Float32Array, width: number, height: number, channels: number): Planar {
  return toPlanar(data, width, height, channels, 'hwc');
}

/**
 * Fit every edge channel against every candidate channel: rel[c][j] = normalised residual of
 * edge channel c ≈ a·candidate channel j + b.
 */
export function crossFits(edge: Planar, cand: Planar): AffineFit[][] {
  const out: AffineFit[][] = [];
  for (let c = 0; c < edge.channels; c++) {
    const row: AffineFit[] = [];
    const y = plane(edge, c);
    for (let j = 0; j < cand.channels; j++) row.push(affineFit(plane(cand, j), y));
    out.push(row);
  }
  return out;
}

/** Weighted sum of the 3 planes of an RGB planar image (grayscale conversion), as one plane. */
export function weightedGray(rgb: Planar, weights: readonly number[]): Planar {
  const n = rgb.width * rgb.height;
  const out = new Float32Array(n);
  const [wr, wg, wb] = [weights[0] as number, weights[1] as number, weights[2] as number];
  const d = rgb.data;
  for (let i = 0; i < n; i++) out[i] = wr * (d[i] as number) + wg * (d[n + i] as number) + wb * (d[2 * n + i] as number);
  return { width: rgb.width, height: rgb.height, channels: 1, data: out };
}

/** Pick planes of an image in a given order (a channel permutation). */
export function pickPlanes(img: Planar, order: readonly number[]): Planar {
  const n = img.width * img.height;
  const out = new Float32Array(n * order.length);
  order.forEach((j, c) => out.set(plane(img, j), c * n));
  return { width: img.width, height: img.height, channels: order.length, data: out };
}

/** Median of a list (NaN-free); 0 for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const pos = Math.min(s.length - 1, Math.max(0, q * (s.length - 1)));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/** A number for people: 3 significant digits, snapped to a nearby "round" value relative to `span`. */
export function niceNumber(v: number, span = Math.abs(v)): string {
  if (!Number.isFinite(v)) return String(v);
  const ref = Math.max(Math.abs(span), 1e-12);
  // Snap to the nearest multiple of a step a little finer than the span's resolution.
  const step = 10 ** (Math.floor(Math.log10(ref)) - 2);
  let s = Math.round(v / step) * step;
  const r = Math.round(s);
  if (Math.abs(s - r) <= 0.006 * ref) s = r;
  if (Math.abs(s) < step / 2) s = 0;
  return Number(s.toPrecision(3)).toString();
}

/** `[lo, hi]` for people. */
export function niceRange(lo: number, hi: number): string {
  const span = Math.abs(hi - lo);
  return `[${niceNumber(lo, span)}, ${niceNumber(hi, span)}]`;
}

/** Clamp to [0, 1] and round to 3 decimals (confidences). */
export function conf(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
}

/** A finite number or null (JSON-safe). */
export function finiteOrNull(x: number | null | undefined): number | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : x;
}

/** Round to a few significant digits for evidence fields (keeps JSON short). */
export function sig(x: number, digits = 4): number {
  if (!Number.isFinite(x) || x === 0) return Number.isFinite(x) ? x : 0;
  return Number(x.toPrecision(digits));
}
