/**
 * Summary statistics of a tensor. Pure: no DOM, no Node.
 *
 * Definitions (see docs/trace-format.md, "Tensor statistics"):
 * - `count` is the number of elements, all of them (finite + NaN + ±Infinity).
 * - `nanCount`, `infCount` (+Inf and -Inf together), `zeroCount` (+0 and -0) count elements.
 * - `min`, `max`, `mean`, `std` (population standard deviation) are over the finite elements only.
 *   When there is no finite element they are NaN (stored as `null` in header.json).
 * - `histogram`: equal-width bins over [min, max] of the finite elements; bin i covers
 *   [min + i·w, min + (i+1)·w), the last bin also includes max. When every finite element has the same
 *   value there is exactly one bin, [v, v], holding them all; when there is no finite element
 *   `counts` is empty and min/max are NaN.
 */
import type { TensorStats } from './types.ts';
import { heapOf, loadValues, SIMD_DATA, SIMD_HIST, SIMD_MAX_BINS, SIMD_RESULT_BYTES, SIMD_RESULTS, statsKernels, type StatsKernels } from './wasm/stats-simd.ts';

export const DEFAULT_HISTOGRAM_BINS = 32;

/**
 * Above this magnitude a deviation (x - mean) or its square could overflow float64: values are then
 * scaled by 2^-600 before subtracting (exact for normal numbers) and the std scaled back.
 */
const BIG = 2 ** 500;
const SCALE_DOWN = 2 ** -600;
const SCALE_UP = 2 ** 600;

/**
 * Statistics of `values` (Float32Array, Int32Array, Float64Array, Uint8Array, number[], ...).
 *
 * Two passes over the data, no allocation per element, float64 accumulation. The variance uses the
 * corrected two-pass algorithm (sum of squared deviations from the mean, minus the squared sum of
 * deviations / n), which is numerically stable even when |mean| >> std.
 */
export function computeStats(values: ArrayLike<number>, bins: number = DEFAULT_HISTOGRAM_BINS): TensorStats {
  if (!Number.isSafeInteger(bins) || bins < 1) {
    throw new RangeError(`computeStats: bins must be a positive integer, got ${bins}`);
  }
  // Only Float32Array takes the hot path, so its element loads stay monomorphic (int32 tensors are
  // few and small).
  if (values instanceof Float32Array) {
    const fast = statsOf32(values, bins);
    if (fast) return fast;
  }
  return generalStats(values, bins);
}

/**
 * The hot path for tensor data (every captured node goes through here): float32 / int32 values are
 * bounded (|x| < 3.5e38), so no overflow guard is needed, and the common all-finite case runs with
 * no per-element NaN test (a NaN or Inf poisons the sum, detected once after the loop; then null is
 * returned and the general path runs). The histogram is counted into four interleaved sub-histograms
 * so consecutive elements falling in the same bin do not serialise on one counter.
 */
function statsOf32(v: Float32Array, bins: number): TensorStats | null {
  const n = v.length;
  if (n === 0) return null;
  const n4 = n - (n % 4);
  // Pass 1 over whole groups of four: lane-wise min, max, sum (float64) and zero count. Values that
  // lie in a registered heap (TF.js's wasm backend) are read in place; others are copied to the kernel.
  const simd = n >= SIMD_MIN_LENGTH && bins <= SIMD_MAX_BINS ? simdPlace(v, n4, bins) : null;
  const p1 = simd ? pass1Simd(simd, n4) : pass1Js(v, n4);
  let min0 = p1[0]!;
  let max0 = p1[4]!;
  let s0 = p1[8]!;
  let zeroCount = p1[12]!;
  for (let j = n4; j < n; j++) {
    const x = v[j]!;
    s0 += x;
    min0 = x < min0 ? x : min0;
    max0 = x > max0 ? x : max0;
    zeroCount += x === 0 ? 1 : 0;
  }
  const sum = s0 + p1[9]! + p1[10]! + p1[11]!;
  let min = Math.min(min0, p1[1]!, p1[2]!, p1[3]!);
  let max = Math.max(max0, p1[5]!, p1[6]!, p1[7]!);
  if (!Number.isFinite(sum)) return null;
  if (min === 0) min = 0;
  if (max === 0) max = 0;
  let mean = sum / n;
  if (mean < min) mean = min;
  if (mean > max) mean = max;
  if (min === max) {
    return { count: n, min, max, mean, std: 0, nanCount: 0, infCount: 0, zeroCount, histogram: { min, max, counts: [n] } };
  }
  // Pass 2: deviation sums and squares per lane, and the histogram in four interleaved sub-histograms.
  const k = bins / (max - min);
  const last = bins - 1;
  const h = new Int32Array(bins * 4);
  const p2 = simd ? pass2Simd(simd, n4, mean, min, k, last, h) : pass2Js(v, n4, mean, min, k, last, h);
  let ds0 = p2[0]!;
  let q0 = p2[4]!;
  for (let i = n4; i < n; i++) {
    const x = v[i]!;
    const dx = x - mean;
    ds0 += dx;
    q0 += dx * dx;
    const bx = ((x - min) * k) | 0;
    h[(bx > last ? last : bx) * 4]!++;
  }
  const dSum = ds0 + p2[1]! + p2[2]! + p2[3]!;
  const d2Sum = q0 + p2[5]! + p2[6]! + p2[7]!;
  const counts = new Array<number>(bins);
  for (let b = 0; b < bins; b++) counts[b] = h[b * 4]! + h[b * 4 + 1]! + h[b * 4 + 2]! + h[b * 4 + 3]!;
  let variance = (d2Sum - (dSum * dSum) / n) / n;
  if (!(variance > 0)) variance = 0;
  return { count: n, min, max, mean, std: Math.sqrt(variance), nanCount: 0, infCount: 0, zeroCount, histogram: { min, max, counts } };
}

