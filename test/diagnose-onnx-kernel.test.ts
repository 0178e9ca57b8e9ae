/**
 * Single-node replay of ONNX models and the `kernel` cause it lets `exray diagnose` name:
 * (a) a node cut out of a real model (src/onnx/single-node.ts) is one node with the right inputs,
 *     weights and outputs, and onnxruntime-node reproduces the full model's recorded output of that
 *     node from the recorded inputs; what cannot be cut out (If, unrecorded inputs) says why;
 * (b) an "edge" model copy with one node's attribute edited (a kernel that computes differently on the
 *     same inputs), traced under the original model's identity: diagnose names that node, with a
 *     large own and a small inherited error — on two models, one replayed on cpu, one on wasm;
 * (c) a clean run: `none`, no false `kernel`, though nodes were replayed.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { runDiagnosis } from '../src/cli/commands/diagnose.ts';
import { prepareInput } from '../src/cli/commands/trace.ts';
import { tensorMetrics } from '../src/compare/index.ts';
import { ortTypeOfOnnx, toOrtTensor, traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import { decodeOnnx, describeOnnx, encodeOnnx, type ModelProto } from '../src/onnx/model.ts';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  ValueInfoProtoSchema,
} from '../src/onnx/proto/onnx-ml_pb.ts';
import { isNotReplayable, singleNodeModel, traceValues, type SingleNodeModel } from '../src/onnx/single-node.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { decoderNoise } from '../src/diagnose/test-images.ts';
import { replayOnnxNodes } from '../src/reference/replay-onnx.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import type { Trace } from '../src/trace/types.ts';
import { editedOnnxEdge, setOnnxAttribute } from './diagnose-helpers.ts';
import { CLS, REC, SAMPLES, VAD, VAD_FIXTURES } from './ort-helpers.ts';

const ort = ortNode as unknown as OrtModule;
const modelFile = (dir: string): string => join(dir, 'model.onnx');
const load = (dir: string): ModelProto => decodeOnnx(new Uint8Array(readFileSync(modelFile(dir))), modelFile(dir));

/** A photo pre-processed as the model's card says. */
async function photoInput(dir: string, photo: string) {
  const card = await loadModelCard(join(dir, 'exray.json'));
  const spec = card.inputs[0]!.preprocess!;
  const file = join(SAMPLES, photo);
  const { image, source } = await decodeImageFile(file);
  const t = preprocess(image, source.exifOrientation, spec);
  return { file, source, spec, feed: [{ name: card.inputs[0]!.name, shape: t.shape, dtype: t.dtype, data: t.data }] };
}

/** Run a single-node model on onnxruntime-node with its recorded feeds; outputs by index. */
async function runSingle(s: SingleNodeModel): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(encodeOnnx(s.model), { executionProviders: ['cpu'] });
  try {
    const feeds: Record<string, InstanceType<OrtModule['Tensor']>> = {};
    for (const f of s.feeds) feeds[f.name] = toOrtTensor(ort, f, ortTypeOfOnnx(f.elemType)!);
    const outs = await session.run(feeds);
    return s.outputs.map((v) => Float32Array.from(outs[v]!.data as ArrayLike<number | bigint>, (x) => Number(x)));
  } finally {
    await session.release();
  }
}

function recordedOutput(trace: Trace, node: string, k = 0): Float32Array {
  const rec = trace.header.nodes.find((n) => n.name === node)!;
  return Float32Array.from(trace.blobs.get(rec.outputs[k]!.blob!.id)!);
}

