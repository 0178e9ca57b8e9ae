/**
 * Fixed-width text rendering of a Comparison for the CLI. Pure: no DOM, no Node. ASCII only.
 */

import type { Comparison, NodeComparison } from './types.ts';
import { fmt, type ResolvedTolerance } from './tolerance.ts';
import type { TopKAgreement, TopKEntry } from './topk.ts';
import { kindLabel } from './output-text.ts';

export interface FormatTableOptions {
  /** Maximum node rows; the window is placed so the first divergent node is visible. Default: all rows. */
  limit?: number;
}

const W = { idx: 5, node: 40, op: 20, num: 9, cos: 9, sqnr: 8 };

function cell(s: string, w: number, right = false): string {
  if (s.length > w) s = w > 3 ? `...${s.slice(s.length - (w - 3))}` : s.slice(0, w);
  return right ? s.padStart(w) : s.padEnd(w);
}

function sci(x: number): string {
  if (x === 0) return '0';
  return x.toExponential(2);
}

/** Cosine with the noise level visible: `1-3e-12` near 1, 6 decimals otherwise. */
function cosineText(c: number): string {
  if (c === 1) return '1';
  if (c > 0.999999) return `1-${(1 - c).toExponential(0)}`;
  return c.toFixed(6);
}

function row(n: NodeComparison, first: boolean): string {
  let nrmse = '-';
  let maxAbs = '-';
  let cosine = '-';
  let sqnr = '-';
  if (n.metrics) {
    const m = n.metrics;
    nrmse = sci(m.nrmse);
    maxAbs = sci(m.maxAbs);
    cosine = cosineText(m.cosine);
    sqnr = m.sqnrDb !== null ? m.sqnrDb.toFixed(1) : m.identical ? 'inf' : '-inf';
    if (m.nanMismatch + m.infMismatch > 0) {
      maxAbs = `${m.nanMismatch + m.infMismatch}NaN/Inf`;
    }
  } else if (n.stats) {
    // Lower bounds from summary statistics.
    nrmse = `>=${sci(n.stats.nrmseLowerBound)}`;
    maxAbs = `>=${sci(n.stats.maxAbsLowerBound)}`;
  }
  const verdict = n.verdict + (n.statsOnly ? ' (stats)' : '');
  return [
    first ? '>' : ' ',
    cell(n.edgeIndex !== null ? String(n.edgeIndex) : '-', W.idx, true),
    ' ',
    cell(n.key, W.node),
    ' ',
    cell(n.refOp !== null && n.refOp !== n.op ? `${n.op}/${n.refOp}` : n.op, W.op),
    ' ',
    cell(nrmse, W.num + 2, true),
    ' ',
    cell(maxAbs, W.num + 2, true),
    ' ',
    cell(cosine, W.cos, true),
    ' ',
    cell(sqnr, W.sqnr, true),
    '  ',
    verdict,
    first ? '  <== first divergent' : '',
  ].join('');
}

function header(): string {
  return [
    ' ',
    cell('#', W.idx, true),
    ' ',
    cell('node:output', W.node),
    ' ',
    cell('op', W.op),
    ' ',
    cell('nrmse', W.num + 2, true),
    ' ',
    cell('maxAbs', W.num + 2, true),
    ' ',
    cell('cosine', W.cos, true),
    ' ',
    cell('sqnr dB', W.sqnr, true),
    '  ',
    'verdict',
  ].join('');
}

function tolText(t: ResolvedTolerance): string {
  const parts: string[] = [];
  if (t.nrmse !== null) parts.push(`nrmse <= ${fmt(t.nrmse)}`);
  if (t.cosine !== null) parts.push(`cosine >= ${t.cosine}`);
  if (t.maxAbs !== null) parts.push(`maxAbs <= ${fmt(t.maxAbs)}`);
  if (t.sqnrDb !== null) parts.push(`sqnr >= ${t.sqnrDb} dB`);
  if (t.atol !== null) parts.push(`atol ${fmt(t.atol)}`);
  return parts.join(', ') || 'no checks';
}

function entryText(e: TopKEntry | undefined): string {
  if (!e) return '-';
  const name = e.label ?? `#${e.index}`;
  return `${name} ${e.probability === null ? 'NaN' : e.probability.toFixed(4)}`;
}

function topKText(t: TopKAgreement): string {
  return (
    `top-1 ${t.top1Equal ? 'agrees' : 'DIFFERS'} (edge ${entryText(t.edge[0])}, ref ${entryText(t.ref[0])}); ` +
    `top-${t.k} overlap ${t.overlap}/${t.k}`
  );
}

