import { describe, expect, it } from 'vitest';
import { topKAgreement, topKIndices } from './topk.ts';

describe('topKIndices', () => {
  it('descending, ties by lower index, NaN last (below -Inf), k clipped', () => {
    const d = new Float32Array([0.1, NaN, 0.5, 0.5, -Infinity, 0.9, 0.2]);
    expect(topKIndices(d, 3)).toEqual([5, 2, 3]);
    expect(topKIndices(d, 10)).toEqual([5, 2, 3, 6, 0, 4, 1]);
    expect(topKIndices(d, 0)).toEqual([]);
    expect(topKIndices(new Int32Array([3, 1, 2]), 2)).toEqual([0, 2]);
  });
});

describe('topKAgreement', () => {
  const labels = ['cat', 'dog', 'fox', 'owl', 'eel', 'ant', 'bee'];

  it('probabilities: values used as is; labels attached; overlap and rank', () => {
    const ref = new Float32Array([0.5, 0.2, 0.1, 0.08, 0.06, 0.04, 0.02]);
    const edge = new Float32Array([0.2, 0.5, 0.1, 0.02, 0.06, 0.04, 0.08]);
    const t = topKAgreement(edge, ref, 5, labels);
    expect(t.valueKind).toBe('probabilities');
    expect(t.k).toBe(5);
    expect(t.classes).toBe(7);
    expect(t.top1Equal).toBe(false);
    expect(t.ref.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    expect(t.edge.map((e) => e.index)).toEqual([1, 0, 2, 6, 4]);
    expect(t.overlap).toBe(4);
    expect(t.refTop1RankInEdge).toBe(1);
    expect(t.edge[0]).toEqual({ index: 1, label: 'dog', value: Math.fround(0.5), probability: Math.fround(0.5) });
  });

  it('logits: float64 softmax probabilities', () => {
    const ref = new Float32Array([2, 1, 0]);
    const edge = new Float32Array([2, 1, 0]);
    const t = topKAgreement(edge, ref, 5);
    expect(t.valueKind).toBe('logits');
    expect(t.k).toBe(3);
    const s = Math.exp(0) + Math.exp(-1) + Math.exp(-2);
    expect(t.ref.map((e) => e.probability)).toEqual([1 / s, Math.exp(-1) / s, Math.exp(-2) / s]);
    expect(t.top1Equal).toBe(true);
    expect(t.overlap).toBe(3);
    expect(t.ref[0]?.label).toBeNull();
  });

  it('NaN on the edge: null value / probability, ranked last', () => {
    const t = topKAgreement(new Float32Array([NaN, 0.3, 0.7]), new Float32Array([0.6, 0.3, 0.1]), 3);
    expect(t.edge.map((e) => e.index)).toEqual([2, 1, 0]);
    expect(t.edge[2]).toMatchObject({ value: null, probability: null });
    expect(t.top1Equal).toBe(false);
  });
});
