import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { computeStats } from './stats.ts';
import { heapOf, registerStatsHeap, setStatsKernelsForTest, SIMD_MAX_BINS, statsKernels } from './wasm/stats-simd.ts';
import { randn, rng } from './test-fixtures.ts';
import type { TensorStats } from './types.ts';

/** Exact float64 sum (Shewchuk / Python math.fsum): an independent, correctly rounded reference. */
function fsum(xs: Iterable<number>): number {
  const partials: number[] = [];
  for (let x of xs) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  return partials.reduce((a, b) => a + b, 0);
}

/** Straightforward reference: finite values into a plain array, exact sums, bin by comparing with edges. */
function reference(values: ArrayLike<number>, bins = 32): TensorStats {
  const all = Array.from(values);
  const finite = all.filter((x) => Number.isFinite(x));
  const nanCount = all.filter((x) => Number.isNaN(x)).length;
  const infCount = all.filter((x) => x === Infinity || x === -Infinity).length;
  const zeroCount = all.filter((x) => x === 0).length;
  if (finite.length === 0) {
    return { count: all.length, min: NaN, max: NaN, mean: NaN, std: NaN, nanCount, infCount, zeroCount, histogram: { min: NaN, max: NaN, counts: [] } };
  }
  let min = finite[0]!;
  let max = finite[0]!;
  for (const x of finite) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = fsum(finite) / finite.length;
  const std = Math.sqrt(fsum(finite.map((x) => (x - mean) ** 2)) / finite.length);
  let counts: number[];
  if (min === max) counts = [finite.length];
  else {
    counts = new Array<number>(bins).fill(0);
    const edges = Array.from({ length: bins - 1 }, (_, k) => min + ((k + 1) * (max - min)) / bins);
    for (const x of finite) {
      let b = 0;
      while (b < edges.length && x >= edges[b]!) b++;
      counts[b]!++;
    }
  }
  return { count: all.length, min: min === 0 ? 0 : min, max: max === 0 ? 0 : max, mean, std, nanCount, infCount, zeroCount, histogram: { min: min === 0 ? 0 : min, max: max === 0 ? 0 : max, counts } };
}

