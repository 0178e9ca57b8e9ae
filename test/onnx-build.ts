/**
 * Building small ONNX models by hand in tests: typed value infos, nodes with graph / int / ints
 * attributes, scalar initializers. Shared by test/ort-loop.test.ts and test/onnx-name-clash.test.ts.
 */
import { create } from '@bufbuild/protobuf';
import { encodeOnnx } from '../src/onnx/model.ts';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type GraphProto,
  type NodeProto,
} from '../src/onnx/proto/onnx-ml_pb.ts';

export const FLOAT = 1;
export const INT64 = 7;
export const BOOL = 9;

export function info(name: string, elemType: number, dims?: number[]): ReturnType<typeof create<typeof ValueInfoProtoSchema>> {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: { elemType, ...(dims ? { shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } : {}) } } }),
  });
}

export function node(op: string, name: string, input: string[], output: string[], attrs: { name: string; g?: GraphProto; ints?: bigint[]; i?: bigint }[] = []): NodeProto {
  return create(NodeProtoSchema, {
    opType: op,
    name,
    input,
    output,
    attribute: attrs.map((a) =>
      create(AttributeProtoSchema, {
        name: a.name,
        ...(a.g ? { type: AttributeProto_AttributeType.GRAPH, g: a.g } : a.ints ? { type: AttributeProto_AttributeType.INTS, ints: a.ints } : { type: AttributeProto_AttributeType.INT, i: a.i ?? 0n }),
      }),
    ),
  });
}

export function scalar(name: string, dataType: number, value: number): ReturnType<typeof create<typeof TensorProtoSchema>> {
  return create(TensorProtoSchema, { name, dataType, dims: [], ...(dataType === INT64 ? { int64Data: [BigInt(value)] } : dataType === BOOL ? { int32Data: [value] } : { floatData: [value] }) });
}

/** A model of `graph` at IR 8, default-domain opset `opset`, as `.onnx` bytes. */
export function modelBytes(graph: GraphProto, opset = 16): Uint8Array {
  return encodeOnnx(create(ModelProtoSchema, { irVersion: 8n, opsetImport: [{ domain: '', version: BigInt(opset) }], graph }));
}