/** Below this many values the wasm call and copy cost more than they save. */
const SIMD_MIN_LENGTH = 2048;

/**
 * [min0..3, max0..3, sum0..3, zeros] of v[0, n4): accumulator k takes the elements i ≡ k (mod 4).
 * Four independent accumulators per quantity: the loop is bound by add latency, not by loads.
 */
function pass1Js(v: Float32Array, n4: number): Float64Array {
  let min0 = Infinity, min1 = Infinity, min2 = Infinity, min3 = Infinity;
  let max0 = -Infinity, max1 = -Infinity, max2 = -Infinity, max3 = -Infinity;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let zeroCount = 0;
  for (let j = 0; j < n4; j += 4) {
    const a = v[j]!;
    const b = v[j + 1]!;
    const c = v[j + 2]!;
    const d = v[j + 3]!;
    s0 += a;
    s1 += b;
    s2 += c;
    s3 += d;
    min0 = a < min0 ? a : min0;
    min1 = b < min1 ? b : min1;
    min2 = c < min2 ? c : min2;
    min3 = d < min3 ? d : min3;
    max0 = a > max0 ? a : max0;
    max1 = b > max1 ? b : max1;
    max2 = c > max2 ? c : max2;
    max3 = d > max3 ? d : max3;
    zeroCount += (a === 0 ? 1 : 0) + (b === 0 ? 1 : 0) + (c === 0 ? 1 : 0) + (d === 0 ? 1 : 0);
  }
  return Float64Array.of(min0, min1, min2, min3, max0, max1, max2, max3, s0, s1, s2, s3, zeroCount);
}

/** Where the kernels find the values (`p`) and may write results (`out`) and histograms (`hist`). */
interface SimdPlace {
  k: StatsKernels;
  p: number;
  out: number;
  hist: number;
}

/** The values in place in a registered heap, or copied into the kernels' own memory; null: JS loops. */
function simdPlace(v: Float32Array, n4: number, bins: number): SimdPlace | null {
  const heap = heapOf(v);
  if (heap && SIMD_RESULT_BYTES + 16 * bins <= heap.scratchBytes) {
    return { k: heap.kernels, p: v.byteOffset, out: heap.scratch, hist: heap.scratch + SIMD_RESULT_BYTES };
  }
  const k = statsKernels();
  if (!k) return null;
  loadValues(k, v, n4);
  return { k, p: SIMD_DATA, out: SIMD_RESULTS, hist: SIMD_HIST };
}

/** pass1Js on the wasm SIMD kernel (same lanes, same float64 order: bit-identical results). */
function pass1Simd(s: SimdPlace, n4: number): Float64Array {
  s.k.pass1(s.p, n4, s.out);
  const buf = s.k.memory.buffer;
  const f32 = new Float32Array(buf, s.out, 8);
  const f64 = new Float64Array(buf, s.out + 32, 4);
  const z = new Int32Array(buf, s.out + 64, 4);
  return Float64Array.of(...f32, ...f64, z[0]! + z[1]! + z[2]! + z[3]!);
}

/**
 * [dev0..3, sq0..3] of v[0, n4) (deviations from `mean`, lane k = elements i ≡ k mod 4), and the
 * histogram counts into `h` (sub-histogram k at h[4·bin + k]). (x − min)·k ≥ 0, so truncation is floor;
 * the top edge (x = max) folds into the last bin.
 */
