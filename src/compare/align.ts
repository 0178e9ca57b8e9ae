/**
 * Alignment of two traces: node outputs paired by (node name, occurrence, output index), in the edge
 * trace's execution order; named tensor lists (inputs, final outputs) paired by name.
 *
 * Pure: no DOM, no Node.
 */

import type { DType, NamedTensor, NodeRecord, TensorRecord, TraceHeader } from '../trace/types.ts';

/**
 * How two shapes relate.
 * - `same`: identical dims.
 * - `squeezable`: equal after dropping size-1 dims (e.g. [1,1000] vs [1000]); compared as equal unless
 *   `strictShapes`.
 * - `same-count`: same number of elements, different non-unit dims (e.g. NHWC [1,7,7,64] vs NCHW
 *   [1,64,7,7]): a shape mismatch; element-wise metrics are still computed (flat order), for information.
 * - `different-count`: different number of elements: a shape mismatch, no element-wise metrics.
 */
export type ShapeRelation = 'same' | 'squeezable' | 'same-count' | 'different-count';

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeRelation(a: readonly number[], b: readonly number[]): ShapeRelation {
  if (a.length === b.length && a.every((d, i) => d === b[i])) return 'same';
  if (elementCount(a) !== elementCount(b)) return 'different-count';
  const sa = a.filter((d) => d !== 1);
  const sb = b.filter((d) => d !== 1);
  if (sa.length === sb.length && sa.every((d, i) => d === sb[i])) return 'squeezable';
  return 'same-count';
}

/** Whether a shape relation is a mismatch (verdict `shape-mismatch`). */
export function isShapeMismatch(rel: ShapeRelation, strictShapes: boolean): boolean {
  return rel === 'same-count' || rel === 'different-count' || (strictShapes && rel === 'squeezable');
}

/** One node output, paired across the two traces (or present in only one). */
export interface AlignedOutput {
  /** `name:outputIndex`; a repeated node name (a layer called twice) gets `name#2:0`, `name#3:0`, ... */
  key: string;
  name: string;
  /** 1 for the first node with this name in its trace, 2 for the second, ... */
  occurrence: number;
  outputIndex: number;
  /** The edge node's op (the reference's when the node is only in the reference). */
  op: string;
  /** The reference node's op; null when the node is only in the edge trace. */
  refOp: string | null;
  /** NodeRecord.index in the edge trace; null when only in the reference. */
  edgeIndex: number | null;
  /** NodeRecord.index in the reference trace; null when only in the edge. */
  refIndex: number | null;
  edge: TensorRecord | null;
  ref: TensorRecord | null;
  /** The node's input node names (edge side, else reference side). */
  inputs: string[];
}

export interface ShapeMismatch {
  key: string;
  edge: number[];
  ref: number[];
  relation: ShapeRelation;
}

export interface DTypeMismatch {
  key: string;
  edge: DType;
  ref: DType;
}

export interface OpMismatch {
  name: string;
  edge: string;
  ref: string;
}

export interface Alignment {
  /**
   * Every node output of both traces: the edge trace's nodes in execution order (NodeRecord.index), with
   * each reference-only node inserted after the last node that precedes it in the reference and exists
   * in both traces.
   */
  outputs: AlignedOutput[];
  /** Node keys (name or name#k) only in the edge trace / only in the reference, in their trace's order. */
  edgeOnlyNodes: string[];
  refOnlyNodes: string[];
  /** Paired node outputs whose shapes are not `same` (including `squeezable`). */
  shapeMismatches: ShapeMismatch[];
  /** Paired node outputs whose declared dtypes differ (values are still compared as numbers). */
  dtypeMismatches: DTypeMismatch[];
  /** Paired nodes whose op types differ (reported; values are still compared). */
  opMismatches: OpMismatch[];
}

interface KeyedNode {
  key: string;
  occurrence: number;
  node: NodeRecord;
}

function keyNodes(nodes: readonly NodeRecord[]): KeyedNode[] {
  const sorted = nodes
    .map((node, pos) => ({ node, pos }))
    .sort((x, y) => x.node.index - y.node.index || x.pos - y.pos);
  const seen = new Map<string, number>();
  return sorted.map(({ node }) => {
    const occurrence = (seen.get(node.name) ?? 0) + 1;
    seen.set(node.name, occurrence);
    return { key: occurrence === 1 ? node.name : `${node.name}#${occurrence}`, occurrence, node };
  });
}

function outputKey(nodeKey: string, outputIndex: number): string {
  return `${nodeKey}:${outputIndex}`;
}

