/** A diagnosis as plain text for the terminal. Pure. */
import { fmt } from './node-evidence.ts';
import type { Diagnosis } from './types.ts';

export interface FormatDiagnosisOptions {
  /** Rows of the own/inherited table (default 10, 0 = none). */
  nodes?: number;
}

export function formatDiagnosis(d: Diagnosis, options: FormatDiagnosisOptions = {}): string {
  const lines: string[] = [];
  lines.push('Causes (most likely first):');
  d.causes.forEach((c, i) => {
    lines.push(`  ${i + 1}. ${c.code.padEnd(14)} ${c.confidence.toFixed(2)}  ${c.detail}${c.node ? `  [node ${c.node}]` : ''}`);
    // Explanations that fit as well, ranked below this one (docs/diagnose.md, competing explanations).
    for (const a of c.alternatives ?? []) {
      lines.push(`     runner-up (fits as well, ${fmt(a.residualLevels)} levels rms): ${a.detail}`);
    }
  });
  if (d.causes.length === 0) lines.push('  (none found)');
  if (d.info?.length) {
    lines.push('Information (not a bug on its own):');
    for (const c of d.info) lines.push(`  - ${c.code.padEnd(14)} ${c.detail}`);
  }
  lines.push('');
  lines.push(`Input matches the canonical pipeline: ${d.inputMatches === null ? 'not checked (no photo)' : d.inputMatches ? 'yes' : 'no'}`);
  if (d.input) {
    lines.push(`  residual vs canonical ${fmt(d.input.canonicalResidualLevels)} levels rms; best explanation leaves ${fmt(d.input.best.residualLevels)} (${d.input.ms} ms search)`);
  }
  lines.push(`First divergent node: ${d.firstDivergentNode ?? '-'}`);
  const im = d.impact;
  if (im.top1Equal !== null) lines.push(`Top-1: ${im.top1Equal ? 'unchanged' : 'changed'} (reference ${im.refTop1}, edge ${im.edgeTop1}); output nrmse ${fmt(im.outputNrmse)}`);
  else if (im.outputNrmse !== null) lines.push(`Output nrmse ${fmt(im.outputNrmse)}`);
  const rows = options.nodes ?? 10;
  const owns = d.nodes.filter((n) => n.own !== null).sort((a, b) => (b.own ?? 0) - (a.own ?? 0));
  if (rows > 0 && owns.length > 0) {
    lines.push('');
    lines.push(`Own vs inherited error (${owns.length} nodes replayed alone on the edge's inputs; largest own first):`);
    lines.push(`  ${'node'.padEnd(48)} ${'op'.padEnd(22)} ${'total'.padStart(8)} ${'own'.padStart(8)} ${'inherit'.padStart(8)} ${'rmse/sc'.padStart(8)}`);
    for (const n of owns.slice(0, rows)) {
      const name = n.node.length > 48 ? `…${n.node.slice(-47)}` : n.node;
      lines.push(`  ${name.padEnd(48)} ${n.op.slice(0, 22).padEnd(22)} ${fmt(n.total).padStart(8)} ${fmt(n.own).padStart(8)} ${fmt(n.inherited).padStart(8)} ${fmt(n.rmseOverScale).padStart(8)}`);
    }
  }
  if (d.assertions.length > 0) {
    lines.push('');
    lines.push('Assertions:');
    for (const a of d.assertions) lines.push(`  ${a.ok === null ? 'skip' : a.ok ? 'ok  ' : 'FAIL'}  ${a.id.padEnd(18)} ${a.detail}`);
  }
  if (d.warnings.length > 0) {
    lines.push('');
    for (const w of d.warnings) lines.push(`warning: ${w}`);
  }
  lines.push('');
  lines.push(d.summary);
  return lines.join('\n');
}
