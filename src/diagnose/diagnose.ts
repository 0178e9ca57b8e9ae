/**
 * diagnose(): the evidence gathered elsewhere (input search, comparison, own/inherited split,
 * assertions) → named causes, most likely first, and a report. Pure: no DOM, no Node.
 */
import type { Comparison } from '../compare/index.ts';
import type { Trace } from '../trace/types.ts';
import { breaksTolerance, decoderCause, decoderShort } from './causes/decoder.ts';
import { float16Cause, float16Info } from './causes/float16.ts';
import { kernelCauses } from './causes/kernel.ts';
import { quantizationCause } from './causes/quantization.ts';
import { reducedPrecisionInfo } from './causes/precision.ts';
import { conf } from './fit.ts';
import { fmt, halfFloatEvidence, KERNEL_OWN_NRMSE, type NodeEvidence, type WeightStorage } from './node-evidence.ts';
import {
  DIAGNOSIS_FORMAT,
  DIAGNOSIS_VERSION,
  type AssertionResult,
  type Cause,
  type Diagnosis,
  type InputFit,
  type NodeAttribution,
  type OutputImpact,
} from './types.ts';

export interface DiagnoseInput {
  edge: Trace;
  /** The reference trace (canonical input, or the edge's own input when there is no photo). */
  ref?: Trace | null;
  comparison?: Comparison | null;
  /** The input search against the original photo; null/absent without a photo. */
  input?: InputFit | null;
  attributions?: readonly NodeAttribution[];
  assertions?: readonly AssertionResult[];
  /** Backend the reference and replays ran on (wording only). */
  referenceBackend?: string;
  /** How the edge model stores its weights, when known. */
  edgeWeights?: WeightStorage | null;
  warnings?: readonly string[];
}

function impactOf(c: Comparison | null | undefined): OutputImpact {
  if (!c) return { top1Equal: null, edgeTop1: null, refTop1: null, outputNrmse: null };
  const cls = c.outputs.tensors.find((t) => t.topK);
  const label = (e: { index: number; label: string | null } | undefined): string | null => (e ? (e.label ?? `class ${e.index}`) : null);
  const nrmses = c.outputs.tensors.map((t) => t.metrics?.nrmse).filter((x): x is number => typeof x === 'number');
  return {
    top1Equal: c.outputs.top1Equal,
    edgeTop1: label(cls?.topK?.edge[0]),
    refTop1: label(cls?.topK?.ref[0]),
    outputNrmse: nrmses.length ? Math.max(...nrmses) : null,
  };
}

const ORDER = ['orientation', 'layout', 'channel-order', 'alpha', 'resize', 'colour-profile', 'camera-range', 'normalization', 'float16', 'quantization', 'kernel', 'decoder', 'none'];

function sortCauses(causes: Cause[]): Cause[] {
  return causes
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.confidence - a.c.confidence || ORDER.indexOf(a.c.code) - ORDER.indexOf(b.c.code) || a.i - b.i)
    .map((x) => x.c);
}

/** Node-level causes from the comparison and the own/inherited split. */
export function nodeCauses(ev: NodeEvidence): Cause[] {
  const out: Cause[] = [];
  const f16 = float16Cause(ev);
  if (f16) out.push(f16);
  const q = quantizationCause(ev);
  if (q) out.push(q);
  out.push(...kernelCauses(ev));
  return out;
}

