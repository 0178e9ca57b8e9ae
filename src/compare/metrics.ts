/**
 * Tensor error metrics: one fused pass over an (edge, reference) pair of equal-length arrays.
 *
 * Pure: no DOM, no Node. Runs in a worker and in Node. See docs/compare.md ("Metrics") for the exact
 * definitions, the zero-range / zero-vector conventions and the NaN / Inf rules.
 */

import type { BlobData, TensorStats } from '../trace/types.ts';
import { COMPARE_CHUNK, compareKernel, type CompareKernel } from './wasm/compare-simd.ts';

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
 * The sums run in two lanes (lane k takes the pairs i ≡ k mod 2, in index order), added at the end:
 * the layout of the wasm SIMD kernel (wasm/compare.wat), which runs for float32 pairs of at least
 * {@link SIMD_MIN_PAIRS}; the JS lane pass is the fallback and gives bit-identical metrics (the extrema
 * and the first argmax are exact in any order; a −0 extremum is reported as 0 so that holds for zeros too).
 *
 * @throws RangeError when the lengths differ (alignment decides what to do with shape mismatches).
 */
export function tensorMetrics(a: BlobData, b: BlobData): TensorMetrics {
  const n = a.length;
  if (b.length !== n) {
    throw new RangeError(`tensorMetrics: length mismatch (edge ${n}, reference ${b.length})`);
  }
  const st = state;
  st.set(INITIAL_STATE);
  const c: NonFinite = { nanMis: 0, infMis: 0, nfMatch: 0, firstMis: -1 };
  const simd = n >= SIMD_MIN_PAIRS ? compareKernel() : null;
  if (simd && a instanceof Float32Array && b instanceof Float32Array) {
    simdPass(simd, a, b, st, c);
  } else {
    // Blocks small enough for L1, walked lane by lane: each lane is a plain sequential loop.
    for (let s = 0; s < n; s += JS_BLOCK) lanePass(a, b, s, Math.min(n, s + JS_BLOCK), st, c);
  }
  return finishMetrics(combineLanes(n, st, c));
}

/** Below this many pairs the copy into wasm memory and the call cost more than they save. */
export const SIMD_MIN_PAIRS = 128;
/** Pairs per block of the JS lane pass (even: every block starts at lane 0). */
const JS_BLOCK = 4096;

/** Non-finite pairs: classified and counted, never part of the numeric metrics. */
interface NonFinite {
  nanMis: number;
  infMis: number;
  nfMatch: number;
  firstMis: number;
}

/**
 * The pass's state, lane k at offset + k: Σ(a-b)² 0, Σ|a-b| 2, Σab 4, Σa² 6, Σb² 8, max |a-b| 10, its
 * index 12; then min a 14, max a 15, min b 16, max b 17 (one value each: order does not matter).
 * max |a-b| starts at -1 so that the lane's first compared pair always sets its index.
 */
const INITIAL_STATE = Float64Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, Infinity, -Infinity, Infinity, -Infinity);
/** The kernel's float32 extrema lanes to start from: min a, max a, min b, max b × 4 lanes. */
const INITIAL_EXTREMA = Float32Array.of(...[Infinity, -Infinity, Infinity, -Infinity].flatMap((x) => [x, x, x, x]));
/** The one state of every call: tensorMetrics is synchronous, and a per-call typed array costs more than a small pass. */
const state = new Float64Array(INITIAL_STATE.length);

