/** The embedded report: checked before anything draws, and the small derivations the views share. */
import type { CellDetail, FarmReport } from '../../farm/report-data.ts';
import type { CellSummary } from '../../farm/report.ts';
import { SUMMARY_SCHEMA_VERSION } from '../../farm/report.ts';

export type { CellDetail, FarmReport, CellSummary };

/** The report, or why it cannot be shown. */
export function parseReport(text: string): FarmReport | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'the embedded report is not JSON';
  }
  const r = v as Partial<FarmReport> | null;
  if (!r || typeof r !== 'object' || !r.summary || typeof r.details !== 'object' || r.details === null) return 'the embedded report has no summary';
  if (r.summary.schemaVersion !== SUMMARY_SCHEMA_VERSION) return `summary schemaVersion ${String(r.summary.schemaVersion)} is not ${SUMMARY_SCHEMA_VERSION}`;
  if (!Array.isArray(r.summary.cells)) return 'the embedded report has no cells';
  return r as FarmReport;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface NodeSpreadRow {
  position: number;
  key: string;
  name: string;
  op: string;
  median: number | null;
  p95: number | null;
  max: number | null;
  ms: number | null;
  refMs: number | null;
  /** Inputs on which this node is the first divergent one. */
  firstOn: number;
}

/** Median, p95 and max nrmse of every node across the cell's inputs. */
export function spreadRows(d: CellDetail): NodeSpreadRow[] {
  const first = new Map<string, number>();
  for (const k of d.firstDivergent) if (k) first.set(k, (first.get(k) ?? 0) + 1);
  return d.nodes.map((n, position) => {
    const s = n.values.filter((x): x is number => x !== null).sort((a, b) => a - b);
    return {
      position,
      key: n.key,
      name: n.name,
      op: n.op,
      median: s.length ? quantile(s, 0.5) : null,
      p95: s.length ? quantile(s, 0.95) : null,
      max: s.length ? s[s.length - 1]! : null,
      ms: n.ms,
      refMs: n.refMs,
      firstOn: first.get(n.key) ?? 0,
    };
  });
}

const COLORS = ['#1f6feb', '#e36209', '#8250df', '#1a7f37', '#cf222e', '#bf8700', '#0a7ea4', '#d63384'];
export const seriesColor = (i: number): string => COLORS[i % COLORS.length]!;

export function cellHash(id: string): string {
  return `#cell=${encodeURIComponent(id)}`;
}

export function cellFromHash(hash: string): string | null {
  const m = /^#cell=(.+)$/.exec(hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5 ? x.toExponential(digits - 1) : x.toPrecision(digits);
}

export function pct(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–';
}

/** Relative links stay relative (the folder can move); only plain relative paths are linked. */
export function traceHref(path: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('/') || path.split(/[\\/]/).includes('..')) return null;
  return path.split(/[\\/]/).map(encodeURIComponent).join('/');
}
