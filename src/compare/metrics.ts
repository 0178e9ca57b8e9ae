/**
 * Tensor error metrics: one fused pass over an (edge, reference) pair of equal-length arrays.
 *
 * Pure: no DOM, no Node. Runs in a worker and in Node. See docs/compare.md ("Metrics") for the exact
 * definitions, the zero-range / zero-vector conventions and the NaN / Inf rules.
 */

import type { BlobData, TensorStats } from '../trace/types.ts';

/**
 * Error metrics of an edge tensor `a` against a reference tensor `b`.
 *
 * Every field is a finite number, an integer, a boolean or null: the object is JSON-safe as is.
 * Numeric error metrics (rmse … sqnrDb) are computed over the `compared` pairs where both values are
 * finite; non-finite pairs are classified and counted instead (never silently skipped: any
 * `nanMismatch` or `infMismatch` makes the node diverge, see tolerance.ts).
 */
export interface TensorMetrics {
  /** Number of element pairs (the common length). */
  count: number;
  /** Pairs where both values are finite; the numeric metrics below are over these. */
  compared: number;
  /** RMSE / normalizer (ML-EXray's normalized RMSE). */
  nrmse: number;
  /** The nrmse denominator: max(range_a, range_b); if 0, max |value| of either side; if 0, 1. */
  normalizer: number;
  /** sqrt(mean((a-b)^2)). */
  rmse: number;
  /** max |a-b|. */
  maxAbs: number;
  /** Index of the (first) pair with the largest |a-b|; null when no finite pair was compared. */
  maxAbsIndex: number | null;
  /** mean |a-b|. */
  meanAbs: number;
  /** a·b / (|a| |b|), clamped to [-1, 1]; 1 when both are zero vectors, 0 when exactly one is. */
  cosine: number;
  /**
   * 10·log10(Σb² / Σ(a-b)²) in dB. null when not finite: if `identical` it stands for +∞ (no error
   * at all); otherwise it stands for −∞ (the reference is all zeros and the edge is not).
   */
  sqnrDb: number | null;
  /** Every pair is equal: finite values equal, NaN against NaN, +Inf against +Inf, −Inf against −Inf. */
  identical: boolean;
  /** Pairs where exactly one side is NaN. */
  nanMismatch: number;
  /** Pairs with no NaN where at least one side is ±Inf and the two differ (Inf vs finite, +Inf vs −Inf). */
  infMismatch: number;
  /** Pairs that agree on a non-finite value (both NaN, or the same infinity). Not in `compared`. */
  nonFiniteMatch: number;
  /** Index of the first NaN / Inf mismatch; null when there is none. */
  firstMismatchIndex: number | null;
  /** min / max of the finite values of each side (null when that side has none among compared pairs). */
  edgeMin: number | null;
  edgeMax: number | null;
  refMin: number | null;
  refMax: number | null;
}

/**
 * Computes {@link TensorMetrics} of `a` (edge) against `b` (reference) in one pass, with float64
 * accumulators and no per-element allocation.
 *
 * @throws RangeError when the lengths differ (alignment decides what to do with shape mismatches).
 */
export function tensorMetrics(a: BlobData, b: BlobData): TensorMetrics {
  const n = a.length;
  if (b.length !== n) {
    throw new RangeError(`tensorMetrics: length mismatch (edge ${n}, reference ${b.length})`);
  }
  let sd2 = 0; // Σ (a-b)^2
  let sad = 0; // Σ |a-b|
  let sab = 0; // Σ a·b
  let sa2 = 0; // Σ a^2
  let sb2 = 0; // Σ b^2
  let maxAd = -1; // so the first compared pair always sets maxI
  let maxI = -1;
  let minA = Infinity;
  let maxA = -Infinity;
  let minB = Infinity;
  let maxB = -Infinity;
  let nanMis = 0;
  let infMis = 0;
  let nfMatch = 0;
  let firstMis = -1;
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    // x - x is 0 for every finite x and NaN for NaN / ±Inf: one cheap, well-predicted branch.
    if (x - x + (y - y) !== 0) {
      const xn = x !== x;
      const yn = y !== y;
      if (xn && yn) nfMatch++;
      else if (xn || yn) {
        nanMis++;
        if (firstMis < 0) firstMis = i;
      } else if (x === y) nfMatch++;
      else {
        infMis++;
        if (firstMis < 0) firstMis = i;
      }
      continue;
    }
    const d = x - y;
    const ad = Math.abs(d);
    sd2 += d * d;
    sad += ad;
    sab += x * y;
    sa2 += x * x;
    sb2 += y * y;
    if (ad > maxAd) {
      maxAd = ad;
      maxI = i;
    }
    if (x < minA) minA = x;
    if (x > maxA) maxA = x;
    if (y < minB) minB = y;
    if (y > maxB) maxB = y;
  }
  const compared = n - nanMis - infMis - nfMatch;
  return finishMetrics({
    count: n,
    compared,
    sd2,
    sad,
    sab,
    sa2,
    sb2,
    maxAd,
    maxI,
    minA,
    maxA,
    minB,
    maxB,
    nanMis,
    infMis,
    nfMatch,
    firstMis,
  });
}

