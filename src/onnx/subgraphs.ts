/**
 * Nodes inside control-flow bodies (`If` branches, `Loop` / `Scan` bodies), named where they sit:
 * `If_25/then/Conv_73`, `Loop_3/body/If_1/else/Add_2`. Pure.
 *
 * A body node's name is its owner's trace name, the body (`then`, `else`, `body`, or the attribute's
 * name), and its own name made unique within its body as describeOnnx does for the main graph
 * (`<name or op>_<position>` when empty or shared). Constant nodes are weights, not recorded.
 */
import type { GraphProto, NodeProto } from './proto/onnx-ml_pb.ts';
import { isConstantNode, type OnnxGraphInfo, type OnnxNode } from './model.ts';

/** One step from the main graph down to a body: the control-flow node and which of its bodies. */
export interface Scope {
  node: string;
  op: string;
  /** `then`, `else`, `body`, or the attribute name for other ops' subgraphs. */
  body: string;
}

export interface BodyNode extends OnnxNode {
  /** The control-flow nodes above this node, outermost first; the last is its owner. */
  scope: Scope[];
}

/** A named subgraph of a node: `then_branch` → `then`, `else_branch` → `else`, `body`; list attributes `<name>[i]`. */
export function subgraphsOf(n: NodeProto): { body: string; graph: GraphProto }[] {
  const out: { body: string; graph: GraphProto }[] = [];
  for (const a of n.attribute) {
    const short = a.name === 'then_branch' ? 'then' : a.name === 'else_branch' ? 'else' : a.name;
    if (a.g) out.push({ body: short, graph: a.g });
    a.graphs.forEach((g, i) => out.push({ body: `${short}[${i}]`, graph: g }));
  }
  return out;
}

/** The computing nodes of one body with their unique local names, in file order (ONNX requires it topological). */
export function localNodes(g: GraphProto): { proto: NodeProto; position: number; local: string }[] {
  const count = new Map<string, number>();
  for (const n of g.node) if (n.name && !isConstantNode(n)) count.set(n.name, (count.get(n.name) ?? 0) + 1);
  const taken = new Set<string>();
  const out: { proto: NodeProto; position: number; local: string }[] = [];
  g.node.forEach((n, position) => {
    if (isConstantNode(n)) return;
    let local = n.name && count.get(n.name) === 1 ? n.name : `${n.name || n.opType}_${position}`;
    while (taken.has(local)) local = `${local}_`;
    taken.add(local);
    out.push({ proto: n, position, local });
  });
  return out;
}

function nested(n: NodeProto): { count: number; values: string[]; names: string[] } {
  const acc = { count: 0, values: [] as string[], names: [] as string[] };
  const stack = subgraphsOf(n).map((s) => s.graph);
  while (stack.length > 0) {
    const g = stack.pop()!;
    for (const m of g.node) {
      if (isConstantNode(m)) continue;
      acc.count++;
      if (m.name) acc.names.push(m.name);
      for (const o of m.output) if (o) acc.values.push(o);
      stack.push(...subgraphsOf(m).map((s) => s.graph));
    }
  }
  return acc;
}

/**
 * Every node inside the bodies of the main graph's control-flow nodes, recursively. `producers` name
 * the recorded node (in this body or an enclosing graph) or graph input whose value each node reads.
 */
export function describeBodies(main: GraphProto, info: OnnxGraphInfo): BodyNode[] {
  const out: BodyNode[] = [];
  const mainProducer = new Map<string, string>();
  for (const n of info.nodes) for (const v of n.outputs) mainProducer.set(v, n.name);
  for (const i of info.inputs) mainProducer.set(i.name, i.name);
  const walk = (proto: NodeProto, name: string, scope: Scope[], outer: ReadonlyMap<string, string>): void => {
    for (const { body, graph } of subgraphsOf(proto)) {
      const inner = [...scope, { node: name, op: proto.opType, body }];
      const producer = new Map(outer);
      const nodes = localNodes(graph);
      const prefix = `${name}/${body}/`;
      for (const { proto: n, position, local } of nodes) {
        const qualified = prefix + local;
        const producers: string[] = [];
        for (const v of n.input) {
          const p = producer.get(v);
          if (p !== undefined && !producers.includes(p)) producers.push(p);
        }
        const sub = nested(n);
        out.push({
          position,
          name: qualified,
          protoName: n.name,
          op: n.opType,
          domain: n.domain,
          inputs: [...n.input],
          outputs: n.output.filter((o) => o !== ''),
          producers,
          subgraphNodes: sub.count,
          subgraphValues: sub.values,
          subgraphNodeNames: sub.names,
          // ORT numbers each body's nodes on their own: a body node's index says nothing across bodies.
          ortIndex: -1,
          scope: inner,
        });
        for (const o of n.output) if (o) producer.set(o, qualified);
        walk(n, qualified, inner, producer);
      }
    }
  };
  for (const n of info.nodes) {
    const proto = main.node[n.position]!;
    if (n.subgraphNodes > 0) walk(proto, n.name, [], mainProducer);
  }
  return out;
}

/**
 * Main-graph nodes and body nodes in one execution order: a control-flow node's body nodes (then
 * before else, each body in file order, nested bodies before their owner) come right before it, as
 * they run while it does and its outputs are theirs.
 */
export function withBodies(info: OnnxGraphInfo, bodies: readonly BodyNode[]): OnnxNode[] {
  const byOwner = new Map<string, BodyNode[]>();
  for (const b of bodies) {
    const owner = b.scope[b.scope.length - 1]!.node;
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), b]);
  }
  const out: OnnxNode[] = [];
  const place = (n: OnnxNode): void => {
    for (const b of byOwner.get(n.name) ?? []) place(b);
    out.push(n);
  };
  for (const n of info.nodes) place(n);
  return out;
}

/** Whether a trace node name is a body node's (`<owner>/<body>/<local>` as describeBodies gives). */
export function isBodyNode(n: OnnxNode): n is BodyNode {
  return 'scope' in n;
}
