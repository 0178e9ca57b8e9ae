/**
 * Single-node models: one node of an ONNX model cut out as a model of its own, so a reference runtime
 * can run it alone on another run's recorded inputs (the `kernel` cause's own-vs-inherited split).
 * Pure (no DOM, no Node).
 *
 * The model holds the node itself, unchanged (attributes, domain, name); the weights it reads,
 * copied as initializers (an initializer is copied as is, a `Constant` node's value becomes an
 * initializer of the same name); every other input as a graph input, typed from the model
 * (`value_info`, graph inputs) or else from the recorded tensor; its named outputs as graph outputs
 * (typed from `value_info` when the model has it, else left for onnxruntime to infer); the model's
 * IR version, operator set imports and model-local functions.
 *
 * Trace node names are describeOnnx's unique names (the stored name, or `<name or op>_<position>` when
 * it is empty or shared); a node's `outputs[k]` in a trace is its k-th *named* output; graph inputs are
 * recorded in `header.input.tensors` by name.
 */
import { clone, create } from '@bufbuild/protobuf';
import type { BlobData, DType, Trace } from '../trace/types.ts';
import { onnxTypeName } from './dtypes.ts';
import { describeOnnx, isConstantNode, type ModelProto, type NodeProto, type OnnxGraphInfo, type OnnxNode } from './model.ts';
import {
  AttributeProto_AttributeType,
  FunctionProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  SparseTensorProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type SparseTensorProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto/onnx-ml_pb.ts';

/** Values another run recorded, as the replay feeds them. */
export interface RecordedValue {
  shape: number[];
  dtype: DType;
  data: BlobData;
}

/** A recorded value by ONNX value name, or the reason it cannot be fed (a sentence). */
export type RecordedValues = (value: string) => RecordedValue | string;

/** One graph input of a single-node model, with the values to feed it. */
export interface NodeFeed extends RecordedValue {
  /** The value name (graph input name of the single-node model). */
  name: string;
  /** The ONNX element type the single-node model declares for it. */
  elemType: number;
}

export interface SingleNodeModel {
  node: OnnxNode;
  model: ModelProto;
  /** Graph inputs in declaration order, with the recorded values to feed. */
  feeds: NodeFeed[];
  /** The node's named outputs, in order (= the trace's `outputs[k]`). */
  outputs: string[];
  /** Weights copied in: initializers and Constant-node values. */
  weights: string[];
}

/** Why a node cannot be cut out or fed. */
export interface NotReplayable {
  reason: string;
}

/** Element type for a trace dtype (used when the model declares no type for a value). */
const ELEM_OF_DTYPE: Record<DType, number> = {
  float32: TensorProto_DataType.FLOAT,
  float16: TensorProto_DataType.FLOAT16,
  int32: TensorProto_DataType.INT32,
  int64: TensorProto_DataType.INT64,
  int8: TensorProto_DataType.INT8,
  uint8: TensorProto_DataType.UINT8,
  bool: TensorProto_DataType.BOOL,
  string: TensorProto_DataType.STRING,
};

/**
 * The recorded value of every main-graph value name a trace holds: a node's k-th named output
 * (its `outputs[k]` blob) or a graph input (`header.input.tensors`). int64 values beyond the int32
 * range were stored as float32 (approximate): refused, a replay must get the exact inputs.
 */
export function traceValues(trace: Trace, info: OnnxGraphInfo): RecordedValues {
  const records = new Map(trace.header.nodes.map((n) => [n.name, n]));
  const producedBy = new Map<string, { node: string; k: number }>();
  for (const n of info.nodes) n.outputs.forEach((v, k) => producedBy.set(v, { node: n.name, k }));
  const inputs = new Map(trace.header.input.tensors.map((t) => [t.name, t]));
  return (value) => {
    const p = producedBy.get(value);
    let t;
    let what: string;
    if (p) {
      const rec = records.get(p.node);
      if (!rec) return `its producer ${p.node} is not in the trace`;
      t = rec.outputs[p.k];
      what = `output ${p.k} of ${p.node}`;
    } else {
      t = inputs.get(value);
      what = `graph input ${value}`;
      if (!t) return `${value} is neither a node output nor a graph input the trace recorded`;
    }
    if (!t) return `${what} is not in the trace`;
    const data = t.blob ? trace.blobs.get(t.blob.id) : undefined;
    if (!data) return `${what} has no recorded values (the trace was captured with \`${trace.header.capture}\`${trace.header.capture === 'tensors' ? ', and this value was not read back' : ''})`;
    if (t.dtype === 'int64' && !(data instanceof Int32Array)) return `${what} holds int64 values beyond the int32 range, recorded approximately`;
    if (t.dtype === 'string') return `${what} holds strings, which traces do not record`;
    return { shape: [...t.shape], dtype: t.dtype, data };
  };
}

/** A graph input typed `elemType[shape]` (the recorded shape: every dimension known). */
function tensorType(elemType: number, shape: number[], name: string): ValueInfoProto {
  const dim = shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }));
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType, shape: create(TensorShapeProtoSchema, { dim }) }) },
    }),
  });
}

