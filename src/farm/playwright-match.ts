/**
 * `toMatchReference`'s judgement and messages, apart from Playwright so they are plain functions of a
 * trace. The verdict is the farm's for a one-input cell (accuracy.ts), so a test and `exray farm`
 * never disagree about the same run.
 */
import { compareTraces, type Comparison } from '../compare/index.ts';
import { breaksTolerance, cellAccuracy, inputDiverged, type CellAccuracy } from './accuracy.ts';
import type { ExrayTrace } from './playwright-trace.ts';

export interface MatchReferenceOptions {
  /** Maximum nrmse of the final outputs (and of each node, for the first divergent one); default: the float32 preset. */
  tolerance?: number;
  /** The top-1 class must agree with the reference when the output is class scores (default true). */
  top1?: boolean;
  /** Name the diagnosed cause in the failure message (default true). */
  diagnose?: boolean;
}

export interface ReferenceJudgement {
  pass: boolean;
  comparison: Comparison;
  accuracy: CellAccuracy;
  /** The failure message for the positive matcher (the trace breaks the tolerance). */
  mismatch(): string;
  /** The failure message for `.not` (the trace is within it). */
  match(): string;
}

/** The received value is what `exray.trace` returned (checked by shape: lib/ and src/ copies may both be loaded). */
export function isExrayTrace(x: unknown): x is ExrayTrace {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Partial<ExrayTrace>;
  return typeof t.edge === 'object' && typeof t.reference === 'object' && typeof t.comparison === 'object' && typeof t.files === 'object';
}

export function checkMatchOptions(o: unknown): MatchReferenceOptions {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError('toMatchReference: options must be an object');
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!['tolerance', 'top1', 'diagnose'].includes(k)) throw new TypeError(`toMatchReference: unknown option "${k}" (tolerance, top1, diagnose)`);
  if (r.tolerance !== undefined && (typeof r.tolerance !== 'number' || !Number.isFinite(r.tolerance) || r.tolerance <= 0)) throw new TypeError(`toMatchReference: tolerance must be a positive number, got ${String(r.tolerance)}`);
  for (const k of ['top1', 'diagnose'] as const) if (r[k] !== undefined && typeof r[k] !== 'boolean') throw new TypeError(`toMatchReference: ${k} must be a boolean`);
  return r as MatchReferenceOptions;
}

const num = (x: number | null | undefined): string => (typeof x === 'number' ? String(Number(x.toPrecision(3))) : 'n/a');

export function judgeReference(t: ExrayTrace, opts: MatchReferenceOptions = {}): ReferenceJudgement {
  // The same tolerance the farm's `--nrmse` sets (node and output nrmse); the default comparison is reused.
  const comparison = opts.tolerance === undefined ? t.comparison : compareTraces(t.edge, t.reference, { tolerance: { nrmse: opts.tolerance } });
  const accuracy = cellAccuracy([comparison]);
  const top1 = opts.top1 ?? true;
  const pass = !breaksTolerance(accuracy, top1 ? 1 : 0);
  const tolerance = comparison.tolerance.global.nrmse;
  const what = `${t.model} × ${t.input} on ${t.backend}`;
  const outputLines = (): string[] =>
    comparison.outputs.tensors.map((o) => `  output ${o.name}: ${o.reasons.length ? o.reasons.join('; ') : `${o.verdict}, nrmse ${num(o.metrics?.nrmse)}`}`);
  const top1Line = (): string[] => {
    const k = comparison.outputs.tensors.find((o) => o.topK)?.topK;
    if (!k) return [];
    return [`  top-1 class: edge ${k.edge[0]?.index ?? '?'}, reference ${k.ref[0]?.index ?? '?'} (${k.top1Equal ? 'agree' : 'differ'}${top1 ? '' : ', not checked: top1 false'})`];
  };
  const files = (): string => `  traces: ${t.files.edge}, ${t.files.reference}`;
  return {
    pass,
    comparison,
    accuracy,
    mismatch: () => {
      const lines = [
        `expected ${what} to match the ${t.referenceBackend} reference (output nrmse ≤ ${num(tolerance)}${top1 ? ', same top-1 class' : ''}), but it does not:`,
        `  output nrmse ${num(accuracy.outputNrmse.max)} (tolerance ${num(tolerance)})${inputDiverged(comparison) ? '' : ', within it'}`,
        ...(comparison.verdict === 'input-mismatch' ? [`  ${comparison.summary}`] : []),
        ...outputLines(),
        ...top1Line(),
        `  first divergent node: ${accuracy.firstDivergentNode ?? comparison.firstDivergent?.name ?? 'none'}`,
      ];
      if (opts.diagnose ?? true) {
        const d = t.diagnosis;
        const first = accuracy.firstDivergentNode ?? comparison.firstDivergent?.name ?? null;
        const enters = d?.firstDivergentNode && d.firstDivergentNode !== first ? ` (the error enters at ${d.firstDivergentNode})` : '';
        lines.push(d ? `  cause: ${d.cause}${enters}: ${d.summary}` : `  cause: unknown (${t.diagnosisNote ?? 'not diagnosed'})`);
      }
      lines.push(files());
      return lines.join('\n');
    },
    match: () =>
      [
        `expected ${what} not to match the ${t.referenceBackend} reference, but it does:`,
        `  output nrmse ${num(accuracy.outputNrmse.max)} ≤ ${num(tolerance)}${accuracy.top1Agreement === null ? '' : `, top-1 ${accuracy.top1Agreement === 1 ? 'agrees' : 'differs (not checked)'}`}`,
        files(),
      ].join('\n'),
  };
}
