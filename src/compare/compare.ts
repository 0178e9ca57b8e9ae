/**
 * compareTraces: the edge trace against a trusted reference, node by node.
 *
 * Pure: no DOM, no Node; runs in a worker and in Node. The result is plain JSON-serialisable data; every
 * field is documented in docs/compare.md.
 */

import type { NamedTensor, Trace } from '../trace/types.ts';
import { alignNodes, alignTensors } from './align.ts';
import { fmt, globalTolerance, resolveTolerance, type ToleranceSpec, validateToleranceSpec, type Verdict } from './tolerance.ts';
import { describeOutputs } from './outputs.ts';
import { comparePair, judgePair, magnitude, measurePair, missing, type Side } from './pair.ts';
import { basisOf, summarize, timingOf } from './summary.ts';
import { matchingPreset, storageWhy } from './precision.ts';
import {
  COMPARISON_FORMAT,
  COMPARISON_VERSION,
  type CompareOptions,
  type Comparison,
  type FirstDivergence,
  type InputAgreement,
  type NamedTensorComparison,
  type NodeComparison,
  type OutputAgreement,
  type OutputComparison,
  type OverallVerdict,
  type TensorComparison,
  type TraceSide,
  type VerdictCounts,
} from './types.ts';

function sideInfo(t: Trace): TraceSide {
  const h = t.header;
  return {
    id: h.id,
    label: h.label ?? null,
    capture: h.capture,
    model: h.model.name,
    modelSha256: h.model.sha256,
    runtime: h.runtime.name,
    runtimeVersion: h.runtime.version,
    backend: h.runtime.backend,
    nodeCount: h.nodes.length,
  };
}

const VERDICT_SEVERITY: Record<Verdict, number> = { ok: 0, 'no-data': 1, missing: 2, 'shape-mismatch': 3, diverged: 4 };

function worst(verdicts: Verdict[]): Verdict {
  let w: Verdict = 'ok';
  for (const v of verdicts) if (VERDICT_SEVERITY[v] > VERDICT_SEVERITY[w]) w = v;
  return w;
}

function isDivergent(v: Verdict): v is 'diverged' | 'shape-mismatch' {
  return v === 'diverged' || v === 'shape-mismatch';
}

function compareNamed(
  edgeList: readonly NamedTensor[],
  refList: readonly NamedTensor[],
  op: string,
  edge: Side,
  ref: Side,
  spec: ToleranceSpec | undefined,
  strictShapes: boolean,
  warnings: string[],
  aroundOf: (name: string) => { around: number | null; singleOnly: boolean } = () => ({ around: null, singleOnly: false }),
): { matchedBy: 'name' | 'position'; tensors: NamedTensorComparison[] } {
  const al = alignTensors(edgeList, refList);
  const tensors = al.pairs.map((p): NamedTensorComparison => {
    const key = `${op} ${p.name}`;
    let c: TensorComparison;
    if (!p.edge || !p.ref) {
      c = missing(p.edge, p.ref, p.edge ? 'only in edge trace' : 'only in reference trace');
    } else {
      const tol = resolveTolerance(spec, { name: p.name, op, outputIndex: 0, dtype: p.edge.dtype });
      const a = aroundOf(p.refName ?? p.name);
      c = comparePair(p.edge, p.ref, { edge, ref, key, tol, strictShapes, warnings, around: a.around, aroundSingleOnly: a.singleOnly });
    }
    return { name: p.name, refName: p.refName, ...c };
  });
  return { matchedBy: al.matchedBy, tensors };
}

/**
 * Compares an edge trace against a reference trace.
 *
 * @example const c = compareTraces(edgeTrace, refTrace, { tolerance: { preset: 'float16' }, labels });
 */