/** A Constant node's value as an initializer named after its output (every `value*` attribute form). */
function constantValue(n: NodeProto, name: string): { tensor?: TensorProto; sparse?: SparseTensorProto } | string {
  const a: AttributeProto | undefined = n.attribute[0];
  if (!a || n.attribute.length !== 1) return `Constant ${n.name || name} has ${n.attribute.length} attributes, expected one value`;
  if (a.refAttrName) return `Constant ${n.name || name} refers to a function attribute`;
  const T = AttributeProto_AttributeType;
  const scalar = (dataType: number, fields: { floatData?: number[]; int64Data?: bigint[]; stringData?: Uint8Array[] }, dims: bigint[] = []): { tensor: TensorProto } => ({
    tensor: create(TensorProtoSchema, { name, dataType, dims, ...fields }),
  });
  switch (a.name) {
    case 'value': {
      if (!a.t) break;
      const t = clone(TensorProtoSchema, a.t);
      t.name = name;
      return { tensor: t };
    }
    case 'sparse_value': {
      if (!a.sparseTensor?.values) break;
      const s = clone(SparseTensorProtoSchema, a.sparseTensor);
      s.values!.name = name;
      return { sparse: s };
    }
    case 'value_float':
      return scalar(TensorProto_DataType.FLOAT, { floatData: [a.f] });
    case 'value_floats':
      return scalar(TensorProto_DataType.FLOAT, { floatData: [...a.floats] }, [BigInt(a.floats.length)]);
    case 'value_int':
      return scalar(TensorProto_DataType.INT64, { int64Data: [a.i] });
    case 'value_ints':
      return scalar(TensorProto_DataType.INT64, { int64Data: [...a.ints] }, [BigInt(a.ints.length)]);
    case 'value_string':
      return scalar(TensorProto_DataType.STRING, { stringData: [a.s] });
    case 'value_strings':
      return scalar(TensorProto_DataType.STRING, { stringData: [...a.strings] }, [BigInt(a.strings.length)]);
  }
  return `Constant ${n.name || name} has an unsupported attribute ${a.name} (type ${T[a.type] ?? a.type})`;
}

/**
 * Cut node `nodeName` (a trace node name) out of `model` as a model of its own, fed with `recorded`
 * values. Returns the reason instead when it cannot be: not a node of the main graph, a node with
 * subgraphs (If / Loop / Scan bodies read outer values the cut-out model would not have), an input
 * that was not recorded.
 */
