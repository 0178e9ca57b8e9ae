/**
 * Rewrite a model so values computed inside control-flow bodies come out as graph outputs. Pure.
 *
 * ONNX lets a body hand values to its enclosing graph only through the node's outputs, so each value
 * climbs one level at a time, up to the main graph:
 * - `If`: the branch that computes it gets an extra output (an Identity of the value); the other
 *   branch an empty stand-in of the same element type (a Constant of shape [0]); the If an extra
 *   output. Each rewritten If also returns a marker (int32 1 from `then`, 0 from `else`) so the
 *   reader knows which branch's values are real on this input.
 * - `Loop` / `Scan`: the body gets an extra scan output, the node an extra output: the value of every
 *   iteration, stacked on a new first axis (Scan's `scan_output_axes` / `_directions` get 0).
 * Not exposed, with the reason per node: values inside an `If` within a Loop / Scan body (a branch's
 * value exists only on the iterations that take it, and a scan output stacks one shape per
 * iteration), bodies of other ops, non-tensor values. A value whose element type exray cannot infer
 * is cast to float32 in the branch (the stand-in must match it), and recorded so.
 */
import { create } from '@bufbuild/protobuf';
import type { GraphProto, ModelProto, NodeProto } from './proto/onnx-ml_pb.ts';
import { AttributeProto_AttributeType, AttributeProtoSchema, NodeProtoSchema, TensorProtoSchema, ValueInfoProtoSchema } from './proto/onnx-ml_pb.ts';
import { inferElemTypes } from './elem-types.ts';
import { bodyNodeNames, localNodes, subgraphsOf } from './subgraphs.ts';
import type { OnnxGraphInfo } from './describe.ts';
import { NON_TENSOR_OPS } from './expose-outputs.ts';

const FLOAT = 1;
const INT32 = 6;
const STRING = 8;

/** A condition on an enclosing If for a body value to be real: its marker output equals `taken`. */
export interface BranchGuard {
  /** The If's trace name (its marker output: SubgraphExposure.markers). */
  node: string;
  /** 1: the value is real when `then` ran; 0: when `else` ran. */
  taken: 0 | 1;
}

export interface ExposedBodyValue {
  /** The graph output that carries it. */
  output: string;
  guards: BranchGuard[];
  /** Loop / Scan nodes (trace names, outermost first) that stack it per iteration. */
  stackedBy: string[];
  /** Cast to float32 in its body (element type not inferred). */
  castToFloat: boolean;
}

export interface SubgraphExposure {
  /** Body node trace name → per output index, where its values come back (undefined: not exposed). */
  values: Map<string, (ExposedBodyValue | undefined)[]>;
  /** Body node trace name → why its outputs are not exposed. */
  notExposed: Map<string, string>;
  /** If trace name → the graph output carrying its marker (int32 1: then ran, 0: else ran). */
  markers: Map<string, string>;
  /** Every graph output this rewrite added (values and markers). */
  outputs: string[];
}

interface Pending {
  /** The body node's trace name; for a marker, the If's. */
  node: string;
  /** Output index; -1 for a marker. */
  k: number;
  value: string;
  elem: number | undefined;
  guards: BranchGuard[];
  stackedBy: string[];
  castToFloat: boolean;
}