describe('single-node models cut out of real ONNX models', () => {
  it('ppocr-v4-rec: one node, Constant-node weights as initializers, recorded inputs as graph inputs; reproduces the recorded outputs', async () => {
    const { feed, file } = await photoInput(REC, 'page_line1.png');
    const trace = await traceInNode({ model: REC, backend: 'cpu', feed, feedFile: file, capture: 'tensors', runs: 1, warmup: 0 });
    const model = load(REC);
    const info = describeOnnx(model);
    const values = traceValues(trace, info);
    const byOp = (op: string, k = 0) => info.nodes.filter((n) => n.op === op)[k]!;
    // p2o.Conv.1: depthwise Conv whose weight and bias are Constant nodes; the first Conv reads the graph input x.
    const conv = info.nodes.find((n) => n.name === 'p2o.Conv.1')!;
    const picks = [info.nodes[0]!, conv, byOp('Conv', 20), byOp('BatchNormalization'), byOp('HardSigmoid'), byOp('MatMul', 3), byOp('Softmax'), byOp('Shape'), byOp('Cast'), byOp('Slice'), byOp('Reshape', 2), byOp('Concat')];
    expect(new Set(picks.map((p) => p.name)).size).toBe(picks.length);
    for (const n of picks) {
      const s = singleNodeModel(model, n.name, values, info);
      if (isNotReplayable(s)) throw new Error(`${n.name}: ${s.reason}`);
      const g = s.model.graph!;
      expect(g.node.length, n.name).toBe(1);
      expect(g.node[0]!.opType).toBe(n.op);
      expect(s.model.opsetImport.map((o) => [o.domain, o.version])).toEqual(model.opsetImport.map((o) => [o.domain, o.version]));
      // Every input is either a copied weight or a fed graph input, in the node's own order.
      const used = n.inputs.filter((v, i) => v !== '' && n.inputs.indexOf(v) === i);
      expect([...g.input.map((i) => i.name), ...g.initializer.map((t) => t.name)].sort(), n.name).toEqual([...used].sort());
      expect(s.weights.sort()).toEqual(g.initializer.map((t) => t.name).sort());
      expect(g.output.map((o) => o.name)).toEqual(n.outputs);
      for (const f of s.feeds) {
        const shape = g.input.find((i) => i.name === f.name)!.type!.value.value as { shape?: { dim: { value: { value: unknown } }[] } };
        expect(shape.shape!.dim.map((d) => Number(d.value.value))).toEqual(f.shape);
      }
      const outs = await runSingle(s);
      n.outputs.forEach((_, k) => {
        const m = tensorMetrics(recordedOutput(trace, n.name, k), outs[k]!);
        expect(m.nrmse, `${n.name} (${n.op}) output ${k}`).toBeLessThan(1e-5);
      });
    }
    const c = singleNodeModel(model, conv.name, values, info) as SingleNodeModel;
    expect(c.weights).toEqual(conv.inputs.slice(1));
    expect(c.feeds.map((f) => f.name)).toEqual([conv.inputs[0]]);
    expect(info.nodes.some((n) => conv.inputs.slice(1).some((w) => n.outputs.includes(w)))).toBe(false);
    expect(model.graph!.initializer.length).toBe(0);
    // The graph input feeds the first Conv, as recorded in the trace's input.
    expect((singleNodeModel(model, info.nodes[0]!.name, values, info) as SingleNodeModel).feeds[0]!.data).toBe(trace.blobs.get(trace.header.input.tensors[0]!.blob!.id));
    expect(singleNodeModel(model, 'no-such-node', values, info)).toEqual({ reason: 'not a node of the reference model\'s main graph' });
  });

  it('silero-vad-v5: an int64 graph input and Constant feed Equal; If (subgraphs) is refused with a reason; a stats trace has no inputs to feed', async () => {
    const prepared = await prepareInput(VAD, { input: [`input=${join(VAD_FIXTURES, 'speech_input.npy')}`, `state=${join(VAD_FIXTURES, 'speech_state.npy')}`, `sr=${join(VAD_FIXTURES, 'sr.npy')}`] });
    const trace = await traceInNode({ model: VAD, backend: 'cpu', ...prepared, capture: 'tensors', runs: 1, warmup: 0 });
    const model = load(VAD);
    const info = describeOnnx(model);
    const values = traceValues(trace, info);
    const eq = singleNodeModel(model, 'Equal_0', values, info) as SingleNodeModel;
    expect(eq.feeds.map((f) => [f.name, f.elemType, f.shape])).toEqual([['sr', TensorProto_DataType.INT64, []]]);
    expect(eq.weights).toEqual(['Constant_0_output']);
    const got = await runSingle(eq);
    expect(Array.from(got[0]!)).toEqual(Array.from(recordedOutput(trace, 'Equal_0')));
    const iff = singleNodeModel(model, 'If_0', values, info);
    expect(isNotReplayable(iff) && iff.reason).toMatch(/If runs subgraph\(s\).*not replayed alone/);
    const inner = info.nodes.find((n) => n.name === 'If_0')!.subgraphNodeNames[0]!;
    expect(isNotReplayable(singleNodeModel(model, inner, values, info)) && (singleNodeModel(model, inner, values, info) as { reason: string }).reason).toMatch(/inside the subgraph of If_0/);
    // The Identity after If reads the If's output: recorded, so it replays.
    const [idOut] = await runSingle(singleNodeModel(model, 'Introduce_0_id0', values, info) as SingleNodeModel);
    expect(Array.from(idOut!)).toEqual(Array.from(recordedOutput(trace, 'Introduce_0_id0')));
    // Through the replayer: errors per node, values for the others.
    const res = await replayOnnxNodes(VAD, 'cpu', trace, ['Equal_0', 'If_0', 'Introduce_0_id1']);
    expect(res.map((r) => r.error ?? 'ok')).toEqual(['ok', expect.stringMatching(/control-flow node/), 'ok']);
    expect(Array.from(res[2]!.outputs[0]!)).toEqual(Array.from(recordedOutput(trace, 'Introduce_0_id1')));

    const stats = await traceInNode({ model: VAD, backend: 'cpu', ...prepared, capture: 'stats', runs: 1, warmup: 0 });
    const r = singleNodeModel(model, 'Introduce_0_id0', traceValues(stats, info), info);
    expect(isNotReplayable(r) && r.reason).toBe('input If_0_outputs_0: output 0 of If_0 has no recorded values (the trace was captured with `stats`)');
  });

  it('Constant nodes in every value form become initializers (a model built here)', async () => {
    const T = AttributeProto_AttributeType;
    const f32 = (name: string, dims: number[]) =>
      create(ValueInfoProtoSchema, {
        name,
        type: create(TypeProtoSchema, {
          value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: 1, shape: create(TensorShapeProtoSchema, { dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } })) }) }) },
        }),
      });
    const constant = (out: string, attr: Parameters<typeof create<typeof AttributeProtoSchema>>[1]) => create(NodeProtoSchema, { opType: 'Constant', output: [out], attribute: [create(AttributeProtoSchema, attr)] });
    const model = create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })],
      graph: create(GraphProtoSchema, {
        name: 'g',
        node: [
          constant('half', { name: 'value_float', type: T.FLOAT, f: 0.5 }),
          constant('bias', { name: 'value_floats', type: T.FLOATS, floats: [1, 2, 3] }),
          constant('shape', { name: 'value_ints', type: T.INTS, ints: [3n, 1n] }),
          create(NodeProtoSchema, { opType: 'Mul', input: ['x', 'half'], output: ['m'] }),
          create(NodeProtoSchema, { opType: 'Add', input: ['m', 'bias'], output: ['a'] }),
          create(NodeProtoSchema, { opType: 'Reshape', input: ['a', 'shape'], output: ['y'] }),
        ],
        input: [f32('x', [3])],
        output: [f32('y', [3, 1])],
      }),
    });
    const bytes = encodeOnnx(model);
    const trace = await traceOnnx(ort, bytes, [{ name: 'x', shape: [3], dtype: 'float32', data: new Float32Array([2, 4, 6]) }], {
      runtime: 'onnxruntime-node',
      executionProvider: 'cpu',
      profiler: null,
      capture: 'tensors',
      runs: 1,
      warmup: 0,
    });
    const decoded = decodeOnnx(bytes, 'built.onnx');
    const info = describeOnnx(decoded);
    const values = traceValues(trace, info);
    const expected: Record<string, number[]> = { Mul_3: [1, 2, 3], Add_4: [2, 4, 6], Reshape_5: [2, 4, 6] };
    for (const [node, want] of Object.entries(expected)) {
      const s = singleNodeModel(decoded, node, values, info) as SingleNodeModel;
      expect(s.model.graph!.node.length).toBe(1);
      expect(Array.from((await runSingle(s))[0]!)).toEqual(want);
    }
    expect((singleNodeModel(decoded, 'Reshape_5', values, info) as SingleNodeModel).model.graph!.initializer[0]!.int64Data).toEqual([3n, 1n]);
  });
});

