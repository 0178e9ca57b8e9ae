import { describe, expect, it } from 'vitest';
import { blobStats, nrmseNormalizer, type TensorMetrics, tensorMetrics } from './metrics.ts';
import { randn, rng } from './synthetic.ts';

/** Independent, naive float64 reference: separate passes, Number.isFinite filtering, no tricks. */
function naive(a: ArrayLike<number>, b: ArrayLike<number>) {
  const xs: number[] = [];
  const ys: number[] = [];
  let nanMismatch = 0;
  let infMismatch = 0;
  let nonFiniteMatch = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isFinite(x) && Number.isFinite(y)) {
      xs.push(x);
      ys.push(y);
    } else if (Number.isNaN(x) && Number.isNaN(y)) nonFiniteMatch++;
    else if (Number.isNaN(x) !== Number.isNaN(y)) nanMismatch++;
    else if (x === y) nonFiniteMatch++;
    else infMismatch++;
  }
  const n = xs.length;
  const diffs = xs.map((x, i) => x - (ys[i] as number));
  const rmse = Math.sqrt(diffs.reduce((s, d) => s + d * d, 0) / n);
  const maxAbs = Math.max(...diffs.map(Math.abs));
  const meanAbs = diffs.reduce((s, d) => s + Math.abs(d), 0) / n;
  const rangeA = Math.max(...xs) - Math.min(...xs);
  const rangeB = Math.max(...ys) - Math.min(...ys);
  const dot = xs.reduce((s, x, i) => s + x * (ys[i] as number), 0);
  const na = Math.sqrt(xs.reduce((s, x) => s + x * x, 0));
  const nb = Math.sqrt(ys.reduce((s, y) => s + y * y, 0));
  const pb = ys.reduce((s, y) => s + y * y, 0);
  const pd = diffs.reduce((s, d) => s + d * d, 0);
  return {
    rmse,
    maxAbs,
    meanAbs,
    nrmse: rmse / Math.max(rangeA, rangeB),
    cosine: dot / (na * nb),
    sqnrDb: 10 * Math.log10(pb / pd),
    nanMismatch,
    infMismatch,
    nonFiniteMatch,
    compared: n,
  };
}

