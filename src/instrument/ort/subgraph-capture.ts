/**
 * Capture inside ONNX control flow: the rewritten model that exposes main-graph node outputs and the
 * values of nodes inside If / Loop / Scan bodies (src/onnx/expose-subgraphs.ts), and reading a body
 * node's values back from a run: real only when every enclosing If took the branch that holds it,
 * stacked per iteration under a Loop / Scan. Pure (page, worker, Node).
 */
import { exposeAllOutputs, type ModelProto, type OnnxGraphInfo } from '../../onnx/model.ts';
import { exposeSubgraphValues, type SubgraphExposure } from '../../onnx/expose-subgraphs.ts';
import type { BodyNode } from '../../onnx/subgraphs.ts';
import type { OrtTensor } from './ort-api.ts';

export interface CaptureModel {
  model: ModelProto;
  /** Value names (main graph and bodies) whose values a run of `model` returns, the model's own outputs excluded. */
  exposedValues: Set<string>;
  /** Null when body values are not exposed. */
  bodies: SubgraphExposure | null;
  warnings: string[];
}

/**
 * The capture model for the nodes `only` names (all when undefined): main-graph node outputs as graph
 * outputs, and, unless `withBodies` is false, body values climbed out of their control flow.
 */
export function exposeForCapture(model: ModelProto, info: OnnxGraphInfo, bodies: readonly BodyNode[], only: ReadonlySet<string> | undefined, withBodies: boolean): CaptureModel {
  const useBodies = withBodies && bodies.length > 0;
  const main = exposeAllOutputs(model, info, only, useBodies);
  const graphOutputs = new Set(info.outputs.map((o) => o.name));
  const exposedValues = new Set(main.outputNames.filter((v) => !graphOutputs.has(v)));
  const warnings = [...main.warnings];
  if (!useBodies) return { model: main.model, exposedValues, bodies: null, warnings };
  const sub = exposeSubgraphValues(main.model, info, (n) => !only || only.has(n));
  for (const b of bodies) {
    const list = sub.values.get(b.name);
    if (list) b.outputs.forEach((v, k) => list[k] && exposedValues.add(v));
  }
  if (sub.notExposed.size > 0) {
    const reasons = new Map<string, number>();
    for (const r of sub.notExposed.values()) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    warnings.push(`${sub.notExposed.size} node(s) inside subgraphs are not exposed and have no values (each node's note says why): ${[...reasons].map(([r, c]) => `${c} × ${r}`).join('; ')}`);
  }
  return { model: main.model, exposedValues, bodies: sub, warnings };
}

/** The first element of an int32 marker tensor, or undefined (an empty stand-in: its own branch did not run). */
function markerValue(t: OrtTensor | undefined): number | undefined {
  const d = t?.data;
  if (!d || typeof d === 'string' || (d as ArrayLike<unknown>).length === 0) return undefined;
  return Number((d as ArrayLike<number | bigint>)[0]);
}

/**
 * A body node's output tensors in a run of the capture model (undefined where not exposed or not
 * real on this input), with the note the trace gives the node.
 */
export function bodyOutputs(node: BodyNode, outs: Readonly<Record<string, OrtTensor | undefined>>, ex: SubgraphExposure): { tensors: (OrtTensor | undefined)[]; note?: string } {
  const list = ex.values.get(node.name);
  if (!list) return { tensors: [], note: `not captured: ${ex.notExposed.get(node.name) ?? 'not selected for this capture'}` };
  const first = list.find((e) => e !== undefined)!;
  for (const g of first.guards) {
    const marker = ex.markers.get(g.node);
    const v = marker === undefined ? undefined : markerValue(outs[marker]);
    if (v === undefined) continue; // an outer guard already failed (guards are outermost first)
    if (v !== g.taken) {
      return { tensors: [], note: `did not run on this input: ${g.node} took its ${g.taken === 1 ? 'else' : 'then'} branch` };
    }
  }
  const notes: string[] = [];
  if (first.stackedBy.length > 0) {
    notes.push(`values of every iteration of ${first.stackedBy.join(' › ')}, stacked on ${first.stackedBy.length === 1 ? 'a new first axis' : 'new leading axes'} (scan output)`);
  }
  if (first.castToFloat) notes.push('element type not inferred: cast to float32 inside the body to expose it');
  return {
    tensors: list.map((e) => (e ? outs[e.output] : undefined)),
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

/**
 * ORT times a control-flow node (If / Loop / Scan) around everything its bodies run. Each such
 * kernel's own time: its measured time less the kernels that ran directly inside it (inside its time
 * window, not inside a nested control-flow kernel's), so per-node times add up to the run. Returns the
 * own times (same order) and, per adjusted kernel, what was subtracted.
 */
export function controlFlowOwnTimes(kernels: readonly { op: string; startUs: number; ms: number }[]): { ms: number[]; adjusted: { index: number; inclusiveMs: number; insideMs: number }[] } {
  const ms = kernels.map((k) => k.ms);
  const adjusted: { index: number; inclusiveMs: number; insideMs: number }[] = [];
  const isControl = (op: string): boolean => op === 'If' || op === 'Loop' || op === 'Scan';
  const end = (k: { startUs: number; ms: number }): number => k.startUs + k.ms * 1000;
  // Sorted by start: the innermost enclosing control-flow kernel of each kernel is the last open one.
  const order = kernels.map((_, i) => i).sort((a, b) => kernels[a]!.startUs - kernels[b]!.startUs || kernels[b]!.ms - kernels[a]!.ms);
  const open: number[] = [];
  const inside = new Map<number, number>();
  for (const i of order) {
    const k = kernels[i]!;
    while (open.length > 0 && end(kernels[open[open.length - 1]!]!) < end(k) - 0.5) open.pop();
    const parent = open[open.length - 1];
    if (parent !== undefined) inside.set(parent, (inside.get(parent) ?? 0) + k.ms);
    if (isControl(k.op)) open.push(i);
  }
  for (const [i, sum] of inside) {
    ms[i] = Math.max(0, kernels[i]!.ms - sum);
    adjusted.push({ index: i, inclusiveMs: kernels[i]!.ms, insideMs: sum });
  }
  return { ms, adjusted };
}