describe('kernel cause on ONNX: one node computes differently on the same inputs', () => {
  const cases = [
    {
      what: 'ppocr-mobile-v2-cls, HardSigmoid alpha 0.2 → 0.3, edge wasm, reference onnxruntime-node',
      dir: CLS,
      photo: 'chelsea.png',
      target: 'p2o.HardSigmoid.4',
      edit: (m: ModelProto) => setOnnxAttribute(m, 'p2o.HardSigmoid.4', 'alpha', 0.3),
      edgeBackend: 'wasm' as const,
      refBackend: 'cpu' as const,
    },
    {
      what: 'ppocr-v4-rec, 3×3 depthwise Conv pads 1,1,1,1 → 2,2,0,0 (same shape, shifted window), edge cpu, reference wasm',
      dir: REC,
      photo: 'page_line1.png',
      target: 'p2o.Conv.9',
      edit: (m: ModelProto) => setOnnxAttribute(m, 'p2o.Conv.9', 'pads', [2, 2, 0, 0]),
      edgeBackend: 'cpu' as const,
      refBackend: 'wasm' as const,
    },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const model = load(c.dir);
      const target = describeOnnx(model).nodes.find((n) => n.name === c.target)!;
      if (target.op === 'Conv') {
        const attr = (k: string) => model.graph!.node[target.position]!.attribute.find((a) => a.name === k)!.ints.map(Number);
        expect([attr('kernel_shape'), attr('strides'), attr('pads')]).toEqual([[3, 3], [1, 1], [1, 1, 1, 1]]);
      }
      const file = join(SAMPLES, c.photo);
      const edge = await editedOnnxEdge(basename(c.dir), await decodeImageFile(file), c.edit, c.edgeBackend);
      const { diagnosis: d } = await runDiagnosis({ edge, image: file, backend: c.refBackend });
      expect(d.causes.map((x) => x.code), d.summary).toEqual(['kernel']);
      const k = d.causes[0]!;
      expect(k.node).toBe(c.target);
      expect(k.detail).toContain(`${c.target} (${target.op}) is wrong on its own inputs: replayed alone on ${c.refBackend}`);
      expect(d.firstDivergentNode).toBe(c.target);
      expect(d.inputMatches).toBe(true);
      expect(d.warnings.join('\n')).not.toMatch(/single-node replay is not available/);
      const a = d.nodes.find((n) => n.node === c.target)!;
      expect(a.own!).toBeGreaterThan(1e-2);
      expect(a.inherited!).toBeLessThan(1e-5);
      expect(a.ownShare!).toBeGreaterThan(0.99);
      // Nodes replayed after it inherit the error: their own error is float noise.
      const replayed = d.nodes.filter((n) => n.own !== null && n.node !== c.target);
      expect(replayed.length).toBeGreaterThan(3);
      for (const n of replayed) expect(n.own!, n.node).toBeLessThan(1e-4);
      expect(replayed.some((n) => n.total > 1e-2)).toBe(true);
    });
  }
});