function close(actual: number | null, expected: number, rel = 1e-12): void {
  expect(actual).not.toBeNull();
  const a = actual as number;
  expect(Math.abs(a - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('tensorMetrics vs naive float64 reference', () => {
  for (const [label, noise] of [
    ['float32-level noise', 1e-6],
    ['half-float-level noise', 1e-3],
    ['bug-level error', 0.3],
  ] as const) {
    it(`random normal data, ${label}`, () => {
      const a = randn(10_007, 11);
      const e = randn(10_007, 12, noise);
      const b = Float32Array.from(a, (x, i) => x + (e[i] as number));
      const m = tensorMetrics(a, b);
      const r = naive(a, b);
      expect(m.count).toBe(10_007);
      expect(m.compared).toBe(10_007);
      close(m.rmse, r.rmse);
      close(m.maxAbs, r.maxAbs, 0);
      close(m.meanAbs, r.meanAbs);
      close(m.nrmse, r.nrmse);
      close(m.cosine, r.cosine);
      close(m.sqnrDb, r.sqnrDb, 1e-10);
      expect(m.identical).toBe(false);
      expect(m.nanMismatch + m.infMismatch + m.nonFiniteMatch).toBe(0);
      expect(m.firstMismatchIndex).toBeNull();
      // maxAbsIndex points at the largest difference.
      const idx = m.maxAbsIndex as number;
      expect(Math.abs((a[idx] as number) - (b[idx] as number))).toBe(m.maxAbs);
    });
  }

  it('exact values on a small hand-computed case', () => {
    const m = tensorMetrics(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 2, 3, 5]));
    expect(m.rmse).toBe(0.5);
    expect(m.normalizer).toBe(4); // max(range 3, range 4)
    expect(m.nrmse).toBe(0.125);
    expect(m.maxAbs).toBe(1);
    expect(m.maxAbsIndex).toBe(3);
    expect(m.meanAbs).toBe(0.25);
    expect(m.cosine).toBe(34 / Math.sqrt(30 * 39));
    expect(m.sqnrDb).toBe(10 * Math.log10(39));
    expect(m.edgeMin).toBe(1);
    expect(m.edgeMax).toBe(4);
    expect(m.refMin).toBe(1);
    expect(m.refMax).toBe(5);
  });

  it('identical tensors: zero error, cosine 1, sqnr null + identical', () => {
    const a = randn(1000, 3);
    const m = tensorMetrics(a, Float32Array.from(a));
    expect(m).toMatchObject({ rmse: 0, nrmse: 0, maxAbs: 0, meanAbs: 0, cosine: 1, sqnrDb: null, identical: true, maxAbsIndex: 0 });
  });

  it('both all zeros: normalizer falls back to 1, cosine 1, identical', () => {
    const m = tensorMetrics(new Float32Array(16), new Float32Array(16));
    expect(m).toMatchObject({ normalizer: 1, nrmse: 0, cosine: 1, sqnrDb: null, identical: true });
  });

  it('reference all zeros, edge not: cosine 0, sqnr null (−∞), not identical', () => {
    const a = new Float32Array([0, 0.5, 0, -0.5]);
    const m = tensorMetrics(a, new Float32Array(4));
    expect(m.cosine).toBe(0);
    expect(m.sqnrDb).toBeNull();
    expect(m.identical).toBe(false);
    expect(m.normalizer).toBe(1); // range of the edge
    expect(m.rmse).toBe(Math.sqrt(0.5 / 4));
    expect(m.nrmse).toBe(Math.sqrt(0.5 / 4));
  });

  it('both constant, different values: normalizer falls back to max |value|', () => {
    const m = tensorMetrics(new Float32Array(8).fill(2), new Float32Array(8).fill(3));
    expect(m.normalizer).toBe(3);
    expect(m.rmse).toBe(1);
    expect(m.nrmse).toBe(1 / 3);
    expect(m.cosine).toBe(1);
    expect(m.sqnrDb).toBe(10 * Math.log10(9));
  });

  it('NaN on the edge where the reference is finite is a mismatch, never skipped silently', () => {
    const a = new Float32Array([1, NaN, 3, 4]);
    const b = new Float32Array([1, 2, 3, 5]);
    const m = tensorMetrics(a, b);
    expect(m.nanMismatch).toBe(1);
    expect(m.firstMismatchIndex).toBe(1);
    expect(m.compared).toBe(3);
    expect(m.identical).toBe(false);
    // Numeric metrics over the 3 finite pairs.
    expect(m.rmse).toBe(Math.sqrt(1 / 3));
    expect(m.maxAbs).toBe(1);
    expect(m.maxAbsIndex).toBe(3);
    const r = naive(a, b);
    close(m.cosine, r.cosine);
    expect(r.nanMismatch).toBe(1);
  });

  it('NaN in the reference only, and NaN on both sides', () => {
    const m1 = tensorMetrics(new Float32Array([1, 2]), new Float32Array([1, NaN]));
    expect(m1.nanMismatch).toBe(1);
    const m2 = tensorMetrics(new Float32Array([1, NaN, 3]), new Float32Array([1, NaN, 3]));
    expect(m2).toMatchObject({ nanMismatch: 0, nonFiniteMatch: 1, compared: 2, identical: true, firstMismatchIndex: null });
  });

  it('Inf rules: same infinity matches; opposite or Inf vs finite mismatches; NaN vs Inf is a NaN mismatch', () => {
    const a = new Float32Array([Infinity, -Infinity, Infinity, 5, NaN, 1]);
    const b = new Float32Array([Infinity, -Infinity, -Infinity, Infinity, Infinity, 1]);
    const m = tensorMetrics(a, b);
    expect(m.nonFiniteMatch).toBe(2);
    expect(m.infMismatch).toBe(2);
    expect(m.nanMismatch).toBe(1);
    expect(m.firstMismatchIndex).toBe(2);
    expect(m.compared).toBe(1);
    const r = naive(a, b);
    expect([r.nonFiniteMatch, r.infMismatch, r.nanMismatch]).toEqual([2, 2, 1]);
  });

  it('all pairs non-finite: numeric metrics are neutral, everything stays JSON-safe', () => {
    const m = tensorMetrics(new Float32Array([NaN, Infinity]), new Float32Array([1, 2]));
    expect(m).toMatchObject({ compared: 0, rmse: 0, maxAbs: 0, maxAbsIndex: null, edgeMin: null, nanMismatch: 1, infMismatch: 1 });
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('Int32Array on both sides and mixed Int32Array / Float32Array', () => {
    const r = rng(5);
    const a = Int32Array.from({ length: 999 }, () => Math.floor(r() * 2_000_000) - 1_000_000);
    const b = Int32Array.from(a, (x, i) => (i % 7 === 0 ? x + 3 : x));
    const m = tensorMetrics(a, b);
    const n = naive(a, b);
    close(m.rmse, n.rmse);
    close(m.nrmse, n.nrmse);
    close(m.cosine, n.cosine);
    close(m.sqnrDb, n.sqnrDb, 1e-10);
    expect(m.maxAbs).toBe(3);
    expect(m.meanAbs).toBe((3 * 143) / 999);
    const mixed = tensorMetrics(new Int32Array([1, 2, 3]), new Float32Array([1, 2, 3.5]));
    expect(mixed.maxAbs).toBe(0.5);
    expect(mixed.maxAbsIndex).toBe(2);
  });

  it('empty tensors are identical', () => {
    const m = tensorMetrics(new Float32Array(0), new Float32Array(0));
    expect(m).toMatchObject({ count: 0, compared: 0, identical: true, cosine: 1, maxAbsIndex: null });
  });

  it('rejects different lengths', () => {
    expect(() => tensorMetrics(new Float32Array(3), new Float32Array(4))).toThrow(RangeError);
  });

  it('is JSON-safe on ordinary data', () => {
    const m: TensorMetrics = tensorMetrics(randn(100, 1), randn(100, 2));
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe('nrmseNormalizer', () => {
  it('range, then magnitude, then 1', () => {
    expect(nrmseNormalizer(-1, 1, 0, 5)).toBe(5);
    expect(nrmseNormalizer(2, 2, -3, -3)).toBe(3);
    expect(nrmseNormalizer(0, 0, 0, 0)).toBe(1);
  });
});

describe('blobStats', () => {
  it('mean / population std / min / max over finite values, counts of NaN / Inf / zero', () => {
    const s = blobStats(new Float32Array([1, 2, 3, 4, 0, NaN, Infinity, -Infinity]));
    expect(s).toMatchObject({ count: 8, min: 0, max: 4, mean: 2, nanCount: 1, infCount: 2, zeroCount: 1 });
    expect(s.std).toBe(Math.sqrt(2));
  });
});
