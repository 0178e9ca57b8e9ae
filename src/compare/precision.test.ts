import { describe, expect, it } from 'vitest';
import type { Trace } from '../trace/types.ts';
import { compareTraces } from './compare.ts';
import { formatComparisonTable } from './format.ts';
import { decodeTrace } from '../trace/file.ts';
import { encodeTrace } from '../trace/file-writer.ts';
import { matchingPreset, storageWhy, tracePrecision } from './precision.ts';
import { makeTrace, randn } from './synthetic.ts';

const withEnv = (t: Trace, env: Partial<Trace['header']['environment']>, backend?: string): Trace => {
  Object.assign(t.header.environment, env);
  if (backend) t.header.runtime.backend = backend;
  return t;
};

describe('timing-only traces: never judged on what they did not record', () => {
  // What ORT's profiler gives a timing trace: shapes from kernel metadata (one side empty), no values.
  const out = new Float32Array([0.98, 0.02]);
  const edge = makeTrace({
    id: 'e',
    capture: 'timing',
    nodes: [
      { name: 'conv', op: 'Conv', outputs: [{ shape: [1, 3, 1024, 1024] }] },
      { name: 'relu', op: 'Relu', outputs: [{ shape: [1, 3, 1024, 1024] }], inputs: ['conv'] },
    ],
    outputs: [{ name: 'prob', shape: [1, 2], data: out }],
  });
  const ref = makeTrace({
    id: 'r',
    capture: 'timing',
    nodes: [
      { name: 'conv', op: 'Conv', outputs: [{ shape: [] }] },
      { name: 'relu', op: 'Relu', outputs: [{ shape: [1, 3, 1024, 1023] }], inputs: ['conv'] },
    ],
    outputs: [{ name: 'prob', shape: [1, 2], data: new Float32Array([0.98, 0.02]) }],
  });
  edge.header.timing = { warmupRuns: 1, runMs: [12, 14, 13], medianMs: 13, firstRunMs: 40 };
  ref.header.timing = { warmupRuns: 1, runMs: [4, 4, 4], medianMs: 4, firstRunMs: 9 };
  const c = compareTraces(edge, ref);

  it('no shape mismatch from profiler shapes; ok on final outputs, saying so', () => {
    expect(c.counts).toMatchObject({ total: 2, 'shape-mismatch': 0, diverged: 0, 'no-data': 2 });
    expect(c.nodes[0]).toMatchObject({ verdict: 'no-data', shapeRelation: null, reasons: ['values not recorded in either trace (timing capture): not compared'] });
    expect(c.firstDivergent).toBeNull();
    expect(c.verdict).toBe('ok');
    expect(c.basis).toMatchObject({ nodes: 'none', outputs: true, timing: true });
    expect(c.summary).toMatch(/^ok on final outputs only: 1\/1 within tolerance; top-1 agrees \(node values not recorded: edge and reference timing capture\)$/);
    expect(c.timing).toMatchObject({ edgeMedianMs: 13, refMedianMs: 4, ratio: 3.25 });
    const table = formatComparisonTable(c);
    expect(table).toMatch(/judged on: +final outputs only/);
    expect(table).toMatch(/timing: +median run 13 ms on the edge, 4 ms in the reference/);
  });

  it('final outputs that differ still diverge, on outputs only', () => {
    const bad = makeTrace({ id: 'r2', capture: 'timing', nodes: [], outputs: [{ name: 'prob', shape: [1, 2], data: new Float32Array([0.3, 0.7]) }] });
    const c2 = compareTraces(edge, bad);
    expect(c2.verdict).toBe('diverged');
    expect(c2.summary).toMatch(/^final outputs diverged \(diverged\); top-1 DIFFERS \(node values not recorded: edge and reference timing capture\)$/);
  });

  it('a timing trace against a tensors reference: the nodes are still not judged', () => {
    const full = makeTrace({ id: 'r3', nodes: [{ name: 'conv', op: 'Conv', outputs: [{ shape: [2], data: new Float32Array([1, 2]) }] }], outputs: [{ name: 'prob', shape: [1, 2], data: out }] });
    const c3 = compareTraces(edge, full);
    expect(c3.nodes.find((n) => n.name === 'conv')).toMatchObject({ verdict: 'no-data', reasons: ['values not recorded in the edge trace (timing capture): not compared'] });
    expect(c3.verdict).toBe('ok');
  });

  it('stats-only traces say they are judged on statistics', () => {
    const data = randn(1000, 5);
    const s = makeTrace({ id: 's', capture: 'stats', nodes: [{ name: 'n', op: 'Relu', outputs: [{ shape: [1000], data }] }] });
    const cs = compareTraces(s, s);
    expect(cs.basis.text).toBe('node values');
  });
});