function pass2Js(v: Float32Array, n4: number, mean: number, min: number, k: number, last: number, h: Int32Array): Float64Array {
  let ds0 = 0, ds1 = 0, ds2 = 0, ds3 = 0;
  let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
  for (let i = 0; i < n4; i += 4) {
    const a = v[i]!;
    const b = v[i + 1]!;
    const c = v[i + 2]!;
    const d = v[i + 3]!;
    const da = a - mean;
    const db = b - mean;
    const dc = c - mean;
    const dd = d - mean;
    ds0 += da;
    ds1 += db;
    ds2 += dc;
    ds3 += dd;
    q0 += da * da;
    q1 += db * db;
    q2 += dc * dc;
    q3 += dd * dd;
    const ba = ((a - min) * k) | 0;
    const bb = ((b - min) * k) | 0;
    const bc = ((c - min) * k) | 0;
    const bd = ((d - min) * k) | 0;
    h[(ba > last ? last : ba) * 4]!++;
    h[(bb > last ? last : bb) * 4 + 1]!++;
    h[(bc > last ? last : bc) * 4 + 2]!++;
    h[(bd > last ? last : bd) * 4 + 3]!++;
  }
  return Float64Array.of(ds0, ds1, ds2, ds3, q0, q1, q2, q3);
}

/** pass2Js on the wasm SIMD kernel (the values are where pass 1 read them). */
function pass2Simd(s: SimdPlace, n4: number, mean: number, min: number, k: number, last: number, h: Int32Array): Float64Array {
  new Int32Array(s.k.memory.buffer, s.hist, h.length).fill(0);
  s.k.pass2(s.p, n4, mean, min, k, last, s.out, s.hist);
  const buf = s.k.memory.buffer;
  h.set(new Int32Array(buf, s.hist, h.length));
  return Float64Array.from(new Float64Array(buf, s.out, 8));
}

function generalStats(values: ArrayLike<number>, bins: number): TensorStats {
  const n = values.length;

  // Pass 1: counts, min, max, sum of the finite values.
  let nanCount = 0;
  let infCount = 0;
  let zeroCount = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (x - x !== 0) {
      // NaN or ±Infinity (x - x is NaN for both).
      if (x !== x) nanCount++;
      else infCount++;
      continue;
    }
    if (x === 0) zeroCount++;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const finite = n - nanCount - infCount;

  if (finite === 0) {
    return {
      count: n,
      min: NaN,
      max: NaN,
      mean: NaN,
      std: NaN,
      nanCount,
      infCount,
      zeroCount,
      histogram: { min: NaN, max: NaN, counts: [] },
    };
  }

  // -0 and +0 compare equal; store +0 so that a JSON round trip (which writes -0 as 0) is lossless.
  if (min === 0) min = 0;
  if (max === 0) max = 0;

  let mean = sum / finite;
  if (!Number.isFinite(mean)) {
    // The float64 sum overflowed (only possible for float64 inputs near 1.8e308): average x/n instead.
    mean = 0;
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      if (x - x === 0) mean += x / finite;
    }
  }
  if (mean < min) mean = min; // rounding can push the mean a hair outside [min, max]
  if (mean > max) mean = max;

  // Pass 2: squared deviations (corrected two-pass) and the histogram.
  const scaled = Math.max(Math.abs(min), Math.abs(max)) > BIG;
  const s = scaled ? SCALE_DOWN : 1;
  const meanS = mean * s;
  let dSum = 0;
  let d2Sum = 0;
  let counts: number[];

  if (min === max) {
    counts = [finite];
    // Every finite value equals the mean: the deviations are exactly zero.
  } else {
    const binCounts = new Float64Array(bins);
    // Bin index = floor((x - min) * bins / (max - min)). For float64 inputs max - min can overflow:
    // halve both sides (exact for normal numbers) in that case.
    const half = !Number.isFinite(max - min);
    const lo = half ? min / 2 : min;
    const k = bins / (half ? max / 2 - min / 2 : max - min);
    const f = half ? 0.5 : 1;
    const last = bins - 1;
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      if (x - x !== 0) continue;
      const d = x * s - meanS;
      dSum += d;
      d2Sum += d * d;
      let b = Math.floor((x * f - lo) * k);
      if (b > last) b = last;
      else if (b < 0) b = 0;
      binCounts[b]!++;
    }
    counts = Array.from(binCounts);
  }

  let variance = (d2Sum - (dSum * dSum) / finite) / finite;
  if (!(variance > 0)) variance = 0;
  let std = Math.sqrt(variance);
  if (scaled) std *= SCALE_UP;

  return {
    count: n,
    min,
    max,
    mean,
    std,
    nanCount,
    infCount,
    zeroCount,
    histogram: { min, max, counts },
  };
}
