import { describe, expect, it } from 'vitest';
import { tensorMetrics } from './metrics.ts';
import { globalTolerance, judgeMetrics, PRESETS, type ResolvedTolerance, resolveTolerance, validateToleranceSpec } from './tolerance.ts';

const conv = { name: 'block1/conv', op: 'Conv2D', outputIndex: 0, dtype: 'float32' as const };

describe('resolveTolerance', () => {
  it('float32 defaults', () => {
    expect(resolveTolerance(undefined, conv)).toEqual({ nrmse: 1e-3, cosine: 0.9999, maxAbs: null, sqnrDb: null, atol: 1e-6 });
  });

  it('presets', () => {
    expect(resolveTolerance({ preset: 'float16' }, conv)).toEqual(PRESETS.float16.base);
    expect(resolveTolerance({ preset: 'int8' }, conv).nrmse).toBe(5e-2);
    expect(resolveTolerance({ preset: 'exact' }, conv)).toEqual({ nrmse: 0, cosine: null, maxAbs: 0, sqnrDb: null, atol: 0 });
  });

  it('integer dtypes are exact under float32 / float16, not under int8', () => {
    const t = { ...conv, dtype: 'int32' as const };
    expect(resolveTolerance(undefined, t)).toMatchObject({ maxAbs: 0, atol: 0, nrmse: 1e-3 });
    expect(resolveTolerance({ preset: 'float16' }, t)).toMatchObject({ maxAbs: 0, atol: 0 });
    expect(resolveTolerance({ preset: 'int8' }, t)).toMatchObject({ maxAbs: null, atol: 1e-3 });
  });

  it('precedence: preset < global < perDType < perOp < perNode name < perNode name:index; null disables', () => {
    const spec = {
      nrmse: 0.01,
      cosine: null,
      perDType: { float32: { maxAbs: 5 } },
      perOp: { Conv2D: { nrmse: 0.02, maxAbs: 4 }, Softmax: { nrmse: 0.5 } },
      perNode: { 'block1/conv': { nrmse: 0.03 }, 'block1/conv:1': { nrmse: 0.04 } },
    };
    expect(resolveTolerance(spec, conv)).toEqual({ nrmse: 0.03, cosine: null, maxAbs: 4, sqnrDb: null, atol: 1e-6 });
    expect(resolveTolerance(spec, { ...conv, outputIndex: 1 }).nrmse).toBe(0.04);
    expect(resolveTolerance(spec, { ...conv, name: 'other' }).nrmse).toBe(0.02);
    expect(resolveTolerance(spec, { name: 'x', op: 'Relu', outputIndex: 0, dtype: 'float32' })).toEqual({
      nrmse: 0.01,
      cosine: null,
      maxAbs: 5,
      sqnrDb: null,
      atol: 1e-6,
    });
    expect(resolveTolerance(spec, { name: 'p', op: 'Softmax', outputIndex: 0, dtype: null }).nrmse).toBe(0.5);
  });

  it('does not pick up inherited object keys as op names', () => {
    expect(resolveTolerance({ perOp: {} }, { ...conv, op: 'toString' }).nrmse).toBe(1e-3);
  });

  it('globalTolerance', () => {
    expect(globalTolerance({ preset: 'float16', nrmse: 0.05 })).toEqual({ ...PRESETS.float16.base, nrmse: 0.05 });
  });
});

describe('validateToleranceSpec', () => {
  it('accepts valid specs', () => {
    expect(() => validateToleranceSpec(undefined)).not.toThrow();
    expect(() => validateToleranceSpec({ preset: 'float16', nrmse: 0.01, cosine: null, perOp: { Softmax: { nrmse: 0.1 } } })).not.toThrow();
  });
  it('rejects malformed specs with every problem listed', () => {
    expect(() => validateToleranceSpec({ preset: 'fp8', nrmse: -1, cosine: 2, perNode: { a: { atol: 'x' } } })).toThrow(
      /preset.*nrmse.*cosine.*perNode\["a"\]\.atol/,
    );
    expect(() => validateToleranceSpec([])).toThrow(TypeError);
  });
});

describe('judgeMetrics', () => {
  const tol: ResolvedTolerance = { nrmse: 1e-3, cosine: 0.9999, maxAbs: null, sqnrDb: null, atol: 1e-6 };

  it('ok within thresholds', () => {
    const m = tensorMetrics(new Float32Array([0, 1, 2, 3]), new Float32Array([0, 1, 2, 3.001]));
    // rmse 5e-4 (float32 rounding of 3.001 aside), range 3.001 → nrmse ≈ 1.67e-4
    expect(judgeMetrics(m, tol)).toEqual({ verdict: 'ok', reasons: [] });
  });

  it('diverged, with each failed threshold as a reason', () => {
    const m = tensorMetrics(new Float32Array([0, 1, 2, 3]), new Float32Array([0, 1, 2, 4]));
    const j = judgeMetrics(m, { ...tol, maxAbs: 0.5, sqnrDb: 40 });
    expect(j.verdict).toBe('diverged');
    expect(j.reasons).toEqual([
      'nrmse 0.125 > 0.001',
      `cosine ${m.cosine.toFixed(6)} < 0.9999`,
      'maxAbs 1 > 0.5',
      `sqnr ${(m.sqnrDb as number).toFixed(1)} dB < 40 dB`,
    ]);
  });

  it('atol floor passes tiny differences on a near-zero tensor whose nrmse is huge', () => {
    const m = tensorMetrics(new Float32Array([0, 1e-7, 0, 0]), new Float32Array(4));
    expect(m.nrmse).toBeGreaterThan(0.1);
    expect(judgeMetrics(m, tol).verdict).toBe('ok');
    expect(judgeMetrics(m, { ...tol, atol: null }).verdict).toBe('diverged');
  });

  it('NaN / Inf mismatches diverge whatever the thresholds', () => {
    const loose: ResolvedTolerance = { nrmse: null, cosine: null, maxAbs: null, sqnrDb: null, atol: 1e9 };
    const m = tensorMetrics(new Float32Array([1, NaN, Infinity]), new Float32Array([1, 2, 3]));
    expect(judgeMetrics(m, loose)).toEqual({ verdict: 'diverged', reasons: ['1 NaN mismatch (first at element 1)', '1 Inf mismatch'] });
  });

  it('sqnr threshold treats identical as +inf and zero reference as -inf', () => {
    const t = { ...tol, atol: null, nrmse: null, cosine: null, sqnrDb: 20 };
    expect(judgeMetrics(tensorMetrics(new Float32Array([1, 2]), new Float32Array([1, 2])), t).verdict).toBe('ok');
    expect(judgeMetrics(tensorMetrics(new Float32Array([1, 2]), new Float32Array([0, 0])), t).reasons).toEqual(['sqnr -inf < 20 dB']);
  });

  it('exact preset flags the smallest difference', () => {
    const m = tensorMetrics(new Float32Array([1, 2]), new Float32Array([1, Math.fround(2 + 2 ** -22)]));
    expect(judgeMetrics(m, PRESETS.exact.base).verdict).toBe('diverged');
    expect(judgeMetrics(tensorMetrics(new Float32Array([1, 2]), new Float32Array([1, 2])), PRESETS.exact.base).verdict).toBe('ok');
  });
});
