/**
 * Element types of the values of one ONNX graph, inferred forward from what the model declares
 * (inputs, initializers, value_info, Constant tensors) and each op's typing rule. Pure.
 *
 * Why: exposing a value computed inside one `If` branch needs a stand-in of the same element type in
 * the other branch (ONNX types an If output by both branches), and bodies rarely carry value_info.
 * Only the element type is inferred, not the shape. A value whose type no rule gives is left out of
 * the map (the caller casts it to float rather than guess).
 */
import type { GraphProto, NodeProto } from './proto/onnx-ml_pb.ts';

const FLOAT = 1;
const UINT8 = 2;
const INT32 = 6;
const INT64 = 7;
const BOOL = 9;

const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT32_OUT = new Set(['ConvInteger', 'MatMulInteger']);
/** Ops with no tensor input whose type comes from a `dtype` attribute (default float). */
const DTYPE_ATTR = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'EyeLike', 'Multinomial']);

function attrInt(n: NodeProto, name: string): number | undefined {
  const a = n.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
}

function attrGraph(n: NodeProto, name: string): GraphProto | undefined {
  return n.attribute.find((x) => x.name === name)?.g;
}

/** The element type of a TypeProto-carrying value info, 0 when not a tensor. */
function declared(vi: { type?: { value: { case?: string; value?: unknown } } }): number {
  const v = vi.type?.value;
  if (v?.case === 'tensorType') return (v.value as { elemType: number }).elemType;
  return 0;
}

/** Output element types of `n` (undefined: unknown), given the types known so far. */
function outputTypes(n: NodeProto, types: ReadonlyMap<string, number>): (number | undefined)[] {
  const input = (i: number): number | undefined => (n.input[i] ? types.get(n.input[i]!) : undefined);
  const all = (t: number | undefined): (number | undefined)[] => n.output.map(() => t);
  const op = n.opType;
  if (op === 'Constant') {
    const a = n.attribute[0];
    if (a?.t) return [a.t.dataType];
    if (a?.name === 'value_float' || a?.name === 'value_floats') return [FLOAT];
    if (a?.name === 'value_int' || a?.name === 'value_ints') return [INT64];
    return [undefined];
  }
  if (op === 'Cast') return all(attrInt(n, 'to'));
  if (op === 'CastLike') return all(input(1));
  if (op === 'ConstantOfShape') return all(n.attribute.find((a) => a.name === 'value')?.t?.dataType ?? FLOAT);
  if (INT64_OUT.has(op)) return all(INT64);
  if (BOOL_OUT.has(op)) return all(BOOL);
  if (INT32_OUT.has(op)) return all(INT32);
  if (DTYPE_ATTR.has(op)) return all(attrInt(n, 'dtype') ?? (op.endsWith('Like') || op === 'EyeLike' ? input(0) : FLOAT));
  if (op === 'Where') return all(input(1));
  if (op === 'OneHot') return all(input(2));
  if (op === 'TopK') return [input(0), INT64];
  if (op === 'Unique') return [input(0), INT64, INT64, INT64];
  if (op === 'MaxPool') return [input(0), INT64];
  if (op === 'Dropout') return [input(0), BOOL];
  if (op === 'QuantizeLinear') return all(input(2) ?? UINT8);
  if (op === 'DynamicQuantizeLinear') return [UINT8, FLOAT, UINT8];
  if (op === 'DequantizeLinear') return all(input(1) ?? FLOAT);
  if (op === 'QLinearConv' || op === 'QLinearMatMul') return all(input(7) ?? input(2));
  if (op === 'If') {
    const branch = attrGraph(n, 'then_branch');
    if (!branch) return all(undefined);
    const inner = inferElemTypes(branch, types);
    return n.output.map((_, i) => (branch.output[i] ? inner.get(branch.output[i]!.name) : undefined));
  }
  if (op === 'Loop' || op === 'Scan') {
    const body = attrGraph(n, 'body');
    if (!body) return all(undefined);
    const inner = inferElemTypes(body, types);
    // Loop: body outputs are (cond, carried…, scan…), node outputs (carried…, scan…); Scan: the same without cond.
    const skip = op === 'Loop' ? 1 : 0;
    return n.output.map((_, i) => (body.output[i + skip] ? inner.get(body.output[i + skip]!.name) : undefined));
  }
  // Most ops (element-wise, shape manipulation, Conv, recurrent cells, normalisations) keep their first input's type.
  const first = n.input.find((v) => v !== '');
  return all(first ? types.get(first) : undefined);
}

/**
 * Element types (ONNX `TensorProto.DataType` numbers) of `g`'s values, nested bodies excluded;
 * `outer` holds the enclosing graphs' (a body reads their values).
 */
export function inferElemTypes(g: GraphProto, outer: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const types = new Map(outer);
  for (const t of g.initializer) types.set(t.name, t.dataType);
  for (const vi of [...g.input, ...g.valueInfo, ...g.output]) {
    const e = declared(vi);
    if (e > 0) types.set(vi.name, e);
  }
  for (const n of g.node) {
    const out = outputTypes(n, types);
    n.output.forEach((v, i) => {
      if (!v || types.has(v)) return;
      const t = out[i];
      if (t !== undefined && t > 0) types.set(v, t);
    });
  }
  return types;
}