describe('a clean ONNX run has no kernel cause', () => {
  it('ppocr-v4-rec on wasm with ±1 level decoder noise, reference onnxruntime-node: none, though 24 nodes were replayed', async () => {
    const card = await loadModelCard(join(REC, 'exray.json'));
    const spec = card.inputs[0]!.preprocess!;
    const file = join(SAMPLES, 'page_line1.png');
    const { image, source } = await decodeImageFile(file);
    // Another decoder's ±1 level noise: the outputs drift past the tolerance (so nodes are replayed), the input still matches.
    const t = preprocess(decoderNoise(image), source.exifOrientation, spec);
    const feed = [{ name: card.inputs[0]!.name, shape: t.shape, dtype: t.dtype, data: t.data }];
    const edge = await traceInNode({ model: REC, backend: 'wasm', feed, feedFile: file, capture: 'tensors', runs: 1, warmup: 0, source, preprocess: spec, label: 'edge' });
    const run = await runDiagnosis({ edge, image: file, backend: 'cpu' });
    const d = run.diagnosis;
    expect(run.comparison.verdict).not.toBe('ok');
    expect(d.causes.map((x) => x.code), d.summary).toEqual(['none']);
    expect(d.firstDivergentNode).toBeNull();
    const replayed = d.nodes.filter((n) => n.own !== null);
    expect(replayed.length).toBe(24);
    expect(d.nodes.filter((n) => n.replayNote)).toEqual([]);
    for (const n of replayed) expect(n.own!, n.node).toBeLessThan(1e-4);
  });
});
