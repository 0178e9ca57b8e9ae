import { afterEach, describe, expect, it } from 'vitest';
import { SIMD_MIN_PAIRS, type TensorMetrics, tensorMetrics } from './metrics.ts';
import { randn, rng } from './synthetic.ts';
import { COMPARE_CHUNK, compareKernel, setCompareKernelForTest } from './wasm/compare-simd.ts';

/** tensorMetrics on the JS lane pass and on the wasm kernel. */
function both(a: Float32Array, b: Float32Array): [TensorMetrics, TensorMetrics] {
  setCompareKernelForTest(false);
  const js = tensorMetrics(a, b);
  setCompareKernelForTest(true);
  return [js, tensorMetrics(a, b)];
}

/** Every field bit for bit (Object.is: −0 ≠ 0, NaN = NaN). */
function expectSameBits(simd: TensorMetrics, js: TensorMetrics, what: string): void {
  for (const key of Object.keys(js) as (keyof TensorMetrics)[]) {
    expect(Object.is(simd[key], js[key]), `${what}: ${key} simd ${simd[key]} js ${js[key]}`).toBe(true);
  }
}

/** Plain sequential reference for the exact quantities: counts, first indices, extrema, argmax. */
function exact(a: Float32Array, b: Float32Array) {
  let maxAbs = -1;
  let maxAbsIndex: number | null = null;
  let firstMismatchIndex: number | null = null;
  let nanMismatch = 0;
  let edgeMin = Infinity;
  let sd2 = 0;
  let compared = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      const mismatch = Number.isNaN(x) !== Number.isNaN(y) || (!Number.isNaN(x) && x !== y);
      if (Number.isNaN(x) !== Number.isNaN(y)) nanMismatch++;
      if (mismatch && firstMismatchIndex === null) firstMismatchIndex = i;
      continue;
    }
    compared++;
    sd2 += (x - y) * (x - y);
    if (Math.abs(x - y) > maxAbs) {
      maxAbs = Math.abs(x - y);
      maxAbsIndex = i;
    }
    edgeMin = Math.min(edgeMin, x);
  }
  return { maxAbsIndex, firstMismatchIndex, nanMismatch, edgeMin: compared ? edgeMin : null, rmse: compared ? Math.sqrt(sd2 / compared) : 0 };
}

/** Edge = reference × (1 + relative noise), like two healthy backends. */
function pair(n: number, seed: number, scale = 1): [Float32Array, Float32Array] {
  const b = randn(n, seed, scale);
  const r = rng(seed + 1);
  return [b.map((y) => y * (1 + 1e-3 * (r() - 0.5))), b];
}