/** Folds pairs [from, to) into the state (from even), lane by lane, each lane in index order. */
function lanePass(a: BlobData, b: BlobData, from: number, to: number, st: Float64Array, c: NonFinite): void {
  let minA = st[14]!;
  let maxA = st[15]!;
  let minB = st[16]!;
  let maxB = st[17]!;
  for (let k = 0; k < 2; k++) {
    let sd2 = st[k]!; // Σ (a-b)^2
    let sad = st[2 + k]!; // Σ |a-b|
    let sab = st[4 + k]!; // Σ a·b
    let sa2 = st[6 + k]!; // Σ a^2
    let sb2 = st[8 + k]!; // Σ b^2
    let maxAd = st[10 + k]!;
    let maxI = st[12 + k]!;
    for (let i = from + k; i < to; i += 2) {
      const x = a[i] as number;
      const y = b[i] as number;
      // x - x is 0 for every finite x and NaN for NaN / ±Inf: one cheap, well-predicted branch.
      if (x - x + (y - y) !== 0) {
        classify(x, y, i, c);
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
    st[k] = sd2;
    st[2 + k] = sad;
    st[4 + k] = sab;
    st[6 + k] = sa2;
    st[8 + k] = sb2;
    st[10 + k] = maxAd;
    st[12 + k] = maxI;
  }
  st[14] = minA;
  st[15] = maxA;
  st[16] = minB;
  st[17] = maxB;
}

/** Counts a pair with a NaN or ±Inf on either side (both paths classify the same pairs this way). */
function classify(x: number, y: number, i: number, c: NonFinite): void {
  const xn = x !== x;
  const yn = y !== y;
  if (xn && yn) c.nfMatch++;
  else if (xn || yn) {
    c.nanMis++;
    if (c.firstMis < 0 || i < c.firstMis) c.firstMis = i;
  } else if (x === y) c.nfMatch++;
  else {
    c.infMis++;
    if (c.firstMis < 0 || i < c.firstMis) c.firstMis = i;
  }
}

/**
 * The kernel over float32 pairs: chunks copied into its memory, the state kept there between chunks
 * (a chunk with a NaN or ±Inf is redone by the slower kernel that leaves those pairs out, then they
 * are classified here), the last 0–7 pairs folded in by the JS lane pass (same lanes).
 */
function simdPass(k: CompareKernel, a: Float32Array, b: Float32Array, st: Float64Array, c: NonFinite): void {
  const n = a.length;
  const n8 = n & ~7; // the kernel takes eight pairs per step
  const s64 = k.state64;
  const s32 = k.state32;
  for (let j = 0; j < 14; j++) s64[j] = st[j]!;
  s32.set(INITIAL_EXTREMA);
  for (let s = 0; s < n8; s += COMPARE_CHUNK) {
    const len = Math.min(n8 - s, COMPARE_CHUNK);
    k.edge.set(len === n ? a : a.subarray(s, s + len));
    k.ref.set(len === n ? b : b.subarray(s, s + len));
    if (k.chunk(len, s) < 0 && k.chunkSlow(len, s) > 0) {
      for (let i = s; i < s + len; i++) {
        const x = a[i]!;
        const y = b[i]!;
        if (x - x + (y - y) !== 0) classify(x, y, i, c);
      }
    }
  }
  for (let j = 0; j < 10; j++) st[j] = s64[j]!;
  // Lane l's max |a-b| is in the group of four starting at g: at pair g + l or g + 2 + l, the first that matches.
  for (let l = 0; l < 2; l++) {
    const max = s64[10 + l]!;
    st[10 + l] = max;
    if (max < 0) continue;
    const g = s64[12 + l]!;
    st[12 + l] = Math.abs(a[g + l]! - b[g + l]!) === max ? g + l : g + 2 + l;
  }
  for (let j = 0; j < 4; j++) {
    if (s32[j]! < st[14]!) st[14] = s32[j]!;
    if (s32[4 + j]! > st[15]!) st[15] = s32[4 + j]!;
    if (s32[8 + j]! < st[16]!) st[16] = s32[8 + j]!;
    if (s32[12 + j]! > st[17]!) st[17] = s32[12 + j]!;
  }
  if (n8 < n) lanePass(a, b, n8, n, st, c);
}

/** The lanes combined (the same arithmetic whichever path filled them). */
function combineLanes(n: number, st: Float64Array, c: NonFinite): Accumulators {
  // The largest |a-b|, at its first index across the two lanes.
  const pick = st[11]! > st[10]! || (st[11]! === st[10]! && st[13]! < st[12]!) ? 1 : 0;
  return {
    count: n,
    compared: n - c.nanMis - c.infMis - c.nfMatch,
    sd2: st[0]! + st[1]!,
    sad: st[2]! + st[3]!,
    sab: st[4]! + st[5]!,
    sa2: st[6]! + st[7]!,
    sb2: st[8]! + st[9]!,
    maxAd: st[10 + pick]!,
    maxI: st[12 + pick]!,
    // −0 and 0 compare equal, so which one a lane kept depends on the order: x + 0 reports 0 either way.
    minA: st[14]! + 0,
    maxA: st[15]! + 0,
    minB: st[16]! + 0,
    maxB: st[17]! + 0,
    nanMis: c.nanMis,
    infMis: c.infMis,
    nfMatch: c.nfMatch,
    firstMis: c.firstMis,
  };
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
