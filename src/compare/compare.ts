/**
 * compareTraces: the edge trace against a trusted reference, node by node.
 *
 * Pure: no DOM, no Node; runs in a worker and in Node. The result is plain JSON-serialisable data; every
 * field is documented in docs/compare.md.
 */

import type { BlobData, NamedTensor, TensorRecord, TensorStats, Trace } from '../trace/types.ts';
import { alignNodes, alignTensors, elementCount, isShapeMismatch, shapeRelation } from './align.ts';
import { blobStats, tensorMetrics } from './metrics.ts';
import { compareStats, judgeStats } from './stats.ts';
import {
  fmt,
  globalTolerance,
  judgeMetrics,
  type ResolvedTolerance,
  resolveTolerance,
  type ToleranceSpec,
  validateToleranceSpec,
  type Verdict,
} from './tolerance.ts';
import { describeOutputs } from './outputs.ts';
import { measureRank } from './output-text.ts';
import { matchingPreset, storageWhy } from './precision.ts';
import {
  COMPARISON_FORMAT,
  COMPARISON_VERSION,
  type CompareOptions,
  type Comparison,
  type ComparisonBasis,
  type FirstDivergence,
  type InputAgreement,
  type NamedTensorComparison,
  type NodeComparison,
  type OutputAgreement,
  type OutputComparison,
  type OverallVerdict,
  type TensorComparison,
  type TimingComparison,
  type TraceSide,
  type VerdictCounts,
} from './types.ts';

interface Side {
  trace: Trace;
  what: 'edge' | 'reference';
  /** magnitude() per blob id, for this comparison: each blob is scanned once, not once per use. */
  magnitudes?: Map<string, number>;
}

function blobOf(side: Side, rec: TensorRecord, key: string, warnings: string[]): BlobData | null {
  if (!rec.blob) return null;
  const data = side.trace.blobs.get(rec.blob.id);
  if (!data) {
    warnings.push(`${key}: ${side.what} blob ${rec.blob.id} is referenced but absent`);
    return null;
  }
  if (data.length !== rec.blob.length || data.length !== elementCount(rec.shape)) {
    warnings.push(
      `${key}: ${side.what} blob ${rec.blob.id} has ${data.length} elements (BlobRef.length ${rec.blob.length}, shape [${rec.shape.join(',')}])`,
    );
  }
  return data;
}

interface PairContext {
  edge: Side;
  ref: Side;
  key: string;
  tol: ResolvedTolerance;
  strictShapes: boolean;
  warnings: string[];
  /** Largest |value| of the reference tensors around this one (see CompareOptions.scaledAtol); null = no scaling. */
  around: number | null;
  /** `around` comes from the other final outputs, not the graph: scale one-element tensors only. */
  aroundSingleOnly?: boolean;
}

/** A tensor is near zero when its largest |value| is below this fraction of the tensors around it. */
const NEAR_ZERO = 1e-3;

/** Largest finite |value| of a recorded tensor (blob, else stats); null when nothing was recorded. */
function magnitude(side: Side, rec: TensorRecord): number | null {
  const data = rec.blob ? side.trace.blobs.get(rec.blob.id) : undefined;
  if (data && rec.blob) {
    const known = side.magnitudes?.get(rec.blob.id);
    if (known !== undefined) return known;
    let m = 0;
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i] as number);
      if (a > m && a !== Infinity) m = a;
    }
    side.magnitudes?.set(rec.blob.id, m);
    return m;
  }
  if (rec.stats && Number.isFinite(rec.stats.min) && Number.isFinite(rec.stats.max)) return Math.max(Math.abs(rec.stats.min), Math.abs(rec.stats.max));
  return null;
}

/**
 * The tolerance for a one-element or near-zero tensor: atol raised to nrmse-limit × the largest |value|
 * of the tensors around it. Returns the tolerance unchanged when the tensor is neither, or no scale applies.
 */
function scaledTolerance(tol: ResolvedTolerance, r: TensorRecord, ctx: PairContext): { tol: ResolvedTolerance; note: string | null } {
  if (ctx.around === null || tol.nrmse === null || tol.nrmse === 0) return { tol, note: null };
  const own = magnitude(ctx.ref, r);
  if (own === null) return { tol, note: null };
  const single = elementCount(r.shape) === 1;
  if (!single && (ctx.aroundSingleOnly || !(own < NEAR_ZERO * ctx.around))) return { tol, note: null };
  const scale = Math.max(ctx.around, own);
  const atol = tol.nrmse * scale;
  if (tol.atol !== null && atol <= tol.atol) return { tol, note: null };
  return {
    tol: { ...tol, atol },
    note: `${single ? 'one-element' : 'near-zero'} tensor: atol scaled to ${fmt(atol)} (nrmse limit ${fmt(tol.nrmse)} × max |x| ${fmt(scale)} of the tensors around it)`,
  };
}