/** Renders a Comparison as a fixed-width table with summary lines (no trailing newline). */
export function formatComparisonTable(c: Comparison, opts: FormatTableOptions = {}): string {
  const lines: string[] = [];
  lines.push(
    `edge: ${c.edge.model} on ${c.edge.runtime} ${c.edge.runtimeVersion} / ${c.edge.backend}${c.edge.label ? ` (${c.edge.label})` : ''}` +
      `   reference: ${c.ref.runtime} ${c.ref.runtimeVersion} / ${c.ref.backend}${c.ref.label ? ` (${c.ref.label})` : ''}`,
  );
  const head = header();
  lines.push(head, '-'.repeat(head.length));
  const total = c.nodes.length;
  const limit = opts.limit !== undefined ? Math.max(1, Math.floor(opts.limit)) : total;
  const fd = c.firstDivergent?.position ?? -1;
  let start = 0;
  let end = total;
  if (total > limit) {
    start = fd >= 0 ? Math.max(0, fd - Math.floor(limit / 4)) : 0;
    end = Math.min(total, start + limit);
    start = Math.max(0, end - limit);
  }
  if (start > 0) lines.push(`  ... ${start} row${start === 1 ? '' : 's'} above not shown`);
  for (let i = start; i < end; i++) {
    const n = c.nodes[i] as NodeComparison;
    lines.push(row(n, i === fd));
  }
  if (end < total) lines.push(`  ... ${total - end} row${total - end === 1 ? '' : 's'} below not shown`);
  if (total === 0) lines.push('  (no nodes)');
  lines.push('');

  const k = c.counts;
  const fdText = c.firstDivergent
    ? `${c.firstDivergent.key} (${c.firstDivergent.op}${c.firstDivergent.edgeIndex !== null ? `, #${c.firstDivergent.edgeIndex}` : ''})` +
      `${c.firstDivergent.statsOnly ? ' [stats only]' : ''}: ${c.firstDivergent.reasons.join('; ')}`
    : 'none';
  const inputText =
    c.inputs.verdict + (c.inputs.maxAbs !== null ? ` (max abs diff ${fmt(c.inputs.maxAbs)})` : '') + (c.inputs.matchedBy === 'position' ? ', matched by position' : '');
  const outParts: string[] = [c.outputs.verdict];
  // Each output with the measure that fits its kind (top-k only for class scores, issue 14 item 4).
  for (const t of c.outputs.tensors) {
    const bad = t.verdict !== 'ok' ? ` [${t.verdict}${t.reasons[0] ? `: ${t.reasons[0]}` : ''}]` : '';
    if (t.topK) outParts.push(`${t.name}: ${kindLabel(t.kind)}: ${topKText(t.topK)}${bad}`);
    else if (t.measure || t.verdict === 'ok') outParts.push(`${t.name}: ${t.measureText}${bad}`);
    else outParts.push(`${t.name}: ${t.verdict}${t.reasons[0] ? ` (${t.reasons[0]})` : ''}`);
  }
  const summary: [string, string][] = [
    ['verdict', c.verdict.toUpperCase()],
    ['first divergent', fdText],
    [
      'node outputs',
      `${k.total}: ${k.ok} ok, ${k.diverged} diverged, ${k['shape-mismatch']} shape-mismatch, ${k.missing} missing, ${k['no-data']} no-data` +
        (k.statsOnly > 0 ? ` (${k.statsOnly} judged from stats only)` : ''),
    ],
    ['inputs', inputText],
    ['outputs', outParts.join('; ')],
    [
      'tolerance',
      `${c.tolerance.preset}: ${tolText(c.tolerance.global)}` +
        (c.tolerance.presetSource === 'auto' ? ` (automatic: ${c.tolerance.presetReason ?? ''}; --preset float32 to judge against float32)` : ''),
    ],
    ['judged on', c.basis.text],
    ['summary', c.summary],
  ];
  if (c.timing) {
    const t = c.timing;
    summary.splice(summary.length - 1, 0, [
      'timing',
      `median run ${fmt(t.edgeMedianMs)} ms on the edge, ${fmt(t.refMedianMs)} ms in the reference (×${fmt(t.ratio)}; not judged)`,
    ]);
  }
  if (c.divergenceOrigins.length > 1) summary.splice(2, 0, ['origins', c.divergenceOrigins.slice(0, 8).join(', ') + (c.divergenceOrigins.length > 8 ? ', ...' : '')]);
  for (const [name, text] of summary) lines.push(`${`${name}:`.padEnd(17)}${text}`);
  for (const w of c.warnings.slice(0, 10)) lines.push(`warning:         ${w}`);
  if (c.warnings.length > 10) lines.push(`warning:         ... and ${c.warnings.length - 10} more`);
  return lines.join('\n');
}
