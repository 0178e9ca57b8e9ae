/**
 * What a comparison rests on (node values, statistics, final outputs only, nothing), its timing side
 * by side, and the one-line summary that says both.
 *
 * Pure: no DOM, no Node.
 */

import type { Trace } from '../trace/types.ts';
import { measureRank } from './output-text.ts';
import type { ComparisonBasis, FirstDivergence, InputAgreement, OutputAgreement, OutputComparison, OverallVerdict, TimingComparison, VerdictCounts } from './types.ts';

export function basisOf(edgeCapture: string, refCapture: string, counts: VerdictCounts, outputs: OutputAgreement, timing: boolean): ComparisonBasis {
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

export function timingOf(edge: Trace, ref: Trace): TimingComparison | null {
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

export function summarize(
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