class Names {
  private n = 0;
  constructor(private readonly taken: Set<string>) {}
  fresh(base: string): string {
    let name: string;
    do name = `exray::${base}::${this.n++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }
}

function allValueNames(g: GraphProto, acc: Set<string>): Set<string> {
  for (const vi of [...g.input, ...g.output]) acc.add(vi.name);
  for (const n of g.node) {
    for (const v of [...n.input, ...n.output]) acc.add(v);
    for (const s of subgraphsOf(n)) allValueNames(s.graph, acc);
  }
  return acc;
}

function constantNode(output: string, elem: number, dims: bigint[], int32?: number): NodeProto {
  const t = create(TensorProtoSchema, { dataType: elem, dims, ...(int32 !== undefined ? { int32Data: [int32] } : {}) });
  return create(NodeProtoSchema, {
    opType: 'Constant',
    name: output,
    output: [output],
    attribute: [create(AttributeProtoSchema, { name: 'value', type: AttributeProto_AttributeType.TENSOR, t })],
  });
}

function addOutput(g: GraphProto, name: string): void {
  g.output.push(create(ValueInfoProtoSchema, { name }));
}

/**
 * Expose the values of the body nodes `want` accepts (trace names) in `model`, which is modified
 * (pass a clone). `info` is describeOnnx of the model before any rewrite.
 */
export function exposeSubgraphValues(model: ModelProto, info: OnnxGraphInfo, want: (node: string) => boolean): SubgraphExposure {
  const main = model.graph!;
  // Trace names of body nodes, read before anything is added (the nodes added below are not named).
  const traceNames = bodyNodeNames(main, info);
  const nameOf = (n: NodeProto): string => traceNames.get(n)!;
  const names = new Names(allValueNames(main, new Set()));
  const values = new Map<string, (ExposedBodyValue | undefined)[]>();
  const notExposed = new Map<string, string>();
  const outputs: string[] = [];
  const markers = new Map<string, string>();
  const mainTypes = inferElemTypes(main);

  const refuse = (g: GraphProto, reason: string): void => {
    for (const { proto } of localNodes(g)) {
      const name = nameOf(proto);
      if (want(name)) notExposed.set(name, reason);
      for (const s of subgraphsOf(proto)) refuse(s.graph, reason);
    }
  };

  /** Values of `g` (a body) to hand to its owner, after rewriting its own control flow. */
  const exposeIn = (g: GraphProto, outerTypes: ReadonlyMap<string, number>, loop: string | null): Pending[] => {
    const types = inferElemTypes(g, outerTypes);
    const out: Pending[] = [];
    for (const { proto: n } of localNodes(g)) {
      const name = nameOf(n);
      if (want(name)) {
        n.output.forEach((v, k) => {
          if (!v) return;
          const elem = types.get(v);
          if (elem === STRING || (elem === undefined && NON_TENSOR_OPS.has(n.opType))) {
            notExposed.set(name, elem === STRING ? 'its output is a string tensor' : `${n.opType} returns a non-tensor value`);
            return;
          }
          out.push({ node: name, k, value: v, elem, guards: [], stackedBy: [], castToFloat: false });
        });
      }
      out.push(...exposeNode(n, name, types, loop));
    }
    return out;
  };

  /** Rewrite one control-flow node so its bodies' values become its outputs (values of its graph). */
  const exposeNode = (n: NodeProto, name: string, types: ReadonlyMap<string, number>, loop: string | null): Pending[] => {
    const subs = subgraphsOf(n);
    if (subs.length === 0) return [];
    if (n.opType === 'If' && subs.length === 2) {
      const thenG = subs.find((s) => s.body === 'then')?.graph;
      const elseG = subs.find((s) => s.body === 'else')?.graph;
      if (!thenG || !elseG) return [];
      if (loop !== null) {
        refuse(thenG, `inside If ${name} within the body of ${loop}: a branch's value exists only on the iterations that take it, and a scan output stacks one shape per iteration`);
        refuse(elseG, `inside If ${name} within the body of ${loop}: a branch's value exists only on the iterations that take it, and a scan output stacks one shape per iteration`);
        return [];
      }
      const fromThen = exposeIn(thenG, types, null);
      const fromElse = exposeIn(elseG, types, null);
      if (fromThen.length === 0 && fromElse.length === 0) return [];
      const marker = names.fresh(`${name}/branch`);
      const thenMarker = names.fresh('then');
      const elseMarker = names.fresh('else');
      thenG.node.push(constantNode(thenMarker, INT32, [], 1));
      elseG.node.push(constantNode(elseMarker, INT32, [], 0));
      addOutput(thenG, thenMarker);
      addOutput(elseG, elseMarker);
      n.output.push(marker);
      const out: Pending[] = [];
      const climb = (p: Pending, own: GraphProto, other: GraphProto, taken: 0 | 1): void => {
        let source = p.value;
        let elem = p.elem;
        let castToFloat = p.castToFloat;
        const carried = names.fresh(p.node);
        if (elem === undefined) {
          own.node.push(create(NodeProtoSchema, { opType: 'Cast', name: carried, input: [source], output: [carried], attribute: [create(AttributeProtoSchema, { name: 'to', type: AttributeProto_AttributeType.INT, i: BigInt(FLOAT) })] }));
          elem = FLOAT;
          castToFloat = true;
        } else {
          // An Identity: a value may already be a branch output, and an output name may not repeat.
          own.node.push(create(NodeProtoSchema, { opType: 'Identity', name: carried, input: [source], output: [carried] }));
        }
        source = carried;
        addOutput(own, source);
        const standIn = names.fresh('empty');
        other.node.push(constantNode(standIn, elem, [0n]));
        addOutput(other, standIn);
        const up = names.fresh(p.node);
        n.output.push(up);
        out.push({ ...p, value: up, elem, castToFloat, guards: [{ node: name, taken }, ...p.guards] });
      };
      // Output order must match in both branches: every then-value, then every else-value.
      for (const p of fromThen) climb(p, thenG, elseG, 1);
      for (const p of fromElse) climb(p, elseG, thenG, 0);
      // The marker climbs as a value of this graph: an enclosing If carries it like any other.
      out.push({ node: name, k: -1, value: marker, elem: INT32, guards: [], stackedBy: [], castToFloat: false });
      return out;
    }
    if ((n.opType === 'Loop' || n.opType === 'Scan') && subs.length === 1 && subs[0]!.body === 'body') {
      const body = subs[0]!.graph;
      const inner = exposeIn(body, types, loop ?? name);
      const out: Pending[] = [];
      let added = 0;
      for (const p of inner) {
        const carried = names.fresh(p.node);
        body.node.push(create(NodeProtoSchema, { opType: 'Identity', name: carried, input: [p.value], output: [carried] }));
        addOutput(body, carried);
        const up = names.fresh(p.node);
        n.output.push(up);
        added++;
        out.push({ ...p, value: up, stackedBy: [name, ...p.stackedBy] });
      }
      if (n.opType === 'Scan' && added > 0) {
        for (const a of n.attribute) if (a.name === 'scan_output_axes' || a.name === 'scan_output_directions') a.ints.push(...new Array<bigint>(added).fill(0n));
      }
      return out;
    }
    for (const s of subs) refuse(s.graph, `inside a subgraph of ${n.opType} ${name}: exray exposes the bodies of If, Loop and Scan only`);
    return [];
  };

  for (const n of info.nodes) {
    if (n.subgraphNodes === 0) continue;
    for (const p of exposeNode(main.node[n.position]!, n.name, mainTypes, null)) {
      addOutput(main, p.value);
      outputs.push(p.value);
      if (p.k < 0) {
        markers.set(p.node, p.value);
        continue;
      }
      const list = values.get(p.node) ?? [];
      list[p.k] = { output: p.value, guards: p.guards, stackedBy: p.stackedBy, castToFloat: p.castToFloat };
      values.set(p.node, list);
    }
  }
  return { values, notExposed, markers, outputs };
}