function missing(e: TensorRecord | null, r: TensorRecord | null, reason: string): TensorComparison {
  return {
    verdict: 'missing',
    reasons: [reason],
    edgeShape: e ? e.shape : null,
    refShape: r ? r.shape : null,
    shapeRelation: null,
    edgeDType: e ? e.dtype : null,
    refDType: r ? r.dtype : null,
    metrics: null,
    statsOnly: false,
    stats: null,
    tolerance: null,
  };
}

/** Compares one tensor pair; both records present. */
function comparePair(e: TensorRecord, r: TensorRecord, ctx: PairContext): TensorComparison {
  const relation = shapeRelation(e.shape, r.shape);
  const base: TensorComparison = {
    verdict: 'no-data',
    reasons: [],
    edgeShape: e.shape,
    refShape: r.shape,
    shapeRelation: relation,
    edgeDType: e.dtype,
    refDType: r.dtype,
    metrics: null,
    statsOnly: false,
    stats: null,
    tolerance: null,
  };
  const eb = blobOf(ctx.edge, e, ctx.key, ctx.warnings);
  const rb = blobOf(ctx.ref, r, ctx.key, ctx.warnings);
  const shapes = `[${e.shape.join(',')}] vs [${r.shape.join(',')}]`;

  // A record without values or stats (timing capture) carries a shape that may come from profiler
  // metadata, not from a tensor: nothing about it is judged, its shape included.
  if ((!eb && !e.stats) || (!rb && !r.stats)) {
    base.shapeRelation = null;
    const lacking = [!eb && !e.stats ? 'edge' : null, !rb && !r.stats ? 'reference' : null].filter((x) => x !== null);
    const modes = [...new Set(lacking.map((w) => captureOf(w === 'edge' ? ctx.edge : ctx.ref)))].join(' / ');
    base.reasons.push(`values not recorded in ${lacking.length === 2 ? 'either trace' : `the ${lacking[0]} trace`} (${modes} capture): not compared`);
    return base;
  }

  if (isShapeMismatch(relation, ctx.strictShapes)) {
    base.verdict = 'shape-mismatch';
    if (relation === 'different-count') {
      base.reasons.push(`shape ${shapes}: different element count (${elementCount(e.shape)} vs ${elementCount(r.shape)})`);
    } else if (relation === 'same-count') {
      base.reasons.push(`shape ${shapes}: same element count, different shape (layout or transposition?)`);
    } else {
      base.reasons.push(`shape ${shapes}: equal after squeezing size-1 dims (strictShapes)`);
    }
    // Informational flat metrics when the element counts agree.
    if (eb && rb && eb.length === rb.length) base.metrics = tensorMetrics(eb, rb);
    return base;
  }
  if (relation === 'squeezable') base.reasons.push(`shape ${shapes}: equal after squeezing size-1 dims`);

  if (eb && rb) {
    if (eb.length !== rb.length) {
      base.reasons.push(`blob lengths differ (${eb.length} vs ${rb.length}) although shapes agree`);
      return base;
    }
    const m = tensorMetrics(eb, rb);
    const scaled = scaledTolerance(ctx.tol, r, ctx);
    const j = judgeMetrics(m, scaled.tol);
    base.metrics = m;
    base.tolerance = scaled.tol;
    base.verdict = j.verdict;
    base.reasons.push(...j.reasons);
    if (scaled.note && j.verdict === 'ok' && judgeMetrics(m, ctx.tol).verdict !== 'ok') base.reasons.push(scaled.note);
    return base;
  }

  const es: TensorStats | null = eb ? blobStats(eb) : (e.stats ?? null);
  const rs: TensorStats | null = rb ? blobStats(rb) : (r.stats ?? null);
  if (es && rs) {
    const d = compareStats(es, rs, eb ? 'blob' : 'stats', rb ? 'blob' : 'stats');
    base.statsOnly = true;
    if (!d) {
      base.reasons.push('stats have non-finite or missing fields');
      return base;
    }
    const scaled = scaledTolerance(ctx.tol, r, ctx);
    const j = judgeStats(d, scaled.tol);
    base.stats = d;
    base.tolerance = scaled.tol;
    base.verdict = j.verdict;
    base.reasons.push(...j.reasons);
    if (scaled.note && j.verdict === 'ok' && judgeStats(d, ctx.tol).verdict !== 'ok') base.reasons.push(scaled.note);
    return base;
  }
  base.reasons.push('no tensor data or stats');
  return base;
}