/** Aligns the nodes of two traces. */
export function alignNodes(edge: TraceHeader, ref: TraceHeader): Alignment {
  const e = keyNodes(edge.nodes);
  const r = keyNodes(ref.nodes);
  const eByKey = new Map(e.map((k) => [k.key, k]));
  const rByKey = new Map(r.map((k) => [k.key, k]));

  // Reference-only nodes, grouped by the shared node they follow (null: before any shared node).
  const insertAfter = new Map<string | null, KeyedNode[]>();
  const refOnlyNodes: string[] = [];
  let anchor: string | null = null;
  for (const k of r) {
    if (eByKey.has(k.key)) {
      anchor = k.key;
      continue;
    }
    refOnlyNodes.push(k.key);
    const list = insertAfter.get(anchor);
    if (list) list.push(k);
    else insertAfter.set(anchor, [k]);
  }

  const outputs: AlignedOutput[] = [];
  const shapeMismatches: ShapeMismatch[] = [];
  const dtypeMismatches: DTypeMismatch[] = [];
  const opMismatches: OpMismatch[] = [];
  const edgeOnlyNodes: string[] = [];

  const pushRefOnly = (list: KeyedNode[] | undefined): void => {
    for (const k of list ?? []) {
      k.node.outputs.forEach((rec, i) => {
        outputs.push({
          key: outputKey(k.key, i),
          name: k.node.name,
          occurrence: k.occurrence,
          outputIndex: i,
          op: k.node.op,
          refOp: k.node.op,
          edgeIndex: null,
          refIndex: k.node.index,
          edge: null,
          ref: rec,
          inputs: k.node.inputs,
        });
      });
    }
  };

  pushRefOnly(insertAfter.get(null));
  for (const k of e) {
    const rk = rByKey.get(k.key);
    if (!rk) edgeOnlyNodes.push(k.key);
    else if (rk.node.op !== k.node.op) opMismatches.push({ name: k.key, edge: k.node.op, ref: rk.node.op });
    const n = Math.max(k.node.outputs.length, rk ? rk.node.outputs.length : 0);
    for (let i = 0; i < n; i++) {
      const er = k.node.outputs[i] ?? null;
      const rr = rk?.node.outputs[i] ?? null;
      const key = outputKey(k.key, i);
      if (er && rr) {
        const relation = shapeRelation(er.shape, rr.shape);
        if (relation !== 'same') shapeMismatches.push({ key, edge: er.shape, ref: rr.shape, relation });
        if (er.dtype !== rr.dtype) dtypeMismatches.push({ key, edge: er.dtype, ref: rr.dtype });
      }
      outputs.push({
        key,
        name: k.node.name,
        occurrence: k.occurrence,
        outputIndex: i,
        op: k.node.op,
        refOp: rk ? rk.node.op : null,
        edgeIndex: k.node.index,
        refIndex: rk ? rk.node.index : null,
        edge: er,
        ref: rr,
        inputs: k.node.inputs.length > 0 || !rk ? k.node.inputs : rk.node.inputs,
      });
    }
    if (rk) pushRefOnly(insertAfter.get(k.key));
  }
  return { outputs, edgeOnlyNodes, refOnlyNodes, shapeMismatches, dtypeMismatches, opMismatches };
}

/** A pair from two named tensor lists (trace inputs or final outputs). */
export interface TensorPair {
  name: string;
  /** The reference tensor's name (differs from `name` when matched by position). */
  refName: string | null;
  edge: NamedTensor | null;
  ref: NamedTensor | null;
}

export interface TensorAlignment {
  pairs: TensorPair[];
  /** `name` when every edge tensor found its namesake; `position` when names did not match and both lists have the same length. */
  matchedBy: 'name' | 'position';
}

/**
 * Pairs two named tensor lists by name, edge order first, then reference-only tensors. When no name
 * matches at all but both lists have the same length (e.g. ONNX `input` vs TF.js `input_1`), pairs by
 * position instead.
 */
export function alignTensors(edge: readonly NamedTensor[], ref: readonly NamedTensor[]): TensorAlignment {
  const refByName = new Map(ref.map((t) => [t.name, t]));
  const anyByName = edge.some((t) => refByName.has(t.name));
  if (!anyByName && edge.length === ref.length && edge.length > 0) {
    return {
      matchedBy: 'position',
      pairs: edge.map((t, i) => {
        const r = ref[i] ?? null;
        return { name: t.name, refName: r ? r.name : null, edge: t, ref: r };
      }),
    };
  }
  const used = new Set<string>();
  const pairs: TensorPair[] = edge.map((t) => {
    const r = refByName.get(t.name) ?? null;
    if (r) used.add(t.name);
    return { name: t.name, refName: r ? r.name : null, edge: t, ref: r };
  });
  for (const r of ref) if (!used.has(r.name)) pairs.push({ name: r.name, refName: r.name, edge: null, ref: r });
  return { matchedBy: 'name', pairs };
}
