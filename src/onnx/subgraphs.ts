/**
 * Nodes inside control-flow bodies (`If` branches, `Loop` / `Scan` bodies), named where they sit:
 * `If_25/then/Conv_73`, `Loop_3/body/If_1/else/Add_2`. Pure.
 *
 * A body node's name is its owner's trace name, the body (`then`, `else`, `body`, or the attribute's
 * name), and its own name made unique within its body as describeOnnx does for the main graph
 * (`<name or op>_<position>` when empty or shared); a name some other node already has gets `_`
 * appended (bodyNodeNames). Constant nodes are weights, not recorded.
 */
import type { GraphProto, NodeProto } from './proto/onnx-ml_pb.ts';
import { isConstantNode, onnxNodeOf, type OnnxGraphInfo, type OnnxNode } from './describe.ts';

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

/**
 * The trace name of every node inside a body (by its proto), unique across the model. Names are
 * claimed level by level: the main graph's (describeOnnx), then the nodes directly inside the main
 * graph's control-flow nodes, then one level deeper, and so on, each level in its owners' order and
 * each body in file order. A body node is named `<owner's trace name>/<body>/<local name>`; when that
 * is already taken (a node elsewhere whose own name contains `/`, e.g. a main-graph node literally
 * named `If_0/then/Add_1`), `_` is appended until it is not, as for names shared in one graph. So a
 * main-graph node always keeps its own name, and no two trace nodes share one.
 */
export function bodyNodeNames(main: GraphProto, info: OnnxGraphInfo): Map<NodeProto, string> {
  const names = new Map<NodeProto, string>();
  const taken = new Set(info.nodes.map((n) => n.name));
  let level = info.nodes.filter((n) => n.subgraphNodes > 0).map((n) => ({ proto: main.node[n.position]!, name: n.name }));
  while (level.length > 0) {
    const next: { proto: NodeProto; name: string }[] = [];
    for (const owner of level) {
      for (const { body, graph } of subgraphsOf(owner.proto)) {
        for (const { proto, local } of localNodes(graph)) {
          let name = `${owner.name}/${body}/${local}`;
          while (taken.has(name)) name = `${name}_`;
          taken.add(name);
          names.set(proto, name);
          if (subgraphsOf(proto).length > 0) next.push({ proto, name });
        }
      }
    }
    level = next;
  }
  return names;
}

/**
 * Every node inside the bodies of the main graph's control-flow nodes, recursively, named by
 * bodyNodeNames. `producers` name the recorded node (in this body or an enclosing graph) or graph
 * input whose value each node reads.
 */
export function describeBodies(main: GraphProto, info: OnnxGraphInfo): BodyNode[] {
  const out: BodyNode[] = [];
  const names = bodyNodeNames(main, info);
  const mainProducer = new Map<string, string>();
  for (const n of info.nodes) for (const v of n.outputs) mainProducer.set(v, n.name);
  for (const i of info.inputs) mainProducer.set(i.name, i.name);
  const walk = (proto: NodeProto, name: string, scope: Scope[], outer: ReadonlyMap<string, string>): void => {
    for (const { body, graph } of subgraphsOf(proto)) {
      const inner = [...scope, { node: name, op: proto.opType, body }];
      const producer = new Map(outer);
      for (const { proto: n, position } of localNodes(graph)) {
        const qualified = names.get(n)!;
        const producers: string[] = [];
        for (const v of n.input) {
          const p = producer.get(v);
          if (p !== undefined && !producers.includes(p)) producers.push(p);
        }
        // ORT numbers each body's nodes on their own: a body node's index says nothing across bodies.
        out.push({ ...onnxNodeOf(n, { position, name: qualified, producers, ortIndex: -1 }), scope: inner });
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