export function diagnose(d: DiagnoseInput): Diagnosis {
  const warnings = [...(d.warnings ?? [])];
  const input = d.input ?? null;
  const c = d.comparison ?? null;
  const atts = d.attributions ?? [];
  const causes: Cause[] = [...(input?.causes ?? [])];
  let nodeLevel: Cause[] = [];
  const inputMatches = input ? input.matches : c ? (c.inputs.verdict === 'identical' ? true : null) : null;
  if (c && d.ref) {
    nodeLevel = nodeCauses({
      edge: d.edge,
      ref: d.ref,
      comparison: c,
      attributions: atts,
      inputMatches,
      ...(d.referenceBackend ? { referenceBackend: d.referenceBackend } : {}),
      ...(d.edgeWeights ? { edgeWeights: d.edgeWeights } : {}),
    });
    causes.push(...nodeLevel);
  }
  if (input && !input.explained) warnings.push(...input.notes);

  // Where the error enters the graph: the earliest node-level cause (or earlier node whose own error is
  // beyond the float32 tolerance); with input causes only, the comparison's first divergent node.
  const order = new Map(d.edge.header.nodes.map((n) => [n.name, n.index]));
  const byOrder = (names: string[]): string | null => names.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))[0] ?? null;
  let firstDivergentNode: string | null = null;
  const causeNodes = nodeLevel.map((x) => x.node).filter((n): n is string => !!n);
  if (causeNodes.length > 0) {
    const spread = nodeLevel.some((x) => x.code === 'float16' || x.code === 'quantization');
    const first = spread && c?.firstDivergent ? [c.firstDivergent.name] : [];
    firstDivergentNode = byOrder([...causeNodes, ...first, ...atts.filter((a) => (a.own ?? 0) > KERNEL_OWN_NRMSE).map((a) => a.node)]);
  } else if (causes.length > 0 || (input === null && c?.inputs.verdict !== 'identical')) {
    firstDivergentNode = c?.firstDivergent?.name ?? null;
  }

  const impact = impactOf(c);
  // A different JPEG decoder is the cause only when it changes the model's result (causes/decoder.ts)
  // and nothing else explains it; otherwise it is information beside the verdict, never a false alarm.
  const info: Cause[] = [];
  const dec = input?.explained ? input.decoder : null;
  if (dec) {
    const breaks = causes.length === 0 && !!c && c.outputs.verdict !== 'ok' && breaksTolerance(impact.top1Equal, impact.outputNrmse);
    const finding = decoderCause(dec, breaks, impact.outputNrmse);
    if (breaks) {
      causes.push(finding);
      firstDivergentNode = c?.firstDivergent?.name ?? null;
    } else info.push(finding);
  }
  if (causes.length === 0 && (input === null || input.explained)) {
    const parts: string[] = [];
    if (input) parts.push(`the input matches the canonical pipeline (${fmt(input.canonicalResidualLevels)} levels rms${dec ? `; ${decoderShort(dec)}, within tolerance` : ''})`);
    const owns = atts.filter((a) => a.own !== null);
    if (owns.length > 0) parts.push(`no node has an own error beyond float32 noise (largest own nrmse ${fmt(Math.max(...owns.map((a) => a.own ?? 0)))} over ${owns.length} replayed)`);
    else if (c?.verdict === 'ok') parts.push('every node within tolerance of the reference');
    else if (c) parts.push(`nodes differ from the reference by up to nrmse ${fmt(Math.max(0, ...atts.map((a) => a.total)))}; no replay split own from inherited error`);
    if (impact.outputNrmse !== null) parts.push(`output nrmse ${fmt(impact.outputNrmse)}`);
    if (d.ref && d.edge.header.model.sha256 && d.ref.header.model.sha256 && d.edge.header.model.sha256 !== d.ref.header.model.sha256) {
      parts.push(c && c.verdict !== 'ok' ? "the edge model's weights differ from the reference's" : "the edge model's weights differ from the reference's, within tolerance");
    }
    const solid = (input?.matches ?? true) && (c?.verdict === 'ok' || owns.length > 0 || !c);
    causes.push({ code: 'none', confidence: conf(solid ? 0.9 : 0.6), detail: parts.join('; ') || 'nothing to explain' });
  }
  const sorted = sortCauses(causes);
  const half = halfFloatEvidence(d.edge, d.ref ?? undefined);
  const f16Info = c && !sorted.some((x) => x.code === 'float16') ? float16Info(d.edge, d.ref ?? undefined, c) : null;
  if (f16Info) info.push(f16Info);
  const lowInfo = c && !sorted.some((x) => x.code === 'quantization') ? reducedPrecisionInfo(d.edge, d.ref ?? undefined, c, d.edgeWeights) : null;
  if (lowInfo) info.push(lowInfo);
  if (half.likely && !sorted.some((x) => x.code === 'float16') && c && c.verdict !== 'ok') {
    warnings.push(`the edge ran in half precision (${half.reasons.join(', ')}), but the divergence is explained otherwise`);
  }
  if (c && c.verdict !== 'ok' && atts.every((a) => a.own === null) && atts.some((a) => a.replayNote)) {
    warnings.push(`no node could be replayed: ${atts.find((a) => a.replayNote)?.replayNote}`);
  }

  return {
    format: DIAGNOSIS_FORMAT,
    version: DIAGNOSIS_VERSION,
    causes: sorted,
    ...(info.length ? { info } : {}),
    firstDivergentNode,
    inputMatches,
    input,
    nodes: [...atts],
    assertions: [...(d.assertions ?? [])],
    impact,
    comparison: c ? { verdict: c.verdict, summary: c.summary } : null,
    summary: `${summarize(sorted, impact)}${f16Info ? ` Reduced precision named: float16 (half-float backend), within tolerance on this input.` : ''}${lowInfo ? ` Reduced precision named: ${lowInfo.detail.split(';')[0]!.replace(/^reduced precision: /, '')}, within tolerance on this input.` : ''}`,
    warnings,
  };
}

function summarize(causes: Cause[], impact: OutputImpact): string {
  const real = causes.filter((c) => c.code !== 'none');
  const out =
    impact.top1Equal === false
      ? ` Top-1 changed: ${impact.refTop1} → ${impact.edgeTop1}.`
      : impact.top1Equal === true
        ? ' Top-1 unchanged.'
        : '';
  if (real.length === 0) return causes.length ? `No deployment bug found: ${causes[0]!.detail}.${out}` : `Unexplained difference (see warnings).${out}`;
  const list = real.map((c) => `${c.code}${c.node ? ` at ${c.node}` : ''} (${c.detail})`).join('; ');
  return `${real.length} cause${real.length > 1 ? 's' : ''}: ${list}.${out}`;
}