function captureOf(side: Side): string {
  return side.trace.header.capture;
}

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

  const nodes: NodeComparison[] = al.outputs.map((o, position): NodeComparison => {
    let c: TensorComparison;
    if (!o.edge || !o.ref) {
      c = missing(o.edge, o.ref, o.edge ? 'only in edge trace' : 'only in reference trace');
    } else {
      const tol = resolveTolerance(spec, { name: o.name, op: o.op, outputIndex: o.outputIndex, dtype: o.edge.dtype });
      c = comparePair(o.edge, o.ref, { edge, ref, key: o.key, tol, strictShapes, warnings, around: aroundNode(o.name, o.inputs) });
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

function basisOf(edgeCapture: string, refCapture: string, counts: VerdictCounts, outputs: OutputAgreement, timing: boolean): ComparisonBasis {
  const judged = counts.ok + counts.diverged + counts['shape-mismatch'];
  const nodes: ComparisonBasis['nodes'] =
    judged === 0 ? 'none' : counts.statsOnly === 0 ? 'values' : counts.statsOnly >= judged ? 'stats' : 'mixed';
  const hasOutputs = outputs.tensors.some((t) => t.verdict !== 'no-data' && t.verdict !== 'missing');
  const timingOnly = [edgeCapture === 'timing' ? 'edge' : null, refCapture === 'timing' ? 'reference' : null].filter((x) => x !== null);
  let text: string;
  if (nodes === 'none') {
    const why = timingOnly.length > 0 ? `node values not recorded: ${timingOnly.join(' and ')} timing capture` : 'no node output could be compared';
    text = hasOutputs ? `final outputs only (${why})` : `nothing (${why})`;
  } else {
    const what = nodes === 'values' ? 'node values' : nodes === 'stats' ? 'node statistics (stats capture)' : 'node values and statistics';
    text = hasOutputs ? `${what} and final outputs` : what;
  }
  if (timing) text += '; timing reported, not judged';
  return { nodes, outputs: hasOutputs, timing, text };
}

/** `node values not recorded: edge timing capture` out of `final outputs only (…); timing reported`. */
function basisWhy(b: ComparisonBasis): string {
  const m = /\(([^()]*)\)/.exec(b.text);
  return m?.[1] ?? b.text;
}

function kernelMs(t: Trace): { ms: number | null; clocks: string[] } {
  let ms: number | null = null;
  const clocks = new Set<string>();
  for (const k of t.header.kernels) {
    if (k.ms === null) continue;
    ms = (ms ?? 0) + k.ms;
    clocks.add(k.clock);
  }
  return { ms, clocks: [...clocks] };
}

function timingOf(edge: Trace, ref: Trace): TimingComparison | null {
  const e = edge.header.timing;
  const r = ref.header.timing;
  if (!e || !r) return null;
  const ek = kernelMs(edge);
  const rk = kernelMs(ref);
  return {
    edgeMedianMs: e.medianMs,
    refMedianMs: r.medianMs,
    ratio: r.medianMs > 0 ? e.medianMs / r.medianMs : Infinity,
    edgeKernelMs: ek.ms,
    refKernelMs: rk.ms,
    edgeClocks: ek.clocks,
    refClocks: rk.clocks,
  };
}

function summarize(
  verdict: OverallVerdict,
  first: FirstDivergence | null,
  counts: VerdictCounts,
  inputs: InputAgreement,
  outputs: OutputAgreement,
  basis: ComparisonBasis,
): string {
  // Class scores say top-1; otherwise the first output with a measure says what fits it (issue 12 item 9).
  let measured: OutputComparison | undefined;
  for (const t of outputs.tensors) if (t.measure !== null && (!measured || measureRank(t.kind, t.measure) < measureRank(measured.kind, measured.measure))) measured = t;
  const top =
    outputs.top1Equal !== null ? (outputs.top1Equal ? '; top-1 agrees' : '; top-1 DIFFERS') : measured ? `; ${measured.name}: ${measured.measureText}` : '';
  const divergent = counts.diverged + counts['shape-mismatch'];
  switch (verdict) {
    case 'input-mismatch': {
      const bad = inputs.tensors.filter((t) => t.verdict !== 'ok').map((t) => t.name);
      return `input mismatch: the reference did not see the same input (${bad.join(', ')}); node comparisons are not meaningful`;
    }
    case 'diverged':
      if (first) {
        return (
          `diverged at node ${first.key} (${first.op}${first.edgeIndex !== null ? `, #${first.edgeIndex}` : ''}): ` +
          `${first.reasons[0] ?? first.verdict}; ${divergent}/${counts.total} node outputs divergent${top}`
        );
      }
      if (basis.nodes === 'none') return `final outputs diverged (${outputs.verdict})${top} (${basisWhy(basis)})`;
      return `final outputs diverged (${outputs.verdict}) although no compared node did${top}`;
    case 'ok':
      if (basis.nodes === 'none') {
        return `ok on final outputs only: ${outputs.tensors.filter((t) => t.verdict === 'ok').length}/${outputs.tensors.length} within tolerance${top} (${basisWhy(basis)})`;
      }
      return `ok: ${counts.ok}/${counts.total} node outputs within tolerance${counts.statsOnly > 0 ? ` (${counts.statsOnly} from stats only)` : ''}${top}`;
    case 'no-data':
      return 'no data: nothing could be compared';
  }
}
