import { describe, expect, it } from 'vitest';
import type { TensorStats } from '../trace/types.ts';
import { compareTraces } from './compare.ts';
import { formatComparisonTable } from './format.ts';
import { blobStats } from './metrics.ts';
import { measurePair } from './pair.ts';
import { makeChainPair, makeTrace, randn } from './synthetic.ts';

const stats = (over: Partial<TensorStats>): TensorStats => ({
  count: 100,
  min: -1,
  max: 1,
  mean: 0,
  std: 0.5,
  nanCount: 0,
  infCount: 0,
  zeroCount: 0,
  histogram: { min: -1, max: 1, counts: [] },
  ...over,
});

describe('compareTraces: first divergent node on a chain with an injected, propagating error', () => {
  const { edge, ref } = makeChainPair({ nodes: 20, elements: 4096, noise: 1e-7, injectAt: 7, seed: 3 });
  const c = compareTraces(edge, ref);

  it('the first divergent node is the injected one, not a later one', () => {
    expect(c.verdict).toBe('diverged');
    expect(c.firstDivergent).toMatchObject({ key: 'layer_7:0', name: 'layer_7', op: 'Relu', edgeIndex: 7, position: 7, verdict: 'diverged', divergentAfter: 12 });
    expect(c.nodes.slice(0, 7).map((n) => n.verdict)).toEqual(Array(7).fill('ok'));
    expect(c.nodes.slice(7).map((n) => n.verdict)).toEqual(Array(13).fill('diverged'));
    expect(c.counts).toEqual({ total: 20, ok: 7, diverged: 13, missing: 0, 'shape-mismatch': 0, 'no-data': 0, statsOnly: 0 });
    // Downstream nodes inherit the error: only the injected node is an origin.
    expect(c.divergenceOrigins).toEqual(['layer_7:0']);
    expect(c.firstDivergent?.reasons[0]).toMatch(/^nrmse .* > 0\.001$/);
  });

  it('noise-level nodes are far below the default threshold', () => {
    for (const n of c.nodes.slice(0, 7)) expect(n.metrics?.nrmse).toBeLessThan(1e-5);
  });

  it('inputs identical, outputs compared with top-k, node fields filled', () => {
    expect(c.inputs).toMatchObject({ verdict: 'identical', maxAbs: 0, matchedBy: 'name' });
    expect(c.outputs.tensors).toHaveLength(1);
    expect(c.outputs.tensors[0]?.topK?.k).toBe(5);
    expect(c.outputs.top1Equal).not.toBeNull();
    const n7 = c.nodes[7];
    expect(n7).toMatchObject({ name: 'layer_7', op: 'Relu', refOp: 'Relu', outputIndex: 0, edgeIndex: 7, refIndex: 7, statsOnly: false, inputs: ['layer_6'] });
    expect(n7?.tolerance).toEqual({ nrmse: 1e-3, cosine: 0.9999, maxAbs: null, sqnrDb: null, atol: 1e-6 });
    expect(c.edge).toMatchObject({ id: 'edge', backend: 'webgl', nodeCount: 20 });
    expect(c.ref).toMatchObject({ id: 'ref', backend: 'cpu' });
  });

  it('is plain JSON data', () => {
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it('a per-node override moves the first divergent node downstream', () => {
    const c2 = compareTraces(edge, ref, { tolerance: { perNode: { layer_7: { nrmse: 1, cosine: null } } } });
    expect(c2.firstDivergent?.key).toBe('layer_8:0');
    expect(c2.nodes[7]?.verdict).toBe('ok');
    expect(c2.nodes[7]?.tolerance?.nrmse).toBe(1);
  });

  it('a per-op override applies to every node of that op', () => {
    const c3 = compareTraces(edge, ref, { tolerance: { perOp: { Relu: { nrmse: 1, cosine: null } } } });
    // Relu = odd layers; the injected error shows at layer 8 (Conv2D), the first even layer after 7.
    expect(c3.firstDivergent?.key).toBe('layer_8:0');
    expect(c3.nodes.filter((n) => n.op === 'Relu').every((n) => n.verdict === 'ok')).toBe(true);
  });

  it('a loose global tolerance makes the run ok', () => {
    const c4 = compareTraces(edge, ref, { tolerance: { nrmse: 1, cosine: null } });
    expect(c4.verdict).toBe('ok');
    expect(c4.firstDivergent).toBeNull();
    expect(c4.summary).toMatch(/^ok: 20\/20 node outputs within tolerance/);
  });

  it('rejects a malformed tolerance', () => {
    expect(() => compareTraces(edge, ref, { tolerance: { nrmse: -1 } })).toThrow(TypeError);
  });
});

describe('compareTraces: clean runs', () => {
  it('no injection: ok, no first divergent node', () => {
    const { edge, ref } = makeChainPair({ nodes: 10, elements: 512, noise: 1e-7 });
    const c = compareTraces(edge, ref);
    expect(c.verdict).toBe('ok');
    expect(c.firstDivergent).toBeNull();
    expect(c.divergenceOrigins).toEqual([]);
    expect(c.outputs).toMatchObject({ verdict: 'ok', top1Equal: true, topKOverlap: 5 });
  });

  it('a NaN on the edge diverges even under a loose tolerance', () => {
    const a = randn(64, 1);
    const b = Float32Array.from(a);
    a[10] = NaN;
    const edge = makeTrace({ nodes: [{ name: 'n', op: 'Exp', outputs: [{ shape: [64], data: a }] }] });
    const ref = makeTrace({ nodes: [{ name: 'n', op: 'Exp', outputs: [{ shape: [64], data: b }] }] });
    const c = compareTraces(edge, ref, { tolerance: { nrmse: null, cosine: null, atol: 1e9 } });
    expect(c.nodes[0]).toMatchObject({ verdict: 'diverged', reasons: ['1 NaN mismatch (first at element 10)'] });
    expect(c.firstDivergent?.key).toBe('n:0');
  });
});

describe('compareTraces: alignment problems', () => {
  const d = (n: number, seed: number) => randn(n, seed);

  it('missing nodes are reported but never the first divergent node', () => {
    const edge = makeTrace({
      nodes: [
        { name: 'a', op: 'Conv2D', outputs: [{ shape: [8], data: d(8, 1) }] },
        { name: 'fused', op: 'FusedConv2D', outputs: [{ shape: [8], data: d(8, 2) }] },
        { name: 'b', op: 'Relu', outputs: [{ shape: [8], data: d(8, 3) }] },
      ],
    });
    const ref = makeTrace({
      nodes: [
        { name: 'a', op: 'Conv2D', outputs: [{ shape: [8], data: d(8, 1) }] },
        { name: 'b', op: 'Relu', outputs: [{ shape: [8], data: d(8, 4) }] },
        { name: 'extra', op: 'Identity', outputs: [{ shape: [8], data: d(8, 5) }] },
      ],
    });
    const c = compareTraces(edge, ref);
    expect(c.nodes.map((n) => [n.key, n.verdict])).toEqual([
      ['a:0', 'ok'],
      ['fused:0', 'missing'],
      ['b:0', 'diverged'],
      ['extra:0', 'missing'],
    ]);
    expect(c.nodes[1]?.reasons).toEqual(['only in edge trace']);
    expect(c.nodes[3]).toMatchObject({ reasons: ['only in reference trace'], edgeIndex: null, refIndex: 2 });
    expect(c.firstDivergent?.key).toBe('b:0');
    expect(c.warnings).toContain('1 node(s) only in the edge trace (e.g. fused)');
    expect(c.warnings).toContain('1 node(s) only in the reference trace (e.g. extra)');
  });

  it('shape mismatches: same count gets informational metrics, different count none', () => {
    const x = d(12, 1);
    const edge = makeTrace({
      nodes: [
        { name: 'layout', op: 'Transpose', outputs: [{ shape: [1, 3, 4], data: x }] },
        { name: 'count', op: 'Pad', outputs: [{ shape: [1, 12], data: x }] },
        { name: 'squeeze', op: 'Reshape', outputs: [{ shape: [1, 12], data: x }] },
      ],
    });
    const ref = makeTrace({
      nodes: [
        { name: 'layout', op: 'Transpose', outputs: [{ shape: [1, 4, 3], data: x }] },
        { name: 'count', op: 'Pad', outputs: [{ shape: [1, 13], data: d(13, 2) }] },
        { name: 'squeeze', op: 'Reshape', outputs: [{ shape: [12], data: x }] },
      ],
    });
    const c = compareTraces(edge, ref);
    expect(c.nodes[0]).toMatchObject({ verdict: 'shape-mismatch', shapeRelation: 'same-count', reasons: ['shape [1,3,4] vs [1,4,3]: same element count, different shape (layout or transposition?)'] });
    expect(c.nodes[0]?.metrics?.identical).toBe(true);
    expect(c.nodes[1]).toMatchObject({ verdict: 'shape-mismatch', shapeRelation: 'different-count', metrics: null });
    expect(c.nodes[2]).toMatchObject({ verdict: 'ok', shapeRelation: 'squeezable' });
    expect(c.firstDivergent).toMatchObject({ key: 'layout:0', verdict: 'shape-mismatch', divergentAfter: 1 });
    const strict = compareTraces(edge, ref, { strictShapes: true });
    expect(strict.nodes[2]?.verdict).toBe('shape-mismatch');
  });

  it('integer tensors must match exactly by default', () => {
    const mk = (v: number) =>
      makeTrace({ nodes: [{ name: 'argmax', op: 'ArgMax', outputs: [{ shape: [1], dtype: 'int32', data: new Float32Array([v]) }] }] });
    expect(compareTraces(mk(281), mk(281)).nodes[0]?.verdict).toBe('ok');
    expect(compareTraces(mk(282), mk(281)).nodes[0]).toMatchObject({ verdict: 'diverged', reasons: ['nrmse 0.00355 > 0.001', 'maxAbs 1 > 0'] });
    // An off-by-one class index on a 1000-class argmax is nrmse 1e-3 only: maxAbs 0 is what catches it.
    const big = (v: number) =>
      makeTrace({ nodes: [{ name: 'argmax', op: 'ArgMax', outputs: [{ shape: [2], dtype: 'int32', data: new Float32Array([0, v]) }] }] });
    expect(compareTraces(big(999), big(1000)).nodes[0]?.reasons).toEqual(['maxAbs 1 > 0']);
  });
});

describe('compareTraces: stats-only nodes', () => {
  const mk = (s: TensorStats) =>
    makeTrace({ capture: 'stats', nodes: [{ name: 's', op: 'Conv2D', outputs: [{ shape: [100], stats: s }] }] });

  it('matching stats: ok, flagged statsOnly', () => {
    const c = compareTraces(mk(stats({ mean: 0.1 })), mk(stats({ mean: 0.1000001 })));
    expect(c.nodes[0]).toMatchObject({ verdict: 'ok', statsOnly: true, metrics: null });
    expect(c.nodes[0]?.stats).toMatchObject({ edgeSource: 'stats', refSource: 'stats', normalizer: 2 });
    expect(c.counts.statsOnly).toBe(1);
    expect(c.verdict).toBe('ok');
    expect(c.warnings).toContain('edge trace was captured in stats mode: node verdicts are from summary statistics only');
  });

  it('a mean shift proves divergence: nrmse ≥ |Δmean| / range', () => {
    const c = compareTraces(mk(stats({ mean: 0.1 })), mk(stats({ mean: 0 })));
    const n = c.nodes[0];
    expect(n).toMatchObject({ verdict: 'diverged', statsOnly: true });
    expect(n?.stats?.mean).toBe(0.1);
    expect(n?.stats?.nrmseLowerBound).toBe(0.05);
    expect(n?.reasons).toEqual(['nrmse ≥ 0.05 > 0.001 (from Δmean 0.1, Δstd 0)']);
    expect(c.firstDivergent).toMatchObject({ key: 's:0', statsOnly: true });
  });

  it('a std change and a NaN count change diverge', () => {
    expect(compareTraces(mk(stats({ std: 0.6 })), mk(stats({}))).nodes[0]?.verdict).toBe('diverged');
    expect(compareTraces(mk(stats({ nanCount: 3 })), mk(stats({}))).nodes[0]?.reasons).toEqual(['NaN count differs by 3 (edge − ref)']);
  });

  it('min / max deltas alone cannot prove an nrmse failure, but do prove a maxAbs failure', () => {
    const c = compareTraces(mk(stats({ max: 1.01 })), mk(stats({})));
    expect(c.nodes[0]?.verdict).toBe('ok');
    const c2 = compareTraces(mk(stats({ max: 1.01 })), mk(stats({})), { tolerance: { maxAbs: 0.001 } });
    expect(c2.nodes[0]?.reasons[0]).toMatch(/^maxAbs ≥ 0\.01 > 0\.001$/);
  });

  it('blob on one side, stats on the other: stats computed from the blob', () => {
    const data = randn(100, 9);
    const edge = makeTrace({ nodes: [{ name: 's', op: 'Conv2D', outputs: [{ shape: [100], data }] }] });
    const ref = mk(blobStats(data));
    const c = compareTraces(edge, ref);
    expect(c.nodes[0]).toMatchObject({ verdict: 'ok', statsOnly: true });
    expect(c.nodes[0]?.stats).toMatchObject({ edgeSource: 'blob', refSource: 'stats', mean: 0, std: 0 });
  });

  it('timing capture: no-data', () => {
    const t = makeTrace({ capture: 'timing', nodes: [{ name: 's', op: 'Conv2D', outputs: [{ shape: [100] }] }] });
    const c = compareTraces(t, t);
    expect(c.nodes[0]).toMatchObject({ verdict: 'no-data', reasons: ['values not recorded in either trace (timing capture): not compared'] });
    expect(c.verdict).toBe('no-data');
  });
});

describe('compareTraces: inputs and outputs', () => {
  const node = { name: 'n', op: 'Relu', outputs: [{ shape: [4], data: new Float32Array([1, 2, 3, 4]) }] };

  it('a different input makes the overall verdict input-mismatch', () => {
    const edge = makeTrace({ inputs: [{ name: 'x', shape: [2], data: new Float32Array([0.5, 1]) }], nodes: [node] });
    const ref = makeTrace({ inputs: [{ name: 'x', shape: [2], data: new Float32Array([1, 2]) }], nodes: [node] });
    const c = compareTraces(edge, ref);
    expect(c.inputs).toMatchObject({ verdict: 'different', maxAbs: 1 });
    expect(c.verdict).toBe('input-mismatch');
    expect(c.summary).toMatch(/^input mismatch/);
  });

  it('a slightly different input is close (warning), int32 inputs exact', () => {
    const edge = makeTrace({ inputs: [{ name: 'x', shape: [2], data: new Float32Array([0.5, 1]) }], nodes: [node] });
    const ref = makeTrace({ inputs: [{ name: 'x', shape: [2], data: new Float32Array([0.5, 1.0000001]) }], nodes: [node] });
    const c = compareTraces(edge, ref);
    expect(c.inputs.verdict).toBe('close');
    expect(c.verdict).toBe('ok');
    expect(c.warnings.some((w) => w.startsWith('inputs are not identical'))).toBe(true);
    const ie = makeTrace({ inputs: [{ name: 'ids', shape: [2], data: new Int32Array([7, 8]) }], nodes: [node] });
    const ir = makeTrace({ inputs: [{ name: 'ids', shape: [2], data: new Int32Array([7, 9]) }], nodes: [node] });
    expect(compareTraces(ie, ir).inputs.verdict).toBe('different');
  });

  it('a missing input, and inputs matched by position', () => {
    const edge = makeTrace({ inputs: [{ name: 'input_1', shape: [2], data: new Float32Array(2) }], nodes: [node] });
    expect(compareTraces(edge, makeTrace({ nodes: [node] })).inputs.verdict).toBe('missing');
    const ref = makeTrace({ inputs: [{ name: 'input', shape: [2], data: new Float32Array(2) }], nodes: [node] });
    const c = compareTraces(edge, ref);
    expect(c.inputs).toMatchObject({ verdict: 'identical', matchedBy: 'position' });
    expect(c.inputs.tensors[0]).toMatchObject({ name: 'input_1', refName: 'input' });
  });

  it('top-k agreement with labels on a classifier output', () => {
    const labels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const ref = makeTrace({ nodes: [node], outputs: [{ name: 'probs', shape: [1, 8], data: new Float32Array([0.3, 0.25, 0.2, 0.1, 0.06, 0.05, 0.03, 0.01]) }] });
    const edge = makeTrace({ nodes: [node], outputs: [{ name: 'probs', shape: [1, 8], data: new Float32Array([0.25, 0.3, 0.2, 0.1, 0.01, 0.05, 0.03, 0.06]) }] });
    const c = compareTraces(edge, ref, { labels });
    const t = c.outputs.tensors[0]?.topK;
    expect(t?.edge.map((e) => e.label)).toEqual(['b', 'a', 'c', 'd', 'h']);
    expect(t?.ref.map((e) => e.label)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(t?.ref.map((e) => e.probability)).toEqual([0.3, 0.25, 0.2, 0.1, 0.06].map(Math.fround));
    expect(t).toMatchObject({ top1Equal: false, overlap: 4, refTop1RankInEdge: 1, valueKind: 'probabilities' });
    expect(c.outputs).toMatchObject({ verdict: 'diverged', top1Equal: false, topKOverlap: 4 });
    expect(c.verdict).toBe('diverged');
    expect(c.firstDivergent).toBeNull();
    expect(c.summary).toBe('final outputs diverged (diverged) although no compared node did; top-1 DIFFERS');
    // Non-classifier shapes get no top-k unless asked.
    const box = makeTrace({ nodes: [node], outputs: [{ name: 'boxes', shape: [2, 4], data: new Float32Array(8) }] });
    expect(compareTraces(box, box).outputs.tensors[0]?.topK).toBeNull();
    expect(compareTraces(box, box, { classifierOutputs: ['boxes'], topK: 2 }).outputs.tensors[0]?.topK?.k).toBe(2);
  });

  it('a final output missing on the edge makes the run diverge', () => {
    const out = { name: 'y', shape: [2], data: new Float32Array(2) };
    const c = compareTraces(makeTrace({ nodes: [node] }), makeTrace({ nodes: [node], outputs: [out] }));
    expect(c.outputs.verdict).toBe('missing');
    expect(c.verdict).toBe('diverged');
  });

  it('warns on model / reference identity problems', () => {
    const edge = makeTrace({ id: 'e1', nodes: [node] });
    const ref = makeTrace({ id: 'r1', nodes: [node], sha256: 'f'.repeat(64), referenceFor: 'other' });
    const c = compareTraces(edge, ref);
    expect(c.sameModel).toBe(false);
    expect(c.warnings).toContain('model sha256 differs (edge 000000000000, reference ffffffffffff)');
    expect(c.warnings).toContain('the reference replayed trace other, not this edge trace (e1)');
  });

  it('a referenced blob that is absent is a warning and no-data', () => {
    const edge = makeTrace({ nodes: [node] });
    const ref = makeTrace({ nodes: [node] });
    ref.blobs.clear();
    const c = compareTraces(edge, ref);
    expect(c.nodes[0]?.verdict).toBe('no-data');
    expect(c.warnings).toContain('n:0: reference blob b0 is referenced but absent');
  });
});

describe('formatComparisonTable', () => {
  const { edge, ref } = makeChainPair({ nodes: 40, elements: 256, noise: 1e-7, injectAt: 30, seed: 4 });
  const c = compareTraces(edge, ref, { labels: Array.from({ length: 10 }, (_, i) => `class${i}`) });

  it('marks the first divergent row and ends with summary lines', () => {
    const s = formatComparisonTable(c);
    const lines = s.split('\n');
    const marked = lines.filter((l) => l.startsWith('>'));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(/^>\s+30 layer_30:0\s+Conv2D\s+.*diverged  <== first divergent$/);
    expect(lines.filter((l) => /^ \s+\d+ layer_/.test(l))).toHaveLength(39);
    expect(s).toContain('verdict:         DIVERGED');
    expect(s).toMatch(/first divergent: layer_30:0 \(Conv2D, #30\): nrmse .* > 0\.001/);
    expect(s).toContain('node outputs:    40: 30 ok, 10 diverged, 0 shape-mismatch, 0 missing, 0 no-data');
    expect(s).toContain('inputs:          identical (max abs diff 0)');
    expect(s).toContain('tolerance:       float32: nrmse <= 0.001, cosine >= 0.9999, atol 1.00e-6');
    // Every table row has the same width up to the verdict column.
    const rows = lines.filter((l) => /^[ >]\s+\d+ layer_/.test(l));
    const verdictCol = rows.map((l) => l.search(/(ok|diverged)/));
    expect(new Set(verdictCol).size).toBe(1);
  });

  it('limit keeps the first divergent node in view', () => {
    const s = formatComparisonTable(c, { limit: 8 });
    const lines = s.split('\n');
    expect(lines.filter((l) => /^[ >]\s+\d+ layer_/.test(l))).toHaveLength(8);
    expect(s).toContain('  ... 28 rows above not shown');
    expect(s).toContain('  ... 4 rows below not shown');
    expect(lines.some((l) => l.startsWith('>') && l.includes('layer_30:0'))).toBe(true);
  });
});

describe('the reference magnitude for scaled tolerances comes from the metrics pass', () => {
  const scan = (d: ArrayLike<number>): number => {
    let m = 0;
    for (let i = 0; i < d.length; i++) if (Number.isFinite(d[i]!)) m = Math.max(m, Math.abs(d[i]!));
    return m;
  };
  const measured = (a: Float32Array | Int32Array, b: Float32Array | Int32Array): Map<string, number> => {
    const t = (d: Float32Array | Int32Array): ReturnType<typeof makeTrace> => makeTrace({ nodes: [{ name: 'n', op: 'Conv2D', outputs: [{ shape: [d.length], data: d }] }] });
    const edge = t(a);
    const ref = t(b);
    const side = { trace: ref, what: 'reference' as const, magnitudes: new Map<string, number>() };
    measurePair(edge.header.nodes[0]!.outputs[0]!, ref.header.nodes[0]!.outputs[0]!, { edge: { trace: edge, what: 'edge' }, ref: side, key: 'n:0', strictShapes: false, warnings: [] });
    return side.magnitudes;
  };

  it('equals a scan of the values (float32 through the kernel, int32 through the JS pass)', () => {
    const b = randn(5000, 11);
    b[1234] = -9.5; // the largest |x| is a negative value
    const a = b.map((v) => v * (1 + 1e-6));
    expect(measured(a, b).get('b0')).toBe(scan(b));
    expect(measured(a, b).get('b0')).toBe(9.5);
    const ib = Int32Array.from({ length: 300 }, (_, i) => (i * 7919) % 1000 - 700);
    expect(measured(ib, ib).get('b0')).toBe(scan(ib));
  });

  it('is left to the scan when the pass did not see every value (a NaN on either side)', () => {
    const b = randn(4096, 12);
    const a = b.slice();
    a[7] = Number.NaN;
    expect(measured(a, b).has('b0')).toBe(false);
    const c = compareTraces(
      makeTrace({ nodes: [{ name: 'n', op: 'Relu', outputs: [{ shape: [4096], data: a }] }] }),
      makeTrace({ nodes: [{ name: 'n', op: 'Relu', outputs: [{ shape: [4096], data: b }] }] }),
    );
    expect(c.nodes[0]!.verdict).toBe('diverged');
  });
});