function expectClose(actual: TensorStats, expected: TensorStats, rel = 1e-12): void {
  const { mean, std, ...rest } = actual;
  const { mean: em, std: es, ...erest } = expected;
  expect(rest).toEqual(erest);
  for (const [a, e, what] of [[mean, em, 'mean'], [std, es, 'std']] as const) {
    if (Number.isNaN(e)) expect(a, what).toBeNaN();
    else expect(Math.abs(a - e), `${what}: ${a} vs ${e}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(e), 1e-300) + 1e-300);
  }
}

describe('computeStats', () => {
  it('matches the reference on random float32 data, several sizes and bin counts', () => {
    for (const [n, bins, seed] of [[1, 32, 1], [2, 4, 2], [1000, 32, 3], [4097, 7, 4], [100_000, 64, 5]] as const) {
      const data = randn(n, seed, 3, -1);
      expectClose(computeStats(data, bins), reference(data, bins));
    }
  });

  it('counts NaN, ±Inf and ±0, and keeps them out of min/max/mean/std/histogram', () => {
    const data = new Float32Array([NaN, 1, -Infinity, 0, -0, 2, Infinity, NaN, 4, -3]);
    const s = computeStats(data, 7);
    expectClose(s, reference(data, 7));
    expect(s).toMatchObject({ count: 10, nanCount: 2, infCount: 2, zeroCount: 2, min: -3, max: 4 });
    expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect(s.mean).toBeCloseTo(4 / 6, 14);
  });

  it('represents "no finite value" as NaN and an empty histogram', () => {
    for (const data of [new Float32Array([NaN, Infinity, -Infinity]), new Float32Array(0), [NaN]]) {
      const s = computeStats(data);
      expect(s.count).toBe(data.length);
      for (const k of ['min', 'max', 'mean', 'std'] as const) expect(s[k], k).toBeNaN();
      expect(s.histogram.counts).toEqual([]);
      expect(s.histogram.min).toBeNaN();
    }
  });

  it('puts all-equal values in one bin, with std exactly 0', () => {
    const zeros = new Float32Array(1000);
    expect(computeStats(zeros)).toEqual({
      count: 1000, min: 0, max: 0, mean: 0, std: 0, nanCount: 0, infCount: 0, zeroCount: 1000,
      histogram: { min: 0, max: 0, counts: [1000] },
    });
    const sevens = new Float32Array([7.25, NaN, 7.25, 7.25]);
    expect(computeStats(sevens)).toMatchObject({ min: 7.25, max: 7.25, mean: 7.25, std: 0, histogram: { counts: [3] } });
  });

  it('stores -0 extremes as +0 (JSON cannot keep the sign)', () => {
    const s = computeStats(new Float32Array([-0, -0, 1]));
    expect(Object.is(s.min, 0)).toBe(true);
    expect(Object.is(computeStats(new Float32Array([-1, -0])).max, 0)).toBe(true);
  });

  it('single element', () => {
    expect(computeStats(new Float32Array([-2.5]))).toEqual({
      count: 1, min: -2.5, max: -2.5, mean: -2.5, std: 0, nanCount: 0, infCount: 0, zeroCount: 0,
      histogram: { min: -2.5, max: -2.5, counts: [1] },
    });
  });

  it('bins integers exactly: 0..32 over 32 bins puts v in bin min(v, 31)', () => {
    const data = Int32Array.from({ length: 33 * 3 }, (_, i) => i % 33);
    const s = computeStats(data, 32);
    const expected = new Array<number>(32).fill(3);
    expected[31] = 6;
    expect(s.histogram).toEqual({ min: 0, max: 32, counts: expected });
    expect(s.mean).toBe(16);
  });

  it('is numerically stable when |mean| >> std (float32 values around 1e6)', () => {
    const data = randn(200_000, 9, 0.01, 1e6);
    const s = computeStats(data);
    const ref = reference(data);
    expect(Math.abs(s.std - ref.std) / ref.std).toBeLessThan(1e-9);
    expect(s.mean).toBeCloseTo(ref.mean, 6);
  });

  it('does not overflow on float64 extremes', () => {
    const data = new Float64Array([1.5e308, 1.7e308, -1.6e308, 1e308]);
    const s = computeStats(data, 4);
    // By hand, in units of 1e308: mean 2.6 / 4 = 0.65; deviations .85 1.05 -2.25 .35; std sqrt(7.01 / 4).
    expect(s.mean / 1e308).toBeCloseTo(0.65, 12);
    expect(s.std / 1e308).toBeCloseTo(Math.sqrt(7.01 / 4), 12);
    expect(s.histogram.counts).toEqual([1, 0, 0, 3]);
  });

  it('accepts Int32Array, Uint8Array and plain arrays', () => {
    const r = rng(11);
    const ints = Int32Array.from({ length: 5000 }, () => Math.floor((r() - 0.5) * 2 ** 31));
    expectClose(computeStats(ints, 16), reference(ints, 16));
    const bytes = Uint8Array.from({ length: 3000 }, () => Math.floor(r() * 256));
    expectClose(computeStats(bytes), reference(bytes));
    expectClose(computeStats([3, 1, 2]), reference([3, 1, 2]));
  });

  it('handles 1e7 elements with NaN/Inf sprinkled in, in two passes', () => {
    const n = 10_000_000;
    const data = randn(n, 12, 2, 1);
    for (let i = 0; i < n; i += 1_000_003) data[i] = NaN;
    for (let i = 7; i < n; i += 2_000_003) data[i] = -Infinity;
    const t0 = performance.now();
    const s = computeStats(data);
    const ms = performance.now() - t0;
    const ref = reference(data);
    expectClose(s, ref, 1e-9);
    expect(s.nanCount).toBe(10);
    expect(s.infCount).toBe(5);
    console.log(`computeStats: 1e7 float32 in ${ms.toFixed(0)} ms`);
  });

  it('rejects a bad bin count', () => {
    expect(() => computeStats([1], 0)).toThrow(RangeError);
    expect(() => computeStats([1], 2.5)).toThrow(RangeError);
  });
});

describe('computeStats: wasm SIMD kernel (wasm/stats.wat) vs the JS loops', () => {
  afterEach(() => setStatsKernelsForTest(undefined));

  it('loads here, and the generated module is stats.wat assembled (scripts/build-wasm.mjs --check)', () => {
    expect(statsKernels()).not.toBeNull();
    const r = spawnSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('gives bit-identical statistics to the JS loops (tails, zeros, -0, wide ranges, many bins)', () => {
    const both = (data: Float32Array, bins: number): [TensorStats, TensorStats] => {
      setStatsKernelsForTest(false);
      const js = computeStats(data, bins);
      setStatsKernelsForTest(true);
      return [js, computeStats(data, bins)];
    };
    const cases: [string, Float32Array][] = [];
    for (const [n, seed] of [[2048, 1], [2049, 2], [2050, 3], [2051, 4], [5003, 5], [300_001, 6]] as const) {
      cases.push([`randn ${n}`, randn(n, seed, 3, -1)]);
      // ReLU-like: half zeros, some -0.
      cases.push([`relu ${n}`, randn(n, seed + 100, 1, 0).map((x, i) => (x > 0 ? x : i % 3 === 0 ? -0 : 0))]);
    }
    const r = rng(7);
    cases.push(['float32 extremes', Float32Array.from({ length: 9001 }, () => (r() - 0.5) * 6e38)]);
    cases.push(['denormals', Float32Array.from({ length: 4099 }, () => r() * 1e-40)]);
    cases.push(['constant', new Float32Array(4096).fill(0.25)]);
    // Quantised values on the bin edges of 32 bins over [0, 6] (and of their multiples): where a bin
    // index is an exact integer, floor and truncation must agree between the kernel and the JS loop.
    cases.push(['values on bin edges', Float32Array.from({ length: 8195 }, (_, i) => ((i * 7) % 33) * (6 / 32))]);
    cases.push(['min and max in the tail', Float32Array.from({ length: 4098 }, (_, i) => (i === 4096 ? -9 : i === 4097 ? 9 : Math.sin(i)))]);
    for (const [what, data] of cases) {
      for (const bins of [1, 7, 32, SIMD_MAX_BINS]) {
        const [js, simd] = both(data, bins);
        expect(Object.is(simd.mean, js.mean) && Object.is(simd.std, js.std), `${what}, ${bins} bins: mean/std bits`).toBe(true);
        expect(simd, `${what}, ${bins} bins`).toEqual(js);
      }
      expectClose(both(data, 32)[1], reference(data, 32), 1e-9);
    }
  });

  it('falls back to the JS path for NaN/Inf and for more bins than its scratch area holds', () => {
    setStatsKernelsForTest(true);
    const data = randn(10_000, 11, 2, 0);
    data[5000] = NaN;
    data[17] = -Infinity;
    expectClose(computeStats(data), reference(data));
    const clean = randn(10_000, 12, 2, 0);
    expectClose(computeStats(clean, SIMD_MAX_BINS + 1), reference(clean, SIMD_MAX_BINS + 1));
  });

  it('grows its memory for a large tensor and stays right for small ones afterwards', () => {
    setStatsKernelsForTest(true);
    const big = randn(3_000_001, 13, 1, 0);
    const small = randn(4096, 14, 5, 2);
    const [b, s] = [computeStats(big), computeStats(small)];
    setStatsKernelsForTest(false);
    expect(b).toEqual(computeStats(big));
    expect(s).toEqual(computeStats(small));
  });

  it('reads values in place in a registered heap, plain or shared (a threaded wasm heap), bit-identical', () => {
    setStatsKernelsForTest(true);
    const memories = [new WebAssembly.Memory({ initial: 8 }), new WebAssembly.Memory({ initial: 8, maximum: 64, shared: true })];
    for (const memory of memories) {
      let top = 1000; // a bump allocator standing in for the heap's malloc (deliberately unaligned)
      expect(registerStatsHeap(memory, (bytes) => ((top += bytes), top - bytes), 32)).toBe(true);
      const data = randn(50_001, 21, 2, -1);
      const view = new Float32Array(memory.buffer, 64 * 1024 + 4, data.length); // not 16-byte aligned
      view.set(data);
      expect(heapOf(view)).not.toBeNull();
      const inPlace = computeStats(view);
      expect(Array.from(view)).toEqual(Array.from(data)); // the heap's values are left as they were
      setStatsKernelsForTest(false);
      expect(inPlace).toEqual(computeStats(data));
      setStatsKernelsForTest(true);
    }
  });
});
