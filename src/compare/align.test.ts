import { describe, expect, it } from 'vitest';
import { alignNodes, alignTensors, shapeRelation } from './align.ts';
import { makeTrace, type SyntheticNode } from './synthetic.ts';

const f = (n: number): Float32Array => new Float32Array(n);
const node = (name: string, op = 'Relu', shape: number[] = [1, 4], outputs = 1): SyntheticNode => ({
  name,
  op,
  outputs: Array.from({ length: outputs }, () => ({ shape, data: f(shape.reduce((a, b) => a * b, 1)) })),
});

describe('shapeRelation', () => {
  it('classifies', () => {
    expect(shapeRelation([1, 7, 7, 64], [1, 7, 7, 64])).toBe('same');
    expect(shapeRelation([1, 1000], [1000])).toBe('squeezable');
    expect(shapeRelation([1, 1, 1000], [1000, 1])).toBe('squeezable');
    expect(shapeRelation([1, 7, 7, 64], [1, 64, 7, 7])).toBe('same-count');
    expect(shapeRelation([2, 3], [3, 2])).toBe('same-count');
    expect(shapeRelation([1, 1000], [1, 1001])).toBe('different-count');
    expect(shapeRelation([], [])).toBe('same');
    expect(shapeRelation([], [1])).toBe('squeezable');
  });
});

describe('alignNodes', () => {
  it('pairs by name and output index in edge execution order; reports nodes only on one side', () => {
    const edge = makeTrace({ nodes: [node('a'), node('b'), node('edge_only'), node('c', 'Split', [1, 2], 2), node('d')] });
    const ref = makeTrace({ nodes: [node('ref_first'), node('a'), node('b'), node('ref_mid'), node('c', 'Split', [1, 2], 1), node('d'), node('ref_last')] });
    const al = alignNodes(edge.header, ref.header);
    expect(al.outputs.map((o) => [o.key, o.edge !== null, o.ref !== null])).toEqual([
      ['ref_first:0', false, true],
      ['a:0', true, true],
      ['b:0', true, true],
      ['ref_mid:0', false, true],
      ['edge_only:0', true, false],
      ['c:0', true, true],
      ['c:1', true, false],
      ['d:0', true, true],
      ['ref_last:0', false, true],
    ]);
    expect(al.edgeOnlyNodes).toEqual(['edge_only']);
    expect(al.refOnlyNodes).toEqual(['ref_first', 'ref_mid', 'ref_last']);
    const d = al.outputs.find((o) => o.key === 'd:0');
    expect(d).toMatchObject({ edgeIndex: 4, refIndex: 5 });
    expect(al.outputs[0]).toMatchObject({ edgeIndex: null, refIndex: 0 });
  });

  it('orders by NodeRecord.index, not array position', () => {
    const edge = makeTrace({ nodes: [node('x'), node('y')] });
    edge.header.nodes = [
      { ...(edge.header.nodes[1] as (typeof edge.header.nodes)[number]), index: 0 },
      { ...(edge.header.nodes[0] as (typeof edge.header.nodes)[number]), index: 1 },
    ];
    const al = alignNodes(edge.header, makeTrace({ nodes: [node('x'), node('y')] }).header);
    expect(al.outputs.map((o) => o.key)).toEqual(['y:0', 'x:0']);
  });

  it('reports shape mismatches (which kind), dtype and op mismatches', () => {
    const edge = makeTrace({
      nodes: [node('nhwc', 'Conv2D', [1, 2, 2, 3]), node('count', 'Relu', [1, 5]), node('sq', 'Softmax', [1, 10]), { name: 'i', op: 'Cast', outputs: [{ shape: [2], dtype: 'int32', data: f(2) }] }],
    });
    const ref = makeTrace({
      nodes: [node('nhwc', 'Conv2D', [1, 3, 2, 2]), node('count', 'Relu6', [1, 6]), node('sq', 'Softmax', [10]), { name: 'i', op: 'Cast', outputs: [{ shape: [2], dtype: 'float32', data: f(2) }] }],
    });
    const al = alignNodes(edge.header, ref.header);
    expect(al.shapeMismatches).toEqual([
      { key: 'nhwc:0', edge: [1, 2, 2, 3], ref: [1, 3, 2, 2], relation: 'same-count' },
      { key: 'count:0', edge: [1, 5], ref: [1, 6], relation: 'different-count' },
      { key: 'sq:0', edge: [1, 10], ref: [10], relation: 'squeezable' },
    ]);
    expect(al.dtypeMismatches).toEqual([{ key: 'i:0', edge: 'int32', ref: 'float32' }]);
    expect(al.opMismatches).toEqual([{ name: 'count', edge: 'Relu', ref: 'Relu6' }]);
  });

  it('repeated names pair by occurrence', () => {
    const edge = makeTrace({ nodes: [node('shared'), node('mid'), node('shared')] });
    const ref = makeTrace({ nodes: [node('shared'), node('mid'), node('shared')] });
    const al = alignNodes(edge.header, ref.header);
    expect(al.outputs.map((o) => [o.key, o.occurrence, o.edgeIndex, o.refIndex])).toEqual([
      ['shared:0', 1, 0, 0],
      ['mid:0', 1, 1, 1],
      ['shared#2:0', 2, 2, 2],
    ]);
  });
});

describe('alignTensors', () => {
  const t = (name: string) => ({ name, shape: [1], dtype: 'float32' as const });
  it('by name, reference-only last', () => {
    const al = alignTensors([t('a'), t('b')], [t('b'), t('c')]);
    expect(al.matchedBy).toBe('name');
    expect(al.pairs.map((p) => [p.name, p.refName, p.edge !== null, p.ref !== null])).toEqual([
      ['a', null, true, false],
      ['b', 'b', true, true],
      ['c', 'c', false, true],
    ]);
  });
  it('by position when no name matches and lengths agree', () => {
    const al = alignTensors([t('input_1')], [t('input')]);
    expect(al.matchedBy).toBe('position');
    expect(al.pairs[0]).toMatchObject({ name: 'input_1', refName: 'input' });
  });
});
