/**
 * The trace's kernel records from one profiled run: each kernel mapped to its model node (main graph
 * or inside a control-flow body: profile.ts's rules), control-flow kernels given their own time (not
 * their bodies'), and plain sentences for what could not be mapped. Pure.
 */
import type { Clock, KernelRecord } from '../../trace/types.ts';
import type { OnnxNode } from '../../onnx/model.ts';
import { attributeKernels, subgraphOwners, type RawKernel } from './profile.ts';
import { controlFlowOwnTimes } from './subgraph-capture.ts';

export interface KernelMapping {
  kernels: KernelRecord[];
  /** Per raw kernel, its node's trace name or null. */
  owners: (string | null)[];
  /** Node trace name → indices of its kernels. */
  kernelsOf: Map<string, number[]>;
  warnings: string[];
}

/**
 * `nodes`: every node the trace records (main graph and bodies); `mainNodes`: the main graph's (a
 * kernel of a body exray does not record is reported under its main-graph control-flow node).
 */
export function kernelRecords(raw: readonly RawKernel[], nodes: readonly OnnxNode[], mainNodes: readonly OnnxNode[], clock: Clock): KernelMapping {
  const warnings: string[] = [];
  const owners = attributeKernels(raw, nodes);
  const own = controlFlowOwnTimes(raw);
  const kernelsOf = new Map<string, number[]>();
  const kernels: KernelRecord[] = raw.map((k, i) => {
    const node = owners[i] ?? null;
    if (node !== null) kernelsOf.set(node, [...(kernelsOf.get(node) ?? []), i]);
    return { index: i, name: k.op, node, ms: own.ms[i]!, clock: k.clock ?? clock, inputShapes: k.inputShapes, outputShapes: k.outputShapes };
  });
  if (own.adjusted.length > 0) {
    const shown = own.adjusted.slice(0, 5).map((a) => `${owners[a.index] ?? raw[a.index]!.ortName} ${a.inclusiveMs.toFixed(3)} ms − ${a.insideMs.toFixed(3)} ms`);
    warnings.push(
      `${own.adjusted.length} control-flow kernel(s) (If / Loop / Scan) are recorded with their own time: onnxruntime times them around their subgraphs, whose kernels are recorded on the nodes inside (${shown.join(', ')}${own.adjusted.length > 5 ? ', …' : ''})`,
    );
  }
  const inSubgraph = subgraphOwners(raw, mainNodes);
  const bySubgraph = new Map<string, Map<string, number>>();
  raw.forEach((k, i) => {
    const o = owners[i] === null ? inSubgraph[i] : null;
    if (!o) return;
    const ops = bySubgraph.get(o) ?? new Map<string, number>();
    ops.set(k.op, (ops.get(k.op) ?? 0) + 1);
    bySubgraph.set(o, ops);
  });
  for (const [o, ops] of bySubgraph) {
    const count = [...ops.values()].reduce((a, b) => a + b, 0);
    warnings.push(`${count} kernel(s) ran inside the subgraphs of ${o} and map to no recorded node (node null): ${[...ops].map(([op, c]) => `${op} ×${c}`).join(', ')}`);
  }
  const unattributed = raw.filter((_, i) => owners[i] === null && !inSubgraph[i]);
  if (unattributed.length > 0) {
    const byOp = new Map<string, string[]>();
    for (const k of unattributed) byOp.set(k.op, [...(byOp.get(k.op) ?? []), k.ortName || '(unnamed)']);
    const parts = [...byOp].map(([op, names]) => `${op} ×${names.length} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`);
    warnings.push(`${unattributed.length} kernel(s) belong to no model node: onnxruntime inserted them (layout reorders, copies) or exray could not map their names back: ${parts.join('; ')}`);
  }
  return { kernels, owners, kernelsOf, warnings };
}