describe('precision of a trace and the matching preset', () => {
  const plain = (): Trace => makeTrace({ nodes: [{ name: 'n', op: 'Relu', outputs: [{ shape: [1] }] }] });

  it('half-float WebGL, fp16 tensors, quantization ops', () => {
    expect(tracePrecision(plain().header)).toEqual({ preset: 'float32', why: [] });
    expect(tracePrecision(withEnv(plain(), { floatPrecision: 16 }, 'webgl').header)).toEqual({ preset: 'float16', why: ['half-float arithmetic (floatPrecision 16)'] });
    expect(tracePrecision(withEnv(plain(), { flags: { WEBGL_FORCE_F16_TEXTURES: true } }, 'webgl').header).preset).toBe('float16');
    const fp16 = makeTrace({ nodes: [{ name: 'c', op: 'Conv', outputs: [{ shape: [1], dtype: 'float16' }] }] });
    expect(tracePrecision(fp16.header)).toEqual({ preset: 'float16', why: ['fp16 tensors (1 float16 tensor)'] });
    const q = makeTrace({ nodes: [{ name: 'q', op: 'DynamicQuantizeLinear', outputs: [{ shape: [1] }] }, { name: 'c', op: 'ConvInteger', outputs: [{ shape: [1] }] }] });
    expect(tracePrecision(q.header)).toEqual({ preset: 'int8', why: ['int8 quantization (DynamicQuantizeLinear, ConvInteger)'] });
    expect(matchingPreset(withEnv(plain(), { floatPrecision: 16 }).header, plain().header)).toEqual({ preset: 'float16', reason: 'edge: half-float arithmetic (floatPrecision 16)' });
    expect(matchingPreset(plain().header, plain().header)).toBeNull();
  });

  // A half-float-sized error (nrmse ~3e-3) on a 1000-element tensor: over float32, within float16.
  const ref = randn(1000, 11);
  const noisy = ref.map((v, i) => v + 3e-2 * Math.sin(i));
  const pair = (): { edge: Trace; ref: Trace } => ({
    edge: withEnv(makeTrace({ id: 'e', nodes: [{ name: 'n', op: 'Conv2D', outputs: [{ shape: [1000], data: noisy }] }] }), { floatPrecision: 16 }, 'webgl'),
    ref: makeTrace({ id: 'r', nodes: [{ name: 'n', op: 'Conv2D', outputs: [{ shape: [1000], data: ref }] }] }),
  });

  it('autoPreset picks float16 and says so; a given preset wins; off by default', () => {
    const p = pair();
    const auto = compareTraces(p.edge, p.ref, { autoPreset: true });
    expect(auto.verdict).toBe('ok');
    expect(auto.tolerance).toMatchObject({ preset: 'float16', presetSource: 'auto', presetReason: 'edge: half-float arithmetic (floatPrecision 16)' });
    expect(auto.warnings.some((w) => w.startsWith('tolerance preset float16 chosen from the traces\' precision'))).toBe(true);
    expect(formatComparisonTable(auto)).toMatch(/tolerance: +float16: .*\(automatic: edge: half-float arithmetic \(floatPrecision 16\); --preset float32 to judge against float32\)/);
    const given = compareTraces(p.edge, p.ref, { autoPreset: true, tolerance: { preset: 'float32' } });
    expect(given.verdict).toBe('diverged');
    expect(given.tolerance).toMatchObject({ preset: 'float32', presetSource: 'given', presetReason: null });
    const farm = compareTraces(p.edge, p.ref);
    expect(farm.verdict).toBe('diverged');
    expect(farm.tolerance).toMatchObject({ preset: 'float32', presetSource: 'default' });
  });
});