interface Accumulators {
  count: number;
  compared: number;
  sd2: number;
  sad: number;
  sab: number;
  sa2: number;
  sb2: number;
  maxAd: number;
  maxI: number;
  minA: number;
  maxA: number;
  minB: number;
  maxB: number;
  nanMis: number;
  infMis: number;
  nfMatch: number;
  firstMis: number;
}

function finishMetrics(s: Accumulators): TensorMetrics {
  const has = s.compared > 0;
  const identical = s.nanMis === 0 && s.infMis === 0 && s.sd2 === 0;
  const rmse = has ? Math.sqrt(s.sd2 / s.compared) : 0;
  const meanAbs = has ? s.sad / s.compared : 0;
  const normalizer = has ? nrmseNormalizer(s.minA, s.maxA, s.minB, s.maxB) : 1;
  let cosine: number;
  if (s.sa2 === 0 && s.sb2 === 0) cosine = 1;
  else if (s.sa2 === 0 || s.sb2 === 0) cosine = 0;
  else if (s.sd2 === 0) cosine = 1;
  else cosine = Math.min(1, Math.max(-1, s.sab / Math.sqrt(s.sa2 * s.sb2)));
  let sqnrDb: number | null = null;
  if (s.sd2 > 0 && s.sb2 > 0) sqnrDb = 10 * Math.log10(s.sb2 / s.sd2);
  return {
    count: s.count,
    compared: s.compared,
    nrmse: rmse / normalizer,
    normalizer,
    rmse,
    maxAbs: has ? s.maxAd : 0,
    maxAbsIndex: has ? s.maxI : null,
    meanAbs,
    cosine,
    sqnrDb,
    identical,
    nanMismatch: s.nanMis,
    infMismatch: s.infMis,
    nonFiniteMatch: s.nfMatch,
    firstMismatchIndex: s.firstMis < 0 ? null : s.firstMis,
    edgeMin: has ? s.minA : null,
    edgeMax: has ? s.maxA : null,
    refMin: has ? s.minB : null,
    refMax: has ? s.maxB : null,
  };
}

/**
 * The nrmse denominator from the finite ranges of both sides: max(range_a, range_b); when both sides
 * are constant, the largest magnitude of either side; when both are all zeros, 1.
 */
export function nrmseNormalizer(minA: number, maxA: number, minB: number, maxB: number): number {
  const range = Math.max(maxA - minA, maxB - minB);
  if (range > 0 && Number.isFinite(range)) return range;
  const mag = Math.max(Math.abs(minA), Math.abs(maxA), Math.abs(minB), Math.abs(maxB));
  if (mag > 0 && Number.isFinite(mag)) return mag;
  return 1;
}

/**
 * Summary statistics of a blob, in the same terms as the instrumenters' `TensorStats` (mean, population
 * std, min, max over the finite values). Used when one side of a pair has a blob and the other only stats.
 * The histogram is left empty (not needed for the comparison).
 */
export function blobStats(data: BlobData): TensorStats {
  const n = data.length;
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  let zero = 0;
  for (let i = 0; i < n; i++) {
    const x = data[i] as number;
    if (x - x !== 0) {
      if (x !== x) nan++;
      else inf++;
      continue;
    }
    count++;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
    if (x === 0) zero++;
  }
  const mean = count > 0 ? sum / count : 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const x = data[i] as number;
    if (x - x !== 0) continue;
    const d = x - mean;
    ss += d * d;
  }
  return {
    count: n,
    min: count > 0 ? min : 0,
    max: count > 0 ? max : 0,
    mean,
    std: count > 0 ? Math.sqrt(ss / count) : 0,
    nanCount: nan,
    infCount: inf,
    zeroCount: zero,
    histogram: { min: count > 0 ? min : 0, max: count > 0 ? max : 0, counts: [] },
  };
}
