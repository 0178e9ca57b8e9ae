/**
 * What an ONNX model declares: inputs, outputs, value types, and its computing nodes in topological
 * order with the names exray records them under. Pure.
 */
import type { DType, IOSpec } from '../trace/types.ts';
import { dtypeOfOnnx, onnxTypeName } from './dtypes.ts';
import type { GraphProto, ModelProto, NodeProto, TypeProto, ValueInfoProto } from './proto/onnx-ml_pb.ts';

/** ONNX's default domain is spelled `` or `ai.onnx`. */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** A `Constant` node (a weight or a literal stored as a node): no inputs, one output. */
export function isConstantNode(n: NodeProto): boolean {
  return n.opType === 'Constant' && isDefaultDomain(n.domain);
}

export interface ValueType {
  /** `tensor`, or the kind of a non-tensor value (`sequence`, `map`, `optional`, `sparse_tensor`, `opaque`). */
  kind: string;
  /** ONNX element type number (tensor kinds), 0 when unknown. */
  elemType: number;
  /** null: a symbolic or unknown dimension; undefined shape: rank unknown. */
  shape?: (number | null)[];
}

function valueTypeOf(t: TypeProto | undefined): ValueType | undefined {
  if (!t || t.value.case === undefined) return undefined;
  const v = t.value;
  if (v.case === 'tensorType' || v.case === 'sparseTensorType') {
    const kind = v.case === 'tensorType' ? 'tensor' : 'sparse_tensor';
    const dims = v.value.shape?.dim;
    const shape = dims?.map((d) => (d.value.case === 'dimValue' && d.value.value >= 0n ? Number(d.value.value) : null));
    return { kind, elemType: v.value.elemType, ...(shape ? { shape } : {}) };
  }
  const kinds: Record<string, string> = { sequenceType: 'sequence', mapType: 'map', optionalType: 'optional', opaqueType: 'opaque' };
  return { kind: kinds[v.case] ?? v.case, elemType: 0 };
}

function ioSpec(vi: ValueInfoProto): IOSpec {
  const t = valueTypeOf(vi.type);
  return { name: vi.name, shape: t?.shape ?? [], dtype: t && t.kind === 'tensor' ? dtypeOfOnnx(t.elemType) : 'float32' };
}

export interface OnnxNode {
  /** Position in `graph.node` of the main graph. */
  position: number;
  /** The name exray records: the node's name, made unique (`<name or op>_<position>` when empty or taken). */
  name: string;
  /** The node's own name as stored (may be empty or shared). */
  protoName: string;
  op: string;
  domain: string;
  /** Input value names as stored (empty strings for omitted optional inputs). */
  inputs: string[];
  /** Non-empty output value names (omitted optional outputs are dropped). */
  outputs: string[];
  /** Names of recorded nodes (or graph inputs) whose outputs this node consumes. */
  producers: string[];
  /** Nodes inside this node's subgraphs (If / Loop / Scan), recursively. */
  subgraphNodes: number;
  /** Output values of nodes inside this node's subgraphs: these cannot become graph outputs. */
  subgraphValues: string[];
  /** Names of the (non-Constant) nodes inside this node's subgraphs. */
  subgraphNodeNames: string[];
  /**
   * The index onnxruntime gives this node (`node_index` in its profiler): ORT turns `Constant` nodes
   * into initializers while loading, so its indices count the other nodes in file order.
   */
  ortIndex: number;
}

export interface OnnxGraphInfo {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  /** Graph inputs that are not initializers, in file order. */
  inputs: IOSpec[];
  outputs: IOSpec[];
  /** Every computing node of the main graph (Constant nodes excluded), in topological order. */
  nodes: OnnxNode[];
  /** `Constant` nodes of the main graph (weights stored as nodes: not recorded). */
  constantNodes: number;
  initializers: number;
  /** Model-local functions (FunctionProto): their bodies run inside the calling node. */
  functions: string[];
  /** Known types of values: graph inputs and outputs, value_info. */
  valueTypes: Map<string, ValueType>;
}

function subgraphsOf(n: NodeProto): GraphProto[] {
  const out: GraphProto[] = [];
  for (const a of n.attribute) {
    if (a.g) out.push(a.g);
    out.push(...a.graphs);
  }
  return out;
}

/** Computing nodes (Constant nodes are weights: not counted) and their output values, recursively. */
function collectSubgraph(g: GraphProto, acc: { nodes: number; values: string[]; names: string[] }): void {
  for (const n of g.node) {
    if (isConstantNode(n)) continue;
    acc.nodes++;
    if (n.name) acc.names.push(n.name);
    for (const o of n.output) if (o) acc.values.push(o);
    for (const sg of subgraphsOf(n)) collectSubgraph(sg, acc);
  }
}

/**
 * The record of one computing node, where it sits given by the caller (main graph: describeOnnx; a
 * body: subgraphs.ts): its proto's op, inputs, named outputs and what its own subgraphs hold.
 */
export function onnxNodeOf(n: NodeProto, at: { position: number; name: string; producers: string[]; ortIndex: number }): OnnxNode {
  const acc = { nodes: 0, values: [] as string[], names: [] as string[] };
  for (const sg of subgraphsOf(n)) collectSubgraph(sg, acc);
  return {
    position: at.position,
    name: at.name,
    protoName: n.name,
    op: n.opType,
    domain: n.domain,
    inputs: [...n.input],
    outputs: n.output.filter((o) => o !== ''),
    producers: at.producers,
    subgraphNodes: acc.nodes,
    subgraphValues: acc.values,
    subgraphNodeNames: acc.names,
    ortIndex: at.ortIndex,
  };
}