export function compareTraces(edgeTrace: Trace, refTrace: Trace, opts: CompareOptions = {}): Comparison {
  validateToleranceSpec(opts.tolerance);
  const auto = opts.autoPreset && opts.tolerance?.preset === undefined ? matchingPreset(edgeTrace.header, refTrace.header) : null;
  const spec: ToleranceSpec | undefined = auto ? { ...opts.tolerance, preset: auto.preset } : opts.tolerance;
  const strictShapes = opts.strictShapes ?? false;
  const warnings: string[] = [];
  const edge: Side = { trace: edgeTrace, what: 'edge' };
  const ref: Side = { trace: refTrace, what: 'reference', magnitudes: new Map() };
  const eh = edgeTrace.header;
  const rh = refTrace.header;

  const sameModel = eh.model.sha256 === rh.model.sha256;
  if (!sameModel) warnings.push(`model sha256 differs (edge ${eh.model.sha256.slice(0, 12)}, reference ${rh.model.sha256.slice(0, 12)})`);
  if (rh.referenceFor !== undefined && rh.referenceFor !== eh.id) {
    warnings.push(`the reference replayed trace ${rh.referenceFor}, not this edge trace (${eh.id})`);
  }
  for (const [h, what] of [
    [eh, 'edge'],
    [rh, 'reference'],
  ] as const) {
    if (h.capture === 'timing') warnings.push(`${what} trace was captured in timing mode: node values not recorded, the verdict is on final outputs only`);
    else if (h.capture === 'stats') warnings.push(`${what} trace was captured in stats mode: node verdicts are from summary statistics only`);
    if (h.storagePrecision && !auto) warnings.push(`${what} trace: ${storageWhy(h.storagePrecision)}; differences that small are storage rounding`);
  }
  if (auto) warnings.push(`tolerance preset ${auto.preset} chosen from the traces' precision (${auto.reason}); pass a preset to override`);

  const refNodeByName = new Map(rh.nodes.map((n) => [n.name, n]));

  // --- nodes --------------------------------------------------------------------------------
  const al = alignNodes(eh, rh);
  if (al.edgeOnlyNodes.length > 0) {
    warnings.push(`${al.edgeOnlyNodes.length} node(s) only in the edge trace (e.g. ${al.edgeOnlyNodes.slice(0, 3).join(', ')})`);
  }
  if (al.refOnlyNodes.length > 0) {
    warnings.push(`${al.refOnlyNodes.length} node(s) only in the reference trace (e.g. ${al.refOnlyNodes.slice(0, 3).join(', ')})`);
  }
  for (const m of al.opMismatches.slice(0, 5)) warnings.push(`node ${m.name}: op ${m.edge} on the edge, ${m.ref} in the reference`);
  if (al.opMismatches.length > 5) warnings.push(`… and ${al.opMismatches.length - 5} more op mismatches`);
  for (const m of al.dtypeMismatches.slice(0, 5)) warnings.push(`${m.key}: dtype ${m.edge} on the edge, ${m.ref} in the reference`);
  if (al.dtypeMismatches.length > 5) warnings.push(`… and ${al.dtypeMismatches.length - 5} more dtype mismatches`);

  // Every pair measured first: the metrics pass gives each reference tensor's magnitude (pair.ts), so
  // the scaled tolerances below need no second scan of the values.
  const measured = al.outputs.map((o) => (o.edge && o.ref ? measurePair(o.edge, o.ref, { edge, ref, key: o.key, strictShapes, warnings }) : null));

  // --- the magnitude of the reference tensors around each node (for scaled atol) --------------
  const scaling = opts.scaledAtol ?? true;
  const refMag = new Map<string, number>();
  const consumers = new Map<string, string[]>();
  if (scaling) {
    for (const n of rh.nodes) {
      let m = refMag.get(n.name) ?? 0;
      for (const o of n.outputs) m = Math.max(m, magnitude(ref, o) ?? 0);
      refMag.set(n.name, m);
      for (const i of n.inputs) {
        const list = consumers.get(i) ?? [];
        list.push(n.name);
        consumers.set(i, list);
      }
    }
  }
  const aroundNode = (name: string, inputs: readonly string[]): number | null => {
    if (!scaling) return null;
    let m = 0;
    for (const x of [...inputs, ...(consumers.get(name) ?? [])]) if (x !== name) m = Math.max(m, refMag.get(x) ?? 0);
    return m > 0 ? m : null;
  };

  const nodes: NodeComparison[] = al.outputs.map((o, position): NodeComparison => {
    let c: TensorComparison;
    const m = measured[position];
    if (!o.edge || !o.ref || !m) {
      c = missing(o.edge, o.ref, o.edge ? 'only in edge trace' : 'only in reference trace');
    } else {
      const tol = resolveTolerance(spec, { name: o.name, op: o.op, outputIndex: o.outputIndex, dtype: o.edge.dtype });
      c = judgePair(m, o.ref, { edge, ref, key: o.key, tol, strictShapes, warnings, around: aroundNode(o.name, o.inputs) });
    }
    return {
      position,
      key: o.key,
      name: o.name,
      op: o.op,
      refOp: o.refOp,
      outputIndex: o.outputIndex,
      edgeIndex: o.edgeIndex,
      refIndex: o.refIndex,
      inputs: o.inputs,
      ...c,
    };
  });

  const counts: VerdictCounts = { total: nodes.length, ok: 0, diverged: 0, missing: 0, 'shape-mismatch': 0, 'no-data': 0, statsOnly: 0 };
  for (const n of nodes) {
    counts[n.verdict]++;
    if (n.statsOnly) counts.statsOnly++;
  }

  let firstDivergent: FirstDivergence | null = null;
  const firstPos = nodes.findIndex((n) => isDivergent(n.verdict));
  if (firstPos >= 0) {
    const n = nodes[firstPos] as NodeComparison;
    let after = 0;
    for (let i = firstPos + 1; i < nodes.length; i++) if (isDivergent((nodes[i] as NodeComparison).verdict)) after++;
    firstDivergent = {
      position: n.position,
      key: n.key,
      name: n.name,
      op: n.op,
      outputIndex: n.outputIndex,
      edgeIndex: n.edgeIndex,
      verdict: n.verdict as 'diverged' | 'shape-mismatch',
      reasons: n.reasons,
      statsOnly: n.statsOnly,
      divergentAfter: after,
    };
  }

  // Where errors enter: divergent nodes whose known inputs all did not diverge.
  const divergedNames = new Set<string>();
  for (const n of nodes) if (isDivergent(n.verdict)) divergedNames.add(n.name);
  const divergenceOrigins: string[] = [];
  if (firstDivergent) divergenceOrigins.push(firstDivergent.key);
  for (const n of nodes) {
    if (!isDivergent(n.verdict) || n.key === firstDivergent?.key || n.inputs.length === 0) continue;
    if (n.inputs.every((i) => !divergedNames.has(i))) divergenceOrigins.push(n.key);
  }

  // --- inputs ---------------------------------------------------------------------------------
  const inp = compareNamed(eh.input.tensors, rh.input.tensors, '(input)', edge, ref, spec, strictShapes, warnings);
  let inputVerdict: InputAgreement['verdict'];
  let inputMaxAbs: number | null = null;
  for (const t of inp.tensors) if (t.metrics) inputMaxAbs = Math.max(inputMaxAbs ?? 0, t.metrics.maxAbs);
  if (inp.tensors.some((t) => t.verdict === 'missing')) inputVerdict = 'missing';
  else if (inp.tensors.some((t) => isDivergent(t.verdict))) inputVerdict = 'different';
  else if (inp.tensors.length === 0 || inp.tensors.some((t) => t.verdict === 'no-data')) inputVerdict = 'none';
  else if (inp.tensors.every((t) => t.metrics?.identical === true)) inputVerdict = 'identical';
  else inputVerdict = 'close';
  if (inp.matchedBy === 'position') warnings.push('input tensors matched by position (names differ)');
  if (inputVerdict === 'close') {
    warnings.push(`inputs are not identical (max abs diff ${fmt(inputMaxAbs ?? 0)}), only within tolerance: node differences include that`);
  }
  if (inputVerdict === 'none') warnings.push('input tensors not recorded (or without data): cannot check that the reference saw the same input');
  const inputs: InputAgreement = { verdict: inputVerdict, maxAbs: inputMaxAbs, matchedBy: inp.matchedBy, tensors: inp.tensors };

  // --- final outputs --------------------------------------------------------------------------
  // Around a final output: the inputs of the node that produced it (TF.js: the node of the same name);
  // when there is none (ONNX output tensor names), the other final outputs, for one-element outputs only.
  const outMag = new Map(rh.outputs.map((o) => [o.name, scaling ? (magnitude(ref, o) ?? 0) : 0]));
  const aroundOutput = (name: string): { around: number | null; singleOnly: boolean } => {
    if (!scaling) return { around: null, singleOnly: false };
    const node = refNodeByName.get(name) ?? refNodeByName.get(name.replace(/:\d+$/, ''));
    if (node) return { around: aroundNode(node.name, node.inputs), singleOnly: false };
    let m = 0;
    for (const [k, v] of outMag) if (k !== name) m = Math.max(m, v);
    return { around: m > 0 ? m : null, singleOnly: true };
  };
  const out = compareNamed(eh.outputs, rh.outputs, '(output)', edge, ref, spec, strictShapes, warnings, aroundOutput);
  if (out.matchedBy === 'position') warnings.push('final outputs matched by position (names differ)');
  const outputTensors: OutputComparison[] = describeOutputs(edgeTrace, refTrace, out.tensors, opts);
  const firstClassifier = outputTensors.find((t) => t.topK !== null);
  const outputs: OutputAgreement = {
    verdict: outputTensors.length === 0 ? 'no-data' : worst(outputTensors.map((t) => t.verdict)),
    matchedBy: out.matchedBy,
    tensors: outputTensors,
    top1Equal: firstClassifier?.topK?.top1Equal ?? null,
    topKOverlap: firstClassifier?.topK?.overlap ?? null,
  };

  // --- overall --------------------------------------------------------------------------------
  let verdict: OverallVerdict;
  const outputBad = outputTensors.some((t) => isDivergent(t.verdict) || t.verdict === 'missing');
  if (inputVerdict === 'different' || inputVerdict === 'missing') verdict = 'input-mismatch';
  else if (firstDivergent || outputBad) verdict = 'diverged';
  else if (counts.ok > 0 || outputTensors.some((t) => t.verdict === 'ok')) verdict = 'ok';
  else verdict = 'no-data';

  const basis = basisOf(eh.capture, rh.capture, counts, outputs, eh.timing !== undefined && rh.timing !== undefined);
  const summary = summarize(verdict, firstDivergent, counts, inputs, outputs, basis);
  const preset = spec?.preset ?? 'float32';
  return {
    format: COMPARISON_FORMAT,
    version: COMPARISON_VERSION,
    edge: sideInfo(edgeTrace),
    ref: sideInfo(refTrace),
    sameModel,
    verdict,
    summary,
    firstDivergent,
    divergenceOrigins,
    counts,
    nodes,
    inputs,
    outputs,
    tolerance: {
      preset,
      presetSource: auto ? 'auto' : opts.tolerance?.preset !== undefined ? 'given' : 'default',
      presetReason: auto?.reason ?? null,
      global: globalTolerance(spec),
      spec: spec ? structuredClone(spec) : null,
    },
    basis,
    timing: timingOf(edgeTrace, refTrace),
    warnings,
  };
}