describe('one-element and near-zero tensors: atol scaled to the tensors around them', () => {
  // The handlandmark case: a [1,1] output 6.537e-4 vs 6.563e-4 beside a 0.11-max-abs output.
  const big = randn(63, 4).map((v) => v * 0.04);
  const trace = (id: string, score: number, keypoints: Float32Array): Trace =>
    makeTrace({
      id,
      outputs: [
        { name: 'Identity', shape: [1, 63], data: keypoints },
        { name: 'Identity_1', shape: [1, 1], data: new Float32Array([score]) },
      ],
      nodes: [],
    });

  it('a one-element output near zero does not alone decide the verdict', () => {
    const c = compareTraces(trace('e', 6.563e-4, big), trace('r', 6.537e-4, big));
    const t = c.outputs.tensors.find((x) => x.name === 'Identity_1');
    expect(t?.verdict).toBe('ok');
    expect(t?.reasons[0]).toMatch(/^one-element tensor: atol scaled to .* \(nrmse limit 0\.001 × max \|x\| .* of the tensors around it\)$/);
    expect(c.verdict).toBe('ok');
    // Without scaling (the old behaviour) the scalar alone made it diverge.
    const old = compareTraces(trace('e', 6.563e-4, big), trace('r', 6.537e-4, big), { scaledAtol: false });
    expect(old.verdict).toBe('diverged');
  });

  it('an error that is large next to the values around it still diverges', () => {
    const c = compareTraces(trace('e', 0.05, big), trace('r', 6.537e-4, big));
    expect(c.outputs.tensors.find((x) => x.name === 'Identity_1')?.verdict).toBe('diverged');
  });

  it('a near-zero node output is judged against its inputs and consumers', () => {
    const x = randn(256, 2);
    const tiny = randn(256, 3).map((v) => v * 1e-6);
    const tinyEdge = tiny.map((v) => v * 1.5);
    const mk = (id: string, t: Float32Array): Trace =>
      makeTrace({
        id,
        nodes: [
          { name: 'a', op: 'Conv2D', outputs: [{ shape: [256], data: x }] },
          { name: 'b', op: 'Sub', outputs: [{ shape: [256], data: t }], inputs: ['a'] },
        ],
      });
    const c = compareTraces(mk('e', tinyEdge), mk('r', tiny));
    expect(c.nodes[1]?.verdict).toBe('ok');
    expect(c.nodes[1]?.reasons[0]).toMatch(/^near-zero tensor: atol scaled/);
    // A tensor of ordinary magnitude keeps the preset's atol.
    const c2 = compareTraces(mk('e', x.map((v) => v * 1.5)), mk('r', x));
    expect(c2.nodes[1]?.verdict).toBe('diverged');
    expect(c2.nodes[1]?.tolerance?.atol).toBe(1e-6);
  });
});

describe('traces stored narrowed (exray trace --precision)', () => {
  const pair = (): [Trace, Trace] => {
    const conv = randn(4096, 11, 3);
    const relu = conv.map((v) => Math.min(6, Math.max(0, v)));
    const nodes = [
      { name: 'conv', op: 'Conv2D', outputs: [{ shape: [1, 16, 16, 16], data: conv }] },
      { name: 'relu', op: 'Relu6', outputs: [{ shape: [1, 16, 16, 16], data: relu }], inputs: ['conv'] },
    ];
    const outputs = [{ name: 'prob', shape: [1, 2], data: new Float32Array([0.9, 0.1]) }];
    return [makeTrace({ id: 'e', nodes, outputs }), makeTrace({ id: 'r', nodes, outputs })];
  };

  it('a float16 / bfloat16 stored edge trace: preset float16 chosen, the storage bound stated, verdict ok', () => {
    for (const p of ['float16', 'bfloat16'] as const) {
      const [e, r] = pair();
      const stored = decodeTrace(encodeTrace(e, { precision: p }), 'edge.exray');
      expect(stored.header.storagePrecision).toBe(p);
      expect(tracePrecision(stored.header)).toEqual({ preset: 'float16', why: [storageWhy(p)] });
      const c = compareTraces(stored, r, { autoPreset: true });
      expect(c.tolerance.preset).toBe('float16');
      expect(c.tolerance.presetReason).toBe(`edge: values stored as ${p} (relative error ≤ 2^${p === 'float16' ? -11 : -8} = ${p === 'float16' ? '4.9e-4' : '3.9e-3'} per value)`);
      expect(c.verdict).toBe('ok');
      // The stored values really differ from the reference (by no more than the bound).
      const got = stored.blobs.get(stored.header.nodes[0]!.outputs[0]!.blob!.id) as Float32Array;
      const want = r.blobs.get(r.header.nodes[0]!.outputs[0]!.blob!.id) as Float32Array;
      let worst = 0;
      for (let i = 0; i < got.length; i++) if (Math.abs(want[i]!) >= 2 ** -14) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.abs(want[i]!));
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(p === 'float16' ? 2 ** -11 : 2 ** -8);
    }
  });

  it('bfloat16 storage diverges under float32 thresholds, so without the widening it would be a false alarm; a chosen preset keeps the bound in the warnings', () => {
    const [e, r] = pair();
    const stored = decodeTrace(encodeTrace(e, { precision: 'bfloat16' }), 'edge.exray');
    const strict = compareTraces(stored, r, { tolerance: { preset: 'float32' } });
    expect(strict.verdict).toBe('diverged');
    expect(strict.warnings).toContain(`edge trace: ${storageWhy('bfloat16')}; differences that small are storage rounding`);
    // Stored losslessly, the same comparison is exact.
    const exact = compareTraces(decodeTrace(encodeTrace(e), 'edge.exray'), r, { tolerance: { preset: 'float32' } });
    expect(exact.verdict).toBe('ok');
    expect(exact.nodes.every((n) => n.metrics === null || n.metrics.maxAbs === 0)).toBe(true);
  });
});