/**
 * Kahn's algorithm, taking the lowest file position among ready nodes: the file order when it is
 * already topological (as the ONNX spec requires), a valid order otherwise. Values produced by no
 * node of the list (graph inputs, initializers, Constant outputs, outer-scope values) are ready.
 */
function topologicalOrder(nodes: NodeProto[], positions: number[]): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const deps: Set<number>[] = nodes.map(() => new Set());
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const needed = [...n.input];
    // A subgraph may read values of the outer graph: they must be computed before the node runs.
    for (const g of subgraphsOf(n)) collectOuterReads(g, needed);
    for (const v of needed) {
      const p = producer.get(v);
      if (p !== undefined && p !== i && !deps[i]!.has(p)) {
        deps[i]!.add(p);
        users[p]!.push(i);
      }
    }
  });
  const remaining = deps.map((d) => d.size);
  // A binary min-heap on file position: O((nodes + edges) log nodes). (Sorting the ready list at every
  // step was quadratic: 194 s to describe 60k parallel Identity nodes.)
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => positions[a]! < positions[b]!;
  const push = (v: number): void => {
    let k = heap.push(v) - 1;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!less(heap[k]!, heap[parent]!)) break;
      [heap[k], heap[parent]] = [heap[parent]!, heap[k]!];
      k = parent;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === k) break;
        [heap[k], heap[m]] = [heap[m]!, heap[k]!];
        k = m;
      }
    }
    return top;
  };
  remaining.forEach((r, i) => r === 0 && push(i));
  const order: number[] = [];
  const placed = new Uint8Array(nodes.length);
  while (heap.length > 0) {
    const i = pop();
    order.push(i);
    placed[i] = 1;
    for (const u of users[i]!) if (--remaining[u]! === 0) push(u);
  }
  // A cycle (invalid model): keep the rest in file order so nothing is lost; ORT will reject it.
  if (order.length < nodes.length) nodes.forEach((_, i) => placed[i] === 0 && order.push(i));
  return order;
}

function collectOuterReads(g: GraphProto, acc: string[]): void {
  for (const n of g.node) {
    acc.push(...n.input);
    for (const sg of subgraphsOf(n)) collectOuterReads(sg, acc);
  }
}

/** What the model declares: inputs, outputs, nodes in topological order, what cannot be exposed. */
export function describeOnnx(model: ModelProto): OnnxGraphInfo {
  const g = model.graph;
  if (!g) throw new Error('describeOnnx: model has no graph');
  const initializerNames = new Set(g.initializer.map((t) => t.name));
  for (const s of g.sparseInitializer) if (s.values?.name) initializerNames.add(s.values.name);
  const valueTypes = new Map<string, ValueType>();
  for (const vi of [...g.valueInfo, ...g.input, ...g.output]) {
    const t = valueTypeOf(vi.type);
    if (t) valueTypes.set(vi.name, t);
  }

  const computing: NodeProto[] = [];
  const positions: number[] = [];
  const ortIndex: number[] = [];
  let constantNodes = 0;
  g.node.forEach((n, pos) => {
    if (isConstantNode(n)) {
      constantNodes++;
      return;
    }
    ortIndex.push(computing.length);
    computing.push(n);
    positions.push(pos);
  });

  // Unique names: the stored name when it is non-empty and not shared, else `<name or op>_<position>`.
  const nameCount = new Map<string, number>();
  for (const n of computing) if (n.name) nameCount.set(n.name, (nameCount.get(n.name) ?? 0) + 1);
  const taken = new Set<string>();
  const names = computing.map((n, i) => {
    let name = n.name && nameCount.get(n.name) === 1 ? n.name : `${n.name || n.opType}_${positions[i]}`;
    while (taken.has(name)) name = `${name}_`;
    taken.add(name);
    return name;
  });

  const graphInputs = g.input.filter((vi) => !initializerNames.has(vi.name));
  const graphInputNames = new Set(graphInputs.map((vi) => vi.name));
  const producerName = new Map<string, string>();
  computing.forEach((n, i) => n.output.forEach((o) => o && producerName.set(o, names[i]!)));

  const order = topologicalOrder(computing, positions);
  const nodes: OnnxNode[] = order.map((i) => {
    const n = computing[i]!;
    const producers: string[] = [];
    for (const v of n.input) {
      const p = producerName.get(v) ?? (graphInputNames.has(v) ? v : undefined);
      if (p !== undefined && !producers.includes(p)) producers.push(p);
    }
    return onnxNodeOf(n, { position: positions[i]!, name: names[i]!, producers, ortIndex: ortIndex[i]! });
  });

  return {
    irVersion: Number(model.irVersion),
    opsets: model.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })),
    producer: [model.producerName, model.producerVersion].filter((s) => s).join(' '),
    inputs: graphInputs.map(ioSpec),
    outputs: g.output.map(ioSpec),
    nodes,
    constantNodes,
    initializers: g.initializer.length + g.sparseInitializer.length,
    functions: model.functions.map((f) => (f.domain ? `${f.domain}.${f.name}` : f.name)),
    valueTypes,
  };
}

/** Short text for messages: `float[1,3,48,?]`. */
export function describeValueType(t: ValueType | undefined): string {
  if (!t) return 'unknown type';
  if (t.kind !== 'tensor') return t.kind;
  return `${onnxTypeName(t.elemType)}[${t.shape ? t.shape.map((d) => d ?? '?').join(',') : '…'}]`;
}

/** The dtype a graph input declares, with the ONNX type name for messages. */
export function inputElemType(info: OnnxGraphInfo, name: string): { dtype: DType; onnx: string; elemType: number } | undefined {
  const t = info.valueTypes.get(name);
  if (!t || t.kind !== 'tensor') return undefined;
  return { dtype: dtypeOfOnnx(t.elemType), onnx: onnxTypeName(t.elemType), elemType: t.elemType };
}
