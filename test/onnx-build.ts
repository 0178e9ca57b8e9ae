/**
 * Building small ONNX models by hand in tests: typed value infos, nodes with graph / int / ints
 * attributes, scalar initializers; and the models built with them that several tests run.
 */
import { create } from '@bufbuild/protobuf';
import { encodeOnnx } from '../src/onnx/model.ts';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
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

/**
 * x [2], c → If `pick` (then: plus = x + 1; If `inner` (then: x = plus·2, else: y = plus);
 * `inner/then/x` = inner + 10 · else: minus = x − 1) → p; main `pick/then/plus` = p·2 → z.
 */
export function clashModel(): Uint8Array {
  const innerThen = create(GraphProtoSchema, { name: 'inner_then', node: [node('Mul', 'x', ['t1', 'two'], ['t2'])], output: [info('t2', FLOAT, [2])] });
  const innerElse = create(GraphProtoSchema, { name: 'inner_else', node: [node('Identity', 'y', ['t1'], ['t3'])], output: [info('t3', FLOAT, [2])] });
  const then = create(GraphProtoSchema, {
    name: 'pick_then',
    node: [
      node('Add', 'plus', ['x', 'one'], ['t1']),
      node('If', 'inner', ['c'], ['tin'], [{ name: 'then_branch', g: innerThen }, { name: 'else_branch', g: innerElse }]),
      node('Add', 'inner/then/x', ['tin', 'ten'], ['t4']),
    ],
    output: [info('t4', FLOAT, [2])],
  });
  const otherwise = create(GraphProtoSchema, { name: 'pick_else', node: [node('Sub', 'minus', ['x', 'one'], ['e1'])], output: [info('e1', FLOAT, [2])] });
  const g = create(GraphProtoSchema, {
    name: 'clash',
    input: [info('x', FLOAT, [2]), info('c', BOOL, [])],
    initializer: [scalar('one', FLOAT, 1), scalar('two', FLOAT, 2), scalar('ten', FLOAT, 10)],
    node: [node('If', 'pick', ['c'], ['p'], [{ name: 'then_branch', g: then }, { name: 'else_branch', g: otherwise }]), node('Mul', 'pick/then/plus', ['p', 'two'], ['z'])],
    output: [info('z', FLOAT, [2])],
  });
  return modelBytes(g);
}

/** x [2] → Loop 3 times: s' = Concat(s, s) (a body value whose shape changes every iteration) → Neg → y. */
export function growModel(): Uint8Array {
  const body = create(GraphProtoSchema, {
    name: 'grow_body',
    input: [info('iter', INT64, []), info('cond_in', BOOL, []), info('s', FLOAT)],
    node: [node('Concat', 'grow', ['s', 's'], ['s_next'], [{ name: 'axis', i: 0n }]), node('Identity', 'keep_going', ['cond_in'], ['cond_out'])],
    output: [info('cond_out', BOOL, []), info('s_next', FLOAT)],
  });
  const g = create(GraphProtoSchema, {
    name: 'grow',
    input: [info('x', FLOAT, [2])],
    initializer: [scalar('trips', INT64, 3), scalar('go', BOOL, 1)],
    node: [node('Loop', 'loop', ['trips', 'go', 'x'], ['s_final'], [{ name: 'body', g: body }]), node('Neg', 'negate', ['s_final'], ['y'])],
    output: [info('y', FLOAT)],
  });
  return modelBytes(g);
}