export function singleNodeModel(
  model: ModelProto,
  nodeName: string,
  recorded: RecordedValues,
  info: OnnxGraphInfo = describeOnnx(model),
): SingleNodeModel | NotReplayable {
  const g = model.graph;
  if (!g) return { reason: 'the model has no graph' };
  const node = info.nodes.find((n) => n.name === nodeName);
  if (!node) {
    // Trace names of body nodes are `<control-flow node>/<body>/<node>` (subgraphs.ts); older traces used the bare name.
    const inside = info.nodes.find((n) => n.subgraphNodes > 0 && (nodeName.startsWith(`${n.name}/`) || n.subgraphNodeNames.includes(nodeName)));
    return { reason: inside ? `inside the subgraph of ${inside.name} (${inside.op}): cannot run alone` : 'not a node of the reference model\'s main graph' };
  }
  if (node.subgraphNodes > 0 || g.node[node.position]!.attribute.some((a) => a.g || a.graphs.length > 0)) {
    return { reason: `${node.op} runs subgraph(s) that read values of the enclosing graph: a control-flow node is not replayed alone` };
  }
  const proto = g.node[node.position]!;

  const initializers = new Map(g.initializer.map((t) => [t.name, t]));
  const sparse = new Map<string, SparseTensorProto>();
  for (const s of g.sparseInitializer) if (s.values?.name) sparse.set(s.values.name, s);
  const constants = new Map<string, NodeProto>();
  for (const n of g.node) if (isConstantNode(n) && n.output[0]) constants.set(n.output[0], n);
  const graphInputs = new Set(info.inputs.map((i) => i.name));

  const out = create(GraphProtoSchema, { name: `${g.name || 'graph'}:${node.name}`, node: [clone(NodeProtoSchema, proto)] });
  const feeds: NodeFeed[] = [];
  const weights: string[] = [];
  const seen = new Set<string>();
  for (const v of proto.input) {
    if (v === '' || seen.has(v)) continue;
    seen.add(v);
    // A graph input overrides an initializer of the same name (IR < 4 models list weights as inputs);
    // the trace records only the inputs that are not initializers (describeOnnx's `inputs`).
    const init = initializers.get(v);
    if (init && !graphInputs.has(v)) {
      out.initializer.push(clone(TensorProtoSchema, init));
      weights.push(v);
      continue;
    }
    const sp = sparse.get(v);
    if (sp && !graphInputs.has(v)) {
      out.sparseInitializer.push(clone(SparseTensorProtoSchema, sp));
      weights.push(v);
      continue;
    }
    const c = constants.get(v);
    if (c) {
      const cv = constantValue(c, v);
      if (typeof cv === 'string') return { reason: cv };
      if (cv.tensor) out.initializer.push(cv.tensor);
      if (cv.sparse) out.sparseInitializer.push(cv.sparse);
      weights.push(v);
      continue;
    }
    const r = recorded(v);
    if (typeof r === 'string') return { reason: `input ${v}: ${r}` };
    const declared = info.valueTypes.get(v);
    if (declared && declared.kind !== 'tensor') return { reason: `input ${v} is a ${declared.kind}, not a tensor` };
    const elemType = declared && declared.elemType > 0 ? declared.elemType : ELEM_OF_DTYPE[r.dtype];
    if (elemType === TensorProto_DataType.STRING) return { reason: `input ${v} holds strings (${onnxTypeName(elemType)}), which traces do not record` };
    const n = r.shape.reduce((a, b) => a * b, 1);
    if (n !== r.data.length) return { reason: `input ${v}: recorded shape [${r.shape}] needs ${n} values, the trace holds ${r.data.length}` };
    out.input.push(tensorType(elemType, r.shape, v));
    feeds.push({ name: v, elemType, ...r });
  }
  const valueInfo = new Map(g.valueInfo.map((vi) => [vi.name, vi]));
  for (const vi of g.output) valueInfo.set(vi.name, vi);
  for (const v of node.outputs) {
    const vi = valueInfo.get(v);
    out.output.push(vi ? clone(ValueInfoProtoSchema, vi) : create(ValueInfoProtoSchema, { name: v }));
  }
  const single = create(ModelProtoSchema, {
    irVersion: model.irVersion,
    opsetImport: model.opsetImport.map((o) => clone(OperatorSetIdProtoSchema, o)),
    producerName: 'exray single-node replay',
    graph: out,
    functions: model.functions.map((f) => clone(FunctionProtoSchema, f)),
  });
  return { node, model: single, feeds, outputs: [...node.outputs], weights };
}

/** True when singleNodeModel could not cut the node out (see `reason`). */
export function isNotReplayable(x: SingleNodeModel | NotReplayable): x is NotReplayable {
  return 'reason' in x;
}
