/**
 * Nodes inside Loop and Scan bodies, on onnxruntime-node: their values come back as extra scan
 * outputs, one row per iteration; an If inside a Loop body is recorded with the reason its branches
 * are not exposed. The model is built here (no bundled model has a Loop) and its expected values
 * are computed by hand.
 */
import { create } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import { GraphProtoSchema, TensorProtoSchema } from '../src/onnx/proto/onnx-ml_pb.ts';
import { fileProfiler } from '../src/reference/ort-node.ts';
import { BOOL, FLOAT, growModel, info, INT64, modelBytes, node, scalar } from './onnx-build.ts';

/**
 * x [3] → Loop 4 times: m = s·2 (Mul), s' = m + 1 (Add), and an If on iter > 1 (then k = s' + 10,
 * else k = s'); then Scan over the Loop's stacked `k` [4,3] summing rows: acc' = acc + row (Add), y = acc'·2.
 */
function model(): Uint8Array {
  const thenG = create(GraphProtoSchema, { name: 'then', node: [node('Add', 'plus_ten', ['s_next', 'ten'], ['k_then'])], output: [info('k_then', FLOAT)] });
  const elseG = create(GraphProtoSchema, { name: 'else', node: [node('Identity', 'same', ['s_next'], ['k_else'])], output: [info('k_else', FLOAT)] });
  const loopBody = create(GraphProtoSchema, {
    name: 'loop_body',
    input: [info('iter', INT64, []), info('cond_in', BOOL, []), info('s', FLOAT, [3])],
    node: [
      node('Mul', 'double', ['s', 'two'], ['m']),
      node('Add', 'plus_one', ['m', 'one'], ['s_next']),
      node('Greater', 'late', ['iter', 'one_i'], ['is_late']),
      node('If', 'branch', ['is_late'], ['k'], [{ name: 'then_branch', g: thenG }, { name: 'else_branch', g: elseG }]),
      node('Identity', 'keep_going', ['cond_in'], ['cond_out']),
    ],
    output: [info('cond_out', BOOL, []), info('s_next', FLOAT, [3]), info('k', FLOAT, [3])],
  });
  const scanBody = create(GraphProtoSchema, {
    name: 'scan_body',
    input: [info('acc', FLOAT, [3]), info('row', FLOAT, [3])],
    node: [node('Add', 'accumulate', ['acc', 'row'], ['acc_next']), node('Mul', 'scale', ['acc_next', 'two'], ['y_row'])],
    output: [info('acc_next', FLOAT, [3]), info('y_row', FLOAT, [3])],
  });
  const g = create(GraphProtoSchema, {
    name: 'loops',
    input: [info('x', FLOAT, [3])],
    initializer: [scalar('trips', INT64, 4), scalar('go', BOOL, 1), scalar('two', FLOAT, 2), scalar('one', FLOAT, 1), scalar('ten', FLOAT, 10), scalar('one_i', INT64, 1), create(TensorProtoSchema, { name: 'zeros', dataType: FLOAT, dims: [3n], floatData: [0, 0, 0] })],
    node: [
      node('Loop', 'loop', ['trips', 'go', 'x'], ['s_final', 'k_all'], [{ name: 'body', g: loopBody }]),
      node('Scan', 'scan', ['zeros', 'k_all'], ['acc_final', 'y'], [{ name: 'body', g: scanBody }, { name: 'num_scan_inputs', i: 1n }, { name: 'scan_output_axes', ints: [0n] }]),
    ],
    output: [info('s_final', FLOAT, [3]), info('y', FLOAT, [4, 3])],
  });
  return modelBytes(g);
}