describe('tensorMetrics: wasm SIMD kernel (wasm/compare.wat) vs the JS lane pass', () => {
  afterEach(() => setCompareKernelForTest(undefined));

  // That compare-wasm.gen.ts is compare.wat assembled is checked with the other kernels by
  // src/trace/stats.test.ts (scripts/build-wasm.mjs --check; src/compare may not use Node APIs).
  it('loads here', () => {
    expect(compareKernel()).not.toBeNull();
  });

  it('gives bit-identical metrics on random pairs of every length class (tails, one and several chunks)', () => {
    const lengths = [0, 1, 3, SIMD_MIN_PAIRS - 1, SIMD_MIN_PAIRS, ...[1, 2, 3, 4, 5, 6, 7].map((t) => SIMD_MIN_PAIRS + t), 4099, COMPARE_CHUNK, COMPARE_CHUNK + 1, 3 * COMPARE_CHUNK + 7];
    for (const [i, n] of lengths.entries()) {
      const [a, b] = pair(n, 10 + i, 3);
      const [js, simd] = both(a, b);
      expectSameBits(simd, js, `random ${n}`);
      const ref = exact(a, b);
      expect(simd.maxAbsIndex, `random ${n}: argmax`).toBe(ref.maxAbsIndex);
      expect(simd.edgeMin, `random ${n}: edge min`).toBe(ref.edgeMin);
      expect(simd.rmse, `random ${n}: rmse`).toBeCloseTo(ref.rmse, 12);
    }
  });

  it('classifies NaN / Inf the same way, wherever they fall (first pair, chunk borders, the tail, all of them)', () => {
    const n = 2 * COMPARE_CHUNK + 3;
    const spots: [string, (a: Float32Array, b: Float32Array) => void][] = [
      ['NaN at 0', (a) => void (a[0] = NaN)],
      ['NaN both sides', (a, b) => void (a[7] = b[7] = NaN)],
      ['+Inf vs finite at a chunk border', (a) => void (a[COMPARE_CHUNK] = Infinity)],
      ['same -Inf both sides', (a, b) => void (a[COMPARE_CHUNK - 1] = b[COMPARE_CHUNK - 1] = -Infinity)],
      ['+Inf vs -Inf', (a, b) => void ((a[5000] = Infinity), (b[5000] = -Infinity))],
      ['NaN in the tail', (_a, b) => void (b[n - 1] = NaN)],
      ['NaN next to the largest error', (a, b) => void ((a[9000] = NaN), (a[9001] = b[9001]! + 100))],
      ['every pair NaN', (a) => void a.fill(NaN)],
      ['every other pair Inf', (a) => a.forEach((_, i) => void (i % 2 === 0 && (a[i] = -Infinity)))],
    ];
    for (const [i, [what, poke]] of spots.entries()) {
      const [a, b] = pair(n, 40 + i);
      poke(a, b);
      const [js, simd] = both(a, b);
      expectSameBits(simd, js, what);
      const ref = exact(a, b);
      expect(simd.firstMismatchIndex, `${what}: first mismatch`).toBe(ref.firstMismatchIndex);
      expect(simd.nanMismatch, `${what}: NaN mismatches`).toBe(ref.nanMismatch);
      expect(simd.maxAbsIndex, `${what}: argmax`).toBe(ref.maxAbsIndex);
    }
  });

  it('agrees on denormals, float32 extremes, signed zeros and tied largest errors', () => {
    const r = rng(77);
    const n = 5003;
    const cases: [string, Float32Array, Float32Array][] = [
      ['denormals', Float32Array.from({ length: n }, () => r() * 1e-40), Float32Array.from({ length: n }, () => r() * 1e-40)],
      ['float32 extremes', Float32Array.from({ length: n }, () => (r() - 0.5) * 6e38), Float32Array.from({ length: n }, () => (r() - 0.5) * 6e38)],
      ['signed zeros', Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -0 : 0)), Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? -0 : 0))],
      // The same |a-b| everywhere: the first pair is the argmax.
      ['constant error', new Float32Array(n).fill(1), new Float32Array(n).fill(0.5)],
      // Ties in lane 1 of a group and across chunks: the earliest wins.
      ['ties', Float32Array.from({ length: 3 * COMPARE_CHUNK }, (_, i) => (i === 4097 || i === 4099 || i === 40000 ? 8 : 1)), new Float32Array(3 * COMPARE_CHUNK).fill(1)],
      ['largest error in the tail', Float32Array.from({ length: n }, (_, i) => (i === n - 1 ? 9 : Math.sin(i))), Float32Array.from({ length: n }, (_, i) => Math.sin(i))],
    ];
    for (const [what, a, b] of cases) {
      const [js, simd] = both(a, b);
      expectSameBits(simd, js, what);
      expect(simd.maxAbsIndex, `${what}: argmax`).toBe(exact(a, b).maxAbsIndex);
    }
    expect(both(...cases[3]!.slice(1) as [Float32Array, Float32Array])[1].maxAbsIndex).toBe(0);
    expect(both(...cases[4]!.slice(1) as [Float32Array, Float32Array])[1].maxAbsIndex).toBe(4097);
    // −0 extrema are reported as 0 by both paths, whichever zero a lane met first.
    expect(Object.is(both(cases[2]![1], cases[2]![2])[1].edgeMin, 0)).toBe(true);
  });
});
