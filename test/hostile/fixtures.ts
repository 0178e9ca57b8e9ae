/** Hostile inputs for test/hostile/limits.test.ts and scripts/hostile-slow.ts, generated at test time (small on disk). */
import { writeFileSync } from 'node:fs';
import { deflateSync, crc32 } from 'node:zlib';
import { create, toBinary } from '@bufbuild/protobuf';
import { zipSync, strToU8, type Zippable } from 'fflate';
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType, TypeProto_TensorSchema, TypeProtoSchema, ValueInfoProtoSchema } from '../../src/onnx/proto/onnx-ml_pb.ts';
import { makeTrace } from '../../src/trace/test-fixtures.ts';

function pngChunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A PNG whose header claims width×height (RGB, 8 bit), with one deflated row of pixel data: a few hundred bytes. */
export function bigPngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.alloc(1 + width * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(row)),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * An .exray trace (valid header) with one blob whose zip directory declares `floats` float32 values
 * (3.9 GB for 975 000 000) and whose data is a few KB of deflated zeros: a zip bomb for a reader that
 * inflates blobs it does not need.
 */
export function bombTrace(floats = 975_000_000): Uint8Array {
  const trace = makeTrace(1);
  const header = structuredClone(trace.header);
  const out = header.nodes[0]!.outputs[0]!;
  const old = out.blob!.id;
  out.shape = [1, floats];
  out.blob = { id: 'bomb', encoding: 'float32', length: floats };
  if (out.stats) {
    const bins = out.stats.histogram?.counts.length ?? 0;
    out.stats = { ...out.stats, count: floats, min: 0, max: 0, mean: 0, std: 0, nanCount: 0, infCount: 0, zeroCount: floats };
    if (bins > 0) out.stats.histogram = { min: 0, max: 0, counts: [floats, ...new Array<number>(bins - 1).fill(0)] };
  }
  const files: Zippable = { 'header.json': strToU8(JSON.stringify(header)) };
  for (const [id, data] of trace.blobs) if (id !== old) files[`tensors/${id}.bin`] = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  files['tensors/bomb.bin'] = [new Uint8Array(1024 * 1024), { level: 9 }];
  const zip = zipSync(files);
  // Declare the blob's size as floats × 4 in its central directory entry (the reader takes sizes from there).
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let p = zip.length - 22; p >= 0; p--) {
    if (dv.getUint32(p, true) !== 0x06054b50) continue;
    let q = dv.getUint32(p + 16, true);
    const count = dv.getUint16(p + 10, true);
    for (let i = 0; i < count; i++) {
      const nameLen = dv.getUint16(q + 28, true);
      const name = new TextDecoder().decode(zip.subarray(q + 46, q + 46 + nameLen));
      if (name === 'tensors/bomb.bin') dv.setUint32(q + 24, floats * 4, true);
      q += 46 + nameLen + dv.getUint16(q + 30, true) + dv.getUint16(q + 32, true);
    }
    break;
  }
  return zip;
}

/** A Keras layers model.json whose inbound_nodes form a cycle (dense_a ← dense_b ← dense_a). */
export function cyclicLayersModel(): object {
  const dense = (name: string, from: string) => ({
    class_name: 'Dense',
    name,
    config: { name, units: 2, activation: 'linear', use_bias: false },
    inbound_nodes: [[[from, 0, 0, {}]]],
  });
  return {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Model',
      keras_version: '2.4.0',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Model',
        config: {
          name: 'cyclic',
          layers: [
            { class_name: 'InputLayer', name: 'input_1', config: { name: 'input_1', batch_input_shape: [null, 2], dtype: 'float32' }, inbound_nodes: [] },
            dense('dense_a', 'dense_b'),
            dense('dense_b', 'dense_a'),
          ],
          input_layers: [['input_1', 0, 0]],
          output_layers: [['dense_b', 0, 0]],
        },
      },
    },
    weightsManifest: [],
  };
}

/** A TF.js graph model.json with a cycle (b ← c ← b), or with an input naming no node. */
export function badGraphModel(kind: 'cycle' | 'dangling'): object {
  const node = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '1' }, { size: '2' }] } } } },
    { name: 'b', op: 'Relu', input: kind === 'cycle' ? ['c'] : ['nowhere:0'], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'c', op: 'Relu', input: ['b'], attr: { T: { type: 'DT_FLOAT' } } },
  ];
  return { format: 'graph-model', modelTopology: { node, versions: { producer: 1 } }, weightsManifest: [] };
}

/** An ONNX model of `n` Identity nodes, all reading the graph input (the case that was quadratic to describe). */
export function identityOnnx(n: number, chain = false): Uint8Array {
  const type = create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: TensorProto_DataType.FLOAT }) } });
  const nodes = [];
  for (let i = 0; i < n; i++) {
    nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: `id${i}`, input: [chain && i > 0 ? `y${i - 1}` : 'x'], output: [`y${i}`] }));
  }
  const graph = create(GraphProtoSchema, {
    name: 'many',
    node: nodes,
    input: [create(ValueInfoProtoSchema, { name: 'x', type })],
    output: [create(ValueInfoProtoSchema, { name: `y${n - 1}`, type })],
  });
  const model = create(ModelProtoSchema, { irVersion: 8n, opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })], graph, producerName: 'hostile' });
  return toBinary(ModelProtoSchema, model);
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  return path;
}