describe('Loop and Scan bodies', () => {
  it('records body nodes with their values stacked per iteration, and says why an If inside a Loop is not opened', async () => {
    const profiler = await fileProfiler();
    const x = Float32Array.from([0, 1, -2]);
    const t = await traceOnnx(ort as unknown as OrtModule, model(), [{ name: 'x', shape: [3], dtype: 'float32', data: x }], {
      runtime: 'onnxruntime-node',
      executionProvider: 'cpu',
      profiler,
      capture: 'tensors',
      runs: 1,
      warmup: 0,
    });
    await profiler.dispose?.();
    const h = t.header;
    const values = (name: string, k = 0): number[] => {
      const n = h.nodes.find((m) => m.name === name);
      if (!n) throw new Error(`no node ${name}: ${h.nodes.map((m) => m.name).join(', ')}`);
      const b = n.outputs[k]!.blob;
      return b ? [...t.blobs.get(b.id)!] : [];
    };
    expect(h.nodes.map((n) => n.name)).toEqual([
      'loop/body/double',
      'loop/body/plus_one',
      'loop/body/late',
      'loop/body/branch/then/plus_ten',
      'loop/body/branch/else/same',
      'loop/body/branch',
      'loop/body/keep_going',
      'loop',
      'scan/body/accumulate',
      'scan/body/scale',
      'scan',
    ]);
    // By hand: s = x, then per iteration m = 2s, s = m + 1.
    const ms: number[][] = [];
    const ss: number[][] = [];
    let s = [...x];
    for (let i = 0; i < 4; i++) {
      const m = s.map((v) => 2 * v);
      s = m.map((v) => v + 1);
      ms.push(m);
      ss.push(s);
    }
    const double = h.nodes.find((n) => n.name === 'loop/body/double')!;
    expect(double.outputs[0]!.shape).toEqual([4, 3]);
    expect(double.note).toMatch(/^values of every iteration of loop, stacked on a new first axis/);
    expect(values('loop/body/double')).toEqual(ms.flat());
    expect(values('loop/body/plus_one')).toEqual(ss.flat());
    // The If inside the Loop: its own output is stacked; its branches are not exposed, and say why.
    const ks = ss.map((row, i) => (i > 1 ? row.map((v) => v + 10) : row));
    expect(values('loop/body/branch')).toEqual(ks.flat());
    const inner = h.nodes.find((n) => n.name === 'loop/body/branch/then/plus_ten')!;
    expect(inner.outputs[0]!.stats).toBeUndefined();
    expect(inner.note).toMatch(/^not captured: inside If loop\/body\/branch within the body of loop: a branch's value exists only on the iterations that take it/);
    // Scan: running sums of the Loop's k rows, per step.
    let acc = [0, 0, 0];
    const accs = ks.map((row) => (acc = acc.map((v, j) => v + row[j]!)));
    expect(values('scan/body/accumulate')).toEqual(accs.flat());
    expect(values('scan/body/scale')).toEqual(accs.flat().map((v) => 2 * v));
    expect(values('scan', 1)).toEqual(accs.flat().map((v) => 2 * v));
    // Kernels of the bodies land on the body nodes, once per iteration.
    expect(h.nodes.find((n) => n.name === 'loop/body/double')!.kernels).toHaveLength(4);
    expect(h.nodes.find((n) => n.name === 'scan/body/accumulate')!.kernels).toHaveLength(4);
  });

  it('falls back to the main graph when a body value changes shape between iterations (a scan output cannot stack it)', async () => {
    // s' = Concat(s, s): the carried value doubles every iteration.
    const bytes = growModel();
    const t = await traceOnnx(ort as unknown as OrtModule, bytes, [{ name: 'x', shape: [2], dtype: 'float32', data: Float32Array.from([1, 2]) }], {
      runtime: 'onnxruntime-node',
      executionProvider: 'cpu',
      profiler: null,
      capture: 'tensors',
      runs: 1,
      warmup: 0,
    });
    const h = t.header;
    expect(h.warnings.some((w) => /cannot run the model rewritten to expose values inside subgraphs .*: nodes inside subgraphs have no values/.test(w)), h.warnings.join('\n')).toBe(true);
    const grow = h.nodes.find((n) => n.name === 'loop/body/grow')!;
    expect(grow.outputs[0]!.stats).toBeUndefined();
    expect(grow.note).toMatch(/^not captured: the runtime could not load or run/);
    // The main graph is still captured: 2 → 4 → 8 → 16 values.
    const loop = h.nodes.find((n) => n.name === 'loop')!;
    expect(loop.outputs[0]!.shape).toEqual([16]);
    expect(h.nodes.find((n) => n.name === 'negate')!.outputs[0]!.stats!.min).toBe(-2);
  });
});
